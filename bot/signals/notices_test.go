package signals

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/timeline"
)

func TestSLODeliverPostsEachNoticeOnce(t *testing.T) {
	r := newSLORig(t)
	require.NoError(t, r.tick())
	require.Empty(t, r.messages(), "an SLO that is fine from the start is not news")

	r.prom.set(burning(pageRatio, periodSome))
	require.NoError(t, r.tick())
	msgs := r.messages()
	require.Len(t, msgs, 1, "the page is posted")
	page := msgs[0]
	require.Equal(t, slackapi.MetadataEventType, page.MetadataType)
	require.Contains(t, messageKey(page), "slo:checkout/availability:warning:ok>page")
	require.Contains(t, page.Text, "SLO checkout/availability is at page (was ok).")
	text := blocksText(page)
	for _, want := range []string{"*page*", "page-quick: 1h and 5m both above 14.4×", "5m 15.0×", "1h 15.0×", "3d 15.0×",
		"Error budget left (30d): 60.0%", "slos/checkout.yaml"} {
		require.Contains(t, text, want)
	}
	require.Equal(t, []messageButton{{ActionID: blockkit.ActionDeclareFromSignal, Value: "checkout", BlockID: signalBlockPrefix + "slo:checkout SLO burning"}},
		messageButtons(t, page), "a page carries the Declare incident button for its service")

	require.NoError(t, r.tick())
	require.Len(t, r.messages(), 1, "a standing page is not posted again before the re-notify interval")

	r.prom.set(burning(okRatio, periodSome))
	require.NoError(t, r.tick())
	msgs = r.messages()
	require.Len(t, msgs, 2, "the recovery is posted")
	require.Contains(t, blocksText(msgs[1]), "recovered: page → ok")
	require.Empty(t, messageButtons(t, msgs[1]), "a recovery has nothing to declare")
	dupes, _ := duplicateKeys(r.slack)
	require.Zero(t, dupes)
}

func TestSLODeliverAnnouncesTheFreeze(t *testing.T) {
	r := newSLORig(t)
	require.NoError(t, r.tick())
	r.prom.set(burning(okRatio, 0.002)) // twice the budget: spent
	require.NoError(t, r.tick())
	msgs := r.messages()
	require.Len(t, msgs, 1)
	require.Contains(t, blocksText(msgs[0]), "Deploy freeze for `checkout`")
	require.Contains(t, blocksText(msgs[0]), "ooda freeze check --service checkout")

	r.prom.set(burning(okRatio, periodSome))
	require.NoError(t, r.tick())
	msgs = r.messages()
	require.Len(t, msgs, 2)
	require.Contains(t, blocksText(msgs[1]), "Deploy freeze for `checkout` ended")
}

func TestSLODeliverObservesInTheServicesOpenIncident(t *testing.T) {
	r := newSLORig(t)
	inc := r.declare("Checkout")
	other := r.declare("search")
	require.NoError(t, r.tick())

	r.prom.set(burning(pageRatio, periodSome))
	require.NoError(t, r.tick())
	got := entries(t, r.db, inc.Number, timeline.SourceSLO)
	require.Len(t, got, 1, "the incident of the service (named in another case) gets the warning")
	require.Equal(t, timeline.KindLoopEntry, got[0].Kind)
	require.Equal(t, timeline.PhaseObserve, got[0].Phase)
	require.Contains(t, got[0].Text, "SLO checkout/availability is at page")
	require.Contains(t, got[0].Text, "SLO file: slos/checkout.yaml")
	require.Empty(t, entries(t, r.db, other.Number, timeline.SourceSLO), "another service's incident hears nothing")
	require.Equal(t, 1, r.woken, "the executor is woken to post the entry")

	msgs := r.messages()
	require.Len(t, msgs, 1)
	require.Empty(t, messageButtons(t, msgs[0]), "no button while an incident of the service is open")
	require.Contains(t, blocksText(msgs[0]), "Open for `checkout`: INC-1")

	// The monitor gives a notice again until it is delivered: the same
	// notice delivered twice records and posts once.
	n := slo.Notice{Kind: slo.NoticeRepeat, SLO: "checkout/availability", Service: "checkout", File: "slos/checkout.yaml",
		From: slo.LevelPage, To: slo.LevelPage, Result: r.monitor.Last().Report.Results[0], At: r.now}
	for range 2 {
		require.NoError(t, r.deliverer.Deliver(r.ctx, n))
	}
	require.Len(t, entries(t, r.db, inc.Number, timeline.SourceSLO), 2, "one entry more for the repeat, not two")
	require.Len(t, r.messages(), 2)
	require.Equal(t, 2, r.woken)
}

