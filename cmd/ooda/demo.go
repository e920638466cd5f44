package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

// demoPeople are the responders of the scripted incident.
var demoPeople = map[string]string{
	"U0DEMOALICE": "alice", "U0DEMOBOB": "bob", "U0DEMOCAROL": "carol", "U0DEMODAVE": "dave",
}

// demoStep is one thing a responder does, at an offset from the start.
type demoStep struct {
	at    time.Duration
	actor string
	what  string
	do    func(inc *incident.Incident, m incident.Meta) (incident.Change, error)
}

func entry(p timeline.Phase, text string) func(*incident.Incident, incident.Meta) (incident.Change, error) {
	return func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(p, text, false, m)
	}
}

func role(r roles.Role, user string) func(*incident.Incident, incident.Meta) (incident.Change, error) {
	return func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AssignRole(r, user, m)
	}
}

func status(s incident.Status) func(*incident.Incident, incident.Meta) (incident.Change, error) {
	return func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetStatus(s, m)
	}
}

var demoScript = []demoStep{
	{2 * time.Minute, "U0DEMOBOB", "role comms @bob", role(roles.Comms, "U0DEMOBOB")},
	{3 * time.Minute, "U0DEMOALICE", "observe", entry(timeline.PhaseObserve, "5xx rate on checkout-api at 38%, p99 latency 4.2s; started 14:02 per the dashboard")},
	{4 * time.Minute, "U0DEMOCAROL", "role ops @carol", role(roles.Ops, "U0DEMOCAROL")},
	{6 * time.Minute, "U0DEMOCAROL", "orient", entry(timeline.PhaseOrient, "errors are all from pods on the 14:00 deploy (v2.31.0); older pods are healthy")},
	{7 * time.Minute, "U0DEMOBOB", "update", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.PostUpdate("Checkout is failing for about a third of customers. We are investigating a recent deploy.", m)
	}},
	{8 * time.Minute, "U0DEMOALICE", "impact", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetImpact("about 38% of checkout attempts fail with 502", m)
	}},
	{9 * time.Minute, "U0DEMOALICE", "status identified", status(incident.StatusIdentified)},
	{10 * time.Minute, "U0DEMOALICE", "decide", entry(timeline.PhaseDecide, "roll back checkout-api to v2.30.4 rather than fix forward")},
	{11 * time.Minute, "U0DEMOCAROL", "act", entry(timeline.PhaseAct, "rollback to v2.30.4 started (deploy #8812)")},
	{14 * time.Minute, "U0DEMOCAROL", "observe", entry(timeline.PhaseObserve, "rollback complete; 5xx rate falling, 4% and dropping")},
	{15 * time.Minute, "U0DEMOALICE", "status monitoring", status(incident.StatusMonitoring)},
	{16 * time.Minute, "U0DEMODAVE", "role commander @dave", role(roles.Commander, "U0DEMODAVE")},
	{18 * time.Minute, "U0DEMODAVE", "orient", entry(timeline.PhaseOrient, "v2.31.0 shipped a connection-pool default of 2; the pool exhausts under lunch traffic")},
	{20 * time.Minute, "U0DEMOBOB", "update", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.PostUpdate("A rollback has restored checkout. We are monitoring.", m)
	}},
	{41 * time.Minute, "U0DEMOCAROL", "observe", entry(timeline.PhaseObserve, "error rate at baseline (0.1%) for 20 minutes")},
	{42 * time.Minute, "U0DEMODAVE", "decide", entry(timeline.PhaseDecide, "keep v2.31.0 off production until the pool size is configurable")},
	{43 * time.Minute, "U0DEMODAVE", "action", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddAction("Make the connection-pool size a config value with a load-tested default", "U0DEMOCAROL", "", m)
	}},
	{44 * time.Minute, "U0DEMODAVE", "note", entry(timeline.PhaseNone, "thanks all; post-mortem draft to follow")},
	{45 * time.Minute, "U0DEMODAVE", "resolve", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Resolve("Rolled back checkout-api v2.31.0; its connection-pool default exhausted under load.", m)
	}},
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.String("db", "", "keep the demo database at this path instead of a temporary file")
	if err := parseFlags(fs, args); err != nil {
		return ignoreHelp(err)
	}
	path := *keep
	if path == "" {
		dir, err := os.MkdirTemp("", "ooda-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "demo.db")
	}
	start := time.Date(2026, 11, 26, 14, 5, 0, 0, time.UTC)
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	return playDemo(ctx, db, start, stdout)
}

