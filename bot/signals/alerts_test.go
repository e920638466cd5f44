package signals

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

const alertsTestToken = "alerts-token"

// alertsRig is an AlertReceiver behind the API server, on a test database
// and a fake Slack.
type alertsRig struct {
	t        testing.TB
	db       *storage.DB
	slack    *slacktest.Server
	channel  string
	guard    *resilience.Guard
	reg      *prometheus.Registry
	receiver *AlertReceiver
	stop     func() // ends the receiver's Run and waits for it
	server   *api.Server
	woken    int
	// retryAfter is the receiver's first wait before trying a failed
	// notification again.
	retryAfter time.Duration
}

func newAlertsRig(t testing.TB) *alertsRig {
	t.Helper()
	r := &alertsRig{t: t, db: storagetest.Open(t), slack: slacktest.New(), retryAfter: time.Hour}
	t.Cleanup(r.slack.Close)
	r.channel = r.slack.CreateChannel("triage", false)
	r.guard = newExecutorGuard(t, executorTestPolicy(), prometheus.NewRegistry())
	r.restart()
	return r
}

// restart builds a new receiver on the same database and Slack, as a
// restarted process would.
func (r *alertsRig) restart() {
	r.t.Helper()
	if r.receiver != nil {
		r.receiver.Close()
		r.stop()
	}
	r.reg = prometheus.NewRegistry()
	var err error
	r.receiver, err = NewAlertReceiver(AlertsConfig{
		Store: r.db, Slack: slackapi.NewSlackClient(fakeSlackToken, r.slack.URL(), r.guard), Guard: r.guard, Channel: r.channel,
		Committed: func() { r.woken++ }, Registerer: r.reg, RetryAfter: r.retryAfter,
		Now: func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) },
	})
	require.NoError(r.t, err)
	r.t.Cleanup(r.receiver.Close)
	r.run()
	r.server, err = api.NewServer(api.ServerConfig{Store: r.db, APIToken: alertsTestToken, Alerts: r.receiver})
	require.NoError(r.t, err)
}

// run starts the receiver's Run, which posts the signals the webhook
// queues, until r.stop or the end of the test.
func (r *alertsRig) run() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	recv, done := r.receiver, make(chan error, 1)
	go func() { done <- recv.Run(ctx) }()
	require.Eventually(r.t, func() bool { return recv.running.Load() > 0 }, 10*time.Second, time.Millisecond, "the receiver's Run starts")
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(r.t, <-done)
		})
	}
	r.stop = stop
	r.t.Cleanup(stop)
}

// post sends body to POST /api/v1/alerts with the bearer token.
func (r *alertsRig) post(body []byte) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/alerts", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+alertsTestToken)
	rec := httptest.NewRecorder()
	r.server.ServeHTTP(rec, req)
	return rec
}

// fixture posts a payload of testdata/alertmanager and decodes the reply.
func (r *alertsRig) fixture(name string) AlertsReply {
	r.t.Helper()
	rec := r.post(alertFixture(r.t, name))
	require.Equal(r.t, http.StatusOK, rec.Code, rec.Body.String())
	var reply AlertsReply
	require.NoError(r.t, json.Unmarshal(rec.Body.Bytes(), &reply))
	return reply
}

// waitSignals waits until the receiver has handled n triage signals with
// outcome.
func (r *alertsRig) waitSignals(outcome string, n float64) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		return executorMetric(r.t, r.reg, "ooda_alert_signals_total", map[string]string{"outcome": outcome}) == n
	}, 10*time.Second, time.Millisecond, "%v triage signals %s", n, outcome)
}

func (r *alertsRig) declare(service string) incident.Incident {
	r.t.Helper()
	m := incident.Meta{At: time.Now(), Actor: alice, Source: timeline.SourceCommand, Key: "test:declare:" + service}
	res, err := r.db.Declare(r.t.Context(), m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: service + " errors", Severity: 2, Service: service}, m)
	})
	require.NoError(r.t, err)
	return res.Incident
}

func alertFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "alertmanager", name))
	require.NoError(t, err)
	return b
}

