package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/api/web"
	"github.com/ooda-sre/ooda/bot"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/directory"
	"github.com/ooda-sre/ooda/bot/executor"
	"github.com/ooda-sre/ooda/bot/signals"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/jobs"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/etcd"
	"github.com/ooda-sre/ooda/tickets"
)

var (
	_ command.SLOReader   = (*prom.Monitor)(nil)
	_ command.SlackHealth = (*executor.Executor)(nil)
	_ command.People      = (*directory.Directory)(nil)
	_ executor.People     = (*directory.Directory)(nil)
	_ api.People          = (*directory.Directory)(nil)
	_ jobs.BudgetSpender  = (*prom.Evaluator)(nil)
)

// Options are what a caller of New chooses beyond the configuration.
// Zero values take defaults.
type Options struct {
	// Logger receives every part's logs; nil discards them.
	Logger *slog.Logger
	// Registry receives every part's metrics and serves /metrics; nil
	// makes one with the Go and process collectors.
	Registry *prometheus.Registry
	// Now is the clock of the Slack handler, the executor and the alert
	// receiver; nil means time.Now. The demo passes its simulated one.
	Now func() time.Time
	// Leadership gates the work only one process may run; nil means
	// Always, right for the embedded store.
	Leadership Leadership
	// Version is reported by GET /api/v1/status.
	Version string
	// Reload delivers a request to read the SLO files again (ReloadSLOs):
	// Serve hands it SIGHUP. Nil means only ReloadSLOs reloads.
	Reload <-chan os.Signal
	// StoreGuard is the guard of a store reached over the network (etcd),
	// shown by the status with the other dependencies; nil for the file.
	StoreGuard *resilience.Guard

	// backend names the store OpenStore opened: "etcd", or "" for the
	// bbolt file.
	backend string
}

// dedupeRetention is how long idempotency keys are kept: far longer than
// any retry by Slack, a client or a person double-clicking.
const dedupeRetention = 30 * 24 * time.Hour

// App is Ooda built from its configuration: one dispatcher behind every
// transport, the HTTP server, and, when Slack is configured, the effects
// executor and Slack's inbound handler, both calling Slack through one
// guard. New builds it and starts nothing; Run runs it.
type App struct {
	cfg    Config
	opts   Options
	db     storage.Store
	reg    *prometheus.Registry
	logger *slog.Logger

	dispatcher *command.Dispatcher
	server     *api.Server
	reminders  *jobs.Reminders
	guards     *resilience.Guards
	alerts     *signals.AlertReceiver
	// The SLOs: nil without slo_files.
	evaluator  *prom.Evaluator
	budget     jobs.IncidentBudget // what an incident spent, measured by the evaluator
	monitor    *prom.Monitor
	sloDeliver *signals.SLODeliverer
	// sloRefresh asks the leader to evaluate the SLOs now: they were
	// reloaded.
	sloRefresh chan struct{}
	// people is the workspace's directory: what the store holds, kept
	// fresh from Slack when it is configured.
	people *directory.Directory
	// The Slack side: nil while Slack is not configured.
	client   *slack.Client
	executor *executor.Executor
	slack    *bot.SlackHandler
	socket   *bot.SocketMode // nil unless in Socket Mode
	// workspace is who Ooda is in Slack (auth.test); nil without Slack.
	workspace *workspace
	// site is the web UI, on the same listener as the API.
	site *web.Site
	// index answers search and similar incidents; each process keeps its
	// own, rebuilt from the store and fed by its change feed.
	index *search.Index

	// actionReminders DMs owners of overdue action items; nil without
	// Slack, where nobody could be messaged.
	actionReminders *jobs.ActionReminders
	// tickets keeps action items' tickets in the configured trackers,
	// each called through its own guard (trackerGuards); nil without
	// trackers.
	tickets       *tickets.Service
	trackerGuards []*resilience.Guard
}

