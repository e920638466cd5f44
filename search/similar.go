package search

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// MinScore is the word similarity below which an incident of another
// service is not similar at all: sharing one common word is not enough.
const MinScore = 0.2

// MaxShared is how many shared words a hit of Similar names.
const MaxShared = 5

// Similar lists the incidents most like to (whose events, in sequence
// order, are events), at most limit of them (all when limit ≤ 0), leaving
// out to itself and every incident may refuses. The ranking, computed
// here and nowhere else:
//
//  1. Same service first. An incident of the same service as to (a
//     service is named, and the names match ignoring case) ranks above
//     every incident of another service, and is listed even when it shares
//     no word with to.
//  2. Then by word similarity: the words of the title, the impact, the
//     trigger and the root cause (as the post-mortem draft finds them),
//     without common English words, each weighted by how rare it is among
//     all incidents (a word every incident has counts for nothing, one
//     only two incidents share counts for much), a title word counting
//     twice. The similarity is the cosine of the two incidents' weighted
//     words (TF-IDF): 1 for the same words in the same proportions, 0 for
//     no word in common. An incident of another service is listed only
//     when it reaches MinScore.
//  3. A tie goes to the newer incident (declared later, then the higher
//     number).
//
// Each hit carries its root-cause line and its post-mortem link when it
// has one. For a message everyone in a channel reads (the kickoff), may
// must admit only what every reader may see: nil admits public incidents
// only, or, for the members of a private channel,
//
//	func(inc incident.Incident) bool {
//		return !slices.ContainsFunc(members, func(m string) bool { return !inc.Admits(m) })
//	}
func (x *Index) Similar(to incident.Incident, events []timeline.Event, may func(incident.Incident) bool, limit int) []Hit {
	query := queryVector(newDoc(to, events))
	service := strings.TrimSpace(to.Service)

	x.mu.RLock()
	defer x.mu.RUnlock()
	st := x.st
	if len(st.docs) == 0 {
		return nil
	}
	n := float64(len(st.docs))
	idf := func(t uint32) float64 { return math.Log((1 + n) / float64(1+len(st.sim[t]))) }
	dots := make([]float64, len(st.docs))
	var qnorm float64
	for _, q := range query {
		t, ok := st.terms[q.word]
		if !ok {
			a := q.w * math.Log(1+n) // a word no incident has
			qnorm += a * a
			continue
		}
		i := idf(t)
		a := q.w * i
		qnorm += a * a
		for _, p := range st.sim[t] {
			dots[p.doc] += a * float64(p.w) * i
		}
	}
	qnorm = math.Sqrt(qnorm)

	type candidate struct {
		d     *doc
		same  bool
		score float64
	}
	var found []candidate
	for id, d := range st.docs {
		if to.Number != 0 && d.inc.Number == to.Number {
			continue
		}
		same := service != "" && strings.EqualFold(strings.TrimSpace(d.inc.Service), service)
		var score float64
		if dots[id] > 0 {
			var dnorm float64
			for _, s := range d.sim {
				a := float64(s.w) * idf(s.term)
				dnorm += a * a
			}
			// Rounded, so that the order in which sums were added (term
			// ids differ between two builds of the same incidents) cannot
			// turn a tie.
			score = math.Round(dots[id]/(qnorm*math.Sqrt(dnorm))*1e9) / 1e9
		}
		if !same && score < MinScore {
			continue
		}
		if !admitted(may, &d.inc) {
			continue
		}
		found = append(found, candidate{d: d, same: same, score: score})
	}
	slices.SortFunc(found, func(a, b candidate) int {
		if a.same != b.same {
			if a.same {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return newestFirst(a.d, b.d)
	})
	if limit > 0 && len(found) > limit {
		found = found[:limit]
	}
	hits := make([]Hit, 0, len(found))
	for _, c := range found {
		h := hitOf(c.d)
		h.SameService, h.Score = c.same, c.score
		h.Shared = sharedWords(st, query, c.d, idf)
		hits = append(hits, h)
	}
	return hits
}

// sharedWords returns the words of query that d holds in the fields
// Similar reads, by what they add to the similarity, at most MaxShared.
func sharedWords(st *state, query []queryWord, d *doc, idf func(uint32) float64) []string {
	type weighed struct {
		word string
		w    float64
	}
	var found []weighed
	for _, q := range query {
		t, ok := st.terms[q.word]
		if !ok {
			continue
		}
		i, in := slices.BinarySearchFunc(d.sim, t, func(s simTerm, t uint32) int { return cmp.Compare(s.term, t) })
		if !in {
			continue
		}
		found = append(found, weighed{word: q.word, w: math.Round(q.w*float64(d.sim[i].w)*idf(t)*idf(t)*1e9) / 1e9})
	}
	slices.SortFunc(found, func(a, b weighed) int {
		if c := cmp.Compare(b.w, a.w); c != 0 {
			return c
		}
		return strings.Compare(a.word, b.word)
	})
	words := make([]string, 0, min(len(found), MaxShared))
	for _, f := range found[:min(len(found), MaxShared)] {
		words = append(words, f.word)
	}
	return words
}

// queryWord is a word of the incident Similar is asked about, with its
// weight in the fields Similar reads.
type queryWord struct {
	word string
	w    float64
}

// queryVector is d's words as state.vector weighs them, by word.
func queryVector(d *doc) []queryWord {
	var v []queryWord
	var buf []byte
	for i := range d.lines {
		w := float64(similarWeight(d.lines[i].field))
		if w == 0 {
			continue
		}
		buf = eachToken(d.lineText(i), buf, func(tok []byte) {
			if isStopWord(string(tok)) {
				return
			}
			for k := range v {
				if v[k].word == string(tok) {
					v[k].w += w
					return
				}
			}
			v = append(v, queryWord{word: string(tok), w: w})
		})
	}
	slices.SortFunc(v, func(a, b queryWord) int { return strings.Compare(a.word, b.word) })
	return v
}
