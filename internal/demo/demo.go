package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/tickets/trackertest"
	"github.com/ooda-sre/ooda/timeline"
)

// The demo's Slack app and workspace: the signing secret its requests are
// signed with, the bot token the fake Slack accepts, and the ids Slack
// would give them. None is a real credential.
const (
	demoSigningSecret     = "ooda-demo-signing-secret"
	demoBotToken          = "xoxb-ooda-demo-token"
	demoVerificationToken = "ooda-demo-verification-token" // the deprecated token field Slack still sends
	demoBotUserID         = "U0OODABOT01"
	demoTeamID            = "T0OODADEMO1"
	demoAppID             = "A0OODADEMO1"
)

// ErrUsedDatabase is returned for a database that holds incidents
// already: the script's requests carry fixed trigger ids, which a
// database that saw them would take for Slack's retries.
var ErrUsedDatabase = errors.New("the demo needs a fresh database")

// Options says how the demo runs.
type Options struct {
	// KeepDB, when not empty, is where the demo's database is kept;
	// otherwise it lives in a temporary directory removed at the end.
	KeepDB string
	// Serve, when not nil, keeps the demo's server up on this listener
	// after the script, with the web UI, until ctx ends: Run prints an
	// address that signs the person who opens it in as the demo's
	// Commander.
	Serve net.Listener
}

