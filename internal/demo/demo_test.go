package demo

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/slo"
)

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
	require.Equal(t, "short", mrkdwn.Clip("short", 10))
	require.Equal(t, "observe the…", mrkdwn.Clip("observe the dashboard now", 14))
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

func TestDemoTrafficPagesWhenTheDemoTicks(t *testing.T) {
	declared := time.Date(2026, 11, 26, 14, 5, 0, 0, time.UTC)
	traffic := demoCheckoutTraffic(declared)
	budget := slo.ErrorBudget(99.9)
	burn := func(at time.Time, window time.Duration) float64 {
		ratio, _ := traffic.measure(at.Add(-window), at)
		return slo.BurnRate(ratio, budget)
	}
	fast := slo.DefaultWindows(slo.DefaultPeriod).PageQuick
	threshold := slo.DefaultWindows(slo.DefaultPeriod).Alerts()[0].Threshold
	for _, tc := range []struct {
		name string
		at   time.Time
		page bool
	}{
		{"before the deploy fails", declared.Add(-4 * time.Minute), false},
		{"two minutes of failures are not yet an hour's 2% of budget", declared.Add(-time.Minute), false},
		{"the demo's tick", declared.Add(-30 * time.Second), true},
		{"after the rollback the short window clears", declared.Add(30 * time.Minute), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			long, short := burn(tc.at, fast.Long), burn(tc.at, fast.Short)
			require.Equal(t, tc.page, long > threshold && short > threshold, "burn 1h %.1f, 5m %.1f", long, short)
		})
	}

	// The fake answers the evaluator's own query through Prometheus's HTTP
	// API, with the request count the low-traffic check needs.
	slos, _, err := slo.Parse("checkout-slo.yaml", []byte(demoSLOFile))
	require.NoError(t, err)
	q, err := slo.WindowQuery(slos[0], time.Hour)
	require.NoError(t, err)
	v, err := traffic.answer(q, declared)
	require.NoError(t, err)
	vec, ok := v.(model.Vector)
	require.True(t, ok)
	require.Len(t, vec, 2)
	require.InDelta(t, 40*3600, float64(vec[1].Value), 1e-6)
	_, err = traffic.answer("sum(rate(x))", declared)
	require.ErrorContains(t, err, "no [window]")
}
