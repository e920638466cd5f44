package search_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/timeline"
)

func TestSearch(t *testing.T) {
	x := seeded(t)
	type line struct {
		number uint64
		field  search.Field
		text   string
	}
	tests := []struct {
		name  string
		query string
		user  string
		limit int
		want  []uint64 // the hits' numbers, in order
		total int
		lines []line // the first hits' best lines
	}{
		{name: "a title word, newest first", query: "checkout", user: erin, want: []uint64{15, 9, 5, 1}, total: 4,
			lines: []line{{15, search.FieldTitle, "Checkout 502s on the payment step"}}},
		{name: "every word must occur", query: "checkout pool", user: erin, want: []uint64{9, 5, 1}, total: 3},
		{name: "the line with the most words beats the title", query: "pool exhausted", user: erin, want: []uint64{9, 5, 1}, total: 3,
			lines: []line{
				{9, search.FieldRootCause, "connection pool exhausted under peak traffic after a config revert"},
				{5, search.FieldRootCause, "database connection pool exhausted by slow queries"},
				{1, search.FieldRootCause, "connection pool default of 2 exhausted under peak traffic"},
			}},
		{name: "case and punctuation do not matter", query: "CHECKOUT-API!", user: erin, want: []uint64{9, 5, 1}, total: 3,
			lines: []line{
				{9, search.FieldTrigger, "5xx alert firing on checkout-api again"},
				{5, search.FieldTrigger, "p99 latency alert on checkout-api"},
				{1, search.FieldTitle, "Checkout API returning 502s"}, // a tie: the title first
			}},
		{name: "impact", query: "eu customers", user: erin, want: []uint64{2}, total: 1,
			lines: []line{{2, search.FieldImpact, "card payments failed for EU customers"}}},
		{name: "a stakeholder update", query: "third", user: erin, want: []uint64{1}, total: 1,
			lines: []line{{1, search.FieldUpdate, "Checkout is failing for a third of customers; we are rolling back."}}},
		{name: "the resolution", query: "renewed gateway", user: erin, want: []uint64{2}, total: 1,
			lines: []line{{2, search.FieldResolution, "Renewed the gateway client certificate"}}},
		{name: "a timeline entry", query: "handshake", user: erin, want: []uint64{2}, total: 1,
			lines: []line{{2, search.FieldTimeline, "gateway logs show handshake failures"}}},
		{name: "plurals fold", query: "certificates expire", user: erin, want: []uint64{}, total: 0},
		{name: "plurals fold both ways", query: "certificate", user: erin, want: []uint64{13, 2}, total: 2},
		{name: "limit keeps the total", query: "checkout", user: erin, limit: 2, want: []uint64{15, 9}, total: 4},
		{name: "private: hidden from a non-member and from the total", query: "logs", user: erin, want: []uint64{8, 5, 2}, total: 3},
		{name: "private: shown to a member", query: "logs", user: alice, want: []uint64{8, 7, 5, 2}, total: 4},
		{name: "private: a member of it", query: "fraud", user: bob, want: []uint64{7}, total: 1,
			lines: []line{{7, search.FieldTitle, "Fraud scores written to application logs"}}},
		{name: "private: its own words find nothing for others", query: "fraud", user: erin, want: []uint64{}, total: 0},
		{name: "a word nobody wrote", query: "kubernetes", user: alice, want: []uint64{}, total: 0},
		{name: "one unknown word fails the whole query", query: "checkout kubernetes", user: alice, want: []uint64{}, total: 0},
		{name: "an empty query", query: "  ", user: alice, want: []uint64{}, total: 0},
		{name: "words of one character are ignored", query: "a b c", user: alice, want: []uint64{}, total: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := x.Search(tt.query, admits(tt.user), tt.limit)
			require.Equal(t, tt.want, numbers(res.Hits), "hits for %q as %s", tt.query, tt.user)
			require.Equal(t, tt.total, res.Total, "total for %q as %s", tt.query, tt.user)
			for i, l := range tt.lines {
				h := res.Hits[i]
				require.Equal(t, l.number, h.Number)
				require.Equal(t, l.field, h.Field, "the field of %s's line", h.ID)
				require.Equal(t, l.text, h.Line, "the best line of %s", h.ID)
				require.False(t, h.At.IsZero(), "a line says when it was written")
			}
		})
	}
}

