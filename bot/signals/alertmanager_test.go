package signals

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/internal/testproc"
)

// alertmanagerBinaries are the names a real Alertmanager goes by: Debian's
// package prometheus-alertmanager, then the upstream release's.
var alertmanagerBinaries = []string{"prometheus-alertmanager", "alertmanager"}

// amLogTail is how many lines of Alertmanager's log a failure shows.
const amLogTail = 40

// amWait bounds how long a test waits for Alertmanager to do something:
// a liveness bound for a loaded machine, not a measure of speed.
const amWait = 60 * time.Second

// alertmanager is a real Alertmanager process on loopback, with its own
// configuration file and storage and clustering off, sending its webhook
// to an Ooda receiver.
type alertmanager struct {
	t      testing.TB
	url    string
	config string
	log    string
	hook   string // the webhook URL it sends to
	token  string
}

// startAlertmanager runs Alertmanager with a route grouping by groupBy
// and sending to hook with token as its bearer credential. The process is
// killed when the test ends. Without the binary the test is skipped, or,
// under CI=true, failed: CI installs it, so missing it there is a broken
// build, not a reason to skip.
func startAlertmanager(t testing.TB, hook, token string, groupBy ...string) *alertmanager {
	t.Helper()
	bin := ""
	for _, name := range alertmanagerBinaries {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		msg := fmt.Sprintf("none of %v in PATH; install it with: apt-get install prometheus-alertmanager", alertmanagerBinaries)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	am := &alertmanager{t: t, config: filepath.Join(dir, "alertmanager.yml"), log: filepath.Join(dir, "alertmanager.log"), hook: hook, token: token}
	am.writeConfig(groupBy...)
	addr := freeLoopback(t)
	am.url = "http://" + addr
	logf, err := os.Create(am.log)
	require.NoError(t, err)
	cmd := exec.Command(bin,
		"--config.file="+am.config,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=", // no cluster: one Alertmanager, no gossip port
		"--log.level=debug",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	testproc.DieWithParent(cmd)
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	ready := func() bool {
		select {
		case <-exited:
			t.Fatalf("alertmanager exited while starting; its log:\n%s", testproc.Tail(am.log, amLogTail))
		default:
		}
		resp, err := http.Get(am.url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	require.Eventually(t, ready, amWait, 50*time.Millisecond, "alertmanager ready; its log:\n%s", testproc.Tail(am.log, amLogTail))
	return am
}

// writeConfig writes a route that sends every alert to Ooda, grouped by
// groupBy: notified a second after its first alert, a second after any
// change, and not repeated during a test.
func (am *alertmanager) writeConfig(groupBy ...string) {
	am.t.Helper()
	quoted := make([]string, len(groupBy))
	for i, l := range groupBy {
		quoted[i] = fmt.Sprintf("%q", l)
	}
	cfg := fmt.Sprintf(`global:
  resolve_timeout: 1h
route:
  receiver: ooda
  group_by: [%s]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: ooda
    webhook_configs:
      - url: %q
        send_resolved: true
        http_config:
          authorization:
            credentials: %q
`, strings.Join(quoted, ", "), am.hook, am.token)
	require.NoError(am.t, os.WriteFile(am.config, []byte(cfg), 0o600))
}

// regroup changes the route's group_by and has Alertmanager reload it.
func (am *alertmanager) regroup(groupBy ...string) {
	am.t.Helper()
	am.writeConfig(groupBy...)
	resp, err := http.Post(am.url+"/-/reload", "", nil)
	require.NoError(am.t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(am.t, http.StatusOK, resp.StatusCode, "reload: %s", body)
}

// amAlert is an alert as Alertmanager's API v2 takes it.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// send posts alerts to Alertmanager, as Prometheus does.
func (am *alertmanager) send(alerts ...amAlert) {
	am.t.Helper()
	body, err := json.Marshal(alerts)
	require.NoError(am.t, err)
	resp, err := http.Post(am.url+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	require.NoError(am.t, err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(am.t, http.StatusOK, resp.StatusCode, "post alerts: %s", msg)
}

// freeLoopback finds a loopback port nobody listens on. Another process
// may take it first; Alertmanager then fails to start and says why.
func freeLoopback(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// delivery is one webhook Ooda answered.
type delivery struct {
	groupKey string
	status   int
	reply    AlertsReply
}

// deliveries records the webhooks an Alertmanager sent the rig's server.
type deliveries struct {
	mu  sync.Mutex
	got []delivery
}

func (d *deliveries) all() []delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]delivery(nil), d.got...)
}

// serve puts the rig's API server on a loopback listener, recording each
// webhook and what Ooda answered it.
func (r *alertsRig) serve(d *deliveries) string {
	r.t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		r.server.ServeHTTP(rec, req)
		var msg AlertmanagerWebhook
		_ = json.Unmarshal(body, &msg)
		got := delivery{groupKey: msg.GroupKey, status: rec.Code}
		_ = json.Unmarshal(rec.Body.Bytes(), &got.reply)
		d.mu.Lock()
		d.got = append(d.got, got)
		d.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	r.t.Cleanup(srv.Close)
	return srv.URL + "/api/v1/alerts"
}

// TestRealAlertmanager has Debian's Alertmanager send its webhook to the
// receiver: a group of several alerts is one Slack message, updated when
// one resolves, with the resolution in its thread; after a group_by
// change and reload, the alerts still firing are not posted again, and a
// resolution arriving in the new group goes to the message that showed
// the alert.
func TestRealAlertmanager(t *testing.T) {
	r := newAlertsRig(t)
	d := &deliveries{}
	am := startAlertmanager(t, r.serve(d), alertsTestToken, "alertname")

	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	instance := func(i int) amAlert {
		return amAlert{
			Labels: map[string]string{"alertname": "HighLatency", "service": "search", "severity": "page",
				"instance": fmt.Sprintf("search-%d:9090", i)},
			Annotations:  map[string]string{"summary": "p99 latency above 2s on search"},
			StartsAt:     start.Add(time.Duration(i) * time.Second),
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=latency",
		}
	}
	resolved := func(a amAlert) amAlert {
		a.EndsAt = time.Now().UTC()
		return a
	}

	am.send(instance(1), instance(2), instance(3), instance(4))
	require.Eventually(t, func() bool {
		msgs := r.topLevel()
		return len(msgs) == 1 && len(markedIDs(msgs[0], metaFiring)) == 4
	}, amWait, 10*time.Millisecond, "one message for the group of four; deliveries %+v; Alertmanager's log:\n%s", d.all(), testproc.Tail(am.log, amLogTail))
	msg := r.groupMessage()
	require.Contains(t, blocksText(msg), "4 firing")
	require.Contains(t, blocksText(msg), "`instance=search-1:9090`")
	firstKey := d.all()[0].groupKey

	am.send(resolved(instance(1)))
	require.Eventually(t, func() bool {
		msgs := r.topLevel()
		return len(msgs) == 1 && len(markedIDs(msgs[0], metaResolved)) == 1 && len(r.replies(msgs[0].TS)) == 1
	}, amWait, 10*time.Millisecond, "search-1's resolution; deliveries %+v; Alertmanager's log:\n%s", d.all(), testproc.Tail(am.log, amLogTail))
	msg = r.groupMessage()
	require.True(t, msg.Edited, "the message is updated, not posted again")
	require.Contains(t, blocksText(msg), "3 firing, 1 resolved")
	require.Len(t, r.slack.CallsTo("chat.postMessage"), 2, "the group's message and the resolution in its thread")
	require.NotEmpty(t, r.slack.CallsTo("chat.update"))

	// group_by changes: Alertmanager makes new groups, with new keys, and
	// sends the alerts again under them.
	am.regroup("alertname", "instance")
	require.Eventually(t, func() bool {
		regrouped := map[string]bool{}
		for _, dl := range d.all() {
			if dl.groupKey != firstKey && dl.status == http.StatusOK && strings.Contains(dl.groupKey, "instance=") {
				regrouped[dl.groupKey] = true
			}
		}
		return len(regrouped) >= 3
	}, amWait, 10*time.Millisecond, "the still-firing alerts under their new group keys; deliveries %+v", d.all())
	r.waitIdle()
	require.Len(t, r.topLevel(), 1, "the regrouped alerts are not posted again")
	require.Len(t, r.slack.CallsTo("chat.postMessage"), 2)

	// A resolution arriving in a new group goes to the message that shows
	// the alert firing.
	am.send(resolved(instance(2)))
	require.Eventually(t, func() bool {
		msgs := r.topLevel()
		return len(msgs) == 1 && len(markedIDs(msgs[0], metaResolved)) == 2 && len(r.replies(msgs[0].TS)) == 2
	}, amWait, 10*time.Millisecond, "search-2's resolution; deliveries %+v", d.all())
	require.Contains(t, blocksText(r.groupMessage()), "2 firing, 2 resolved")
	for _, dl := range d.all() {
		require.Equal(t, http.StatusOK, dl.status, "every delivery was taken: %+v", dl)
	}
	r.requireNoDuplicatePosts()
}

// waitIdle waits until the receiver has worked through every queued
// notification.
func (r *alertsRig) waitIdle() {
	r.t.Helper()
	require.Eventually(r.t, func() bool { return r.receiver.idle() }, amWait, time.Millisecond, "the receiver's queue drains")
}
