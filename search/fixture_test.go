package search_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/timeline"
)

// The people of the seeded history.
const (
	alice = "U0ALICE" // declares everything and is a member of the private incident
	bob   = "U0BOB"   // a member of the private incident
	erin  = "U0ERIN"  // a member of nothing
)

// t0 is when the first seeded incident is declared; each next one is
// declared a week later, so a higher number is newer.
var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// past is one incident of the seeded history.
type past struct {
	title, service string
	private        bool   // its members are alice and bob
	impact         string // "" for none
	trigger        string // the first observe entry
	cause          string // an orient entry marked as the cause
	entries        []string
	update         string
	resolution     string
	postmortem     string // published post-mortem; "" leaves it resolved
}

// history is the seeded history: fifteen incidents over five services and
// one without a service. INC-n is history[n-1].
var history = []past{
	{title: "Checkout API returning 502s", service: "checkout",
		impact:  "38% of checkout attempts fail with 502",
		trigger: "5xx alert firing on checkout-api",
		cause:   "connection pool default of 2 exhausted under peak traffic",
		entries: []string{"errors only on pods from the 23:00 deploy", "rolling back checkout-api to v2.30.4"},
		update:  "Checkout is failing for a third of customers; we are rolling back.", resolution: "Rolled back checkout-api v2.31.0",
		postmortem: "https://wiki.example.com/pm/inc-1"},
	{title: "Card payments declined by the gateway", service: "payments",
		impact:  "card payments failed for EU customers",
		trigger: "spike in declined card payments on the payments board",
		cause:   "expired TLS certificate on the payment gateway client",
		entries: []string{"gateway logs show handshake failures", "renewing the client certificate"},
		update:  "Card payments in the EU are failing; a fix is being deployed.", resolution: "Renewed the gateway client certificate",
		postmortem: "https://wiki.example.com/pm/inc-2"},
	{title: "Search results stale", service: "search",
		impact:  "search shows products removed hours ago",
		trigger: "support reports stale search results",
		cause:   "indexer stuck on a poisoned message in the queue",
		entries: []string{"indexer lag at 4 hours", "skipping the poisoned message"}},
	{title: "Login failures after deploy", service: "auth",
		impact:  "users cannot sign in on the web",
		trigger: "login error rate alert",
		cause:   "session cookie domain changed in config",
		entries: []string{"rolling back the auth config"}},
	{title: "Checkout latency high", service: "checkout",
		impact:  "checkout takes 8 seconds for every customer",
		trigger: "p99 latency alert on checkout-api",
		cause:   "database connection pool exhausted by slow queries",
		entries: []string{"slow query log shows a missing index on orders"}},
	{title: "DNS resolution failing in eu-west", service: "edge",
		impact:  "API unreachable for eu-west clients",
		trigger: "synthetic checks failing from eu-west",
		cause:   "resolver config pushed with a typo",
		entries: []string{"reverting the resolver config"}},
	{title: "Fraud scores written to application logs", service: "payments", private: true,
		impact:  "fraud scores exposed in logs readable by support",
		trigger: "security scan found fraud scores in logs",
		cause:   "debug logging left enabled in the payments fraud service",
		entries: []string{"purging the payments logs"}},
	{title: "Search cluster out of disk", service: "search",
		impact:  "search unavailable for 20 minutes",
		trigger: "disk usage alert on the search cluster",
		cause:   "log retention disabled so logs filled the disk",
		entries: []string{"deleting old log files on the search nodes"}},
	{title: "Checkout pool exhaustion again", service: "checkout",
		impact:  "checkout errors for 10% of customers",
		trigger: "5xx alert firing on checkout-api again",
		cause:   "connection pool exhausted under peak traffic after a config revert",
		entries: []string{"pool metrics show every connection in use"}},
	{title: "Token refresh storm", service: "auth",
		impact:  "mobile app users logged out",
		trigger: "token endpoint saturated",
		cause:   "retry storm from the mobile app after a release",
		entries: []string{"rate limiting the token endpoint"}},
	{title: "Status page not updating",
		trigger: "customers asking why the status page is green",
		cause:   "status page API key expired",
		entries: []string{"rotating the status page key"}},
	{title: "Refunds delayed", service: "Payments",
		impact:  "refunds delayed by six hours",
		trigger: "refund queue depth alert",
		cause:   "batch scheduler paused after the upgrade",
		entries: []string{"resuming the batch scheduler"}},
	{title: "CDN certificate expired", service: "edge",
		impact:     "static assets failed to load for every visitor",
		trigger:    "browser errors about an invalid certificate",
		cause:      "expired TLS certificate on the CDN",
		entries:    []string{"uploading a renewed certificate to the CDN"},
		postmortem: "https://wiki.example.com/pm/inc-13"},
	{title: "Autocomplete slow", service: "search",
		impact:  "autocomplete takes 3 seconds",
		trigger: "latency alert on the autocomplete endpoint",
		cause:   "cache eviction after a memory limit change",
		entries: []string{"raising the cache memory limit"}},
	{title: "Checkout 502s on the payment step", service: "checkout",
		impact:  "checkout fails at the payment step for card payments",
		trigger: "502s on the payment step of checkout",
		cause:   "payment gateway timeout set too low",
		entries: []string{"raising the gateway timeout to 10 seconds"}},
}