// Run plays the demo, writing its story to stdout and Ooda's warnings to
// stderr.
func Run(ctx context.Context, opts Options, stdout, stderr io.Writer) error {
	keepDB := opts.KeepDB
	dir, err := os.MkdirTemp("", "ooda-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := keepDB
	if path == "" {
		path = filepath.Join(dir, "demo.db")
	}
	clock := resiliencetest.NewClock(time.Date(2026, 11, 26, 14, 5, 0, 0, time.UTC))
	db, err := storage.Open(path, storage.Options{Now: clock.Now})
	if err != nil {
		return err
	}
	defer db.Close()
	if incs, err := db.Incidents(ctx, true); err != nil {
		return err
	} else if len(incs) > 0 {
		return fmt.Errorf("%s already holds incidents: %w; give --db a new path", path, ErrUsedDatabase)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return playDemo(ctx, db, dir, clock, logger, stdout, opts.Serve)
}

// playDemo plays the script through Slack: a fake Slack Web API and a
// fake Prometheus, the wiring `ooda serve` runs served over loopback HTTP
// with the SLO file written into dir, and signed requests as Slack sends
// them. The executor is drained after every step, so what people see
// follows what they did as it would in a real workspace.
func playDemo(ctx context.Context, db *storage.DB, dir string, clock *resiliencetest.Clock, logger *slog.Logger, w io.Writer, serve net.Listener) error {
	fake := slacktest.New(slacktest.WithClock(clock.Now), slacktest.WithToken(demoBotToken),
		slacktest.WithBotUserID(demoBotUserID), slacktest.WithTeam(demoTeamID, "Ooda Demo"))
	defer fake.Close()
	for _, p := range demoCast {
		fake.AddMember(slacktest.Member{ID: p.id, Handle: p.name, RealName: p.realName})
	}
	announce := fake.CreateChannel("incidents", false)
	sloChannel := fake.CreateChannel("slo-alerts", false)
	start := clock.Now()
	traffic := demoCheckoutTraffic(start)
	prom := newDemoPrometheus(traffic)
	defer prom.Close()
	sloFile, err := writeDemoSLOFile(dir)
	if err != nil {
		return err
	}
	// The team's tracker: action items become issues there.
	tracker := trackertest.NewGitHub()
	defer tracker.Close()
	tracker.AddProject(demoTrackerProject)
	trackerCfg, err := writeDemoTracker(dir, tracker.URL(), tracker.Token())
	if err != nil {
		return err
	}

	cfg := app.DefaultConfig()
	cfg.SlackBotToken, cfg.SlackSigningSecret, cfg.SlackAPIURL, cfg.AnnounceChannel = demoBotToken, demoSigningSecret, fake.URL(), announce
	cfg.SLOFiles, cfg.PrometheusURL, cfg.SLOChannel = []string{sloFile}, prom.URL, sloChannel
	cfg.Tickets = trackerCfg
	if serve != nil {
		// The web UI, as a deployment configures it, on the address the
		// person will open; the demo signs them in itself (serveWeb), so
		// Slack's sign-in is never asked.
		cfg.PublicURL = "http://" + browsable(serve.Addr())
		cfg.SlackClientID, cfg.SlackClientSecret = demoClientID, demoClientSecret
	}
	// What happened last time: the kickoff shows it as a similar incident.
	seeded, err := seedHistory(ctx, db)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	ooda, err := app.New(ctx, cfg, db, app.Options{Logger: logger, Registry: reg, Now: clock.Now})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer ooda.Close()
	// As `ooda serve` does at start-up: the workspace's names, which the
	// post-mortem draft shows.
	if _, err := ooda.RefreshPeople(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// As the search index's worker does at start-up.
	if err := ooda.RebuildSearch(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	srv := httptest.NewServer(ooda.Handler())
	defer srv.Close()

	ws := newDemoWorkspace(fake, srv.URL, clock, announce, sloChannel)
	ws.traffic = traffic
	defer ws.close()
	for _, s := range demoScript {
		clock.Set(start.Add(s.at))
		if s.tick {
			err = ws.tickSLOs(ctx, ooda)
		} else {
			err = ws.play(ctx, s)
		}
		if err != nil {
			return fmt.Errorf("demo: %s at %s: %w", s.who, demoOffset(s.at), err)
		}
		if err := drain(ctx, ooda, db); err != nil {
			return fmt.Errorf("demo: after %s's step at %s: %w", s.who, demoOffset(s.at), err)
		}
		if ws.incident == 0 {
			// Once declared, the rest of the script happens in the
			// incident's channel.
			incs, err := db.Incidents(ctx, true)
			if err != nil {
				return err
			}
			incs = slices.DeleteFunc(incs, func(inc incident.Incident) bool { return inc.Number <= uint64(seeded) })
			if len(incs) > 1 || (len(incs) == 1 && incs[0].ChannelID == "") {
				return fmt.Errorf("demo: the declaration left %d incidents and no channel", len(incs))
			}
			if len(incs) == 1 {
				ws.incident, ws.channel = incs[0].Number, incs[0].ChannelID
			}
		}
	}
	// Follow-ups on response_url run in the handler's background; closing
	// it waits for them, so all of them are shown.
	ooda.Close()
	answered, err := allAnswered(reg)
	if err != nil {
		return err
	}

	inc, err := db.Incident(ctx, ws.incident)
	if err != nil {
		return err
	}
	events, err := db.Events(ctx, inc.Number, 1)
	if err != nil {
		return err
	}
	if err := ws.show(w, inc, len(events), answered); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nThe timeline Ooda recorded (`/incident timeline` shows it in Slack):\n\n")
	view := timeline.Build(events, inc.DeclaredAt, timeline.Options{Gap: 15 * time.Minute})
	if err := view.WriteText(w, timeline.TextOptions{Name: demoName, Numbers: true}); err != nil {
		return err
	}
	draft, err := ws.showPostmortem(w, inc)
	if err != nil {
		return err
	}
	showTickets(w, tracker.Tickets(), draft)
	if serve == nil {
		return nil
	}
	return serveWeb(ctx, serve, ooda, inc, w, logger)
}

// demoOffset writes a step's offset from the declaration: T+1m0s, T-30s.
func demoOffset(d time.Duration) string {
	if d < 0 {
		return "T" + d.String()
	}
	return "T+" + d.String()
}

// tickSLOs is one turn of the SLO monitor, as `ooda serve` runs every
// minute: it evaluates the SLO file against Prometheus at the simulated
// time and delivers what changed.
func (ws *demoWorkspace) tickSLOs(ctx context.Context, ooda *app.App) error {
	rep, err := ooda.TickSLOs(ctx, ws.clock.Now())
	if err != nil {
		return fmt.Errorf("SLO tick: %w", err)
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.ticks = append(ws.ticks, rep)
	return nil
}

// drain performs every effect the last step queued, as the executor does
// in the background of `ooda serve`, and insists that none is left: the
// fake Slack refuses nothing, so a leftover is a bug the demo must show.
func drain(ctx context.Context, ooda *app.App, db *storage.DB) error {
	// An effect's completion may queue another (a ticket opened is told
	// in the channel): pass again while passes get somewhere.
	depth := 0
	for range 5 {
		done, err := ooda.Drain(ctx)
		if err != nil {
			return err
		}
		if depth, _, err = db.OutboxStats(ctx); err != nil {
			return err
		}
		if depth == 0 || done == 0 {
			break
		}
	}
	if depth > 0 {
		pending, _ := db.Pending(ctx, 1)
		why := ""
		if len(pending) > 0 {
			why = ": " + pending[0].Effect.Key + " " + pending[0].LastError
		}
		return fmt.Errorf("%d effects are still queued%s", depth, why)
	}
	return nil
}

// allAnswered reads from the Slack handler's own metrics how many requests
// it took, and fails when one was refused: a reply that refuses a step of
// the script reads like any other, but it is a demo that no longer works.
func allAnswered(g prometheus.Gatherer) (int, error) {
	families, err := g.Gather()
	if err != nil {
		return 0, err
	}
	ok, other := 0, []string{}
	for _, f := range families {
		if f.GetName() != "ooda_slack_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			n := int(m.GetCounter().GetValue())
			if labels["outcome"] == "ok" {
				ok += n
			} else {
				other = append(other, fmt.Sprintf("%d %s %s", n, labels["kind"], labels["outcome"]))
			}
		}
	}
	if len(other) > 0 {
		return ok, fmt.Errorf("demo: Ooda did not take every step of the script: %s (rerun with the steps in the output above)", strings.Join(other, ", "))
	}
	return ok, nil
}

// showPostmortem shows the post-mortem draft Ooda shared in the incident
// channel, and writes the bytes it uploaded into a file that outlives the
// demo, showing where it is and how it starts.
func (ws *demoWorkspace) showPostmortem(w io.Writer, inc incident.Incident) ([]byte, error) {
	var draft slacktest.File
	for _, f := range ws.fake.Files() {
		if f.Completed && slices.Contains(f.Channels, ws.channel) {
			draft = f
		}
	}
	if draft.ID == "" {
		return nil, fmt.Errorf("demo: no post-mortem draft was shared in %s", ws.channelName(ws.channel))
	}
	ch, _ := ws.fake.Channel(ws.channel)
	bookmark := "not bookmarked"
	for _, b := range ch.Bookmarks {
		if strings.Contains(b.Link, draft.ID) {
			bookmark = "bookmarked as “" + b.Title + "”"
		}
	}
	path, err := writeDraft(draft.Content, inc)
	if err != nil {
		return nil, fmt.Errorf("demo: post-mortem: %w", err)
	}
	fmt.Fprintf(w, "\n`/incident postmortem` shared the draft in %s: %s (%d bytes),\n%s.\n",
		ws.channelName(ws.channel), draft.Name, len(draft.Content), bookmark)
	fmt.Fprintf(w, "Post-mortem draft written to %s (the Markdown Ooda uploaded). It starts:\n\n", path)
	lines := strings.SplitN(string(draft.Content), "\n", 16)
	for _, l := range lines[:len(lines)-1] {
		fmt.Fprintf(w, "    %s\n", l)
	}
	fmt.Fprintln(w, "    …")
	return draft.Content, nil
}

// writeDraft writes the draft to a new file in the temporary directory,
// named by os.CreateTemp: a fixed name there is one another user of the
// machine can take first, or point at a file of ours with a symlink.
func writeDraft(content []byte, inc incident.Incident) (string, error) {
	f, err := os.CreateTemp("", "ooda-demo-postmortem-"+strings.ToLower(inc.ID)+"-*.md")
	if err != nil {
		return "", err
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
