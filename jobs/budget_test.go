package jobs

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// spenderFunc is a BudgetSpender from a function.
type spenderFunc func(ctx context.Context, service string, from, to time.Time) (slo.Spent, error)

func (f spenderFunc) ServiceBudgetSpent(ctx context.Context, service string, from, to time.Time) (slo.Spent, error) {
	return f(ctx, service, from, to)
}

// resolvedIncident declares an incident of service at t0 and resolves it
// after took.
func resolvedIncident(t testing.TB, db *storage.DB, service string, t0 time.Time, took time.Duration) incident.Incident {
	t.Helper()
	m := incident.Meta{At: t0, Actor: alice, Source: timeline.SourceCommand, Key: "test:declare:" + service}
	res, err := db.Declare(t.Context(), m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: service + " is down", Severity: 3, Service: service}, m)
	})
	require.NoError(t, err)
	m.At, m.Key = t0.Add(took), "test:resolve:"+service
	res, err = db.Apply(t.Context(), res.Incident.Number, m.Key, func(inc *incident.Incident) (incident.Change, error) {
		return inc.Resolve("rolled back", m)
	})
	require.NoError(t, err)
	return res.Incident
}

func TestIncidentBudget(t *testing.T) {
	db := storagetest.Open(t)
	inc := resolvedIncident(t, db, "checkout", sloT0, time.Hour)
	tests := []struct {
		name  string
		spent slo.Spent
		err   error
		need  bool
		known bool
		fails bool
	}{
		{name: "over a fifth", spent: slo.Spent{SLO: "checkout/availability", Share: 0.23}, need: true, known: true},
		{name: "under a fifth", spent: slo.Spent{SLO: "checkout/availability", Share: 0.19}, known: true},
		{name: "no SLO for the service", err: slo.ErrUnknownService},
		{name: "no data", err: slo.ErrNoData},
		{name: "Prometheus down", err: slo.ErrUnavailable, fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked [2]time.Time
			b := IncidentBudget{SLOs: spenderFunc(func(_ context.Context, service string, from, to time.Time) (slo.Spent, error) {
				require.Equal(t, "checkout", service)
				asked = [2]time.Time{from, to}
				return tt.spent, tt.err
			})}
			need, spent, err := b.NeedsPostmortem(t.Context(), inc)
			if tt.fails {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.need, need)
			require.Equal(t, [2]time.Time{inc.DeclaredAt, inc.ResolvedAt}, asked, "the incident's own span")
			pm, err := b.Lookup(t.Context(), inc)
			require.NoError(t, err)
			if !tt.known {
				require.Nil(t, pm)
				return
			}
			require.Equal(t, spent.SLO, pm.SLO)
			require.InDelta(t, tt.spent.Share, pm.Spent, 1e-9)
		})
	}

	none, _, err := IncidentBudget{}.NeedsPostmortem(t.Context(), inc)
	require.NoError(t, err)
	require.False(t, none, "without SLOs nothing is known")
}

// TestIncidentBudgetFromTheEvaluator: over the real evaluator, a one-hour
// incident at 200 times the budget's burn spent 200/720 of the budget.
func TestIncidentBudgetFromTheEvaluator(t *testing.T) {
	db := storagetest.Open(t)
	inc := resolvedIncident(t, db, "checkout", sloT0, time.Hour)
	slos, _, err := slo.Parse("slos/checkout.yaml", []byte(sloTestFile))
	require.NoError(t, err)
	guard, err := resilience.New(resilience.DefaultPolicy(resilience.DependencyPrometheus))
	require.NoError(t, err)
	ev, err := prom.NewEvaluator(prom.Config{API: &slotest.API{Answer: slotest.Windows{"1h": {Ratio: 0.2, Requests: 360000}}.Answer}, Guard: guard, SLOs: slos})
	require.NoError(t, err)
	b := IncidentBudget{SLOs: ev}

	need, spent, err := b.NeedsPostmortem(t.Context(), inc)
	require.NoError(t, err)
	require.True(t, need)
	require.Equal(t, "checkout/availability", spent.SLO)
	require.InDelta(t, 200.0/720, spent.Share, 1e-6)

	woken := 0
	for range 2 {
		marked, err := b.MarkPostmortem(t.Context(), db, inc, func() { woken++ })
		require.NoError(t, err)
		require.True(t, marked)
	}
	got := entries(t, db, inc.Number, timeline.SourceSLO)
	require.Len(t, got, 1, "marked once")
	require.Contains(t, got[0].Text, "spent 27.8% of the error budget of SLO checkout/availability, over the 20.0%")
	require.LessOrEqual(t, woken, 1)
	after, err := db.Incident(t.Context(), inc.Number)
	require.NoError(t, err)
	require.True(t, after.BudgetBreach)
	require.True(t, after.PostmortemRequired(), "the budget makes the post-mortem required, whatever the severity")

	// The SLO job's sweep measures recently resolved incidents only, and
	// an incident already marked costs nothing more.
	n, err := b.MarkBudgetBreaches(t.Context(), db, after.ResolvedAt.Add(BudgetCheckWindow+time.Minute), nil)
	require.NoError(t, err)
	require.Zero(t, n, "resolved too long ago")
	n, err = b.MarkBudgetBreaches(t.Context(), db, after.ResolvedAt.Add(time.Minute), nil)
	require.NoError(t, err)
	require.Zero(t, n, "already marked")

	// Through the API: the draft carries the budget.
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/incidents/{n}/postmortem", api.PostmortemHandlerWithBudget(db, func() time.Time { return sloT0.Add(2 * time.Hour) }, b.Lookup))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/v1/incidents/1/postmortem", nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "27.8% of the checkout/availability error budget")

	// A lookup that fails leaves the figure unknown; the draft still comes.
	failing := func(context.Context, incident.Incident) (*postmortem.BudgetSpent, error) {
		return nil, errors.New("prometheus unavailable")
	}
	mux = http.NewServeMux()
	mux.Handle("GET /api/v1/incidents/{n}/postmortem", api.PostmortemHandlerWithBudget(db, nil, failing))
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/v1/incidents/1/postmortem", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "unknown: no SLO is known for this service")
}
