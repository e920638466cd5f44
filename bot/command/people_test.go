package command

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// workspace is a directory of people with the names that make resolving
// hard: a display name two people chose, a full name with markup in it,
// a deactivated member.
func workspace() *people.Directory {
	at := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	return people.NewDirectory([]people.Person{
		{ID: "U0ALICE", Handle: "alice.chen", RealName: "Alice Chen", DisplayName: "alice", SeenAt: at},
		{ID: "U0BOB", Handle: "bob.k", RealName: "Bob Kowalski", DisplayName: "bob", SeenAt: at},
		{ID: "U0BOB2", Handle: "bobby", RealName: "Bob <!channel> Marley", DisplayName: "bob", SeenAt: at},
		{ID: "U0CAROL", Handle: "carol", RealName: "Carol Diaz", SeenAt: at},
		{ID: "U0DAVE", Handle: "dave", RealName: "Dave Old", Deleted: true, SeenAt: at},
	})
}

func TestNamesResolveThroughTheDirectory(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	d := &Dispatcher{Store: storagetest.Open(t), People: workspace()}
	rep := d.Handle(t.Context(), Request{Text: "declare sev2 Checkout down", User: "U0DECL", Key: "declare", At: at, Source: timeline.SourceCommand})
	require.Equal(t, http.StatusOK, rep.Code, rep.Text)

	tests := []struct {
		name, text string
		code       int
		want       []string // parts of the reply
		not        []string // what it must not say
	}{
		{"unique display name", "role INC-1 ops @alice", http.StatusOK, []string{"INC-1: <@U0ALICE> is Ops."}, nil},
		{"unique handle, any case", "role INC-1 comms @Bob.K", http.StatusOK, []string{"<@U0BOB> is Comms."}, nil},
		{"action owner", "action INC-1 raise the pool size @carol P1", http.StatusOK, []string{"<@U0CAROL>"}, nil},
		{"ambiguous", "role INC-1 ops @bob", http.StatusBadRequest,
			[]string{"“@bob” could be 2 people: Bob &lt;!channel&gt; Marley (@bob) `@U0BOB2`, Bob Kowalski (@bob) `@U0BOB`.", "`role ops @U0BOB2`"},
			[]string{"<!channel>", "<@"}},
		{"unknown, with suggestions", "role INC-1 ops @car", http.StatusBadRequest,
			[]string{"Nobody in the workspace goes by “@car”. Did you mean Carol Diaz (@carol) `@U0CAROL`?"}, nil},
		{"unknown, nothing similar", "role INC-1 ops @zed", http.StatusBadRequest,
			[]string{"Nobody in the workspace goes by “@zed”. Check the spelling", "`role ops @U0123ABCD`", memberIDHint}, nil},
		{"a deactivated member", "role INC-1 ops @dave", http.StatusBadRequest, []string{"Nobody in the workspace goes by “@dave”"}, nil},
		{"a member ID needs no directory", "role INC-1 ops <@U0NEW|new>", http.StatusOK, []string{"<@U0NEW> is Ops."}, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := d.Handle(t.Context(), Request{Text: tt.text, User: "U0DECL", Key: "k" + string(rune('a'+i)), At: at, Source: timeline.SourceCommand})
			require.Equal(t, tt.code, rep.Code, rep.Text)
			for _, w := range tt.want {
				assert.Contains(t, rep.Text, w)
			}
			for _, n := range tt.not {
				assert.NotContains(t, rep.Text, n)
			}
		})
	}
	inc, err := d.Store.Incident(t.Context(), 1)
	require.NoError(t, err)
	assert.Equal(t, "U0BOB", inc.Roles.Comms, "the event keeps the id, not the name")
}

