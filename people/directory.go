package people

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxCandidates is how many people Find offers for a name that is
// ambiguous or unknown: enough to spot the one meant, short enough to read.
const MaxCandidates = 5

// Directory is the workspace's people at one moment, indexed by member ID
// and by the names people type after @. It is built once and never
// changed, so any number of readers may share it; a newer directory
// replaces it whole.
type Directory struct {
	byID     map[string]Person
	byHandle map[string]string   // folded handle → id of the active person: handles are unique
	byName   map[string][]string // folded handle, display or real name → ids of active people
	active   []Person            // active people, by Display, for suggestions
	// names is every active person's folded names, active[i]'s starting
	// at starts[i], each name ended by a newline (which no folded name
	// holds): a name nobody has is looked for in everyone's with one
	// string search, without folding them again on every lookup.
	names  string
	starts []int
}

// NewDirectory indexes people. A person listed twice keeps the entry Slack
// described last (the later SeenAt; on a tie, the later in the list).
func NewDirectory(ps []Person) *Directory {
	d := &Directory{byID: make(map[string]Person, len(ps)), byHandle: make(map[string]string, len(ps)), byName: make(map[string][]string, 2*len(ps))}
	for _, p := range ps {
		if p.ID == "" {
			continue
		}
		if old, ok := d.byID[p.ID]; ok && old.SeenAt.After(p.SeenAt) {
			continue
		}
		d.byID[p.ID] = p
	}
	for _, p := range d.byID {
		if !p.Active() {
			continue
		}
		d.active = append(d.active, p)
		if h := fold(p.Handle); h != "" {
			d.byHandle[h] = p.ID
		}
		var keys []string
		for _, n := range []string{p.Handle, p.DisplayName, p.RealName} {
			if k := fold(n); k != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			d.byName[k] = append(d.byName[k], p.ID)
		}
	}
	slices.SortFunc(d.active, byDisplay)
	var names strings.Builder
	d.starts = make([]int, len(d.active)+1)
	for i, p := range d.active {
		d.starts[i] = names.Len()
		for _, n := range []string{p.Handle, p.DisplayName, p.RealName} {
			names.WriteString(fold(n))
			names.WriteByte('\n')
		}
	}
	d.starts[len(d.active)] = names.Len()
	d.names = names.String()
	for _, ids := range d.byName {
		slices.Sort(ids)
	}
	return d
}

// Len is how many people the directory knows, deactivated ones included.
func (d *Directory) Len() int {
	if d == nil {
		return 0
	}
	return len(d.byID)
}

// Person returns the person with member ID id.
func (d *Directory) Person(id string) (Person, bool) {
	if d == nil {
		return Person{}, false
	}
	p, ok := d.byID[id]
	return p, ok
}

// Name is how id is shown (Person.Display), or "" for an id the directory
// does not know, which callers show as the id itself.
func (d *Directory) Name(id string) string {
	p, ok := d.Person(id)
	if !ok {
		return ""
	}
	return p.Display()
}

// People returns every person, ordered by member ID.
func (d *Directory) People() []Person {
	if d == nil {
		return nil
	}
	out := make([]Person, 0, len(d.byID))
	for _, p := range d.byID {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Person) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Match is what Find makes of a name.
type Match struct {
	// ID is the one active person the name is theirs; empty otherwise.
	ID string
	// Ambiguous is true when several active people answer to the name;
	// Candidates are they (at most MaxCandidates).
	Ambiguous bool
	// Candidates are, for an ambiguous name, the people it names; for an
	// unknown one, the people whose names contain it, as suggestions.
	// Ordered by Display; at most MaxCandidates.
	Candidates []Person
	// More counts the candidates left out beyond MaxCandidates.
	More int
}

// Find resolves a name typed after @ (with or without the @): a handle,
// a display name or a full name, in any case. A handle is unique, so the
// person whose handle it is is found even when others display it as their
// name. Deactivated members and bots are never matched.
func (d *Directory) Find(name string) Match {
	k := fold(strings.TrimPrefix(strings.TrimSpace(name), "@"))
	if d == nil || k == "" {
		return Match{}
	}
	if id, ok := d.byHandle[k]; ok {
		return Match{ID: id}
	}
	if ids := d.byName[k]; len(ids) == 1 {
		return Match{ID: ids[0]}
	} else if len(ids) > 1 {
		ps := make([]Person, len(ids))
		for i, id := range ids {
			ps[i] = d.byID[id]
		}
		slices.SortFunc(ps, byDisplay)
		m := Match{Ambiguous: true}
		m.Candidates, m.More = clip(ps)
		return m
	}
	var similar []Person
	for at := 0; at < len(d.names); {
		j := strings.Index(d.names[at:], k)
		if j < 0 {
			break
		}
		// The person whose names hold the match; then on to the next.
		i, found := slices.BinarySearch(d.starts, at+j)
		if !found {
			i--
		}
		similar = append(similar, d.active[i])
		at = d.starts[i+1]
	}
	var m Match
	m.Candidates, m.More = clip(similar)
	return m
}

func clip(ps []Person) ([]Person, int) {
	if len(ps) <= MaxCandidates {
		return ps, 0
	}
	return ps[:MaxCandidates:MaxCandidates], len(ps) - MaxCandidates
}

func byDisplay(a, b Person) int {
	return cmp.Or(strings.Compare(strings.ToLower(a.Display()), strings.ToLower(b.Display())), strings.Compare(a.ID, b.ID))
}

// fold is the form names are compared in: trimmed, case folded, inner
// spaces single. A name already in that form (what people usually type)
// is returned as it is, without a copy.
func fold(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') || (c <= ' ' && (c != ' ' || s[i+1] <= ' ')) {
			return strings.ToLower(strings.Join(strings.Fields(s), " "))
		}
	}
	return s
}
