package main

import (
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slacktest"
)

func TestDemoKeepsItsDatabase(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	path := filepath.Join(t.TempDir(), "demo.db")
	_, _, err := runCmd(t, "demo", "--db", path)
	require.NoError(t, err)

	out, _, err := runCmd(t, "export", "--db", path, "--incident", "INC-1", "--format", "md")
	require.NoError(t, err)
	require.Contains(t, out, "Checkout API returning 502s")

	_, _, err = runCmd(t, "demo", "--db", path)
	require.Equal(t, 2, exitCode(err), "a database that saw the script would take it for Slack's retries")
	require.ErrorContains(t, err, "fresh database")
}

func TestDemoReadsMrkdwnAsAPersonDoes(t *testing.T) {
	fake := slacktest.New()
	defer fake.Close()
	incidents := fake.CreateChannel("incidents", false)
	ws := &demoWorkspace{fake: fake}
	for _, tc := range []struct{ name, in, want string }{
		{"mentions", "<@U0DEMOALICE> made <@U0DEMOCAROL|carol> Ops", "@alice made @carol Ops"},
		{"bot and unknown users", "<@" + demoBotUserID + "> and <@U0NOBODY>", "@ooda and @U0NOBODY"},
		{"channels", "follow it in <#" + incidents + ">, not <#C0GONE|old>", "follow it in #incidents, not #old"},
		{"special mentions", "<!here> look", "@here look"},
		{"links", "see <https://example.com/d|the dashboard> or <https://example.com>", "see the dashboard (https://example.com/d) or https://example.com"},
		{"bold, italics and emoji", ":rotating_light: *INC-1 · SEV2* _seven_ snake_case", "INC-1 · SEV2 seven snake_case"},
		{"times are not emoji", "at 14:05:30 UTC", "at 14:05:30 UTC"},
		{"escaped user text", "a &lt;b&gt; &amp;lt;", "a <b> &lt;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ws.readable(tc.in))
		})
	}
}

func TestClipAndWrap(t *testing.T) {
	require.Equal(t, "short", clip("short", 10))
	require.Equal(t, "observe the…", clip("observe the dashboard now", 14))
	require.Equal(t, []string{"one two", "three", "four"}, wrap("one two three four", 8))
	require.Equal(t, []string{"unbreakable-word", "x"}, wrap("unbreakable-word x", 5))
}

func TestDemoFailsWhenOodaRefusesAStep(t *testing.T) {
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ooda_slack_requests_total", Help: "h"}, []string{"kind", "outcome"})
	reg.MustRegister(requests)
	requests.WithLabelValues("command", "ok").Add(2)
	requests.WithLabelValues("event", "ok").Inc()
	n, err := allAnswered(reg)
	require.NoError(t, err)
	require.Equal(t, 3, n)

	requests.WithLabelValues("command", "refused").Inc()
	_, err = allAnswered(reg)
	require.ErrorContains(t, err, "1 command refused")
}
