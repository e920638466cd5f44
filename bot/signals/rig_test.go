package signals

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// promTable is a fake Prometheus whose answers a test switches.
type promTable struct {
	mu sync.Mutex
	ws slotest.Windows
}

func (p *promTable) set(ws slotest.Windows) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ws = ws
}

func (p *promTable) answer(q string, ts time.Time) (model.Value, error) {
	p.mu.Lock()
	ws := p.ws
	p.mu.Unlock()
	return ws.Answer(q, ts)
}

// burning is every window at ratio, 100 requests a second, except the
// 30-day period, whose ratio is period (the budget).
func burning(ratio, period float64) slotest.Windows {
	ws := slotest.Uniform(slo.DefaultWindows(0), ratio, 100)
	w := ws["30d"]
	w.Ratio = period
	ws["30d"] = w
	return ws
}

// Error ratios for burning: a page (15× a 99.9 % budget), nothing at all,
// and a period that has spent 40 % of its budget.
const (
	pageRatio  = 0.015
	okRatio    = 0.0001
	periodSome = 0.0004
)

// sloRig is an SLO monitor over a fake Prometheus, delivering through an
// SLODeliverer into a test database and a fake Slack.
type sloRig struct {
	t         testing.TB
	ctx       context.Context
	db        *storage.DB
	slack     *slacktest.Server
	channel   string
	prom      *promTable
	monitor   *prom.Monitor
	deliverer *SLODeliverer
	now       time.Time
	woken     int
}

type sloRigOption func(*resilience.Policy)

// sloRigAttempts limits the Slack guard to n attempts per call.
func sloRigAttempts(n int) sloRigOption {
	return func(p *resilience.Policy) { p.MaxAttempts = n }
}

func newSLORig(t testing.TB, opts ...sloRigOption) *sloRig {
	t.Helper()
	r := &sloRig{t: t, ctx: t.Context(), db: storagetest.Open(t), slack: slacktest.New(), prom: &promTable{}, now: sloT0}
	t.Cleanup(r.slack.Close)
	r.channel = r.slack.CreateChannel("slo", false)
	r.prom.set(burning(okRatio, periodSome))

	slos, _, err := slo.Parse("slos/checkout.yaml", []byte(sloTestFile))
	require.NoError(t, err)
	pg, err := resilience.New(resilience.DefaultPolicy(resilience.DependencyPrometheus),
		resilience.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }))
	require.NoError(t, err)
	ev, err := prom.NewEvaluator(prom.Config{
		API: &slotest.API{Answer: r.prom.answer}, Guard: pg, SLOs: slos,
		Now: func() time.Time { return r.now },
	})
	require.NoError(t, err)
	r.monitor, err = prom.NewMonitor(prom.MonitorConfig{Evaluator: ev, Store: r.db})
	require.NoError(t, err)

	p := executorTestPolicy()
	for _, o := range opts {
		o(&p)
	}
	guard := newExecutorGuard(t, p, prometheus.NewRegistry())
	r.deliverer, err = NewSLODeliverer(SLODelivererConfig{
		Store: r.db, States: r.db, Slack: slackapi.NewSlackClient(fakeSlackToken, r.slack.URL(), guard), Guard: guard,
		Channel: r.channel, Committed: func() { r.woken++ },
	})
	require.NoError(t, err)
	return r
}

// tick evaluates a minute after the previous tick.
func (r *sloRig) tick() error {
	r.t.Helper()
	r.now = r.now.Add(time.Minute)
	_, err := r.monitor.Tick(r.ctx, r.now, r.deliverer.Deliver)
	return err
}

// messages are the SLO channel's messages.
func (r *sloRig) messages() []slacktest.Message { return r.slack.Messages(r.channel) }

// declare opens an incident of service.
func (r *sloRig) declare(service string) incident.Incident {
	r.t.Helper()
	m := incident.Meta{At: r.now, Actor: alice, Source: timeline.SourceCommand, Key: "test:declare:" + service}
	res, err := r.db.Declare(r.ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: service + " is down", Severity: 2, Service: service}, m)
	})
	require.NoError(r.t, err)
	return res.Incident
}

// entries are incident n's events from source.
func entries(t testing.TB, db incident.Store, n uint64, src timeline.Source) []timeline.Event {
	t.Helper()
	evs, err := db.Events(t.Context(), n, 1)
	require.NoError(t, err)
	var out []timeline.Event
	for _, e := range evs {
		if e.Source == src {
			out = append(out, e)
		}
	}
	return out
}

// messageButtons returns the action id and value of every button in a
// message's blocks, and the block id that holds it.
type messageButton struct{ ActionID, Value, BlockID string }

func messageButtons(t testing.TB, m slacktest.Message) []messageButton {
	t.Helper()
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	require.NoError(t, json.Unmarshal(m.Blocks, &blocks))
	var out []messageButton
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.Type == "button" {
				out = append(out, messageButton{ActionID: e.ActionID, Value: e.Value, BlockID: b.BlockID})
			}
		}
	}
	return out
}

// blocksText is a message's blocks as JSON text, for substring checks.
func blocksText(m slacktest.Message) string { return fmt.Sprintf("%s", m.Blocks) }

// sloT0 and sloTestFile are the shared SLO fixtures.
var sloT0 = slotest.T0

const sloTestFile = slotest.CheckoutSLOFile