func TestSearchHitCarriesTheIncident(t *testing.T) {
	x := seeded(t)
	res := x.Search("gateway client", nil, 0)
	require.Equal(t, []uint64{2}, numbers(res.Hits))
	h := res.Hits[0]
	require.Equal(t, "INC-2", h.ID)
	require.Equal(t, "Card payments declined by the gateway", h.Title)
	require.Equal(t, "payments", h.Service)
	require.Equal(t, 2, h.Severity)
	require.Equal(t, incident.StatusClosed, h.Status)
	require.Equal(t, declaredAt(2), h.DeclaredAt)
	require.False(t, h.ResolvedAt.IsZero())
	require.Equal(t, "expired TLS certificate on the payment gateway client", h.RootCause)
	require.Equal(t, "https://wiki.example.com/pm/inc-2", h.PostmortemURL)
	require.Equal(t, search.FieldRootCause, h.Field)
	require.Equal(t, declaredAt(2).Add(3*time.Minute), h.At, "the cause was the third command")
}

// TestSearchCorrections: a struck entry is not found; an amended one is
// found by its new text and no longer by its old.
func TestSearchCorrections(t *testing.T) {
	p := history[0]
	p.postmortem = "" // left resolved, so it takes entries
	s := play(t, 1, p)
	struck := s.do(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseOrient, "suspect the redis cache", false, m)
	}).Events[0]
	amended := s.do(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseOrient, "a bad deploy of the frontend", false, m)
	}).Events[0]
	cause := s.do(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseOrient, "the zookeeper quorum was lost", true, m)
	}).Events[0]
	x := search.New()
	x.Put(s.inc, s.events)
	require.Equal(t, 1, x.Search("redis", nil, 0).Total, "before the corrections")
	require.Equal(t, 1, x.Search("zookeeper", nil, 0).Total, "before the corrections")

	s.do(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Strike(struck.Seq, &struck, "wrong incident", m)
	})
	s.do(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Amend(amended.Seq, &amended, "a bad deploy of the kafka consumer", incident.When{}, m)
	})
	s.do(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Strike(cause.Seq, &cause, "", m)
	})
	x.Put(s.inc, s.events)
	require.Equal(t, 1, x.Len(), "a second Put replaces the first")

	tests := []struct {
		query string
		total int
		line  string
	}{
		{query: "redis", total: 0},
		{query: "wrong incident", total: 0}, // a strike's reason is not an entry
		{query: "frontend", total: 0},
		{query: "kafka consumer", total: 1, line: "a bad deploy of the kafka consumer"},
		{query: "zookeeper", total: 0},
		{query: "checkout", total: 1, line: "Checkout API returning 502s"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := x.Search(tt.query, nil, 0)
			require.Equal(t, tt.total, res.Total)
			if tt.total > 0 {
				require.Equal(t, tt.line, res.Hits[0].Line)
			}
		})
	}
	res := x.Search("checkout", nil, 0)
	require.Equal(t, "connection pool default of 2 exhausted under peak traffic", res.Hits[0].RootCause,
		"a struck cause is no longer the root cause")
}

