package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

// demoPastPostmortemURL is where the team published the post-mortem of
// the demo's past incident.
const demoPastPostmortemURL = "https://wiki.example.com/pm/checkout-pool-october"

// demoPastAt is when the demo's past incident was declared: seven weeks
// before the scripted one.
var demoPastAt = time.Date(2026, 10, 8, 19, 40, 0, 0, time.UTC)

// seedHistory records, straight into the store and at fixed past times,
// an earlier checkout incident that was resolved and whose post-mortem
// was published, so the scripted incident's kickoff has a similar past
// incident to show. Its effects are dropped: its channel and messages
// belong to a past the demo's Slack never saw. It returns how many
// incidents it recorded.
func seedHistory(ctx context.Context, db *storage.DB) (int, error) {
	dave := demoID("dave")
	res, err := db.Declare(ctx, "demo-history-declare", func(n uint64) (incident.Change, error) {
		return quiet(incident.Declare(n, incident.Declaration{
			Title: "Checkout 502s during the evening peak", Severity: 2, Service: "checkout",
		}, pastMeta(dave, 0, "declare")))
	})
	if err != nil {
		return 0, fmt.Errorf("demo: seed the past incident: %w", err)
	}
	n := res.Incident.Number
	steps := []struct {
		at   time.Duration
		name string
		cmd  func(inc *incident.Incident, m incident.Meta) (incident.Change, error)
	}{
		{1 * time.Minute, "observe", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddEntry(timeline.PhaseObserve, "5xx alert firing on checkout-api: 21% of checkouts fail with 502", false, m)
		}},
		{4 * time.Minute, "impact", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetImpact("about a fifth of checkout attempts failed with 502 for 35 minutes", m)
		}},
		{18 * time.Minute, "cause", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddEntry(timeline.PhaseOrient, "checkout-api's database connection pool exhausted under peak traffic", true, m)
		}},
		{35 * time.Minute, "resolve", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Resolve("Raised the connection-pool size and restarted checkout-api.", m)
		}},
		{3 * 24 * time.Hour, "publish", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Close(demoPastPostmortemURL, m)
		}},
	}
	for _, s := range steps {
		m := pastMeta(dave, s.at, s.name)
		if _, err := db.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return quiet(s.cmd(inc, m)) }); err != nil {
			return 0, fmt.Errorf("demo: seed the past incident (%s): %w", s.name, err)
		}
	}
	return 1, nil
}

// pastMeta is who did what when in the demo's past incident.
func pastMeta(actor string, at time.Duration, name string) incident.Meta {
	return incident.Meta{At: demoPastAt.Add(at), Actor: actor, Source: timeline.SourceCommand, Key: "demo-history-" + name}
}

// quiet drops a change's effects, keeping its events.
func quiet(ch incident.Change, err error) (incident.Change, error) {
	ch.Effects = nil
	return ch, err
}
