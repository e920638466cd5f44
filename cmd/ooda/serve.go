package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/ooda-sre/ooda/bot"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/storage"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(fs, args, os.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	return serve(ctx, cfg, logger, func(addr net.Addr) {
		fmt.Fprintf(stdout, "ooda %s listening on %s (slack: %s)\n", version, addr, cfg.slackMode())
	})
}

// dedupeRetention is how long idempotency keys are kept: far longer than
// any retry by Slack, a client or a person double-clicking.
const dedupeRetention = 30 * 24 * time.Hour

// serve runs the server until ctx is done. listening is told the bound
// address, which lets tests use port 0.
func serve(ctx context.Context, cfg config, logger *slog.Logger, listening func(net.Addr)) error {
	db, err := storage.Open(cfg.DB, storage.Options{})
	if err != nil {
		return err
	}
	defer db.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Every goroutine started here is owned by this group and ended before
	// serve returns.
	ctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()

	w, err := wire(ctx, cfg, db, reg, logger, nil)
	if err != nil {
		return err
	}
	defer w.close()
	if w.executor == nil {
		logger.Warn("Slack is not configured: serving the API only; set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (or SLACK_SIGNING_SECRET) to connect")
	} else {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.executor.Run(ctx); err != nil && ctx.Err() == nil {
				logger.Error("effects executor stopped", "err", err)
			}
		}()
	}
	if cfg.slackMode() == "socket" {
		sm := socketmode.New(bot.NewSocketClient(cfg.SlackBotToken, cfg.SlackAppToken, cfg.SlackAPIURL, w.guards.Slack))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := bot.RunSocketMode(ctx, sm, w.slack); err != nil && ctx.Err() == nil {
				logger.Error("socket mode stopped", "err", err)
			}
		}()
	}
	jobs := []bot.Job{
		{Name: "reminders", Schedule: "@every 1m", Timeout: 50 * time.Second, Run: func(ctx context.Context, now time.Time) error {
			_, err := w.reminders.Tick(ctx, now)
			return err
		}},
		{Name: "expire-dedupe", Schedule: "@daily", Timeout: 5 * time.Minute, Run: func(ctx context.Context, now time.Time) error {
			_, err := db.ExpireDedupe(ctx, now.Add(-dedupeRetention))
			return err
		}},
	}
	if w.monitor != nil {
		// An evaluation ends within slo.DefaultTimeout; the minute after
		// it is for delivering notices. The scheduler skips a tick while
		// the previous one runs.
		jobs = append(jobs, bot.Job{Name: "slo", Schedule: "@every 1m", Timeout: slo.DefaultTimeout + time.Minute, AtStart: true, Run: func(ctx context.Context, now time.Time) error {
			_, err := w.monitor.Tick(ctx, now, w.sloDeliver.Deliver)
			// An incident that alone spent more than its share of a
			// budget owes a post-mortem, whatever its severity.
			_, merr := w.budget.MarkBudgetBreaches(ctx, db, now, w.dispatcher.Committed)
			return errors.Join(err, merr)
		}})
	}
	sched, err := bot.NewScheduler(ctx, logger, time.Now, jobs...)
	if err != nil {
		return err
	}
	sched.Start()
	defer sched.Stop()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{
		Handler:           w.server,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if listening != nil {
		listening(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

// wiring is Ooda's request and effects paths, built in one place for
// `ooda serve` and `ooda demo`, so the demo plays its incident through
// exactly what production runs: one dispatcher behind every transport, the
// HTTP server, and, when Slack is configured, the effects executor and
// Slack's inbound handler, both calling Slack through one guard.
type wiring struct {
	dispatcher *bot.Dispatcher
	server     *bot.Server
	reminders  *bot.Reminders
	guards     *resilience.Guards
	// alerts receives Alertmanager's webhook; close stops its poster.
	alerts *bot.AlertReceiver
	// The SLOs: nil without slo_files. serve ticks the monitor every
	// minute, delivering through sloDeliver.
	evaluator  *slo.Evaluator
	budget     bot.IncidentBudget // what an incident spent, measured by the evaluator
	monitor    *slo.Monitor
	sloDeliver *bot.SLODeliverer
	// The Slack side: nil while Slack is not configured. Nothing of it runs
	// yet; serve starts the executor and Socket Mode, the demo drains the
	// executor itself.
	client   *slack.Client
	executor *bot.Executor
	slack    *bot.SlackHandler
}

// wire builds the wiring on db. now is the clock of the Slack handler and
// the executor; nil means time.Now, and the demo passes its simulated one.
// Call close when done with the wiring.
func wire(ctx context.Context, cfg config, db *storage.DB, reg *prometheus.Registry, logger *slog.Logger, now func() time.Time) (*wiring, error) {
	tokens, err := cfg.apiTokens()
	if err != nil {
		return nil, err
	}
	if cfg.slackMode() == "http" && cfg.SlackSigningSecret == "" {
		return nil, errors.New("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
	}
	w := &wiring{dispatcher: &bot.Dispatcher{Store: db, Logger: logger}}
	w.reminders = &bot.Reminders{Store: db, Logger: logger}
	// Prometheus needs its guard whether or not Slack is configured.
	if w.guards, err = resilience.DefaultGuards(resilience.WithLogger(logger), resilience.WithMetrics(resilience.NewMetrics(reg))); err != nil {
		return nil, err
	}

	// One histogram times every answer to a person, over Slack and the
	// API; Ooda's own SLO is measured on it, in /incident slo and /metrics.
	ack := bot.NewAckHistogram()
	reg.MustRegister(ack, slo.NewOwnCollector(ack, slo.DefaultOwnSpec()))
	w.dispatcher.OwnSLO = bot.OwnSLOFrom(reg, slo.DefaultOwnSpec())

	if err := w.wireSLOs(cfg, db, logger); err != nil {
		return nil, err
	}

	// signals is nil while Slack is off: SLO notices and alerts then go
	// to incidents' timelines only. (A nil *slack.Client in the interface
	// would not be nil.)
	var signals bot.SignalSlack
	if cfg.slackMode() != "off" {
		w.client = bot.NewSlackClient(cfg.SlackBotToken, cfg.SlackAPIURL, w.guards.Slack)
		signals = w.client
		xc := bot.ExecutorConfig{
			Store: db, Outbox: db, Slack: w.client, Guard: w.guards.Slack,
			AnnounceChannel: cfg.AnnounceChannel, Now: now, Logger: logger, Registerer: reg,
		}
		if w.evaluator != nil {
			xc.Budget = w.budget.Lookup
		}
		if w.executor, err = bot.NewExecutor(xc); err != nil {
			return nil, err
		}
		w.dispatcher.Health = w.executor
		w.dispatcher.Committed = w.executor.Notify
		w.reminders.Committed = w.executor.Notify
	}

	if w.monitor != nil {
		if w.sloDeliver, err = bot.NewSLODeliverer(bot.SLODelivererConfig{
			Store: db, States: db, Slack: signals, Guard: w.guards.Slack, Channel: cfg.SLOChannel,
			Committed: w.dispatcher.Committed, Logger: logger,
		}); err != nil {
			return nil, err
		}
	}
	if w.alerts, err = bot.NewAlertReceiver(bot.AlertsConfig{
		Store: db, Slack: signals, Guard: w.guards.Slack, Channel: cmp.Or(cfg.SLOChannel, cfg.AnnounceChannel),
		Committed: w.dispatcher.Committed, Now: now, Logger: logger, Registerer: reg,
	}); err != nil {
		return nil, err
	}

	status := bot.StatusSource{
		Version: version, SlackMode: cfg.slackMode(), Outbox: db,
		Guards: []*resilience.Guard{w.guards.Slack, w.guards.Prometheus, w.guards.Webhook},
	}
	if w.executor != nil {
		status.Health = w.executor
	}
	sc := bot.ServerConfig{
		Dispatcher:   w.dispatcher,
		Store:        db,
		APIToken:     cfg.APIToken,
		APITokens:    tokens,
		Logger:       logger,
		Gatherer:     reg,
		Backup:       db.Backup,
		Status:       status,
		AckHistogram: ack,
		Alerts:       w.alerts,
	}
	if w.monitor != nil {
		sc.Freeze = w.monitor.Freeze
		sc.PostmortemBudget = w.budget.Lookup
		sc.Status.LastSLOEvaluation = func() time.Time { return w.monitor.Last().Report.At }
	}
	w.server = bot.NewServer(sc)
	if w.client == nil {
		return w, nil
	}

	w.slack = bot.NewSlackHandler(bot.SlackConfig{
		SigningSecret: cfg.SlackSigningSecret,
		Dispatcher:    w.dispatcher,
		Store:         db,
		Transcript:    db,
		Slack:         w.client,
		Guard:         w.guards.Slack,
		BotUserID:     botUserID(ctx, w.client, w.guards.Slack, logger),
		Now:           now,
		Logger:        logger,
		Registerer:    reg,
		AckHistogram:  ack,
	})
	if cfg.SlackSigningSecret != "" {
		w.slack.Register(w.server)
	}
	return w, nil
}

// wireSLOs loads the SLO files, if any, and builds the evaluator over
// Prometheus (through its guard) and the monitor that keeps each SLO's
// state in db. The config check made sure prometheus_url is set with them.
func (w *wiring) wireSLOs(cfg config, db *storage.DB, logger *slog.Logger) error {
	if len(cfg.SLOFiles) == 0 {
		return nil
	}
	slos, warnings, err := slo.LoadFiles(cfg.SLOFiles)
	if err != nil {
		return fmt.Errorf("SLO files:\n%w", err)
	}
	for _, wn := range warnings {
		logger.Warn("SLO file: " + wn.String())
	}
	api, err := slo.NewPrometheusAPI(cfg.PrometheusURL, w.guards.Prometheus)
	if err != nil {
		return fmt.Errorf("prometheus_url: %w", err)
	}
	if w.evaluator, err = slo.NewEvaluator(slo.Config{API: api, Guard: w.guards.Prometheus, SLOs: slos, Logger: logger}); err != nil {
		return err
	}
	w.budget = bot.IncidentBudget{SLOs: w.evaluator}
	if w.monitor, err = slo.NewMonitor(slo.MonitorConfig{Evaluator: w.evaluator, Store: db}); err != nil {
		return err
	}
	w.dispatcher.SLO = w.monitor
	return nil
}

// close stops the background work of the handlers (the Slack handler's
// calls, the alert receiver's posts) and waits for it.
func (w *wiring) close() {
	if w.slack != nil {
		w.slack.Close()
	}
	if w.alerts != nil {
		w.alerts.Close()
	}
}

// botUserID asks Slack who Ooda is, so its own messages are not captured.
// A Slack that does not answer costs a warning, not the start-up.
func botUserID(ctx context.Context, client *slack.Client, guard *resilience.Guard, logger *slog.Logger) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var id string
	err := guard.Do(ctx, resilience.Op{Method: "auth.test", Idempotent: true}, func(ctx context.Context) error {
		resp, err := client.AuthTestContext(ctx)
		if err != nil {
			return err
		}
		id = resp.UserID
		return nil
	})
	if err != nil {
		logger.Warn("auth.test failed; Ooda's own messages are told apart by bot_id only until restart", "err", err)
	}
	return id
}
