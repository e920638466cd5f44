package prom_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// switchable answers with whatever windows it was last given.
type switchable struct {
	mu  sync.Mutex
	ws  slotest.Windows
	err error
}

func (s *switchable) set(ws slotest.Windows, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ws, s.err = ws, err
}

func (s *switchable) answer(q string, ts time.Time) (model.Value, error) {
	s.mu.Lock()
	ws, err := s.ws, s.err
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return ws.Answer(q, ts)
}

// recorder collects delivered notices; it fails while failing is set.
type recorder struct {
	mu      sync.Mutex
	notices []slo.Notice
	failing bool
}

func (r *recorder) deliver(_ context.Context, n slo.Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return errors.New("slack is down")
	}
	r.notices = append(r.notices, n)
	return nil
}

func (r *recorder) take() []slo.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.notices
	r.notices = nil
	return out
}

func TestMonitorTick(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	fake := &switchable{ws: windows(0.0002, nil)}
	var now atomic.Int64
	now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	ev := newEvaluator(t, &slotest.API{Answer: fake.answer}, slos, func(c *prom.Config) {
		c.Now = clock
		// The outage below must not leave the breaker open for the
		// recovery after it: that is the guard's business, tested there.
		c.Guard = newGuard(t, func(p *resilience.Policy) { p.ConsecutiveFailures, p.MinRequests = 1000, 1000 })
	})
	db := storagetest.Open(t)
	mon, err := prom.NewMonitor(prom.MonitorConfig{Evaluator: ev, Store: db, Renotify: time.Hour})
	require.NoError(t, err)
	rec := &recorder{}
	tick := func(advance time.Duration) []slo.Notice {
		t.Helper()
		now.Add(int64(advance))
		_, err := mon.Tick(t.Context(), clock(), rec.deliver)
		require.NoError(t, err)
		return rec.take()
	}

	assert.Empty(t, tick(0), "healthy")
	st, ok, err := db.LoadSLOState(t.Context(), "checkout/availability")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, slo.LevelOK, st.Level)

	fake.set(windows(0.0002, map[string]float64{"1h": 0.02, "5m": 0.02}), nil)
	got := tick(time.Minute)
	require.Len(t, got, 1)
	assert.Equal(t, slo.NoticeWarning, got[0].Kind)
	assert.Equal(t, slo.LevelPage, got[0].To)
	assert.Empty(t, tick(time.Minute), "announced once")

	// Prometheus goes away: nothing is tracked, nothing announced.
	fake.set(nil, errors.New("connection refused"))
	now.Add(int64(time.Minute))
	_, err = mon.Tick(t.Context(), clock(), rec.deliver)
	require.ErrorIs(t, err, slo.ErrUnavailable)
	assert.Empty(t, rec.take())
	assert.True(t, mon.Last().Stale)

	// Recovery, delivered only once Slack takes it.
	fake.set(windows(0.0002, nil), nil)
	rec.failing = true
	now.Add(int64(time.Minute))
	_, err = mon.Tick(t.Context(), clock(), rec.deliver)
	require.ErrorContains(t, err, "slack is down")
	rec.failing = false
	got = tick(time.Minute)
	require.Len(t, got, 1, "the undelivered notice comes again")
	assert.Equal(t, slo.NoticeRecovery, got[0].Kind)
	assert.Empty(t, tick(time.Minute))

	// A restarted Ooda remembers: no repeat of what was said.
	db = storagetest.Reopen(t, db)
	mon, err = prom.NewMonitor(prom.MonitorConfig{Evaluator: ev, Store: db, Renotify: time.Hour})
	require.NoError(t, err)
	assert.Empty(t, tick(time.Minute))

	// The budget runs out: freeze, visible through Freeze.
	fake.set(windows(0.0002, map[string]float64{"30d": 0.0011}), nil)
	got = tick(time.Minute)
	require.Len(t, got, 1)
	assert.Equal(t, slo.FreezeStarted, got[0].Freeze)
	fs, ok, err := mon.Freeze(t.Context(), "checkout")
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, fs.Frozen)
	assert.Equal(t, clock(), *fs.Since)
	_, ok, err = mon.Freeze(t.Context(), "payments")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestMonitorFreezeIgnoresSLOsNoLongerConfigured(t *testing.T) {
	db := storagetest.Open(t)
	require.NoError(t, db.SaveSLOState(t.Context(), slo.State{SLO: "checkout/old", Service: "checkout", Frozen: true, FrozenSince: t0}))
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	ev := newEvaluator(t, &slotest.API{Answer: windows(0.0002, nil).Answer}, slos)
	mon, err := prom.NewMonitor(prom.MonitorConfig{Evaluator: ev, Store: db})
	require.NoError(t, err)
	_, err = mon.Tick(t.Context(), t0, nil)
	require.NoError(t, err)
	fs, ok, err := mon.Freeze(t.Context(), "checkout")
	require.NoError(t, err)
	require.True(t, ok)
	assert.False(t, fs.Frozen)
}

