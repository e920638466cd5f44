package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestRunCommands(t *testing.T) {
	out, _, err := runCmd(t, "version")
	require.NoError(t, err)
	require.Contains(t, out, "ooda ")

	_, errOut, err := runCmd(t, "frobnicate")
	require.Error(t, err)
	require.Equal(t, 2, exitCode(err))
	require.Contains(t, errOut, "Usage:")

	_, _, err = runCmd(t)
	require.Equal(t, 2, exitCode(err))

	_, _, err = runCmd(t, "export", "--db", "x.db")
	require.Equal(t, 2, exitCode(err), "export without --incident is a usage error")
}

func TestDemoShowsTheTimeline(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the post-mortem draft goes
	// The demo names its temporary files with os.CreateTemp: a link
	// planted at the name an older demo used is left alone, and so is the
	// file it points at.
	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("mine"), 0o600))
	require.NoError(t, os.Symlink(victim, filepath.Join(tmp, "ooda-demo-postmortem-inc-2.md")))
	out, _, err := runCmd(t, "demo")
	require.NoError(t, err)
	m := regexp.MustCompile(`Post-mortem draft written to (\S+) `).FindStringSubmatch(out)
	require.NotNil(t, m, "the demo says where the draft is")
	draftPath := m[1]
	require.Equal(t, tmp, filepath.Dir(draftPath))
	require.Regexp(t, `^ooda-demo-postmortem-inc-2-\d+\.md$`, filepath.Base(draftPath), "a name os.CreateTemp chose")
	b, err := os.ReadFile(victim)
	require.NoError(t, err)
	require.Equal(t, "mine", string(b))
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Len(t, entries, 2, "the planted link and the draft; the demo's temporary directory is gone")
	for _, want := range []string{
		// Observe: the SLO file evaluated against Prometheus, and the
		// page warning with its burn rates and its button.
		"Observe: at 14:04:30 the SLO monitor evaluates checkout/requests-availability (checkout-slo.yaml, 99.9% good over 30d)",
		"with 8 instant queries to Prometheus, where checkout serves 40 requests/s, 38% failing since 14:02: page.",
		"#slo-alerts, where Ooda posts SLO warnings:",
		"14:04  ooda   SLO checkout/requests-availability is at page. Burn rate 5m 190× · 30m 31.9× · 1h 16.0×",
		"Error budget left (30d): 77.8%",
		"[Declare incident]",
		// The declaration from the button, through the prefilled form.
		"14:04  alice  in #slo-alerts: clicks [Declare incident] on the SLO warning",
		"→ a declare form, prefilled: Title “checkout SLO burning” · Severity SEV2 · Service “checkout”",
		"14:05  alice  submits the declare form as prefilled",
		"→ INC-2: @carol is Ops.",
		// The channel Ooda created, its topic and what was posted in it.
		"#inc-2-checkout-slo-burning, as everyone in it saw it (members: ooda, alice, bob, carol, dave)",
		"topic  Closed · SEV2 · Commander @dave · Comms @bob · Ops @carol · checkout SLO burning",
		"INC-2 declared by @alice: SEV2 “checkout SLO burning”. Commander: @dave.",
		// The kickoff shows what happened last time: the seeded October
		// incident of the same service, its root cause and post-mortem.
		"Commander: @dave.\n                Similar past incidents — what happened last time:\n" +
			"                • INC-1 · SEV2 · closed · 2026-10-08 — Checkout 502s during the evening peak\n" +
			"                   Root cause: checkout-api's database connection pool exhausted under peak traffic\n" +
			"                   Post-mortem: https://wiki.example.com/pm/checkout-pool-october\n" +
			"                   Why: same service `checkout`; shared words: ",
		"clicks [I'll take it: Comms] on the kickoff message",
		"[I'll take it: Comms]",
		"@bob took Comms",
		"[pinned by alice]",
		"@alice set status: investigating → identified",
		"Handover: @dave is now Commander of INC-2",
		"[orient · root cause] @dave:",
		// The post-mortem: asked for, uploaded into the channel, published.
		"14:51  dave   /incident postmortem\n                → INC-2: writing the post-mortem draft from the timeline",
		"14:51  ooda   Post-mortem draft for INC-2 “checkout SLO burning”",
		"[file inc-2-postmortem-draft-32.md, ",
		"15:20  dave   /incident postmortem publish https://wiki.example.com/pm/inc-2\n                → INC-2 is closed; its post-mortem is published at https://wiki.example.com/pm/inc-2.",
		"15:20  ooda   @dave closed INC-2; post-mortem: https://wiki.example.com/pm/inc-2",
		// The announcement channel.
		"Follow it in\n                #inc-2-checkout-slo-burning.",
		"INC-2 resolved after 45 min.",
		"INC-2 closed after 45 min: 30 signed requests from Slack, 34 events recorded",
		// The timeline.
		"14:05  T+00:00", "14:50  T+00:45", "Pinned: 5xx by pod", "dave is Commander (handover from alice)",
		"19 min without entries", "Resolved: Rolled back checkout-api", "Closed; post-mortem at https://wiki.example.com/pm/inc-2",
		// The draft as uploaded, where it was shared and where it was written.
		"`/incident postmortem` shared the draft in #inc-2-checkout-slo-burning: inc-2-postmortem-draft-32.md (",
		"bookmarked as “INC-2 post-mortem draft · 26 Nov 14:51 UTC”.",
		"Post-mortem draft written to " + draftPath + " (the Markdown Ooda uploaded)",
		"# Post-mortem: INC-2 — checkout SLO burning",
	} {
		require.Contains(t, out, want)
	}
	draft, err := os.ReadFile(draftPath)
	require.NoError(t, err)
	require.Contains(t, out, fmt.Sprintf("inc-2-postmortem-draft-32.md (%d bytes)", len(draft)), "the file written is the one uploaded")
	require.Contains(t, string(draft), "**Error budget spent:** 11.4% of the checkout/requests-availability error budget",
		"the draft measures the incident's span against the same Prometheus")
	// The record people publish: names, the correction with its audit
	// note, and action items with owners, due days, states and a ticket.
	for _, want := range []string{
		"| 1 | Make the connection-pool size a config value with a load-tested default | Carol Diaz (@carol) | P0 (default) | 2026-12-03 | open | acme/checkout\\#1 (open) <http://127.0.0.1:",
		"| 2 | Add a load test of checkout to the deploy pipeline | Alice Chen (@alice) | P1 | 2026-12-10 | open | acme/checkout\\#2 (open) <http://127.0.0.1:",
		"## Corrections",
		"amended by Carol Diaz (@carol) (Ops) at 14:18 UTC: was “rollback to v2.30.4 started (deploy \\#8812)”",
	} {
		require.Contains(t, string(draft), want)
	}
	// The page warning's chart in its thread and the kickoff's similar
	// past incident are part of the story now; the story still fits.
	require.Contains(t, out, "[file slo-checkout-requests-availability-", "the page warning carries its chart")
	// The action items became issues in the fake GitHub, once each,
	// assigned through the accounts file, and the draft links them.
	require.Regexp(t, `#1 open  \[http://127\.0\.0\.1:\d+/acme/checkout/issues/1\] Make the connection-pool size a config value with a load-tested default · labels incident, sev2, P0 · assigned carol-diaz\n`, out)
	require.Regexp(t, `#2 open  \[http://127\.0\.0\.1:\d+/acme/checkout/issues/2\] Add a load test of checkout to the deploy pipeline · labels incident, sev2, P1 · assigned alicechen\n`, out)
	require.NotContains(t, out, "#3 open", "one issue per item")
	require.Contains(t, out, "The post-mortem draft's Action Items link them:\n\n    | \\[ \\] | 1 |")
	require.LessOrEqual(t, strings.Count(out, "\n"), 215, "the demo is meant to be read in one go")
}

