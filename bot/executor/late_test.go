package executor

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/timeline"
)

// TestOutageThenDeliveryTellsTheStateOfItsTime: an update written at
// SEV1/investigating while Slack is down, delivered after the incident
// became SEV2 and resolved, says SEV1/investigating and when it was
// written; an update delivered on time says neither. The reply to the
// update said it was queued, not posted.
func TestOutageThenDeliveryTellsTheStateOfItsTime(t *testing.T) {
	h := newHarness(t, withStoreOnClock())
	disp := &command.Dispatcher{Store: h.db, Health: h.exec, Committed: h.exec.Notify}
	run := func(text string) command.Reply {
		t.Helper()
		rep := disp.Handle(h.ctx, command.Request{Text: text, User: alice, Source: timeline.SourceCommand, Key: h.key(), At: h.clock.Now()})
		require.Equal(t, http.StatusOK, rep.Code, "%s: %s", text, rep.Text)
		return rep
	}
	announced := func(text string) slacktest.Message {
		t.Helper()
		for _, m := range h.slack.Messages(h.announce) {
			if strings.Contains(m.Text, text) {
				return m
			}
		}
		require.Failf(t, "not announced", "no message in the announcement channel says %q", text)
		return slacktest.Message{}
	}

	run("declare sev1 Checkout down") // 09:00
	h.drainAll(h.exec)
	h.clock.Advance(time.Minute) // 09:01
	require.Equal(t, "INC-1: update posted.", run("update INC-1 all hands on checkout").Text)
	h.drain()
	onTime := announced("all hands on checkout")
	require.Contains(t, string(onTime.Blocks), "SEV1 · Investigating")
	require.NotContains(t, onTime.Text+string(onTime.Blocks), "delivered", "an update on time does not say when it was written")

	h.slack.SetDown(true)
	h.clock.Advance(time.Minute) // 09:02
	run("observe INC-1 5xx at 40%")
	h.drain()                    // the executor learns that Slack is down
	h.clock.Advance(time.Minute) // 09:03
	rep := run("update INC-1 rolling back the 09:00 deploy")
	require.Contains(t, rep.Text, "INC-1: update recorded and queued, not posted: Slack's API is unreachable (since 09:02 UTC")
	require.NotContains(t, rep.Text, "update posted")
	h.clock.Advance(time.Minute) // 09:04
	run("sev INC-1 2")
	h.clock.Advance(time.Minute) // 09:05
	run("resolve INC-1 rolled back")
	h.drain()
	require.Empty(t, h.slack.Messages(h.announce)[2:], "nothing reached Slack during the outage")

	// Slack answers again a quarter of an hour later.
	h.clock.Advance(15 * time.Minute)
	h.slack.SetDown(false)
	h.drainAll(h.exec)

	late := announced("rolling back the 09:00 deploy")
	blocks := string(late.Blocks)
	require.Contains(t, blocks, "SEV1 · Investigating", "the update says the state it was written in")
	require.NotContains(t, blocks, "SEV2")
	require.NotContains(t, blocks, "Resolved")
	require.Contains(t, blocks, "Written 09:03 UTC, delivered ")
	require.Contains(t, blocks, " late: it shows the incident as it was then")
	require.Contains(t, late.Text, "Written 09:03 UTC, delivered ")
	require.Contains(t, late.Text, "(SEV1, investigating)")

	resolved := announced("resolved after")
	require.Contains(t, string(resolved.Blocks), "SEV2", "the resolution says the state it was written in")
	require.Contains(t, string(resolved.Blocks), "Written 09:05 UTC, delivered ")

	// The incident's channel tells the outage's entries in one catch-up,
	// which says when they were written; its kickoff shows the state of now.
	chans := channelsFor(h.slack, 1)
	require.Len(t, chans, 1)
	var all []string
	for _, m := range h.slack.Messages(chans[0].ID) {
		all = append(all, m.Text+" "+string(m.Blocks))
	}
	require.Contains(t, all[0], "*Status*: Resolved", "the kickoff is live: it shows the state of now")
	require.NotContains(t, all[0], "delivered")
	joined := strings.Join(all, "\n")
	require.Contains(t, joined, "While Slack was unreachable, 09:02–09:05 UTC")
	require.Contains(t, joined, "rolling back the 09:00 deploy")
	dupes, _ := duplicateKeys(h.slack)
	require.Zero(t, dupes)
}
