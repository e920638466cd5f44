package command

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

func TestParseSLOCommand(t *testing.T) {
	tests := []struct {
		text string
		want Command
		err  string
	}{
		{text: "slo", want: Command{Verb: "slo"}},
		{text: "SLO checkout", want: Command{Verb: "slo", Service: "checkout"}},
		{text: "slos checkout", want: Command{Verb: "slo", Service: "checkout"}},
		{text: "slo checkout search", err: "name one service at most: `/incident slo [service]`"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := ParseCommand(tt.text)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	require.Contains(t, HelpText(), "`/incident slo [service]`")
}

// hangingProm answers from ws until hang is set; then every query blocks
// until its context ends. It counts queries.
type hangingProm struct {
	ws      slotest.Windows
	hang    atomic.Bool
	calls   atomic.Int64
	waiting chan struct{} // a query started hanging
}

func (p *hangingProm) Query(ctx context.Context, q string, ts time.Time, _ ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error) {
	p.calls.Add(1)
	if p.hang.Load() {
		select {
		case p.waiting <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, nil, nil, ctx.Err()
	}
	v, err := p.ws.Answer(q, ts)
	return v, nil, nil, err
}

// QueryRange is not what /incident slo asks: it reads the last evaluation.
func (p *hangingProm) QueryRange(context.Context, string, promv1.Range, ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error) {
	return nil, nil, nil, errors.New("hangingProm: no range queries")
}

func TestSLOCommandAnswersAtOnceWhilePrometheusHangs(t *testing.T) {
	fakeProm := &hangingProm{ws: burning(pageRatio, periodSome), waiting: make(chan struct{}, 1)}
	slos, _, err := slo.Parse("slos/checkout.yaml", []byte(sloTestFile))
	require.NoError(t, err)
	guard, err := resilience.New(resilience.DefaultPolicy(resilience.DependencyPrometheus),
		resilience.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }))
	require.NoError(t, err)
	var mu sync.Mutex
	now := sloT0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(d); return now }
	ev, err := prom.NewEvaluator(prom.Config{API: fakeProm, Guard: guard, SLOs: slos, Now: clock, Concurrency: 1})
	require.NoError(t, err)
	db := storagetest.Open(t)
	mon, err := prom.NewMonitor(prom.MonitorConfig{Evaluator: ev, Store: db})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	ack := NewAckHistogram()
	reg.MustRegister(ack)
	d := &Dispatcher{Store: db, SLO: mon, OwnSLO: ownSLOFrom(reg, slo.DefaultOwnSpec())}
	ask := func(text string) Reply {
		return d.Handle(t.Context(), Request{Text: text, User: alice, Source: timeline.SourceCommand, Key: "k-" + text})
	}

	reply := ask("slo")
	require.Equal(t, http.StatusOK, reply.Code)
	require.Contains(t, reply.Text, "The SLOs have not been evaluated yet.")

	_, err = mon.Tick(t.Context(), advance(time.Minute), nil)
	require.NoError(t, err)
	evaluated := sloT0.Add(time.Minute)

	// Prometheus refuses: the next evaluation fails, and the report
	// before it is served, stale, with the reason.
	refused := slotest.Windows{}
	for _, w := range slo.DefaultWindows(0).Durations() {
		refused[slo.FormatWindow(w)] = slotest.Window{Err: errors.New("dial tcp 10.0.0.9:9090: connect: connection refused")}
	}
	fakeProm.ws = refused
	_, err = mon.Tick(t.Context(), advance(2*time.Minute), nil)
	require.ErrorIs(t, err, slo.ErrUnavailable)

	// Then it hangs: an evaluation waits on it in the background, and
	// cannot end before the test lets it, while people ask.
	fakeProm.hang.Store(true)
	tickCtx, stopTick := context.WithCancel(t.Context())
	tickDone := make(chan struct{})
	go func() {
		defer close(tickDone)
		_, _ = mon.Tick(tickCtx, advance(time.Minute), nil)
	}()
	<-fakeProm.waiting
	before := fakeProm.calls.Load()
	reply = ask("slo")
	require.Equal(t, before, fakeProm.calls.Load(), "the command never queries Prometheus")
	select {
	case <-tickDone:
		t.Fatal("the evaluation ended before the answer; the test proves nothing")
	default:
	}
	stopTick()
	<-tickDone
	require.Equal(t, http.StatusOK, reply.Code)
	for _, want := range []string{
		"1 SLO(s), evaluated 3m ago (at " + mrkdwn.Clock(evaluated) + ")",
		":warning: Stale: the latest evaluation failed 1m ago (at " + mrkdwn.Clock(evaluated.Add(2*time.Minute)) + ")",
		"connection refused",
		"checkout/availability  page",
		"15.0×",
		"Ooda's own SLO (99.9% of /incident commands acknowledged within 3s): no commands since start.",
	} {
		require.Contains(t, reply.Text, want)
	}

	reply = ask("slo Checkout")
	require.Contains(t, reply.Text, "checkout/availability")
	reply = ask("slo search")
	require.Equal(t, http.StatusNotFound, reply.Code)
	require.Contains(t, reply.Text, "No SLO is defined for service “search”. Services with SLOs: checkout.")

}