func playDemo(ctx context.Context, store incident.Store, start time.Time, w io.Writer) error {
	declare := incident.Meta{At: start, Actor: "U0DEMOALICE", Source: timeline.SourceCommand, Key: "demo/declare"}
	res, err := store.Declare(ctx, declare.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: "Checkout API returning 502s", Severity: 2, Service: "checkout"}, declare)
	})
	if err != nil {
		return fmt.Errorf("demo: declare: %w", err)
	}
	n := res.Incident.Number
	fmt.Fprintf(w, "alice  /incident declare sev2 --service checkout Checkout API returning 502s\n       → %s declared, alice is Commander\n", res.Incident.ID)
	effects := len(res.Effects)
	for i, s := range demoScript {
		m := incident.Meta{At: start.Add(s.at), Actor: s.actor, Source: timeline.SourceCommand, Key: fmt.Sprintf("demo/%d", i)}
		res, err := store.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return s.do(inc, m) })
		if err != nil {
			return fmt.Errorf("demo: %s: %w", s.what, err)
		}
		effects += len(res.Effects)
		fmt.Fprintf(w, "%-6s /incident %s\n", demoPeople[s.actor], s.what)
	}
	inc, err := store.Incident(ctx, n)
	if err != nil {
		return err
	}
	events, err := store.Events(ctx, n, 1)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s — %s, %s. Commander %s, Comms %s, Ops %s. %d events, %d effects queued for Slack.\n\n",
		inc.Label(), inc.Status, inc.ResolvedAt.Sub(inc.DeclaredAt).Round(time.Minute), demoPeople[inc.Roles.Commander], demoPeople[inc.Roles.Comms], demoPeople[inc.Roles.Ops], len(events), effects)
	name := func(actor string) string {
		if name, ok := demoPeople[actor]; ok {
			return name
		}
		return actor
	}
	view := timeline.Build(events, inc.DeclaredAt, timeline.Options{Gap: 15 * time.Minute})
	if err := view.WriteText(w, timeline.TextOptions{Name: name}); err != nil {
		return err
	}
	return writeDemoPostmortem(ctx, store, inc, name, w)
}

// writeDemoPostmortem drafts the demo incident's post-mortem into a file
// that outlives the demo, and shows where it is and how it starts.
func writeDemoPostmortem(ctx context.Context, store incident.Store, inc incident.Incident, name func(string) string, w io.Writer) error {
	md, _, err := postmortem.Export(ctx, store, inc.Number, "md", postmortem.Options{Now: inc.ResolvedAt.Add(time.Hour), Names: name})
	if err != nil {
		return fmt.Errorf("demo: post-mortem: %w", err)
	}
	path := filepath.Join(os.TempDir(), "ooda-demo-postmortem-"+strings.ToLower(inc.ID)+".md")
	if err := writeFileAtomic(path, md); err != nil {
		return fmt.Errorf("demo: post-mortem: %w", err)
	}
	lines := strings.SplitN(string(md), "\n", 16)
	fmt.Fprintf(w, "\nPost-mortem draft written to %s (edit it, then `/incident postmortem publish <url>`). It starts:\n\n", path)
	for _, l := range lines[:len(lines)-1] {
		fmt.Fprintf(w, "    %s\n", l)
	}
	fmt.Fprintln(w, "    …")
	return nil
}
