package executor

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
)

func TestKickoffFollowsTheIncident(t *testing.T) {
	h := newHarness(t)
	inc := h.declare("Search is slow", false)
	h.drainAll(h.exec)
	ch := channelsFor(h.slack, inc.Number)[0]
	kickoff := func() string {
		for _, m := range h.slack.Messages(ch.ID) {
			if messageKey(m) == incident.KickoffKey(inc.Number) {
				return string(m.Blocks)
			}
		}
		t.Fatal("no kickoff message")
		return ""
	}
	// The value of a kickoff button or menu option: "<incident number>:<role or status>".
	actionValue := func(n uint64, v string) string { return strconv.FormatUint(n, 10) + ":" + v }
	takeComms := `"` + actionValue(inc.Number, string(roles.Comms)) + `"`
	require.Contains(t, kickoff(), takeComms, "an empty role offers its button")

	h.assign(inc.Number, roles.Comms, bob)
	h.drainAll(h.exec)
	require.NotContains(t, kickoff(), takeComms, "a taken role no longer offers the button")
	require.Contains(t, kickoff(), "*Comms*: \\u003c@"+bob)

	h.apply(inc.Number, alice, func(i *incident.Incident, m incident.Meta) (incident.Change, error) {
		return i.SetStatus(incident.StatusMonitoring, m)
	})
	h.drainAll(h.exec)
	require.Contains(t, kickoff(), "*Status*: Monitoring")
	posted := 0
	for _, m := range h.slack.Messages(ch.ID) {
		if messageKey(m) == incident.KickoffKey(inc.Number) {
			posted++
		}
	}
	require.Equal(t, 1, posted, "the kickoff is updated in place, never posted again")
}
