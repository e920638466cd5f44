package bot

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// signalBlockID is the block id of the "Declare incident" button of an SLO
// warning whose form suggests title, as blockkit builds it.
func signalBlockID(t testing.TB, title string) string {
	t.Helper()
	b, ok := blockkit.DeclareSignalBlock("", title, timeline.SourceSLO).(*slack.ActionBlock)
	require.True(t, ok, "the declare button is an actions block")
	return b.BlockID
}

// signalClick is a click on the "Declare incident" button of the signal
// message ts in channel, by user, with a trigger id of its own.
func signalClick(t testing.TB, channel, ts, user string, i int, service, blockID, responseURL string) []byte {
	t.Helper()
	var doc struct {
		Actions []map[string]any `json:"actions"`
	}
	require.NoError(t, json.Unmarshal(slackFixture(t, "block_actions_button.json"), &doc))
	a := doc.Actions[0]
	a["action_id"], a["value"], a["block_id"] = blockkit.ActionDeclareFromSignal, service, blockID
	a["action_ts"] = "1548426417.84018" + strconv.Itoa(i)
	return interactionBody(slackJSON(t, "block_actions_button.json", map[string]any{
		"user.id":              user,
		"trigger_id":           "trigger-signal-" + strconv.Itoa(i),
		"container.message_ts": ts,
		"container.channel_id": channel,
		"channel":              map[string]any{"id": channel, "name": "slo"},
		"message":              map[string]any{"type": "message", "ts": ts, "text": "SLO burning"},
		"response_url":         responseURL,
		"actions":              []any{a},
	}))
}

func TestSignalButtonDeclaresOnceWithoutSlack(t *testing.T) {
	r := newSlackRig(t)
	ru := newResponseURLs(t)
	var wg sync.WaitGroup
	for i := range 3 {
		// A double click, and a colleague clicking at the same moment.
		user := "UA8RXUSPL"
		if i == 2 {
			user = "U0BOB000001"
		}
		wg.Go(func() {
			rec := r.post("/slack/interactivity", signalClick(t, "C0SLO", "1772445660.000100", user, i, "checkout", signalBlockID(t, "checkout SLO burning"), ru.srv.URL))
			require.Equal(t, http.StatusOK, rec.Code)
		})
	}
	wg.Wait()

	incs, err := r.db.Incidents(t.Context(), true)
	require.NoError(t, err)
	require.Len(t, incs, 1, "three clicks on one signal declare once")
	inc := incs[0]
	require.Equal(t, "checkout SLO burning", inc.Title)
	require.Equal(t, "checkout", inc.Service)
	require.Equal(t, 2, inc.Severity)
	for range 3 {
		require.Contains(t, ru.next(t).Text, "INC-1 declared: SEV2", "each clicker is told what was declared")
	}
	// The warning is the incident's first observation, at the time it was
	// posted, once however many clicks declared it.
	evs, err := r.db.Events(t.Context(), inc.Number, 1)
	require.NoError(t, err)
	var signals []timeline.Event
	for _, e := range evs {
		if e.Source == timeline.SourceSLO {
			signals = append(signals, e)
		}
	}
	require.Len(t, signals, 1)
	require.Equal(t, timeline.PhaseObserve, signals[0].Phase)
	require.Equal(t, time.Unix(1772445660, 100000).UTC(), signals[0].At)
	require.True(t, signals[0].At.Before(inc.DeclaredAt) || signals[0].At.Equal(inc.DeclaredAt))

	// Another signal's button is another declaration.
	rec := r.post("/slack/interactivity", signalClick(t, "C0SLO", "1772445999.000100", "UA8RXUSPL", 9, "search", signalBlockID(t, "search: HighLatency firing"), ru.srv.URL))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, ru.next(t).Text, "INC-2 declared")
	inc2, err := r.db.Incident(t.Context(), 2)
	require.NoError(t, err)
	require.Equal(t, "search: HighLatency firing", inc2.Title, "the title the signal suggested")
}

func TestSignalButtonOpensThePrefilledForm(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	r := newSlackRig(t, withFakeSlack(t, fake))
	ru := newResponseURLs(t)
	for i := range 2 {
		rec := r.post("/slack/interactivity", signalClick(t, "C0SLO", "1772445660.000100", "UA8RXUSPL", i, "checkout", signalBlockID(t, "checkout SLO burning"), ru.srv.URL))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Empty(t, rec.Body.String())
	}
	var views []slacktest.View
	require.Eventually(t, func() bool {
		views = fake.Views()
		return len(views) == 2
	}, 10*time.Second, time.Millisecond, "a double click opens two forms")
	incs, err := r.db.Incidents(t.Context(), true)
	require.NoError(t, err)
	require.Empty(t, incs, "nothing is declared before the form is submitted")

	var view struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		Blocks          []struct {
			BlockID string `json:"block_id"`
			Element struct {
				InitialValue  string `json:"initial_value"`
				InitialOption struct {
					Value string `json:"value"`
				} `json:"initial_option"`
			} `json:"element"`
		} `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(views[0].JSON, &view))
	require.Equal(t, declareSignalCallbackID, view.CallbackID)
	initial := map[string]string{}
	for _, b := range view.Blocks {
		initial[b.BlockID] = b.Element.InitialValue + b.Element.InitialOption.Value
	}
	require.Equal(t, "checkout SLO burning", initial[declareTitle])
	require.Equal(t, "checkout", initial[declareService])
	require.Equal(t, "2", initial[declareSeverity])
	var meta signalForm
	require.NoError(t, json.Unmarshal([]byte(view.PrivateMetadata), &meta))
	require.Equal(t, signalForm{Channel: "C0SLO", Key: "slack:signal:C0SLO:1772445660.000100", Source: "slo", Text: "SLO burning", TS: "1772445660.000100"}, meta)

	// Both forms submitted: one incident.
	for i, v := range views {
		rec := r.post("/slack/interactivity", interactionBody(slackJSON(t, "view_submission.json", map[string]any{
			"view.id":                                 v.ID,
			"view.callback_id":                        declareSignalCallbackID,
			"view.private_metadata":                   v.PrivateMetadata,
			"view.state.values.title.title.value":     "checkout SLO burning " + strconv.Itoa(i),
			"view.state.values.service.service.value": "checkout",
		})))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Empty(t, rec.Body.String(), "the form closes")
	}
	incs, err = r.db.Incidents(t.Context(), true)
	require.NoError(t, err)
	require.Len(t, incs, 1, "two forms from one signal declare once")
	require.Equal(t, "checkout SLO burning 0", incs[0].Title)
	require.Equal(t, incident.StatusInvestigating, incs[0].Status)

	rec := r.post("/slack/interactivity", interactionBody(slackJSON(t, "view_submission.json", map[string]any{
		"view.callback_id": declareSignalCallbackID, "view.private_metadata": "C0SLO",
	})))
	require.Equal(t, http.StatusBadRequest, rec.Code, "a signal form without its key is not Ooda's")
}
