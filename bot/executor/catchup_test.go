package executor

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/slacktest"
)

// apiCommand sends one /incident command through POST /api/v1/commands.
func apiCommand(t *testing.T, url, token, text string) api.CommandReply {
	t.Helper()
	body, err := json.Marshal(api.CommandRequest{Text: text})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/commands", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var rep api.CommandReply
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
	require.True(t, rep.OK, "%s: %d %s", text, resp.StatusCode, rep.Text)
	return rep
}

func TestSlackDownThenCatchUp(t *testing.T) {
	h := newHarness(t)
	disp := &command.Dispatcher{Store: h.db, Health: h.exec, Committed: h.exec.Notify}
	handler, err := api.NewServer(api.ServerConfig{Store: h.db, Dispatcher: disp, APITokens: map[string]api.Token{"pager-token-0123456789": {Name: "oncall", Scopes: api.LegacyScopes}}})
	require.NoError(t, err)
	srv := httptest.NewServer(handler)
	defer srv.Close()
	tok := "pager-token-0123456789"

	h.slack.SetDown(true)
	apiCommand(t, srv.URL, tok, "declare sev1 Checkout down")
	h.drain() // Slack refuses everything: the effects are deferred, not lost
	require.Empty(t, channelsFor(h.slack, 1))

	// Replies say Slack is down and what waits.
	rep := apiCommand(t, srv.URL, tok, "role INC-1 ops <@"+bob+">")
	require.Contains(t, rep.Text, "Slack's API answers again")
	for _, text := range []string{"observe INC-1 5xx at 40%", "orient INC-1 the 14:00 deploy", "decide INC-1 roll back", "act INC-1 rollback started", "status INC-1 monitoring"} {
		apiCommand(t, srv.URL, tok, text)
	}
	h.drain()
	require.Empty(t, channelsFor(h.slack, 1))

	// Slack comes back some minutes later.
	h.clock.Advance(time.Since(h.clock.Now()) + 5*time.Minute)
	h.slack.SetDown(false)
	h.drainAll(h.exec)

	chans := channelsFor(h.slack, 1)
	require.Len(t, chans, 1, "the channel is created once")
	msgs := h.slack.Messages(chans[0].ID)
	var catchUps []string
	for _, m := range msgs {
		if strings.Contains(m.Text, "While Slack was unreachable") {
			catchUps = append(catchUps, string(m.Blocks))
		}
	}
	require.Len(t, catchUps, 1, "one catch-up message per incident; got %d messages", len(msgs))
	for _, want := range []string{"5xx at 40%", "the 14:00 deploy", "roll back", "rollback started", "monitoring", "Ops"} {
		require.Contains(t, catchUps[0], want)
	}
	require.Len(t, msgs, 2, "the kickoff and the catch-up, nothing replayed one by one")
	require.Len(t, h.slack.CallsTo("conversations.setTopic"), 1, "the backlog's topics are superseded by the last")
	require.Len(t, h.slack.CallsTo("chat.update"), 1, "so are its kickoff refreshes")
	dupes, _ := duplicateKeys(h.slack)
	require.Zero(t, dupes)
	require.Equal(t, 0, h.depth())

	// After the outage, entries are posted one by one again.
	apiCommand(t, srv.URL, tok, "note INC-1 all clear")
	h.drain()
	require.Len(t, h.slack.Messages(chans[0].ID), 3)
}

func TestCatchUpAnchoredOnAPostThatLanded(t *testing.T) {
	h := newHarness(t)
	inc := h.declare("Search is slow", false)
	h.drainAll(h.exec)
	ch := channelsFor(h.slack, inc.Number)[0]

	// Note A reaches Slack but its answer is lost; then Slack goes down
	// while B and C are recorded.
	h.slack.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultLostResponse})
	h.slack.Fault("conversations.history", slacktest.Fault{Kind: slacktest.FaultStatus, Status: 503, Times: -1})
	h.note(inc.Number, "entry A")
	h.drain()
	require.Equal(t, 1, h.depth(), "A is in doubt: it landed, but Ooda could not tell")
	h.slack.ClearFaults()
	h.slack.SetDown(true)
	h.note(inc.Number, "entry B")
	h.note(inc.Number, "entry C")
	h.drain()

	h.clock.Advance(time.Since(h.clock.Now()) + 5*time.Minute)
	h.slack.SetDown(false)
	h.drainAll(h.exec)

	var all []string
	for _, m := range h.slack.Messages(ch.ID) {
		all = append(all, m.Text+" "+string(m.Blocks))
	}
	joined := strings.Join(all, "\n")
	for _, want := range []string{"entry A", "entry B", "entry C"} {
		require.Contains(t, joined, want, "every entry reaches the channel")
	}
	dupes, _ := duplicateKeys(h.slack)
	require.Zero(t, dupes)
}
