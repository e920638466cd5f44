package people_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/people"
)

var seen = time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)

func workspace() []people.Person {
	return []people.Person{
		{ID: "U0ALICE", Handle: "alice", RealName: "Alice Chen", DisplayName: "alice", SeenAt: seen},
		{ID: "U0BOB", Handle: "bob.k", RealName: "Bob Kowalski", DisplayName: "Bob", SeenAt: seen},
		{ID: "U0BOB2", Handle: "bobby", RealName: "Bob Marley", DisplayName: "bob", SeenAt: seen},
		{ID: "U0CAROL", Handle: "carol", RealName: "Carol Diaz", SeenAt: seen},
		{ID: "U0ELODIE", Handle: "elodie", DisplayName: "Élodie", SeenAt: seen},
		{ID: "U0GONE", Handle: "dave", RealName: "Dave Old", Deleted: true, SeenAt: seen},
		{ID: "U0BOT", Handle: "ooda", RealName: "ooda", Bot: true, SeenAt: seen},
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct {
		name string
		p    people.Person
		want string
	}{
		{"name and display name", people.Person{Handle: "alice.chen", RealName: "Alice Chen", DisplayName: "alice"}, "Alice Chen (@alice)"},
		{"no display name: the handle", people.Person{Handle: "carol", RealName: "Carol Diaz"}, "Carol Diaz (@carol)"},
		{"name and handle the same", people.Person{Handle: "ooda", RealName: "Ooda"}, "@ooda"},
		{"no full name", people.Person{Handle: "eve"}, "@eve"},
		{"no handle", people.Person{RealName: "Frank"}, "Frank"},
		{"nothing", people.Person{ID: "U1"}, ""},
		{"control characters are shown, not obeyed", people.Person{Handle: "mallory", RealName: "Mal\x1b[31mlory"}, "Mal\uFFFD[31mlory (@mallory)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.p.Display())
		})
	}
}

func TestFind(t *testing.T) {
	d := people.NewDirectory(workspace())
	ids := func(ps []people.Person) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	tests := []struct {
		name       string
		typed      string
		id         string
		ambiguous  bool
		candidates []string
	}{
		{"handle", "@alice", "U0ALICE", false, nil},
		{"any case, without @", "ALICE", "U0ALICE", false, nil},
		{"handle unlike the display name", "@bob.k", "U0BOB", false, nil},
		{"full name", "@carol diaz", "U0CAROL", false, nil},
		{"full name, spaced and cased anyhow", " @Carol \t DIAZ ", "U0CAROL", false, nil},
		{"non-ASCII case", "@ÉLODIE", "U0ELODIE", false, nil},
		{"display name two people chose", "@bob", "", true, []string{"U0BOB", "U0BOB2"}},
		{"unknown, with similar names", "@car", "", false, []string{"U0CAROL"}},
		{"unknown, nothing similar", "@zed", "", false, nil},
		{"a deactivated member is not named", "@dave", "", false, nil},
		{"a bot is not named", "@ooda", "", false, nil},
		{"nothing typed", "@", "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := d.Find(tt.typed)
			assert.Equal(t, tt.id, m.ID)
			assert.Equal(t, tt.ambiguous, m.Ambiguous)
			assert.Equal(t, tt.candidates, ids(m.Candidates))
		})
	}
}

func TestFindOffersAFewCandidates(t *testing.T) {
	var ps []people.Person
	for i := range 12 {
		ps = append(ps, people.Person{ID: fmt.Sprintf("U%02d", i), Handle: fmt.Sprintf("sam%02d", i), DisplayName: "sam", SeenAt: seen})
	}
	m := people.NewDirectory(ps).Find("@sam")
	require.True(t, m.Ambiguous)
	assert.Len(t, m.Candidates, people.MaxCandidates)
	assert.Equal(t, 12-people.MaxCandidates, m.More)

	m = people.NewDirectory(ps).Find("@sa")
	require.False(t, m.Ambiguous)
	assert.Len(t, m.Candidates, people.MaxCandidates, "suggestions are as few")
	assert.Equal(t, 12-people.MaxCandidates, m.More)
}

func TestDirectoryKeepsTheLatest(t *testing.T) {
	old := people.Person{ID: "U0ALICE", Handle: "alice", RealName: "Alice Chen", SeenAt: seen}
	renamed := people.Person{ID: "U0ALICE", Handle: "alice", RealName: "Alice Wong", SeenAt: seen.Add(time.Hour)}
	for _, order := range [][]people.Person{{old, renamed}, {renamed, old}} {
		d := people.NewDirectory(order)
		assert.Equal(t, "Alice Wong (@alice)", d.Name("U0ALICE"))
		assert.Equal(t, 1, d.Len())
	}
	assert.Empty(t, people.NewDirectory(nil).Name("U0ALICE"), "an unknown id has no name")
	var none *people.Directory
	assert.Zero(t, none.Len())
	assert.Empty(t, none.Name("U0ALICE"))
	assert.Equal(t, people.Match{}, none.Find("@alice"))
}

func TestPeopleByID(t *testing.T) {
	got := people.NewDirectory(workspace()).People()
	require.Len(t, got, 7)
	for i := 1; i < len(got); i++ {
		assert.Less(t, got[i-1].ID, got[i].ID)
	}
}

// A handle is unique in the workspace: someone displaying it as their name
// must not make it ambiguous.
func TestFindPrefersTheHandle(t *testing.T) {
	d := people.NewDirectory(append(workspace(),
		people.Person{ID: "U0ALICE2", Handle: "alice.m", RealName: "Alice Martin", DisplayName: "Alice", SeenAt: seen},
		people.Person{ID: "U0CAROL2", Handle: "cdiaz", RealName: "Carol Diaz", DisplayName: "carol", SeenAt: seen},
	))
	tests := []struct{ typed, id string }{
		{"@alice", "U0ALICE"},
		{"@ALICE", "U0ALICE"},
		{"@alice.m", "U0ALICE2"},
		{"@carol", "U0CAROL"},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			m := d.Find(tt.typed)
			assert.Equal(t, tt.id, m.ID)
			assert.False(t, m.Ambiguous)
		})
	}
	m := d.Find("@carol diaz")
	assert.True(t, m.Ambiguous, "a full name two people have is still ambiguous")
}

// A name nobody has is looked for in everyone's names on a command's
// acknowledgement path: the names are folded once, not on every lookup.
func TestFindUnknownDoesNotFoldEveryName(t *testing.T) {
	ps := make([]people.Person, 1000)
	for i := range ps {
		ps[i] = people.Person{ID: fmt.Sprintf("U%06d", i), Handle: fmt.Sprintf("user%d", i), RealName: fmt.Sprintf("User Number %d", i), SeenAt: seen}
	}
	d := people.NewDirectory(ps)
	allocs := testing.AllocsPerRun(10, func() {
		if m := d.Find("@zoe"); m.ID != "" || len(m.Candidates) != 0 {
			t.Fatalf("Find(@zoe) = %+v, want nobody", m)
		}
	})
	assert.LessOrEqual(t, allocs, 4.0, "allocations per lookup of an unknown name among %d people", len(ps))
}
