package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
)

// TestServeOnEtcd: with etcd endpoints configured, `ooda serve` keeps
// everything in etcd (what one process recorded, another started on the
// same prefix reads); while etcd is down a command is answered at once
// that it was not recorded, and /readyz fails; with etcd back both
// recover.
func TestServeOnEtcd(t *testing.T) {
	srv := etcdtest.StartServer(t)
	cfg := app.DefaultConfig()
	cfg.EtcdEndpoints = srv.Endpoints
	cfg.EtcdPrefix = etcdtest.NewPrefix()
	cfg.APIToken = "admin-token-0123456789"

	serve := func() (string, func()) {
		t.Helper()
		c := cfg
		c.Listen = "127.0.0.1:0"
		ctx, cancel := context.WithCancel(context.Background())
		addrc := make(chan net.Addr, 1)
		done := make(chan error, 1)
		go func() { done <- app.Serve(ctx, c, app.Options{}, func(a net.Addr) { addrc <- a }) }()
		select {
		case a := <-addrc:
			return "http://" + a.String(), func() { cancel(); require.NoError(t, <-done) }
		case err := <-done:
			t.Fatalf("serve: %v", err)
			return "", nil
		}
	}
	command := func(base, text string) (int, string) {
		body, _ := json.Marshal(api.CommandRequest{Text: text})
		req, err := http.NewRequest(http.MethodPost, base+"/api/v1/commands", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+cfg.APIToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var rep api.CommandReply
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
		return resp.StatusCode, rep.Text
	}
	ready := func(base string) int {
		resp, err := http.Get(base + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	base, stop := serve()
	status := func() api.StatusReport {
		req, err := http.NewRequest(http.MethodGet, base+"/api/v1/status", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+cfg.APIToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var rep api.StatusReport
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
		return rep
	}
	require.Eventually(t, func() bool { r := status(); return r.Replica != nil && r.Replica.Leading }, 30*time.Second, 50*time.Millisecond, "a lone replica leads")
	rep := status()
	require.Equal(t, "etcd", rep.Store.Backend)
	require.True(t, rep.Store.Healthy)
	require.NotNil(t, rep.Leader)
	require.Equal(t, rep.Replica.Name, rep.Leader.Name, "the status says who leads")
	code, text := command(base, "declare sev2 Checkout is down")
	require.Equal(t, http.StatusOK, code, text)
	require.Contains(t, text, "INC-1 declared")
	require.Equal(t, http.StatusOK, ready(base))
	stop()

	base, stop = serve()
	defer func() { stop() }()
	code, text = command(base, "roles INC-1")
	require.Equal(t, http.StatusOK, code, "another process reads what the first recorded: %s", text)

	srv.Stop()
	start := time.Now()
	code, text = command(base, "note INC-1 rolling back")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "Not recorded: Ooda's store is unreachable; try again in a minute.", text)
	t.Logf("answered in %s with etcd down", time.Since(start))
	require.Equal(t, http.StatusServiceUnavailable, ready(base), "/readyz fails without the store")

	srv.Restart()
	require.Eventually(t, func() bool { return ready(base) == http.StatusOK }, 30*time.Second, 100*time.Millisecond, "ready again with etcd back")
	require.Eventually(t, func() bool {
		code, text = command(base, "note INC-1 rolled back")
		return code == http.StatusOK
	}, 30*time.Second, 200*time.Millisecond, "commands resume: %s", text)
	_, text = command(base, "timeline INC-1")
	require.True(t, strings.Contains(text, "rolled back") && !strings.Contains(text, "rolling back"), "the refused note was not recorded: %s", text)
}