// step is one command of a seeded incident, applied to its state.
type step func(inc *incident.Incident, m incident.Meta) (incident.Change, error)

// declaration is what declares p.
func (p past) declaration() incident.Declaration {
	return incident.Declaration{Title: p.title, Severity: 2, Service: p.service, Private: p.private}
}

// steps are the commands that follow p's declaration, in order.
func (p past) steps() []step {
	var out []step
	add := func(s step) { out = append(out, s) }
	if p.private {
		add(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.MembersAdded([]string{alice, bob}, m)
		})
	}
	add(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseObserve, p.trigger, false, m)
	})
	if p.impact != "" {
		add(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetImpact(p.impact, m)
		})
	}
	add(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseOrient, p.cause, true, m)
	})
	for _, e := range p.entries {
		add(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddEntry(timeline.PhaseAct, e, false, m)
		})
	}
	if p.update != "" {
		add(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.PostUpdate(p.update, m)
		})
	}
	add(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Resolve(p.resolution, m)
	})
	if p.postmortem != "" {
		add(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Close(p.postmortem, m)
		})
	}
	return out
}

// declaredAt is when INC-n of the history is declared.
func declaredAt(n uint64) time.Time { return t0.Add(time.Duration(n-1) * 7 * 24 * time.Hour) }

// meta is the i-th command of INC-n: by alice, a minute after the one
// before.
func meta(n uint64, i int) incident.Meta {
	return incident.Meta{
		At: declaredAt(n).Add(time.Duration(i) * time.Minute), Actor: alice,
		Source: timeline.SourceCommand, Key: fmt.Sprintf("inc%d-%d", n, i),
	}
}

// script is one incident driven through the domain's commands in memory,
// each change folded into its state.
type script struct {
	t      testing.TB
	inc    incident.Incident
	events []timeline.Event
	next   int // the next command's index, for meta
}

func (s *script) commit(ch incident.Change, err error) incident.Change {
	s.t.Helper()
	require.NoError(s.t, err)
	for _, e := range ch.Events {
		s.inc.Apply(e)
	}
	s.events = append(s.events, ch.Events...)
	return ch
}

// do applies one command, as the next.
func (s *script) do(st step) incident.Change {
	s.t.Helper()
	s.next++
	return s.commit(st(&s.inc, meta(s.inc.Number, s.next)))
}

// play declares p as INC-n and applies its steps.
func play(t testing.TB, n uint64, p past) *script {
	t.Helper()
	s := &script{t: t}
	s.commit(incident.Declare(n, p.declaration(), meta(n, 0)))
	for _, st := range p.steps() {
		s.do(st)
	}
	return s
}

// seeded returns an index of the whole history, put in memory.
func seeded(t testing.TB) *search.Index {
	t.Helper()
	x := search.New()
	for i, p := range history {
		s := play(t, uint64(i+1), p)
		x.Put(s.inc, s.events)
	}
	require.Equal(t, len(history), x.Len())
	return x
}

// store is what seed needs of a store.
type store interface {
	Declare(ctx context.Context, key string, decide func(number uint64) (incident.Change, error)) (incident.Result, error)
	Apply(ctx context.Context, number uint64, key string, decide incident.Decider) (incident.Result, error)
}

// seed declares p in db and applies its steps; it returns the number.
func seed(t testing.TB, db store, p past) uint64 {
	t.Helper()
	ctx := context.Background()
	var n uint64
	res, err := db.Declare(ctx, "declare-"+p.title, func(number uint64) (incident.Change, error) {
		n = number
		return incident.Declare(number, p.declaration(), meta(number, 0))
	})
	require.NoError(t, err)
	n = res.Incident.Number
	for i, st := range p.steps() {
		apply(t, db, n, i+1, st)
	}
	return n
}

// apply applies one command to INC-n of db as its i-th.
func apply(t testing.TB, db store, n uint64, i int, st step) incident.Result {
	t.Helper()
	m := meta(n, i)
	res, err := db.Apply(context.Background(), n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return st(inc, m) })
	require.NoError(t, err)
	return res
}

// admits is user's access rule, as a command applies it: admits(alice)
// and admits(bob) see the private INC-7, admits(erin) does not.
func admits(user string) func(incident.Incident) bool {
	return func(inc incident.Incident) bool { return inc.Admits(user) }
}

// numbers lists the hits' numbers, in order.
func numbers(hits []search.Hit) []uint64 {
	out := []uint64{}
	for _, h := range hits {
		out = append(out, h.Number)
	}
	return out
}