// seed makes a database with one incident and closes it.
func seed(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ooda.db")
	db, err := storage.Open(path, storage.Options{})
	require.NoError(t, err)
	m := incident.Meta{At: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "k1"}
	_, err = db.Declare(context.Background(), m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: "Search is slow", Severity: 2, Service: "search"}, m)
	})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	return path
}

func TestExportCheckBackup(t *testing.T) {
	path := seed(t)

	out, _, err := runCmd(t, "export", "--db", path, "--incident", "INC-1")
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	for _, k := range []string{"number", "id", "title", "status", "severity", "private", "service", "channel_id", "roles", "customer_impacting", "impact", "declared_at", "actions", "events"} {
		require.Contains(t, got, k)
	}
	require.NotContains(t, got, "resolved_at", "unset times are omitted")
	require.Equal(t, "INC-1", got["id"])
	require.Equal(t, map[string]any{"commander": "U0ALICE", "comms": "", "ops": ""}, got["roles"])
	ev := got["events"].([]any)[0].(map[string]any)
	for _, k := range []string{"seq", "at", "kind", "phase", "actor", "text", "source"} {
		require.Contains(t, ev, k)
	}

	_, _, err = runCmd(t, "export", "--db", path, "--incident", "9")
	require.ErrorContains(t, err, "INC-9 does not exist")

	out, _, err = runCmd(t, "check", "--db", path)
	require.NoError(t, err)
	require.Contains(t, out, "ok")

	copyPath := filepath.Join(t.TempDir(), "copy.db")
	_, _, err = runCmd(t, "backup", "--db", path, copyPath)
	require.NoError(t, err)
	fi, err := os.Stat(copyPath)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, _, err = runCmd(t, "check", "--db", copyPath)
	require.NoError(t, err)

	garbage := filepath.Join(t.TempDir(), "garbage.db")
	require.NoError(t, os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 1000), 0o600))
	_, _, err = runCmd(t, "check", "--db", garbage)
	require.Error(t, err)
	require.Contains(t, err.Error(), garbage)
}

func TestServeAnswersAndShutsDown(t *testing.T) {
	path := seed(t)
	cfg := app.DefaultConfig()
	cfg.DB = path
	cfg.APIToken = "test-token"
	base, stop := serveInProcess(t, cfg)

	get := func(path, token string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}

	code, _ := get("/healthz", "")
	require.Equal(t, http.StatusOK, code)
	code, _ = get("/readyz", "")
	require.Equal(t, http.StatusOK, code)
	code, body := get("/metrics", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "go_goroutines")

	code, _ = get("/api/v1/incidents", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = get("/api/v1/incidents", "wrong")
	require.Equal(t, http.StatusUnauthorized, code)
	code, body = get("/api/v1/incidents", "test-token")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"id": "INC-1"`)
	code, body = get("/api/v1/incidents/1", "test-token")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"events"`)
	code, _ = get("/api/v1/incidents/42", "test-token")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = get("/api/v1/incidents/abc", "test-token")
	require.Equal(t, http.StatusBadRequest, code)

	// While serving, the file is locked: backup goes through the server.
	copyPath := filepath.Join(t.TempDir(), "hot.db")
	_, _, err := runCmd(t, "backup", "--db", path, copyPath)
	require.ErrorIs(t, err, storage.ErrLocked)
	require.Contains(t, err.Error(), "--url")
	t.Setenv("OODA_API_TOKEN", "test-token")
	out, _, err := runCmd(t, "backup", "--db", path, "--url", base, copyPath)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "backed up"))
	_, _, err = runCmd(t, "check", "--db", copyPath)
	require.NoError(t, err)

	stop()
}
