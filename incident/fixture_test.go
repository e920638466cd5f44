package incident_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// t0 is when the incidents under test are declared.
var t0 = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)

// number is the incident every test declares, so messages read "INC-7".
const number = 7

// run is one incident driven through commands the way the store drives it:
// each committed change is checked and folded into the state.
type run struct {
	t      *testing.T
	inc    incident.Incident
	events []timeline.Event
	n      int // commands issued: each gets its own key and minute
}

// meta is the next command's metadata: a fresh idempotency key, a minute
// later than the previous command.
func (r *run) meta(actor string) incident.Meta {
	r.n++
	return incident.Meta{
		At:     t0.Add(time.Duration(r.n-1) * time.Minute),
		Actor:  actor,
		Source: timeline.SourceCommand,
		Key:    "req-" + strconv.Itoa(r.n),
	}
}

// commit requires the command to have succeeded, checks the change and
// applies its events.
func (r *run) commit(ch incident.Change, err error) incident.Change {
	r.t.Helper()
	require.NoError(r.t, err)
	n := r.inc.Number
	if n == 0 {
		n = number
	}
	checkChange(r.t, n, r.inc.LastSeq, ch)
	for _, e := range ch.Events {
		r.inc.Apply(e)
	}
	r.events = append(r.events, ch.Events...)
	return ch
}

// declare starts a run with INC-7 declared by U1 with d.
func declare(t *testing.T, d incident.Declaration) *run {
	t.Helper()
	r := &run{t: t}
	r.commit(incident.Declare(number, d, r.meta("U1")))
	return r
}

// checkout is the declaration most tests start from.
var checkout = incident.Declaration{Title: "Checkout down", Severity: 2, Service: "checkout"}

// atStatus returns a run of INC-7 brought to s the way people get there.
func atStatus(t *testing.T, s incident.Status, d incident.Declaration) *run {
	t.Helper()
	if s == incident.StatusTriage {
		d.Status = incident.StatusTriage
	}
	r := declare(t, d)
	switch s {
	case incident.StatusTriage, incident.StatusInvestigating:
	case incident.StatusIdentified, incident.StatusMonitoring:
		r.commit(r.inc.SetStatus(s, r.meta("U1")))
	case incident.StatusResolved:
		r.commit(r.inc.Resolve("rolled back", r.meta("U1")))
	case incident.StatusClosed:
		r.commit(r.inc.Resolve("rolled back", r.meta("U1")))
		r.commit(r.inc.Close("https://wiki.example/pm/7", r.meta("U1")))
	default:
		t.Fatalf("no way to reach status %q", s)
	}
	require.Equal(t, s, r.inc.Status)
	return r
}

// checkChange checks what every change must hold: events numbered
// contiguously after lastSeq with distinct keys, and effects with
// deterministic keys, unique within the change, each tied to one of the
// change's events.
func checkChange(t *testing.T, n uint64, lastSeq uint64, ch incident.Change) {
	t.Helper()
	seqs := map[uint64]bool{}
	keys := map[string]bool{}
	for i, e := range ch.Events {
		require.Equal(t, lastSeq+uint64(i)+1, e.Seq, "event %d of the change", i)
		require.NotEmpty(t, e.Key)
		require.False(t, keys[e.Key], "event key %q repeated", e.Key)
		keys[e.Key] = true
		seqs[e.Seq] = true
		require.Equal(t, time.UTC, e.At.Location(), "events are recorded in UTC")
	}
	effects := map[string]bool{}
	for _, f := range ch.Effects {
		require.False(t, effects[f.Key], "effect key %q repeated in one change", f.Key)
		effects[f.Key] = true
		require.Equal(t, n, f.Incident)
		require.True(t, seqs[f.Seq], "effect %s refers to event %d, which the change does not add", f.Key, f.Seq)
		want := fmt.Sprintf("%s/%d/%s", incident.ID(n), f.Seq, f.Kind)
		if f.Target != "" {
			want += "/" + f.Target
		}
		require.Equal(t, want, f.Key)
	}
}

// effectShape lists a change's effects as "kind target template", the
// part tests compare.
func effectShape(ch incident.Change) []string {
	var out []string
	for _, f := range ch.Effects {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s", f.Kind, f.Target, f.Template)))
	}
	return out
}

// kinds lists a change's event kinds.
func kinds(ch incident.Change) []timeline.Kind {
	var out []timeline.Kind
	for _, e := range ch.Events {
		out = append(out, e.Kind)
	}
	return out
}

// requireUserError checks err against its sentinel and, when msg is not
// empty, that the sentence contains it.
func requireUserError(t *testing.T, err, sentinel error, msg string) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var ue *incident.UserError
	require.ErrorAs(t, err, &ue)
	if msg != "" {
		require.Contains(t, err.Error(), msg)
	}
}