// New builds Ooda on db (any storage.Store) from a validated configuration. It starts no
// goroutine; the one call it makes (asking Slack who Ooda is, so its own
// messages are not captured) is bounded and may fail without failing New.
// Call Close when done with the App.
func New(ctx context.Context, cfg Config, db storage.Store, opts Options) (*App, error) {
	tokens, err := cfg.apiTokens()
	if err != nil {
		return nil, err
	}
	if cfg.slackMode() == "http" && cfg.SlackSigningSecret == "" {
		return nil, errors.New("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if opts.Leadership == nil {
		opts.Leadership = Always{}
	}
	logger, reg, now := opts.Logger, opts.Registry, opts.Now
	a := &App{cfg: cfg, opts: opts, db: db, reg: reg, logger: logger}
	a.index = search.New()
	a.dispatcher = &command.Dispatcher{Store: db, Logger: logger, Search: a.index}
	a.reminders = &jobs.Reminders{Store: db, Logger: logger}
	// Prometheus needs its guard whether or not Slack is configured.
	// Slack's guard reads slack-go's errors through slackapi's classifier:
	// the guard itself knows no Slack.
	if a.guards, err = resilience.DefaultGuards(slackapi.Classifier{}, resilience.WithLogger(logger), resilience.WithMetrics(resilience.NewMetrics(reg))); err != nil {
		return nil, err
	}

	// One histogram times every answer to a person, over Slack and the
	// API; Ooda's own SLO is measured on it, in /incident slo and /metrics.
	ack := command.NewAckHistogram()
	if err := reg.Register(ack); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := reg.Register(prom.NewOwnCollector(ack, slo.DefaultOwnSpec())); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	// Measured on the histograms the registry gathers; the collector
	// registered beside them reads the histogram, not the registry.
	a.dispatcher.OwnSLO = func() (slo.OwnStatus, error) { return prom.OwnSLO(reg, slo.DefaultOwnSpec()) }

	if err := a.buildSLOs(db); err != nil {
		return nil, err
	}

	// signals is nil while Slack is off: SLO notices and alerts then go
	// to incidents' timelines only. (A nil *slack.Client in the interface
	// would not be nil.)
	var signalSlack signals.AlertSlack
	// Names of people, for commands that name them (@alice) and for what
	// Ooda shows outside Slack: kept in the store, so a restart during a
	// Slack outage still has them.
	pc := directory.Config{Store: db, Now: now, Logger: logger}
	if cfg.slackMode() != "off" {
		a.client = slackapi.NewSlackClient(cfg.SlackBotToken, cfg.SlackAPIURL, a.guards.Slack)
		a.workspace = &workspace{client: a.client, guard: a.guards.Slack, logger: logger, now: clock(now)}
		pc.Slack, pc.Guard = a.client, a.guards.Slack
	}
	if a.people, err = directory.New(pc); err != nil {
		return nil, err
	}
	a.dispatcher.People = a.people
	// Each person's day (when their action items are overdue, when their
	// working day starts) is in the time zone Slack gave the directory.
	zones := newPersonZones(a.people.Current)
	a.dispatcher.Zones = zones
	if err := a.buildTickets(cfg, os.LookupEnv); err != nil {
		return nil, err
	}
	if cfg.slackMode() != "off" {
		signalSlack = a.client
		xc := executor.Config{
			Store: db, Outbox: db, Slack: a.client, Guard: a.guards.Slack,
			AnnounceChannel: cfg.AnnounceChannel, Now: now, Logger: logger, Registerer: reg,
			People: a.people, Similar: a.index.Similar,
		}
		if a.evaluator != nil {
			xc.Budget = a.budget.Lookup
		}
		if a.tickets != nil {
			xc.Tickets = a.tickets
		}
		if a.executor, err = executor.New(xc); err != nil {
			return nil, err
		}
		a.dispatcher.Health = a.executor
		a.dispatcher.Committed = a.executor.Notify
		a.reminders.Committed = a.executor.Notify
		a.actionReminders = &jobs.ActionReminders{Store: db, Committed: a.executor.Notify, Zones: zones}
	}

	if a.monitor != nil {
		if a.sloDeliver, err = signals.NewSLODeliverer(signals.SLODelivererConfig{
			Store: db, States: db, Slack: signalSlack, Guard: a.guards.Slack, Channel: cfg.SLOChannel,
			Committed: a.dispatcher.Committed, Logger: logger, Chart: a.sloChartPNG, Files: a.chartFiles(),
		}); err != nil {
			return nil, err
		}
	}
	if a.alerts, err = signals.NewAlertReceiver(signals.AlertsConfig{
		Store: db, Slack: signalSlack, Guard: a.guards.Slack, Channel: cmp.Or(cfg.SLOChannel, cfg.AnnounceChannel),
		Committed: a.dispatcher.Committed, Now: now, Logger: logger, Registerer: reg,
	}); err != nil {
		return nil, err
	}

	status := api.StatusSource{
		Version: opts.Version, SlackMode: cfg.slackMode(), Outbox: db,
		Guards: []*resilience.Guard{a.guards.Slack, a.guards.Prometheus, a.guards.Webhook},
	}
	if opts.StoreGuard != nil {
		status.Guards = append(status.Guards, opts.StoreGuard)
	}
	status.Guards = append(status.Guards, a.trackerGuards...)
	status.Store = api.StoreSource{Backend: cmp.Or(opts.backend, "bbolt"), Check: func(ctx context.Context) error { return storeAnswers(ctx, db) }}
	// A Leadership among several processes says who leads.
	if el, ok := opts.Leadership.(api.ReplicaSource); ok {
		status.Replicas = el
	}
	if a.executor != nil {
		status.Health = a.executor
	}
	if cfg.slackMode() == "socket" {
		status.SocketMode = a.socketStatus
	}
	sc := api.ServerConfig{
		// Ready means able to take work: the store answers. Slack is not
		// asked (the API and the CLI are what people use when it is down).
		Ready:        func(ctx context.Context) error { return storeAnswers(ctx, db) },
		Dispatcher:   a.dispatcher,
		Store:        db,
		APIToken:     cfg.APIToken,
		APITokens:    tokens,
		Logger:       logger,
		Gatherer:     reg,
		Backup:       db.Backup,
		Status:       status,
		AckHistogram: ack,
		Alerts:       a.alerts,
		People:       a.people,
		Zones:        zones,
		Sessions:     db,
		Search:       a.index,
	}
	if a.monitor != nil {
		sc.Freeze = a.monitor.Freeze
		sc.PostmortemBudget = a.budget.Lookup
		sc.PostmortemChart = a.postmortemChart
		sc.Status.LastSLOEvaluation = func() time.Time { return a.monitor.Last().Report.At }
		sc.Status.SLOErrors = a.sloConfigErrors
	}
	if a.tickets != nil {
		sc.Webhooks = a.tickets
	}
	if a.server, err = api.NewServer(sc); err != nil {
		return nil, err
	}
	if err := a.buildSite(cfg, zones); err != nil {
		return nil, err
	}
	if a.client == nil {
		return a, nil
	}

	if a.slack, err = bot.NewSlackHandler(bot.SlackConfig{
		SigningSecret: cfg.SlackSigningSecret,
		Dispatcher:    a.dispatcher,
		Store:         db,
		Transcript:    db,
		Slack:         a.client,
		Guard:         a.guards.Slack,
		BotUserID:     a.workspace.identify(ctx),
		Now:           now,
		Logger:        logger,
		Registerer:    reg,
		AckHistogram:  ack,
	}); err != nil {
		return nil, err
	}
	if cfg.SlackSigningSecret != "" {
		a.slack.Register(a.server)
	}
	if cfg.slackMode() == "socket" {
		if a.socket, err = bot.NewSocketMode(bot.SocketConfig{
			API:     slackapi.NewSocketClient(cfg.SlackBotToken, cfg.SlackAppToken, cfg.SlackAPIURL, a.guards.Slack),
			Handler: a.slack, Silence: cfg.socketSilence(), Logger: logger, Registerer: reg,
		}); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// socketStatus is the Socket Mode connection's health, for the status
// API.
func (a *App) socketStatus() api.SocketStatus {
	if a.socket == nil {
		return api.SocketStatus{}
	}
	h := a.socket.Health()
	return api.SocketStatus{Connected: h.Connected, Since: h.Since, LastFrame: h.LastFrame, Silence: h.Silence}
}

// readyTimeout bounds /readyz's look at the store.
const readyTimeout = 2 * time.Second

// storeAnswers reads from the store, which fails when a store reached
// over the network has no quorum.
func storeAnswers(ctx context.Context, db storage.Store) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if _, _, err := db.OutboxStats(ctx); err != nil {
		return fmt.Errorf("the store does not answer: %w", err)
	}
	return nil
}

// Handler is Ooda's HTTP surface: Slack's endpoints (in HTTP mode), the
// API, health and metrics.
func (a *App) Handler() http.Handler { return a.server }

// Drain performs every effect that is due now, as the executor does in
// the background of Run; the demo and tests call it to see what people
// would see. Without Slack there is nothing to perform.
func (a *App) Drain(ctx context.Context) (int, error) {
	if a.executor == nil {
		return 0, nil
	}
	return a.executor.Drain(ctx)
}

// TickSLOs is one turn of the SLO job Run schedules every minute: it
// evaluates the SLOs at now and delivers what changed.
func (a *App) TickSLOs(ctx context.Context, now time.Time) (slo.Report, error) {
	if a.monitor == nil {
		return slo.Report{}, errors.New("no SLOs are configured (slo_files)")
	}
	return a.monitor.Tick(ctx, now, a.sloDeliver.Deliver)
}

// RemindActionOwners is the action-reminders job Run schedules: at now,
// it queues the day's direct message to each owner of overdue action
// items whose working day has started, and returns how many it queued.
// Without Slack there is nobody to message.
func (a *App) RemindActionOwners(ctx context.Context, now time.Time) (int, error) {
	if a.actionReminders == nil {
		return 0, errors.New("Slack is not configured: action items are not reminded")
	}
	return a.actionReminders.Tick(ctx, now)
}

// PollTickets asks every tracker, once, about the tickets Ooda follows
// and records what changed, as the poller Run starts does on its
// interval.
func (a *App) PollTickets(ctx context.Context) error {
	if a.tickets == nil {
		return errors.New("no tracker is configured")
	}
	return a.tickets.Poller().PollOnce(ctx)
}

// RebuildSearch reads every incident of the store into the search index,
// as the index's worker does when Run starts it; the demo and tests, which
// run no workers, call it to search what the store holds.
func (a *App) RebuildSearch(ctx context.Context) error { return a.index.Rebuild(ctx, a.db) }

// RefreshPeople is the people job Run schedules hourly: it reads the
// store's directory, then Slack's, and returns how many people Slack
// listed. The demo and tests call it to have names without running Ooda.
func (a *App) RefreshPeople(ctx context.Context) (int, error) {
	if err := a.people.Load(ctx); err != nil {
		return 0, err
	}
	return a.people.Refresh(ctx)
}

// Close stops the background work of the handlers (the Slack handler's
// calls) and waits for it, and releases the guards' idle connections.
func (a *App) Close() {
	a.site.Close()
	if a.slack != nil {
		a.slack.Close()
	}
	if a.alerts != nil {
		a.alerts.Close()
	}
	for _, g := range []*resilience.Guard{a.guards.Slack, a.guards.Prometheus, a.guards.Webhook} {
		g.HTTPClient().CloseIdleConnections()
	}
}

var _ api.ReplicaSource = (*etcd.Election)(nil)

// Every store feeds the search index.
var _ search.Source = storage.Store(nil)

// outboxWatcher is a store that says when an effect is queued, by any
// process (the etcd store).
type outboxWatcher interface {
	WatchOutbox(ctx context.Context, notify func()) error
}

// workers are the long-lived parts Run supervises.
func (a *App) workers() []worker {
	// Every replica serves names from memory: the directory reads the
	// store at start-up and again for what the leader's refresh saved,
	// and looks up the ids nobody has named yet. Alert triage messages
	// are posted by the leader alone: each replica's receiver knows only
	// what it showed, and two would post a group twice (the others
	// answer Alertmanager 503, and it sends the alerts again).
	ws := []worker{{name: "alert receiver", gated: true, run: a.alerts.Run}, {name: "directory", run: a.people.Run}}
	// Every replica keeps its own search index, fed by the store's change
	// feed, so searches are answered from memory wherever they arrive.
	indexer := &search.Indexer{Store: a.db, Index: a.index, Logger: a.logger}
	ws = append(ws, worker{name: "search index", run: indexer.Run})
	if a.executor != nil {
		ws = append(ws, worker{name: "effects executor", gated: true, run: a.executor.Run})
		// A store shared by replicas tells the executor at once of an
		// effect another replica queued, instead of at its next poll.
		if w, ok := a.db.(outboxWatcher); ok {
			ws = append(ws, worker{name: "outbox watch", gated: true, run: func(ctx context.Context) error {
				return w.WatchOutbox(ctx, a.executor.Notify)
			}})
		}
	}
	if a.socket != nil {
		ws = append(ws, worker{name: "socket mode", run: a.socket.Run})
	}
	if a.tickets != nil {
		// One replica asks the trackers what changed; webhooks reach
		// whichever replica they arrive at.
		ws = append(ws, worker{name: "ticket poll", gated: true, run: a.tickets.Poller().Run})
	}
	if a.opts.Reload != nil {
		ws = append(ws, worker{name: "slo reload", run: a.sloReloader(a.opts.Reload)})
	}
	if a.monitor != nil {
		ws = append(ws, worker{name: "slo refresh", gated: true, run: a.sloRefresher})
	}
	return ws
}

// jobs are the scheduled work, run by the (gated) scheduler.
func (a *App) jobs() []Job {
	js := []Job{
		{Name: "reminders", Schedule: "@every 1m", Timeout: 50 * time.Second, Run: func(ctx context.Context, now time.Time) error {
			_, err := a.reminders.Tick(ctx, now)
			return err
		}},
		{Name: "expire-dedupe", Schedule: "@daily", Timeout: 5 * time.Minute, Run: func(ctx context.Context, now time.Time) error {
			_, err := a.db.ExpireDedupe(ctx, now.Add(-dedupeRetention))
			return err
		}},
		a.sessionsJob(),
	}
	if a.client != nil {
		// The workspace's people, as Slack lists them: at start-up, then
		// hourly. A large workspace is many pages at users.list's rate
		// limit; each page is saved as it comes.
		js = append(js, Job{Name: "people", Schedule: "@every 1h", Timeout: 15 * time.Minute, AtStart: true, Run: func(ctx context.Context, _ time.Time) error {
			_, err := a.people.Refresh(ctx)
			return err
		}})
	}
	if a.actionReminders != nil {
		// Owners of overdue action items, once a day each, from 09:00 on
		// their working days in their zone: every few minutes catches
		// each person's 09:00 soon enough.
		js = append(js, Job{Name: "action-reminders", Schedule: "@every 5m", Timeout: 4 * time.Minute, Run: func(ctx context.Context, now time.Time) error {
			_, err := a.RemindActionOwners(ctx, now)
			return err
		}})
	}
	if a.executor != nil {
		// Who is in each private incident's channel, as Slack lists it:
		// at start-up, for what was missed while Ooda was down, then
		// hourly. Access is decided on what this recorded, never on a
		// live call.
		js = append(js, Job{Name: "sync-members", Schedule: "@every 1h", Timeout: 5 * time.Minute, AtStart: true, Run: func(ctx context.Context, _ time.Time) error {
			_, err := a.executor.SyncMembers(ctx)
			return err
		}})
	}
	if a.monitor != nil {
		// An evaluation ends within prom.DefaultTimeout; the minute after
		// it is for delivering notices. The scheduler skips a tick while
		// the previous one runs.
		js = append(js, Job{Name: "slo", Schedule: "@every 1m", Timeout: prom.DefaultTimeout + time.Minute, AtStart: true, Run: func(ctx context.Context, now time.Time) error {
			_, err := a.monitor.Tick(ctx, now, a.sloDeliver.Deliver)
			// An incident that alone spent more than its share of a
			// budget owes a post-mortem, whatever its severity.
			_, merr := a.budget.MarkBudgetBreaches(ctx, a.db, now, a.dispatcher.Committed)
			return errors.Join(err, merr)
		}})
	}
	return js
}

// Run serves HTTP on ln and runs every worker until ctx ends, then shuts
// down in order and returns nil. A worker that fails is restarted; only
// the HTTP listener failing ends Run early, with its error.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	if a.executor == nil {
		a.logger.Warn("Slack is not configured: serving the API only; set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (or SLACK_SIGNING_SECRET) to connect")
	}
	sched, err := NewScheduler(a.logger, time.Now, a.jobs()...)
	if err != nil {
		return err
	}
	ws := append(a.workers(), worker{name: "scheduler", gated: true, run: sched.Run})

	hs := &http.Server{
		Handler:           a.server,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	// Shutdown waits for requests to end, and a live page's stream never
	// does: closing the site ends them. Run closes it on every other way
	// out too (the listener failing), so its watch never outlives Run.
	hs.RegisterOnShutdown(a.site.Close)
	defer a.site.Close()
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	supervised := make(chan struct{})
	go func() {
		defer close(supervised)
		supervise(wctx, a.logger, a.opts.Leadership, ws)
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		stop()
		<-supervised
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		a.logger.Info("shutting down")
	}
	// Requests first: Alertmanager is told to come back (503) rather than
	// have its alerts queued behind a poster that is stopping, and the
	// requests in flight are answered. The workers, whose context ended
	// with ctx, are waited for after.
	a.alerts.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = hs.Shutdown(shutdownCtx)
	stop()
	<-supervised
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

// Serve binds cfg.Listen, opens the store, builds Ooda and runs it until
// ctx ends. listening is told the bound address, which lets tests use
// port 0.
func Serve(ctx context.Context, cfg Config, opts Options, listening func(net.Addr)) error {
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	// Listen first: a server that cannot have its address must not have
	// created a database file on its way to saying so.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	// Run's HTTP server closes ln; this covers the ways out before it.
	defer ln.Close()
	// SIGHUP re-reads the SLO files. Caught from here on, it no longer
	// ends the process.
	if opts.Reload == nil {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		opts.Reload = hup
	}
	db, err := OpenStore(ctx, cfg, &opts)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := New(ctx, cfg, db, opts)
	if err != nil {
		return err
	}
	defer a.Close()
	if listening != nil {
		listening(ln.Addr())
	}
	return a.Run(ctx, ln)
}

// OpenStore opens the store the configuration names: etcd when it lists
// endpoints, else the bbolt file. The etcd store's calls go through a
// guard of their own, reporting to opts' registry and shown by the status
// (opts.StoreGuard).
func OpenStore(ctx context.Context, cfg Config, opts *Options) (storage.Store, error) {
	if len(cfg.EtcdEndpoints) == 0 {
		return storage.Open(cfg.DB, storage.Options{})
	}
	guardOpts := []resilience.Option{}
	if opts.Logger != nil {
		guardOpts = append(guardOpts, resilience.WithLogger(opts.Logger))
	}
	if opts.Registry != nil {
		guardOpts = append(guardOpts, resilience.WithMetrics(resilience.NewMetrics(opts.Registry)))
	}
	guard, err := resilience.New(etcd.DefaultPolicy(), guardOpts...)
	if err != nil {
		return nil, err
	}
	opts.StoreGuard = guard
	opts.backend = "etcd"
	st, err := etcd.Open(ctx, etcd.Options{
		Endpoints: cfg.EtcdEndpoints, Prefix: cfg.EtcdPrefix,
		CACert: cfg.EtcdCACert, Cert: cfg.EtcdCert, Key: cfg.EtcdKey,
		Username: cfg.EtcdUsername, Password: cfg.EtcdPassword, Guard: guard,
	})
	if err != nil {
		return nil, fmt.Errorf("%w (check OODA_ETCD_ENDPOINTS, the TLS files and that etcd is up)", err)
	}
	if opts.Leadership == nil {
		// Replicas share the store: one of them, elected, runs the work
		// only one may run.
		opts.Leadership = st.Election(replicaName(), 0)
	}
	return st, nil
}

// replicaName names this process among the replicas: host and pid.
func replicaName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "ooda"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}
