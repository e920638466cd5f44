package bot

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// click is a button or menu interaction on incident n's kickoff message,
// by user, with its own trigger id as every click has.
func click(t testing.TB, fixture string, n uint64, user string, i int, set map[string]any) []byte {
	t.Helper()
	fields := map[string]any{
		"user.id":    user,
		"trigger_id": "trigger-click-" + strconv.Itoa(i),
		"actions":    nil,
	}
	var doc struct {
		Actions []map[string]any `json:"actions"`
	}
	require.NoError(t, json.Unmarshal(slackFixture(t, fixture), &doc))
	a := doc.Actions[0]
	a["action_ts"] = "1548426417.84018" + strconv.Itoa(i)
	switch a["action_id"] {
	case blockkit.ActionTakeRole:
		a["value"] = strconv.FormatUint(n, 10) + ":ops"
	case blockkit.ActionSetStatus:
		a["selected_option"].(map[string]any)["value"] = strconv.FormatUint(n, 10) + ":monitoring"
	}
	fields["actions"] = []any{a}
	for k, v := range set {
		fields[k] = v
	}
	return interactionBody(slackJSON(t, fixture, fields))
}

func TestSlackDoubleClickTakesTheRoleOnce(t *testing.T) {
	r := newSlackRig(t)
	n := r.declare("Checkout down", "CBR2V3XEX")

	for i := range 2 {
		rec := r.post("/slack/interactivity", click(t, "block_actions_button.json", n, "UA8RXUSPL", i, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Empty(t, rec.Body.String())
	}
	// Two more, at once, as a trembling double click on a slow network.
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			rec := r.post("/slack/interactivity", click(t, "block_actions_button.json", n, "UA8RXUSPL", 10+i, nil))
			require.Equal(t, http.StatusOK, rec.Code)
		})
	}
	wg.Wait()

	assigned := r.events(n, timeline.KindRoleAssigned)
	var ops []timeline.Event
	for _, e := range assigned {
		if e.Attr(timeline.AttrRole) == string(roles.Ops) {
			ops = append(ops, e)
		}
	}
	require.Len(t, ops, 1, "four clicks, one assignment")
	require.Equal(t, "UA8RXUSPL", ops[0].Attr(timeline.AttrUser))
	require.Equal(t, "UA8RXUSPL", ops[0].Actor)
	inc, err := r.db.Incident(t.Context(), n)
	require.NoError(t, err)
	require.Equal(t, "UA8RXUSPL", inc.Roles.Ops)
}

func TestSlackTakeRoleSomeoneElseTook(t *testing.T) {
	ru := newResponseURLs(t)
	r := newSlackRig(t)
	n := r.declare("Checkout down", "CBR2V3XEX")
	set := map[string]any{"response_url": ru.srv.URL + "/actions/1"}
	require.Equal(t, http.StatusOK, r.post("/slack/interactivity", click(t, "block_actions_button.json", n, "UA8RXUSPL", 1, set)).Code)
	require.Equal(t, http.StatusOK, r.post("/slack/interactivity", click(t, "block_actions_button.json", n, "U0BOB", 2, set)).Code)

	m := ru.next(t)
	require.Equal(t, "ephemeral", m.ResponseType)
	require.Equal(t, "<@UA8RXUSPL> took Ops of INC-1 first. To take it over, `/incident role ops @you`.", m.Text)
	inc, err := r.db.Incident(t.Context(), n)
	require.NoError(t, err)
	require.Equal(t, "UA8RXUSPL", inc.Roles.Ops, "the slower click hands nothing over")
}

func TestSlackStatusMenu(t *testing.T) {
	ru := newResponseURLs(t)
	r := newSlackRig(t)
	n := r.declare("Checkout down", "CBR2V3XEX")
	set := map[string]any{"response_url": ru.srv.URL + "/actions/2"}
	for i := range 2 {
		rec := r.post("/slack/interactivity", click(t, "block_actions_static_select.json", n, "UA8RXUSPL", i, set))
		require.Equal(t, http.StatusOK, rec.Code)
	}
	changes := r.events(n, timeline.KindStatusChanged)
	require.Len(t, changes, 1)
	require.Equal(t, string(incident.StatusMonitoring), changes[0].Attr(timeline.AttrStatus))
	require.Equal(t, "INC-1 is already monitoring", ru.next(t).Text, "the repeat is refused, to the clicker alone")

	// A menu on a message of an incident that does not exist.
	rec := r.post("/slack/interactivity", click(t, "block_actions_static_select.json", 99, "UA8RXUSPL", 3, set))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, ru.next(t).Text, "INC-99 does not exist")
}

func TestSlackDeclareFormSubmission(t *testing.T) {
	r := newSlackRig(t)
	submit := func(set map[string]any) *http.Response {
		rec := r.post("/slack/interactivity", interactionBody(slackJSON(t, "view_submission.json", set)))
		return rec.Result()
	}
	errorsOf := func(resp *http.Response) map[string]string {
		t.Helper()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var body struct {
			ResponseAction string            `json:"response_action"`
			Errors         map[string]string `json:"errors"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		require.Equal(t, "errors", body.ResponseAction)
		return body.Errors
	}

	errs := errorsOf(submit(map[string]any{"view.state.values.title.title.value": "   "}))
	require.Equal(t, map[string]string{"title": "An incident needs a title: what is broken, for whom."}, errs)
	errs = errorsOf(submit(map[string]any{
		"view.state.values.title.title.value":                       strings.Repeat("x", incident.MaxTitle+1),
		"view.state.values.service.service.value":                   strings.Repeat("x", maxServiceName+1),
		"view.state.values.severity.severity.selected_option.value": "9",
	}))
	require.Len(t, errs, 3, "every bad input is shown at once: %v", errs)
	incs, err := r.db.Incidents(t.Context(), true)
	require.NoError(t, err)
	require.Empty(t, incs, "a refused form declares nothing")

	for range 2 {
		resp := submit(map[string]any{"view.state.values.private.private.selected_options": []any{
			map[string]any{"value": "private", "text": map[string]any{"type": "plain_text", "text": "Private"}},
		}})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Empty(t, body, "an empty answer closes the form")
	}
	incs, err = r.db.Incidents(t.Context(), true)
	require.NoError(t, err)
	require.Len(t, incs, 1, "submitting one form twice declares once")
	inc := incs[0]
	require.Equal(t, "Checkout is failing for EU customers", inc.Title)
	require.Equal(t, 2, inc.Severity)
	require.Equal(t, "checkout", inc.Service)
	require.True(t, inc.Private)
	require.Equal(t, "UA8RXUSPL", inc.Roles.Commander)
	declared := r.events(inc.Number, timeline.KindDeclared)
	require.Equal(t, "5xx on /pay since 09:12", declared[0].Text)
	require.Equal(t, "slack:view:VNHU13V36", declared[0].Key)

	// Another app's modal is none of Ooda's business.
	resp := submit(map[string]any{"view.callback_id": "someone_else", "view.id": "V0OTHER"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