func TestAlertsFiring(t *testing.T) {
	r := newAlertsRig(t)
	inc := r.declare("checkout")

	// checkout has an open incident; search (named by its job label) does
	// not.
	reply := r.fixture("firing.json")
	require.Equal(t, AlertsReply{OK: true, Observed: 1, Queued: 1}, reply)

	got := entries(t, r.db, inc.Number, timeline.SourceAlert)
	require.Len(t, got, 1, "the checkout alert is an observe entry of the checkout incident")
	require.Equal(t, timeline.PhaseObserve, got[0].Phase)
	require.Equal(t, incident.Bot, got[0].Actor)
	for _, want := range []string{"Alert firing: HighErrorRate (severity critical, service checkout): 5xx ratio above 5% on checkout", "since 09:58 UTC", "http://prometheus.example:9090/graph"} {
		require.Contains(t, got[0].Text, want)
	}
	require.Equal(t, 1, r.woken, "the executor is woken to post the entry")

	r.waitSignals(signalPosted, 1)
	msgs := r.slack.Messages(r.channel)
	require.Len(t, msgs, 1, "the search alert is a triage signal")
	require.Contains(t, msgs[0].Text, "Alert firing: HighErrorRate (service search)")
	text := blocksText(msgs[0])
	require.Contains(t, text, "search-2 answers 9% of requests with a 5xx")
	require.Contains(t, text, "No open incident for `search`")
	require.Equal(t, []messageButton{{ActionID: blockkit.ActionDeclareFromSignal, Value: "search", BlockID: signalBlockPrefix + "alert:search: HighErrorRate firing"}},
		messageButtons(t, msgs[0]), "the triage signal carries the Declare incident button of SLO warnings")
}

func TestAlertsRepeatedRecordOnce(t *testing.T) {
	r := newAlertsRig(t)
	inc := r.declare("checkout")
	require.Equal(t, AlertsReply{OK: true, Observed: 1, Queued: 1}, r.fixture("firing.json"))
	require.Equal(t, AlertsReply{OK: true, Duplicates: 2}, r.fixture("firing.json"), "Alertmanager re-sends the group")
	r.waitSignals(signalPosted, 1)
	require.Len(t, entries(t, r.db, inc.Number, timeline.SourceAlert), 1)
	require.Len(t, r.slack.Messages(r.channel), 1)

	// After a restart the receiver remembers nothing; the entry's key and
	// the post's metadata still make the third delivery record nothing.
	r.restart()
	require.Equal(t, AlertsReply{OK: true, Queued: 1, Duplicates: 1}, r.fixture("firing.json"))
	r.waitSignals(signalFound, 1)
	require.Len(t, entries(t, r.db, inc.Number, timeline.SourceAlert), 1)
	require.Len(t, r.slack.Messages(r.channel), 1)
	require.Len(t, r.slack.CallsTo("chat.postMessage"), 1)
}

func TestAlertsResolved(t *testing.T) {
	r := newAlertsRig(t)
	inc := r.declare("checkout")
	r.fixture("firing.json")
	r.waitSignals(signalPosted, 1)

	require.Equal(t, AlertsReply{OK: true, Observed: 1, Queued: 1}, r.fixture("resolved.json"))
	got := entries(t, r.db, inc.Number, timeline.SourceAlert)
	require.Len(t, got, 2)
	require.Equal(t, "resolved: HighErrorRate (severity critical, service checkout) — fired 09:58–10:40 UTC", got[1].Text)

	r.waitSignals(signalUpdated, 1)
	msgs := r.slack.Messages(r.channel)
	require.Len(t, msgs, 2)
	require.Equal(t, msgs[0].TS, msgs[1].Thread, "the resolution is a reply in the signal's thread")
	require.Contains(t, msgs[1].Text, "Resolved: HighErrorRate (fired 09:59–10:31 UTC)")
	require.Equal(t, "Resolved: HighErrorRate (service search)", msgs[0].Text, "the signal itself says so")
	require.Empty(t, messageButtons(t, msgs[0]), "nothing fires: no Declare button")

	require.Equal(t, AlertsReply{OK: true, Duplicates: 2}, r.fixture("resolved.json"))
}

func TestAlertsResolvedWithoutItsSignal(t *testing.T) {
	r := newAlertsRig(t)
	require.Equal(t, AlertsReply{OK: true, Queued: 2}, r.fixture("resolved.json"))
	r.waitSignals(signalNoThread, 1)
	require.Empty(t, r.slack.Messages(r.channel), "a resolution nobody saw fire is not news")
}

