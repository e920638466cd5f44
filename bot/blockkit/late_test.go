package blockkit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
)

// TestLateMessageSaysWhenItWasWritten: a message delivered LateAfter or
// more after it was written carries when it was written, in its blocks and
// in its fallback text; one on time, or the kickoff, does not.
func TestLateMessageSaysWhenItWasWritten(t *testing.T) {
	update := func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.PostUpdate("rolling back", m)
	}
	inc, evs := renderFixture(t, "Checkout down", update)
	written := evs[len(evs)-1].At
	tests := []struct {
		name      string
		template  string
		delivered time.Time
		want      string // "" for no line
	}{
		{"on time", incident.TemplateUpdate, written.Add(5 * time.Second), ""},
		{"just under the threshold", incident.TemplateUpdate, written.Add(LateAfter - time.Second), ""},
		{"late", incident.TemplateUpdate, written.Add(14 * time.Minute), "Written 09:01 UTC, delivered 14 min late"},
		{"late, on another day", incident.TemplateLine, written.Add(16 * time.Hour), "Written Mar 14 09:01 UTC, delivered 16 h 00 min late"},
		{"the kickoff is live, never late", incident.TemplateKickoff, written.Add(14 * time.Minute), ""},
		{"no delivery time", incident.TemplateUpdate, time.Time{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := Render(tc.template, PostContext{Event: evs[len(evs)-1], Incident: inc, Written: written, Delivered: tc.delivered})
			require.NoError(t, err)
			blocks := blocksJSON(t, msg.Blocks)
			if tc.want == "" {
				require.NotContains(t, blocks, "delivered")
				require.NotContains(t, msg.Text, "delivered")
				return
			}
			require.Contains(t, blocks, tc.want+": it shows the incident as it was then")
			require.Contains(t, msg.Text, tc.want)
		})
	}
}
