package main

import (
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
	sched, err := bot.NewScheduler(ctx, logger, time.Now,
		bot.Job{Name: "reminders", Schedule: "@every 1m", Timeout: 50 * time.Second, Run: func(ctx context.Context, now time.Time) error {
			_, err := w.reminders.Tick(ctx, now)
			return err
		}},
		bot.Job{Name: "expire-dedupe", Schedule: "@daily", Timeout: 5 * time.Minute, Run: func(ctx context.Context, now time.Time) error {
			_, err := db.ExpireDedupe(ctx, now.Add(-dedupeRetention))
			return err
		}},
	)
	if err != nil {
		return err
	}
	sched.Start()
	defer func() { <-sched.Stop().Done() }()

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
	// The Slack side: nil while Slack is not configured. Nothing of it runs
	// yet; serve starts the executor and Socket Mode, the demo drains the
	// executor itself.
	guards   *resilience.Guards
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
	w := &wiring{dispatcher: &bot.Dispatcher{Store: db, Logger: logger}}
	w.server = bot.NewServer(bot.ServerConfig{
		Dispatcher: w.dispatcher,
		Store:      db,
		APIToken:   cfg.APIToken,
		APITokens:  tokens,
		Logger:     logger,
		Gatherer:   reg,
		Backup:     db.Backup,
		Status:     bot.StatusSource{Version: version, SlackMode: cfg.slackMode(), Outbox: db},
	})
	w.reminders = &bot.Reminders{Store: db, Logger: logger}
	switch cfg.slackMode() {
	case "off":
		return w, nil
	case "http":
		if cfg.SlackSigningSecret == "" {
			return nil, errors.New("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
		}
	}

	if w.guards, err = resilience.DefaultGuards(resilience.WithLogger(logger), resilience.WithMetrics(resilience.NewMetrics(reg))); err != nil {
		return nil, err
	}
	w.client = bot.NewSlackClient(cfg.SlackBotToken, cfg.SlackAPIURL, w.guards.Slack)
	if w.executor, err = bot.NewExecutor(bot.ExecutorConfig{
		Store: db, Outbox: db, Slack: w.client, Guard: w.guards.Slack,
		AnnounceChannel: cfg.AnnounceChannel, Now: now, Logger: logger, Registerer: reg,
	}); err != nil {
		return nil, err
	}
	w.dispatcher.Health = w.executor
	w.server.SetStatus(bot.StatusSource{
		Version: version, SlackMode: cfg.slackMode(), Outbox: db, Health: w.executor,
		Guards: []*resilience.Guard{w.guards.Slack, w.guards.Prometheus, w.guards.Webhook},
	})
	w.dispatcher.Committed = w.executor.Notify
	w.reminders.Committed = w.executor.Notify

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
	})
	if cfg.SlackSigningSecret != "" {
		w.slack.Register(w.server)
	}
	return w, nil
}

// close stops the Slack handler's background calls and waits for them.
func (w *wiring) close() {
	if w.slack != nil {
		w.slack.Close()
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