func TestSimilar(t *testing.T) {
	x := seeded(t)
	public := func(inc incident.Incident) bool { return !inc.Private }
	tests := []struct {
		name string
		to   past
		may  func(incident.Incident) bool
		want []uint64
		same []bool
	}{
		{name: "same service, most alike first",
			to:   past{title: "Checkout API 502 errors", service: "checkout", impact: "checkout attempts failing with 502", trigger: "5xx alert on checkout-api", cause: "pool"},
			may:  public,
			want: []uint64{1, 9, 15}, same: []bool{true, true, true}},
		{name: "same service ranks above any other, even sharing no word",
			to:   past{title: "Card payments failing", service: "payments", impact: "card payments declined", trigger: "declined card payments", cause: "unknown yet"},
			may:  public,
			want: []uint64{2, 12, 15}, same: []bool{true, true, false}},
		{name: "a private incident for a member",
			to:   past{title: "Card payments failing", service: "payments", impact: "card payments declined", trigger: "declined card payments", cause: "unknown yet"},
			may:  admits(alice),
			want: []uint64{2, 7, 12}, same: []bool{true, true, true}},
		{name: "no service: by words alone",
			to:   past{title: "TLS certificate expired on the payment gateway", trigger: "handshake failures", cause: "expired certificate"},
			may:  public,
			want: []uint64{13, 2, 15}, same: []bool{false, false, false}},
		{name: "nothing alike: nothing listed",
			to:   past{title: "Invoice emails not sent", service: "billing", impact: "customers did not receive invoices", trigger: "support tickets", cause: "smtp relay down"},
			may:  admits(alice),
			want: []uint64{}},
		{name: "a service matches ignoring case and spaces",
			to:   past{title: "Invoice emails not sent", service: " EDGE ", trigger: "support tickets", cause: "smtp relay down"},
			may:  public,
			want: []uint64{13, 6}, same: []bool{true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := play(t, 16, tt.to)
			hits := x.Similar(s.inc, s.events, tt.may, 3)
			require.Equal(t, tt.want, numbers(hits))
			for i, h := range hits {
				require.Equal(t, tt.same[i], h.SameService, "%s same service", h.ID)
				if !h.SameService {
					require.GreaterOrEqual(t, h.Score, search.MinScore, "%s is similar enough", h.ID)
				}
				require.NotEmpty(t, h.RootCause, "%s carries its root cause", h.ID)
			}
		})
	}
}

func TestSimilarLeavesItselfOutAndCarriesLinks(t *testing.T) {
	x := seeded(t)
	s := play(t, 1, history[0]) // INC-1, indexed
	hits := x.Similar(s.inc, s.events, nil, 3)
	require.Equal(t, []uint64{9, 15, 5}, numbers(hits), "INC-1 itself is not similar to INC-1")

	s = play(t, 16, past{title: "Certificate expired on the CDN", service: "edge", trigger: "assets fail to load", cause: "expired certificate"})
	hits = x.Similar(s.inc, s.events, nil, 1)
	require.Len(t, hits, 1)
	require.Equal(t, "INC-13", hits[0].ID)
	require.Equal(t, "https://wiki.example.com/pm/inc-13", hits[0].PostmortemURL)
	require.Equal(t, "expired TLS certificate on the CDN", hits[0].RootCause)
}

func TestSimilarTiesGoToTheNewer(t *testing.T) {
	x := search.New()
	same := past{title: "Queue backlog", service: "jobs", trigger: "queue depth alert", cause: "consumer crashed"}
	for n := uint64(1); n <= 3; n++ {
		s := play(t, n, same)
		x.Put(s.inc, s.events)
	}
	s := play(t, 4, same)
	require.Equal(t, []uint64{3, 2, 1}, numbers(x.Similar(s.inc, s.events, nil, 3)))
}

func TestEmptyIndex(t *testing.T) {
	x := search.New()
	require.False(t, x.Ready())
	require.Equal(t, 0, x.Len())
	require.Equal(t, search.Results{}, x.Search("checkout", nil, 10))
	s := play(t, 1, history[0])
	require.Empty(t, x.Similar(s.inc, s.events, nil, 3))
}

// TestNilMayIsPublicOnly: a caller that forgets the access rule shows
// nothing private.
func TestNilMayIsPublicOnly(t *testing.T) {
	x := seeded(t)
	require.Zero(t, x.Search("fraud", nil, 0).Total)
	require.Equal(t, 3, x.Search("logs", nil, 0).Total)
	s := play(t, 16, past{title: "Fraud scores in logs", service: "payments", trigger: "scan", cause: "debug logging"})
	require.NotContains(t, numbers(x.Similar(s.inc, s.events, nil, 0)), uint64(7))
	require.Contains(t, numbers(x.Similar(s.inc, s.events, admits(bob), 0)), uint64(7))
}