func TestSLOCommandWithoutSLOsShowsOoda(t *testing.T) {
	reg := prometheus.NewRegistry()
	ack := NewAckHistogram()
	reg.MustRegister(ack)
	for range 1999 {
		ack.WithLabelValues(KindCommand, TransportHTTP).Observe(0.2)
	}
	ack.WithLabelValues(KindInteraction, TransportSocket).Observe(4)

	d := &Dispatcher{Store: storagetest.Open(t), OwnSLO: ownSLOFrom(reg, slo.DefaultOwnSpec())}
	reply := d.Handle(t.Context(), Request{Text: "slo", User: alice, Key: "k"})
	require.Equal(t, http.StatusOK, reply.Code)
	require.Contains(t, reply.Text, "No SLOs are configured")
	require.Contains(t, reply.Text, "Ooda's own SLO (99.9% of /incident commands acknowledged within 3s): 99.95% of 2000 since start, 50.0% of its error budget left: met.")

	d.OwnSLO = ownSLOFrom(prometheus.NewRegistry(), slo.DefaultOwnSpec())
	reply = d.Handle(t.Context(), Request{Text: "slo", User: alice, Key: "k2"})
	require.Contains(t, reply.Text, "Ooda's own SLO could not be measured")

	d.OwnSLO = nil
	reply = d.Handle(t.Context(), Request{Text: "slo", User: alice, Key: "k3"})
	require.NotContains(t, reply.Text, "own SLO")
}

// snapshotReader serves a fixed snapshot, as the monitor's Last does.
type snapshotReader slo.Snapshot

func (s snapshotReader) Last() slo.Snapshot { return slo.Snapshot(s) }

// TestSLOCommandShowsConfigErrors: /incident slo tells the SLOs Ooda
// cannot evaluate because of their files (a problem found loading them, a
// query Prometheus refused) from Prometheus being down, and says what to
// do.
func TestSLOCommandShowsConfigErrors(t *testing.T) {
	slos, _, err := slo.Parse("slos/checkout.yaml", []byte(sloTestFile))
	require.NoError(t, err)
	w := slo.DefaultWindows(0)
	m := map[time.Duration]slo.Measurement{}
	for _, d := range w.Durations() {
		m[d] = slo.Measurement{ErrorRatio: 0.0001, Requests: 100 * d.Seconds()}
	}
	refused := slos[0]
	refused.Name, refused.ID = "latency", "checkout/latency"
	problem := func(i int) slo.SpecError {
		return slo.SpecError{File: "slos/search.yaml", Line: 4 + i, SLO: "availability", Field: "objective", Problem: "120: want a percentage above 0 and below 100, such as 99.9 <!channel>"}
	}
	snap := slo.Snapshot{
		Report: slo.Report{At: sloT0, Results: []slo.Result{
			slo.Assess(slos[0], w, m, 100),
			slo.Failed(refused, fmt.Errorf("window 1h: %w: Prometheus refused its query as invalid (1:5: parse error); correct the query in slos/checkout.yaml", slo.ErrBadQuery)),
		}},
		Problems: []slo.SpecError{problem(0)},
	}
	d := &Dispatcher{Store: storagetest.Open(t), SLO: snapshotReader(snap)}
	ask := func(text string) Reply {
		return d.Handle(t.Context(), Request{Text: text, User: alice, Source: timeline.SourceCommand, Key: "k-" + text})
	}

	reply := ask("slo")
	require.Equal(t, http.StatusOK, reply.Code)
	require.Contains(t, reply.Text, "checkout/latency       config_error")
	require.Contains(t, reply.Text, ":warning: Configuration errors: Prometheus answered but refused these SLOs' queries; correct them in their files and reload (SIGHUP):\n• checkout/latency: window 1h: configuration error in the SLO's query: Prometheus refused its query as invalid (1:5: parse error); correct the query in slos/checkout.yaml")
	require.Contains(t, reply.Text, ":warning: 1 problem(s) in the SLO files; the SLOs they name are not evaluated until the files are corrected and reloaded (SIGHUP):\n• slos/search.yaml:4: slo \"availability\": objective: 120: want a percentage above 0 and below 100, such as 99.9 &lt;!channel&gt;")
	require.NotContains(t, reply.Text, "Stale", "Prometheus answered")

	// Asked about one service, the files' problems are counted: they may
	// be anyone's.
	reply = ask("slo checkout")
	require.Contains(t, reply.Text, "• checkout/latency:")
	require.Contains(t, reply.Text, ":warning: 1 problem(s) in the SLO files keep SLOs out; `/incident slo` lists them.")
	require.NotContains(t, reply.Text, "search.yaml")

	// Many problems: the first ones, and where to see them all.
	for i := 1; i < 11; i++ {
		snap.Problems = append(snap.Problems, problem(i))
	}
	d.SLO = snapshotReader(snap)
	reply = ask("slo")
	require.Contains(t, reply.Text, "• slos/search.yaml:11:")
	require.NotContains(t, reply.Text, "slos/search.yaml:12:")
	require.Contains(t, reply.Text, "… 3 more; `ooda slo validate` on the files lists them all")

	// No SLO loaded at all.
	d.SLO = snapshotReader(slo.Snapshot{Report: slo.Report{At: sloT0}, Problems: snap.Problems[:1]})
	reply = ask("slo")
	require.Contains(t, reply.Text, "No SLO could be loaded from the SLO files.\n:warning: 1 problem(s)")
}