func TestNamesWithoutADirectoryAskForAMemberID(t *testing.T) {
	for _, dir := range []People{nil, people.NewDirectory(nil)} {
		d := &Dispatcher{Store: storagetest.Open(t), People: dir}
		at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
		rep := d.Handle(t.Context(), Request{Text: "declare sev2 Checkout down", User: "U0DECL", Key: "declare", At: at, Source: timeline.SourceCommand})
		require.Equal(t, http.StatusOK, rep.Code, rep.Text)
		rep = d.Handle(t.Context(), Request{Text: "role INC-1 comms @alice", User: "U0DECL", Key: "role", At: at, Source: timeline.SourceCommand})
		require.Equal(t, http.StatusBadRequest, rep.Code)
		assert.Equal(t, "Ooda cannot look up “@alice”: it knows nobody's names yet. Name the person by their Slack member ID: `role comms @U0123ABCD`. "+memberIDHint, rep.Text)
	}
}

// A token is no person: an incident it declares has a Commander only when
// the request names one.
func TestDeclareCommander(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	d := &Dispatcher{Store: storagetest.Open(t), People: workspace()}
	tests := []struct {
		name, user, text string
		commander        string
		reply            string
	}{
		{"a person in Slack", "U0DECL", "declare sev2 Checkout down", "U0DECL", "<@U0DECL> is Commander."},
		{"a token", "api:ci", "declare sev2 Checkout down", "", "Nobody is Commander yet: `/incident role INC-2 commander @alice` names one."},
		{"a token naming someone", "api:ci", "declare sev2 --commander @alice Checkout down", "U0ALICE", "<@U0ALICE> is Commander."},
		{"a person naming someone", "U0DECL", "declare --commander @carol Search is slow", "U0CAROL", "<@U0CAROL> is Commander."},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := d.Handle(t.Context(), Request{Text: tt.text, User: tt.user, Key: "d" + string(rune('a'+i)), At: at, Source: timeline.SourceAPI})
			require.Equal(t, http.StatusOK, rep.Code, rep.Text)
			assert.Contains(t, rep.Text, tt.reply)
			inc, err := d.Store.Incident(t.Context(), uint64(i+1))
			require.NoError(t, err)
			assert.Equal(t, tt.commander, inc.Roles.Commander)
		})
	}
	rep := d.Handle(t.Context(), Request{Text: "declare --commander @bob Checkout down", User: "api:ci", Key: "amb", At: at, Source: timeline.SourceAPI})
	require.Equal(t, http.StatusBadRequest, rep.Code)
	assert.Contains(t, rep.Text, "could be 2 people")
	assert.Contains(t, rep.Text, "`declare sev2 --commander @U0BOB2 Checkout is down`")
}

// `action <op> <n> … @name` is a change to item n or a new item, as the
// incident decides: a name that does not resolve is refused only by the
// reading that needs it.
func TestNamesInActionItemCommands(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	d := &Dispatcher{Store: storagetest.Open(t), People: workspace()}
	run := func(key, text string) Reply {
		return d.Handle(t.Context(), Request{Text: text, User: "U0DECL", Key: key, At: at, Source: timeline.SourceCommand})
	}
	require.Equal(t, http.StatusOK, run("declare", "declare sev2 Checkout down").Code)
	require.Equal(t, http.StatusOK, run("a1", "action INC-1 raise the pool size @carol P1").Code)

	rep := run("owner", "action INC-1 owner 1 @alice")
	require.Equal(t, http.StatusOK, rep.Code, rep.Text)
	inc, err := d.Store.Incident(t.Context(), 1)
	require.NoError(t, err)
	item, ok := inc.Action(1)
	require.True(t, ok)
	assert.Equal(t, "U0ALICE", item.Owner)

	rep = run("owner-amb", "action INC-1 owner 1 @bob")
	require.Equal(t, http.StatusBadRequest, rep.Code)
	assert.Contains(t, rep.Text, "“@bob” could be 2 people")

	rep = run("new-unknown", "action INC-1 owner 9 @zed")
	require.Equal(t, http.StatusBadRequest, rep.Code, "no item 9: a new item, whose owner nobody is")
	assert.Contains(t, rep.Text, "Nobody in the workspace goes by “@zed”")

	rep = run("wontdo", "action INC-1 wontdo 1 superseded, ask @zed")
	require.Equal(t, http.StatusOK, rep.Code, "the reason mentions someone; it names no owner: %s", rep.Text)
}