// Load swaps the SLOs a running monitor watches: a reloaded file's SLOs are
// evaluated from the next tick, the problems of the files are in Last, and
// a removed SLO's result leaves the last report at once.
func TestMonitorLoad(t *testing.T) {
	db := storagetest.Open(t)
	api := &slotest.API{Answer: windows(0.0002, nil).Answer}
	ev := newEvaluator(t, api, nil)
	mon, err := prom.NewMonitor(prom.MonitorConfig{Evaluator: ev, Store: db})
	require.NoError(t, err)

	broken := string(sloFile("search", 99.9, "availability"))
	broken = strings.Replace(broken, "objective: 99.9", "objective: 120", 1)
	set := slo.Read([]slo.Source{
		{Path: "checkout.yaml", Data: sloFile("checkout", 99.9, "availability", "latency")},
		{Path: "search.yaml", Data: []byte(broken)},
	}, slo.DefaultPeriod)
	require.NoError(t, mon.Load(set))
	rep, err := mon.Tick(t.Context(), t0, nil)
	require.NoError(t, err)
	require.Len(t, rep.Results, 2, "the good file is served")
	snap := mon.Last()
	require.Len(t, snap.Problems, 1)
	assert.Equal(t, `search.yaml:6: slo "availability": objective: 120: want a percentage above 0 and below 100, such as 99.9`, snap.Problems[0].Error())

	// The file is corrected and one SLO removed from the other.
	set = slo.Read([]slo.Source{
		{Path: "checkout.yaml", Data: sloFile("checkout", 99.9, "availability")},
		{Path: "search.yaml", Data: sloFile("search", 99.9, "availability")},
	}, slo.DefaultPeriod)
	require.NoError(t, mon.Load(set))
	snap = mon.Last()
	assert.Empty(t, snap.Problems)
	require.Len(t, snap.Report.Results, 1, "latency is gone, search not yet evaluated")
	assert.Equal(t, "checkout/availability", snap.Report.Results[0].SLO)
	rep, err = mon.Tick(t.Context(), t0.Add(time.Minute), nil)
	require.NoError(t, err)
	var ids []string
	for _, r := range rep.Results {
		ids = append(ids, r.SLO)
	}
	assert.Equal(t, []string{"checkout/availability", "search/availability"}, ids)

	// SLOs that cannot be measured are refused, and nothing changes.
	bad := set.SLOs[0]
	bad.SLI = slo.SLI{ErrorRatioQuery: "ratio[5m]"}
	err = mon.Load(slo.Set{SLOs: []slo.SLO{bad}})
	require.ErrorContains(t, err, "slo checkout/availability: does not use {{.window}}")
	assert.Len(t, ev.SLOs(), 2)
}

func TestNewMonitorRefusesABadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  prom.MonitorConfig
		want []string
	}{
		{"nothing", prom.MonitorConfig{}, []string{"needs an evaluator and a state store"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mon, err := prom.NewMonitor(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, mon)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// An evaluation under way when the SLOs are reloaded reports only the SLOs
// still watched: a removed SLO does not come back into the last report,
// and its tick announces nothing about it.
func TestATickUnderWayWhenSLOsAreReloadedForgetsTheRemovedOnes(t *testing.T) {
	slos := append(parseSLOs(t, sloFile("checkout", 99.9, "availability")), parseSLOs(t, sloFile("search", 99.9, "availability"))...)
	healthy := windows(0.0002, nil)
	burning := windows(0.0002, map[string]float64{"1h": 0.02, "5m": 0.02})
	var (
		block   atomic.Bool
		started = make(chan struct{})
		release = make(chan struct{})
		once    sync.Once
	)
	api := &slotest.API{Answer: func(q string, ts time.Time) (model.Value, error) {
		if block.Load() {
			once.Do(func() { close(started) })
			<-release
		}
		if strings.Contains(q, `service="search"`) {
			if block.Load() {
				return burning.Answer(q, ts)
			}
		}
		return healthy.Answer(q, ts)
	}}
	ev := newEvaluator(t, api, slos)
	mon, err := prom.NewMonitor(prom.MonitorConfig{Evaluator: ev, Store: storagetest.Open(t)})
	require.NoError(t, err)
	rec := &recorder{}
	_, err = mon.Tick(t.Context(), t0, rec.deliver)
	require.NoError(t, err)
	require.Empty(t, rec.take(), "healthy")

	// search starts burning, and its file is removed while the tick that
	// would announce it waits on Prometheus.
	block.Store(true)
	type result struct {
		rep slo.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := mon.Tick(t.Context(), t0.Add(time.Minute), rec.deliver)
		done <- result{rep, err}
	}()
	<-started
	require.NoError(t, mon.Load(slo.Set{SLOs: slos[:1]}))
	close(release)
	got := <-done
	require.NoError(t, got.err)

	ids := func(rs []slo.Result) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.SLO)
		}
		return out
	}
	assert.Equal(t, []string{"checkout/availability"}, ids(got.rep.Results), "the tick's report")
	assert.Empty(t, rec.take(), "nothing announced for a removed SLO")
	last := mon.Last()
	assert.Equal(t, []string{"checkout/availability"}, ids(last.Report.Results), "the last report")
	assert.Equal(t, t0.Add(time.Minute), last.Report.At, "the evaluation's other results are kept")
}
