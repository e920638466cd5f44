package insights_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/insights"
	"github.com/ooda-sre/ooda/timeline"
)

// generated is n incidents of about 30 events each, declared over the 90
// days before now, with 60 responders in three zones.
func generated(b *testing.B, n int) insights.Input {
	rng := rand.New(rand.NewPCG(21, 90))
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	from := now.AddDate(0, 0, -90)
	people := make([]string, 60)
	zones := map[string]*time.Location{}
	locs := []*time.Location{nil, mustZone(b, "America/New_York"), mustZone(b, "Asia/Tokyo")}
	for i := range people {
		people[i] = "U0BENCH" + strconv.Itoa(1000+i)
		zones[people[i]] = locs[i%3]
	}
	services := []string{"checkout", "search", "payments", "auth", "", "ledger"}
	var h history
	for i := range n {
		at := from.Add(time.Duration(rng.Int64N(int64(89 * 24 * time.Hour)))).Truncate(time.Second)
		pick := func() string { return people[rng.IntN(len(people))] }
		l := h.declare(uint64(i+1), at, 1+rng.IntN(4), services[rng.IntN(len(services))], pick(), rng.IntN(20) == 0)
		clock := at
		step := func() time.Time { clock = clock.Add(time.Duration(1+rng.IntN(20)) * time.Minute); return clock }
		if rng.IntN(3) > 0 {
			l.alert(at.Add(-time.Duration(rng.IntN(30)) * time.Minute))
		}
		l.role(at, "commander", pick()).role(step(), "comms", pick()).role(step(), "ops", pick())
		for range 14 {
			l.observe(step(), time.Time{})
		}
		l.role(step(), "commander", pick()) // a handover
		l.status(step(), incident.StatusIdentified)
		for a := 1; a <= 3; a++ {
			l.action(step(), a, pick(), clock.AddDate(0, 0, 7*a).Format(incident.DayLayout))
		}
		l.status(step(), incident.StatusMonitoring)
		l.actionChange(step(), 1, timeline.ActionChangeDone)
		if rng.IntN(10) > 0 {
			l.resolve(clock.Add(time.Duration(rng.IntN(600)) * time.Minute))
			l.actionChange(step().Add(10*24*time.Hour), 2, timeline.ActionChangeDone)
			if rng.IntN(2) == 0 {
				l.kind(clock.Add(72*time.Hour), timeline.KindClosed, timeline.AttrURL, "https://wiki.example.com/pm")
			}
		}
	}
	incs, events := h.input()
	return insights.Input{
		Incidents: incs, Events: events, From: from, To: now.Add(12 * time.Hour), Now: now,
		Zone: func(u string) *time.Location { return zones[u] },
		May:  func(inc incident.Incident) bool { return inc.Admits(people[0]) },
	}
}

func mustZone(b *testing.B, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		b.Fatal(err)
	}
	return loc
}

// BenchmarkCompute is insights over 10,000 incidents of about 30 events
// each (the aim: under 200 ms).
func BenchmarkCompute(b *testing.B) {
	in := generated(b, 10_000)
	events := 0
	for _, evs := range in.Events {
		events += len(evs)
	}
	b.ReportMetric(float64(events)/float64(len(in.Incidents)), "events/incident")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := insights.Compute(in)
		if r.Incidents == 0 {
			b.Fatal("no incidents in the range")
		}
	}
}