func TestAlertsRefusals(t *testing.T) {
	r := newAlertsRig(t)
	tests := []struct {
		name   string
		body   []byte
		token  string
		status int
		reason string
	}{
		{name: "malformed JSON", body: alertFixture(t, "malformed.json"), status: http.StatusBadRequest, reason: "the body is not Alertmanager webhook JSON"},
		{name: "unknown version", body: alertFixture(t, "unknown_version.json"), status: http.StatusBadRequest, reason: `webhook version "5" is unknown: Ooda reads Alertmanager's version 4`},
		{name: "bad status", body: []byte(`{"version":"4","alerts":[{"status":"pending","labels":{"alertname":"X"}}]}`), status: http.StatusBadRequest, reason: `alerts[0]: status "pending" is neither firing nor resolved`},
		{name: "too large", body: append([]byte(`{"version":"4","groupKey":"`), bytes.Repeat([]byte("x"), DefaultMaxAlertsBody)...), status: http.StatusRequestEntityTooLarge, reason: "lower max_alerts"},
		{name: "no token", body: alertFixture(t, "firing.json"), token: "wrong", status: http.StatusUnauthorized, reason: "bearer token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/alerts", bytes.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+alertsTestToken)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := httptest.NewRecorder()
			r.server.ServeHTTP(rec, req)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			var body struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			require.False(t, body.OK)
			require.Contains(t, body.Error, tt.reason)
		})
	}
	require.Empty(t, r.slack.Calls())
	incs, err := r.db.Incidents(t.Context(), true)
	require.NoError(t, err)
	require.Empty(t, incs)
}

func TestAlertsDoNotWaitOnSlack(t *testing.T) {
	r := newAlertsRig(t)
	r.slack.Fault("*", slacktest.Fault{Kind: slacktest.FaultHang, Times: -1})
	reply := r.fixture("firing.json")
	require.Equal(t, AlertsReply{OK: true, Queued: 2}, reply, "answered with Slack hanging")
	require.Eventually(t, func() bool { return len(r.slack.CallsTo("conversations.history")) > 0 }, 10*time.Second, time.Millisecond,
		"the signal is worked on in the background")
	// Close refuses what comes next; Run, ending with its context when
	// the test does, ends the call in progress and drops what waits:
	// Alertmanager sends it again.
	r.receiver.Close()
	rec := r.post(alertFixture(t, "firing.json"))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "closed: Alertmanager is told to retry")
	require.True(t, strings.Contains(rec.Body.String(), "retry"))
}

func TestAlertsQueueFullAsksForARetry(t *testing.T) {
	r := newAlertsRig(t)
	r.slack.Fault("*", slacktest.Fault{Kind: slacktest.FaultHang, Times: -1})
	r.receiver.Close()
	r.stop()
	var err error
	r.receiver, err = NewAlertReceiver(AlertsConfig{Store: r.db, Slack: slackapi.NewSlackClient(fakeSlackToken, r.slack.URL(), r.guard), Guard: r.guard, Channel: r.channel, QueueSize: 1})
	require.NoError(t, err)
	t.Cleanup(r.receiver.Close)
	r.run()
	r.server, err = api.NewServer(api.ServerConfig{Store: r.db, APIToken: alertsTestToken, Alerts: r.receiver})
	require.NoError(t, err)

	// One alert per notification, each its own.
	one := func(fingerprint string) []byte {
		var msg AlertmanagerWebhook
		require.NoError(t, json.Unmarshal(alertFixture(t, "firing.json"), &msg))
		msg.Alerts = msg.Alerts[1:]
		msg.Alerts[0].Fingerprint = fingerprint
		b, err := json.Marshal(msg)
		require.NoError(t, err)
		return b
	}
	// The worker takes the first signal and hangs on Slack; the second
	// waits in the queue; the third finds it full.
	require.Equal(t, http.StatusOK, r.post(one("a1")).Code)
	require.Eventually(t, func() bool { return len(r.receiver.queue) == 0 }, 10*time.Second, time.Millisecond)
	require.Equal(t, http.StatusOK, r.post(one("a2")).Code)
	rec := r.post(one("a3"))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	require.Equal(t, "60", rec.Header().Get("Retry-After"))
	require.Contains(t, rec.Body.String(), "Alertmanager will retry")
}

func TestRenderAlertSignalLinks(t *testing.T) {
	al := AlertmanagerAlert{Status: AlertFiring, Labels: map[string]string{"alertname": "Down", "service": "a<b>"},
		GeneratorURL: "http://prom.example/graph?g0.expr=up&g0.tab=1"}
	one := func(al AlertmanagerAlert, service string) blockkit.Message {
		return blockkit.AlertGroupSignal(blockkit.AlertGroup{Alerts: []blockkit.Alert{groupAlert{alert: al, service: service}.view()}})
	}
	text := blocksOf(t, one(al, "a<b>"))
	require.Contains(t, text, `\u003chttp://prom.example/graph?g0.expr=up\u0026amp;g0.tab=1|Source\u003e`, "the & of a link is escaped")
	require.Contains(t, text, "service `a\\u0026lt;b\\u0026gt;`", "labels are escaped")

	al.GeneratorURL = "javascript:alert(1)"
	require.NotContains(t, blocksOf(t, one(al, "")), "javascript", "only web links are linked")
}
