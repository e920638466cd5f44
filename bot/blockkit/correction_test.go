package blockkit

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// The channel is told of every correction, with what the entry said, and
// a backdated entry's line says when it happened.
func TestRenderCorrectionLines(t *testing.T) {
	early, err := incident.ParseWhen("-5m")
	require.NoError(t, err)
	moved, err := incident.ParseWhen("09:00")
	require.NoError(t, err)
	// The entries as the log holds them, for the corrections to name.
	logged := map[uint64]*timeline.Event{}
	keep := func(s renderStep) renderStep {
		return func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			ch, err := s(inc, m)
			for _, e := range ch.Events {
				logged[e.Seq] = &e
			}
			return ch, err
		}
	}
	full, evs := renderFixture(t, "Checkout down",
		keep(entryStep(timeline.PhaseAct, "rolled back to v42", false)), // #3 at 09:01
		keep(entryStep(timeline.PhaseObserve, hostileText, false)),      // #4
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Amend(3, logged[3], "rolled back to v41 <!here>", moved, m)
		},
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Strike(4, logged[4], "wrong incident", m)
		},
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddEntryAt(timeline.PhaseObserve, "first 502s", false, early, m)
		},
	)
	want := []string{
		"<@" + alice + "> amended #3: “rolled back to v41 &lt;!here&gt;” (was “rolled back to v42”), now dated 09:00 UTC (was 09:01 UTC)",
		"<@" + alice + "> struck #4, which said “&lt;!channel&gt; see &lt;https://evil.example|status.example.com&gt; &amp; &lt;@U0ADMIN001&gt;”: wrong incident",
		"[observe] <@" + alice + ">: first 502s _(at 09:00 UTC)_",
	}
	for i, e := range evs[len(evs)-3:] {
		msg, err := Render(incident.TemplateLine, PostContext{Event: e, Incident: full})
		require.NoError(t, err)
		require.Equal(t, want[i], msg.Text)
		requireNoMarkupFromUsers(t, string(e.Kind), msg.Text)
	}
}
