package incident_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// step applies a command to inc and folds its events, as the store does.
func step(t *testing.T, inc *incident.Incident, seq *uint64, cmd func(*incident.Incident, incident.Meta) (incident.Change, error)) int {
	t.Helper()
	*seq++
	m := incident.Meta{At: time.Date(2026, 12, 2, 10, 0, int(*seq), 0, time.UTC), Actor: incident.Bot, Source: timeline.SourceSystem, Key: "k"}
	ch, err := cmd(inc, m)
	require.NoError(t, err)
	for _, e := range ch.Events {
		*seq++
		e.Seq = *seq
		inc.Apply(e)
	}
	return len(ch.Events)
}

func TestAdmits(t *testing.T) {
	m := incident.Meta{At: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "d"}
	declare := func(private bool) incident.Incident {
		ch, err := incident.Declare(1, incident.Declaration{Title: "Breach", Private: private}, m)
		require.NoError(t, err)
		return incident.Replay(ch.Events)
	}
	public := declare(false)
	require.True(t, public.Admits("U0ANYONE"), "a public incident admits everyone")
	require.True(t, public.Admits("api:oncall"))

	inc := declare(true)
	seq := inc.LastSeq
	require.True(t, inc.Admits("U0ALICE"), "before its members are known: the declarer")
	require.False(t, inc.Admits("U0BOB"))
	require.False(t, inc.Admits(""), "nobody is not a person")
	require.False(t, inc.Admits("api:oncall"), "a token is no member; its scope decides, not this rule")
	inc.Roles = inc.Roles.With(roles.Ops, "U0OPS")
	require.True(t, inc.Admits("U0OPS"), "and the role holders")

	require.Equal(t, 1, step(t, &inc, &seq, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MembersAdded([]string{"U0ALICE", "U0ALICE", incident.Bot}, m)
	}), "one event; Ooda itself is no member")
	require.Equal(t, []string{"U0ALICE"}, inc.Members)
	require.True(t, inc.Admits("U0ALICE"))
	require.False(t, inc.Admits("U0OPS"), "once members are known, only they")

	require.Equal(t, 1, step(t, &inc, &seq, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MemberJoined("U0OPS", m)
	}))
	require.True(t, inc.Admits("U0OPS"))
	require.Zero(t, step(t, &inc, &seq, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MemberJoined("U0OPS", m)
	}), "a known member joining again records nothing")

	require.Equal(t, 1, step(t, &inc, &seq, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MemberLeft("U0ALICE", m)
	}))
	require.False(t, inc.Admits("U0ALICE"), "the declarer who left no longer sees it")
	require.Equal(t, 1, step(t, &inc, &seq, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MemberJoined("U0ALICE", m)
	}), "a participant who comes back is a member again")
	require.True(t, inc.Admits("U0ALICE"))

	require.Equal(t, 1, step(t, &inc, &seq, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MembersSynced([]string{"U0CAROL", "U0OPS"}, m)
	}))
	require.ElementsMatch(t, []string{"U0CAROL", "U0OPS"}, inc.Members, "a sync replaces the set")
	require.False(t, inc.Admits("U0ALICE"))
	require.Zero(t, step(t, &inc, &seq, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MembersSynced([]string{"U0OPS", "U0CAROL"}, m)
	}), "the same set records nothing")
}
