package command

import (
	"context"
	"errors"
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
