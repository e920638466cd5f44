package incident_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

var statuses = []incident.Status{
	incident.StatusTriage,
	incident.StatusInvestigating,
	incident.StatusIdentified,
	incident.StatusMonitoring,
	incident.StatusResolved,
	incident.StatusClosed,
}

// TestSetStatusMachine runs every (from, to) pair. The outcomes are written
// out rather than derived from the status order, so the table is a second
// opinion on checkTransition, not a copy of it.
func TestSetStatusMachine(t *testing.T) {
	const (
		ok      = "ok"      // a status_changed event
		resolve = "resolve" // the same as /incident resolve
		already = "already" // refused: nothing would change
		back    = "back"    // refused: status only moves forward
		byOoda  = "ooda"    // invalid: only Ooda sets it
		reopen  = "reopen"  // refused: resolved goes back only through reopen
		final   = "final"   // refused: closed is final
	)
	// Columns: triage, investigating, identified, monitoring, resolved, closed.
	machine := map[incident.Status][6]string{
		incident.StatusTriage:        {already, ok, ok, ok, resolve, byOoda},
		incident.StatusInvestigating: {back, already, ok, ok, resolve, byOoda},
		incident.StatusIdentified:    {back, back, already, ok, resolve, byOoda},
		incident.StatusMonitoring:    {back, back, back, already, resolve, byOoda},
		incident.StatusResolved:      {reopen, reopen, reopen, reopen, reopen, reopen},
		incident.StatusClosed:        {final, final, final, final, final, final},
	}
	require.Len(t, machine, len(statuses))
	for _, from := range statuses {
		for i, to := range statuses {
			want := machine[from][i]
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				r := atStatus(t, from, checkout)
				ch, err := r.inc.SetStatus(to, r.meta("U1"))
				switch want {
				case ok:
					r.commit(ch, err)
					require.Equal(t, []timeline.Kind{timeline.KindStatusChanged}, kinds(ch))
					require.Equal(t, string(to), ch.Events[0].Attr(timeline.AttrStatus))
					require.Equal(t, string(from), ch.Events[0].Attr(timeline.AttrPrevious))
					require.Equal(t, timeline.PhaseDecide, ch.Events[0].Phase)
					require.Equal(t, []string{"set_topic incident", "refresh_kickoff incident kickoff", "post incident line"}, effectShape(ch))
					require.Equal(t, to, r.inc.Status)
				case resolve:
					r.commit(ch, err)
					require.Equal(t, []timeline.Kind{timeline.KindResolved}, kinds(ch))
					require.Equal(t, incident.StatusResolved, r.inc.Status)
				case already:
					requireUserError(t, err, incident.ErrRefused, "INC-7 is already "+string(to))
				case back:
					requireUserError(t, err, incident.ErrRefused, "INC-7 is "+string(from)+" and status only moves forward (next: ")
				case byOoda:
					requireUserError(t, err, incident.ErrInvalid, "status closed is set by Ooda, not by hand")
				case reopen:
					require.ErrorIs(t, err, incident.ErrRefused)
					require.EqualError(t, err, "INC-7 is resolved; use `/incident reopen` to work on it again")
				case final:
					requireUserError(t, err, incident.ErrRefused, "INC-7 is closed: its post-mortem is published")
				default:
					t.Fatalf("no outcome %q", want)
				}
				if want != ok && want != resolve {
					require.Empty(t, ch.Events)
					require.Empty(t, ch.Effects)
				}
			})
		}
	}
}

func TestSetStatusBackwardSaysWhatIsNext(t *testing.T) {
	r := atStatus(t, incident.StatusIdentified, checkout)
	_, err := r.inc.SetStatus(incident.StatusInvestigating, r.meta("U1"))
	require.EqualError(t, err, "INC-7 is identified and status only moves forward (next: monitoring, resolved); record what changed with `/incident observe <text>`")
}

func TestSetStatusUnknown(t *testing.T) {
	for _, from := range statuses {
		t.Run(string(from), func(t *testing.T) {
			r := atStatus(t, from, checkout)
			for _, to := range []incident.Status{"", "fixed", "Identified"} {
				ch, err := r.inc.SetStatus(to, r.meta("U1"))
				requireUserError(t, err, incident.ErrInvalid, "is not a status; use investigating, identified, monitoring or resolved")
				require.Empty(t, ch.Events)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in   string
		want incident.Status
		msg  string
	}{
		{in: "investigating", want: incident.StatusInvestigating},
		{in: " Identified ", want: incident.StatusIdentified},
		{in: "MONITORING", want: incident.StatusMonitoring},
		{in: "resolved", want: incident.StatusResolved},
		{in: "triage", msg: "status triage is set by Ooda"},
		{in: "closed", msg: "status closed is set by Ooda"},
		{in: "fixed", msg: `"fixed" is not a status`},
		{in: "", msg: "is not a status"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := incident.ParseStatus(tt.in)
			if tt.msg != "" {
				requireUserError(t, err, incident.ErrInvalid, tt.msg)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestStatusActive(t *testing.T) {
	for _, s := range statuses {
		want := s != incident.StatusResolved && s != incident.StatusClosed
		require.Equal(t, want, s.Active(), s)
	}
}