func TestSLODeliverLostResponseDoesNotPostTwice(t *testing.T) {
	tests := []struct {
		name     string
		attempts int
		// failedTick is whether the tick with the lost answer fails, so
		// that the next tick delivers the notice again.
		failedTick bool
	}{
		{name: "the guard's retry finds the post", attempts: 0},
		{name: "the next tick finds the post", attempts: 1, failedTick: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []sloRigOption
			if tt.attempts > 0 {
				opts = append(opts, sloRigAttempts(tt.attempts))
			}
			r := newSLORig(t, opts...)
			require.NoError(t, r.tick())

			r.prom.set(burning(pageRatio, periodSome))
			r.slack.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultLostResponse})
			err := r.tick()
			if tt.failedTick {
				require.Error(t, err, "the answer was lost: the notice is not delivered as far as Ooda knows")
				require.Len(t, r.messages(), 1, "yet the message landed")
				require.NoError(t, r.tick(), "the next tick gives the notice again")
			} else {
				require.NoError(t, err)
			}
			msgs := r.messages()
			require.Len(t, msgs, 1, "the page is in the channel once")
			require.Contains(t, messageKey(msgs[0]), ":warning:ok>page@")
			require.Len(t, r.slack.CallsTo("chat.postMessage"), 1, "found in the history, not posted again")

			require.NoError(t, r.tick())
			require.Len(t, r.messages(), 1, "delivered: the notice is not given again")
		})
	}
}

func TestSLODeliverWithoutAChannel(t *testing.T) {
	r := newSLORig(t)
	d, err := NewSLODeliverer(SLODelivererConfig{Store: r.db, States: r.db})
	require.NoError(t, err)
	inc := r.declare("checkout")
	require.NoError(t, r.tick())
	r.prom.set(burning(pageRatio, periodSome))
	r.now = r.now.Add(time.Minute)
	_, err = r.monitor.Tick(r.ctx, r.now, d.Deliver)
	require.NoError(t, err, "with nowhere to post, the notice goes to the incident alone")
	require.Len(t, entries(t, r.db, inc.Number, timeline.SourceSLO), 1)
	require.Empty(t, r.slack.Calls())

	_, err = NewSLODeliverer(SLODelivererConfig{Store: r.db, Slack: slack.New("x")})
	require.ErrorContains(t, err, "guard", "Slack calls without a guard are refused at start-up")
}

func TestRenderSLONoticeNoData(t *testing.T) {
	n := slo.Notice{Kind: slo.NoticeWarning, SLO: "checkout/latency", Service: "checkout", File: "x.yaml", From: slo.LevelOK, To: slo.LevelNoData,
		Result: slo.Result{SLO: "checkout/latency", Objective: 99, BudgetRemaining: math.NaN()}}
	m := blockkit.SLONotice(n, nil)
	require.Contains(t, blocksOf(t, m), "has *no data*")
	require.Contains(t, blocksOf(t, m), "Error budget left: no data")
	require.True(t, strings.HasPrefix(m.Text, "SLO checkout/latency is at no_data (was ok)."), m.Text)
}

// blocksOf is a rendered message's blocks as JSON text.
func blocksOf(t testing.TB, m blockkit.Message) string {
	t.Helper()
	b, err := json.Marshal(m.Blocks)
	require.NoError(t, err)
	return string(b)
}
