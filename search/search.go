package search

import (
	"cmp"
	"slices"
	"time"

	"github.com/ooda-sre/ooda/incident"
)

// Hit is one incident a search or Similar found, with what a reply shows
// of it.
type Hit struct {
	Number     uint64
	ID         string // "INC-7"
	Title      string
	Service    string
	Severity   int
	Status     incident.Status
	Private    bool
	DeclaredAt time.Time
	ResolvedAt time.Time // zero while unresolved
	// RootCause is the incident's root cause: its orient entries marked as
	// the cause, joined by "; "; "" when none was marked.
	RootCause string
	// PostmortemURL is the published post-mortem, "" when none was given.
	PostmortemURL string

	// Line is the line that matched best, Field where it was written and
	// At when (Search only).
	Line  string
	Field Field
	At    time.Time

	// SameService and Score say why Similar listed the incident: the same
	// service as the incident it was asked about, and the word similarity
	// (0 to 1).
	SameService bool
	Score       float64
	// Shared are the words of the title, impact, trigger and root cause
	// that the incident shares with the one Similar was asked about, the
	// weightiest first, at most MaxShared (Similar only).
	Shared []string
}

// Results is what Search found: the first hits, newest first, and how many
// incidents matched in all.
type Results struct {
	Hits  []Hit
	Total int
}

// Search finds the incidents that hold every word of query, in any field
// (title, impact, root cause, trigger, resolution, description, updates,
// timeline entries), newest first (by declaration time, then number).
// may is the access rule of whoever asks, such as
//
//	func(inc incident.Incident) bool { return inc.Admits(user) }
//
// and incidents it refuses are neither listed nor counted in Total. It is
// given the incident as the index keeps it, with the fields Admits reads.
// A nil may admits public incidents only.
// At most limit hits are returned (all when limit ≤ 0); each carries its
// best line: the one holding the most distinct words of the query, the
// earlier field winning a tie (title, impact, root cause, trigger,
// resolution, description, then updates and entries in order). A query
// without a word of two characters or more finds nothing. Quotes are not
// phrases: "disk full" finds the two words anywhere in the incident.
func (x *Index) Search(query string, may func(incident.Incident) bool, limit int) Results {
	words := tokens(query)
	if len(words) == 0 {
		return Results{}
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	st := x.st
	lists := make([][]uint32, 0, len(words))
	for _, w := range words {
		t, ok := st.terms[w]
		if !ok || len(st.post[t]) == 0 {
			return Results{}
		}
		lists = append(lists, st.post[t])
	}
	slices.SortFunc(lists, func(a, b []uint32) int { return cmp.Compare(len(a), len(b)) })
	ids := intersect(lists)
	found := make([]*doc, 0, len(ids))
	for _, id := range ids {
		d := st.docs[id]
		if admitted(may, &d.inc) {
			found = append(found, d)
		}
	}
	slices.SortFunc(found, newestFirst)
	res := Results{Total: len(found)}
	if limit > 0 && len(found) > limit {
		found = found[:limit]
	}
	res.Hits = make([]Hit, 0, len(found))
	for _, d := range found {
		h := hitOf(d)
		if i := bestLine(d, words); i >= 0 {
			h.Line, h.Field, h.At = d.lineText(i), fieldOf(d.lines[i].field), fromUnixNano(d.lines[i].at)
		}
		res.Hits = append(res.Hits, h)
	}
	return res
}

// intersect returns the ids in every list; lists are ascending, the
// shortest first.
func intersect(lists [][]uint32) []uint32 {
	out := slices.Clone(lists[0])
	for _, l := range lists[1:] {
		kept, j := out[:0], 0
		for _, id := range out {
			for j < len(l) && l[j] < id {
				j++
			}
			if j == len(l) {
				break
			}
			if l[j] == id {
				kept = append(kept, id)
			}
		}
		out = kept
		if len(out) == 0 {
			break
		}
	}
	return out
}

func newestFirst(a, b *doc) int {
	if c := b.inc.DeclaredAt.Compare(a.inc.DeclaredAt); c != 0 {
		return c
	}
	return cmp.Compare(b.inc.Number, a.inc.Number)
}

// bestLine returns the index of d's line holding the most distinct words
// of words, the first such line; -1 when none holds any.
func bestLine(d *doc, words []string) int {
	best, most := -1, 0
	var buf []byte
	seen := make([]bool, len(words))
	for i := range d.lines {
		clear(seen)
		n := 0
		buf = eachToken(d.lineText(i), buf, func(tok []byte) {
			for k, w := range words {
				if !seen[k] && w == string(tok) {
					seen[k] = true
					n++
				}
			}
		})
		if n > most {
			best, most = i, n
			if n == len(words) {
				break
			}
		}
	}
	return best
}

func hitOf(d *doc) Hit {
	inc := &d.inc
	return Hit{
		Number: inc.Number, ID: inc.ID, Title: inc.Title, Service: inc.Service,
		Severity: inc.Severity, Status: inc.Status, Private: inc.Private,
		DeclaredAt: inc.DeclaredAt, ResolvedAt: inc.ResolvedAt,
		RootCause: d.rootCause(), PostmortemURL: inc.PostmortemURL,
	}
}

// admitted applies the access rule may; without one, only public
// incidents are admitted, so a caller that forgets it shows nothing
// private.
func admitted(may func(incident.Incident) bool, inc *incident.Incident) bool {
	if may == nil {
		return !inc.Private
	}
	return may(*inc)
}
