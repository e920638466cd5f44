package incident_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

func TestDeclaredFromMessage(t *testing.T) {
	msg := incident.SourceMessage{Channel: "C0GENERAL", TS: "1772445660.000100", Text: "Message from <@U2> in <#C0GENERAL>: “checkout 500s\x1b[2J” (https://x.slack.com/archives/C0GENERAL/p1772445660000100)"}
	tests := []struct {
		name string
		d    incident.Declaration
	}{
		{"public", checkout},
		{"private", incident.Declaration{Title: "Payroll leak", Private: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := declare(t, tt.d)
			m := r.meta(incident.Bot)
			m.At = t0.Add(-10 * time.Minute) // posted ten minutes before the declaration
			ch := r.commit(r.inc.DeclaredFromMessage(msg, m))
			require.Len(t, ch.Events, 1)
			e := ch.Events[0]
			require.Equal(t, timeline.KindLoopEntry, e.Kind)
			require.Equal(t, timeline.PhaseObserve, e.Phase)
			require.Equal(t, m.At, e.At, "recorded when the message was posted")
			require.Contains(t, e.Text, "checkout 500s\uFFFD[2J", "a control character someone else wrote is shown, not refused")
			require.Equal(t, "C0GENERAL", e.Attr(timeline.AttrChannel))
			require.Equal(t, "1772445660.000100", e.Attr(timeline.AttrTS))
			require.Equal(t, []string{"post incident line", "thread_reply"}, effectShape(ch))
			reply := ch.Effects[1]
			require.Equal(t, map[string]string{"channel": "C0GENERAL", "ts": "1772445660.000100"}, reply.Params)
			require.Equal(t, fmt.Sprintf("INC-7/%d/thread_reply", e.Seq), reply.Key)
		})
	}

	r := declare(t, checkout)
	_, err := r.inc.DeclaredFromMessage(incident.SourceMessage{Channel: "C0GENERAL", Text: "x"}, r.meta(incident.Bot))
	require.ErrorIs(t, err, incident.ErrInvalid, "a message is named by channel and ts")
	_, err = r.inc.DeclaredFromMessage(incident.SourceMessage{Channel: "C0GENERAL", TS: "1.2", Text: "  "}, r.meta(incident.Bot))
	require.ErrorIs(t, err, incident.ErrInvalid)
	closed := atStatus(t, incident.StatusClosed, checkout)
	_, err = closed.inc.DeclaredFromMessage(msg, closed.meta(incident.Bot))
	require.Error(t, err, "a closed incident records nothing more")
}
