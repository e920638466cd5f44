package signals

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/slo"
)

// fakePNG stands for a chart: the deliverer only carries the bytes.
var fakePNG = []byte("\x89PNG\r\n\x1a\nchart")

// withChart gives the rig's deliverer a chart drawn by draw, with a Slack
// guard of attempts attempts per call (0: the default).
func (r *sloRig) withChart(t *testing.T, attempts int, draw ChartPNG) {
	t.Helper()
	p := executorTestPolicy()
	if attempts > 0 {
		p.MaxAttempts = attempts
	}
	guard := newExecutorGuard(t, p, prometheus.NewRegistry())
	client := slackapi.NewSlackClient(fakeSlackToken, r.slack.URL(), guard)
	var err error
	r.deliverer, err = NewSLODeliverer(SLODelivererConfig{
		Store: r.db, States: r.db, Slack: client, Files: client, Guard: guard,
		Channel: r.channel, Committed: func() { r.woken++ }, Chart: draw,
	})
	require.NoError(t, err)
}

// sharedCharts are the files completed (shared) into the SLO channel.
func (r *sloRig) sharedCharts() []slacktest.File {
	var out []slacktest.File
	for _, f := range r.slack.Files() {
		if f.Completed {
			out = append(out, f)
		}
	}
	return out
}

// pageNotice is the page warning posted in the channel, and the replies
// in its thread.
func (r *sloRig) pageNotice(t *testing.T) (slacktest.Message, []slacktest.Message) {
	t.Helper()
	var top, replies []slacktest.Message
	for _, m := range r.messages() {
		if m.Thread == "" {
			top = append(top, m)
		} else {
			replies = append(replies, m)
		}
	}
	require.Len(t, top, 1, "one warning in the channel")
	for _, m := range replies {
		require.Equal(t, top[0].TS, m.Thread, "the chart is in the warning's thread")
	}
	return top[0], replies
}

func TestSLOPageWarningCarriesItsChartOnce(t *testing.T) {
	tests := []struct {
		name     string
		attempts int
		faults   map[string]slacktest.Fault
		// failedTicks is how many ticks fail before one delivers.
		failedTicks int
	}{
		{name: "no fault"},
		{name: "500 three times on the upload URL, then OK", faults: map[string]slacktest.Fault{
			"files.getUploadURLExternal": {Kind: slacktest.FaultStatus, Times: 3},
		}},
		{name: "500 three times on completing, then OK", faults: map[string]slacktest.Fault{
			"files.completeUploadExternal": {Kind: slacktest.FaultStatus, Times: 3},
		}},
		{name: "lost response: the retry finds the file by name", faults: map[string]slacktest.Fault{
			"files.completeUploadExternal": {Kind: slacktest.FaultLostResponse},
		}},
		{name: "lost response on the last attempt: the next tick finds it", attempts: 1, failedTicks: 1, faults: map[string]slacktest.Fault{
			"files.completeUploadExternal": {Kind: slacktest.FaultLostResponse},
		}},
		{name: "500s past the attempts: the next tick uploads", attempts: 2, failedTicks: 1, faults: map[string]slacktest.Fault{
			"files.getUploadURLExternal": {Kind: slacktest.FaultStatus, Times: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSLORig(t)
			draws := 0
			r.withChart(t, tt.attempts, func(ctx context.Context, n slo.Notice) ([]byte, error) {
				draws++
				require.Equal(t, "checkout/availability", n.SLO)
				return fakePNG, nil
			})
			require.NoError(t, r.tick())

			r.prom.set(burning(pageRatio, periodSome))
			for m, f := range tt.faults {
				r.slack.Fault(m, f)
			}
			for range tt.failedTicks {
				require.Error(t, r.tick(), "the chart is not known to be shared: the notice is given again")
			}
			require.NoError(t, r.tick())
			require.NoError(t, r.tick(), "a standing page is not news")

			notice, replies := r.pageNotice(t)
			require.Len(t, replies, 1, "one chart in the thread")
			shared := r.sharedCharts()
			require.Len(t, shared, 1, "one file shared")
			f := shared[0]
			require.Equal(t, fakePNG, f.Content)
			require.Regexp(t, `^slo-checkout-availability-[0-9a-f]{12}\.png$`, f.Name)
			require.Equal(t, []string{f.ID}, replies[0].Files)
			require.Equal(t, notice.TS, replies[0].Thread)
			require.Contains(t, replies[0].Text, "Error ratio of checkout/availability over the last 6 hours")
			require.Len(t, r.slack.CallsTo("chat.postMessage"), 1, "the warning itself is posted once")
			require.GreaterOrEqual(t, draws, 1)
		})
	}
}

func TestSLOChartOnlyForPageWarnings(t *testing.T) {
	r := newSLORig(t)
	draws := 0
	r.withChart(t, 0, func(context.Context, slo.Notice) ([]byte, error) {
		draws++
		return fakePNG, nil
	})
	require.NoError(t, r.tick())
	r.prom.set(burning(0.004, periodSome)) // 4×: a ticket, not a page
	require.NoError(t, r.tick())
	r.prom.set(burning(okRatio, periodSome))
	require.NoError(t, r.tick())
	require.Len(t, r.messages(), 2, "the ticket and its recovery")
	require.Zero(t, draws, "no chart for a ticket or a recovery")
	require.Empty(t, r.slack.Files())
}

func TestSLOChartWithoutPrometheus(t *testing.T) {
	r := newSLORig(t)
	r.withChart(t, 0, func(ctx context.Context, _ slo.Notice) ([]byte, error) {
		_, ok := ctx.Deadline()
		require.True(t, ok, "drawing the chart has a deadline")
		return nil, errors.New("prometheus query_range: circuit breaker open")
	})
	require.NoError(t, r.tick())
	r.prom.set(burning(pageRatio, periodSome))
	require.NoError(t, r.tick(), "the warning is delivered without its chart")
	notice, replies := r.pageNotice(t)
	require.Contains(t, notice.Text, "is at page")
	require.Empty(t, replies)
	require.Empty(t, r.slack.Files())
}

func TestSLOChartRefusedForGoodDoesNotHoldTheNotice(t *testing.T) {
	r := newSLORig(t)
	r.withChart(t, 0, func(context.Context, slo.Notice) ([]byte, error) { return fakePNG, nil })
	require.NoError(t, r.tick())
	r.prom.set(burning(pageRatio, periodSome))
	r.slack.Fault("files.getUploadURLExternal", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "missing_scope"})
	require.NoError(t, r.tick(), "a missing scope is logged, not retried every minute")
	require.Len(t, r.slack.CallsTo("files.getUploadURLExternal"), 1)
	require.NoError(t, r.tick())
	require.Empty(t, r.sharedCharts())
}

func TestChartFileName(t *testing.T) {
	n := slo.Notice{SLO: "Checkout API/availability (99.9%)"}
	a := chartFileName(n, "slo:x:warning:ok>page@1")
	require.Regexp(t, `^slo-checkout-api-availability-99-9-[0-9a-f]{12}\.png$`, a)
	require.NotEqual(t, a, chartFileName(n, "slo:x:warning:ok>page@2"), "unique to the notice's key")
	require.Equal(t, a, chartFileName(n, "slo:x:warning:ok>page@1"), "the same notice given again has the same name")
}
