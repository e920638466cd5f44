package search

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// Index is an in-process inverted index of incidents, safe for concurrent
// use. It is derived from the store (Rebuild, Indexer) and holds nothing
// the store does not: losing it loses nothing.
//
// It keeps, for each incident, the fields a result shows (number, title,
// service, severity, status, times, post-mortem link), the fields the
// access rule reads (private, members, declarer, roles) and the lines
// people wrote, packed into one string; and, for each word, the sorted
// list of the incidents that hold it. A word is a run of Unicode letters
// and digits, lower-cased, of two characters or more, with a simple
// plural folded.
//
// For 10,000 incidents of 200 entries the index takes about 206 MB of
// heap (BenchmarkIndexMemory): 120 MB is the text of their 2 million
// lines, 31 MB where each line starts and ends, when it was written and
// in which field, and the rest the posting lists and the term table.
type Index struct {
	mu    sync.RWMutex
	st    *state
	ready bool

	// What the rebuild in progress has read, for Progress.
	read, total atomic.Int64
}

// New returns an empty index, not yet Ready.
func New() *Index { return &Index{st: newState()} }

// Put indexes inc with its events, in sequence order, replacing what the
// index held for it. The events are read, not kept. A Put made while a
// Rebuild runs is lost when the rebuild swaps its index in; the Indexer
// makes both from one goroutine.
func (x *Index) Put(inc incident.Incident, events []timeline.Event) {
	if inc.Number == 0 {
		return
	}
	d := newDoc(inc, events)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.st.put(d)
}

// Len is the number of incidents indexed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.st.docs)
}

// Ready reports whether a full build has completed: until then searches
// answer from what was put so far, which may be nothing.
func (x *Index) Ready() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.ready
}

// Progress reports how far the rebuild in progress, or the last one, has
// got: read incidents of total. A command run before the index is Ready
// can say "search is still reading 7,500 incidents".
func (x *Index) Progress() (read, total int) {
	return int(x.read.Load()), int(x.total.Load())
}

// Rebuild reads every incident of src and its events into a new index and
// then swaps it in whole: searches made meanwhile see the index as it was.
// Afterwards the index is Ready. On an error the index is left as it was.
//
// One goroutine reads the store while this one indexes. From a bbolt
// store, 1,000 incidents of 200 entries take about 0.5 s to rebuild
// (BenchmarkRebuild/store-1k, on 2 busy vCPUs); the cost is linear in the
// entries, so 10,000 incidents of 200 entries take about 5 s, about two
// thirds of it tokenizing and indexing and one third reading the store.
// Until the first rebuild completes, Ready is false.
func (x *Index) Rebuild(ctx context.Context, src Source) error {
	incs, err := src.Incidents(ctx, true)
	if err != nil {
		return fmt.Errorf("search: list incidents: %w", err)
	}
	x.read.Store(0)
	x.total.Store(int64(len(incs)))

	// One goroutine reads the store while this one indexes what it read.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	docs := make(chan *doc, 64)
	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(docs)
		for _, inc := range incs {
			if inc.Number == 0 {
				continue
			}
			events, err := src.Events(ctx, inc.Number, 1)
			if err != nil {
				readErr = fmt.Errorf("search: read %s: %w", inc.ID, err)
				return
			}
			select {
			case docs <- newDoc(inc, events):
			case <-ctx.Done():
				return
			}
		}
	}()
	st := newState()
	for d := range docs {
		st.put(d)
		x.read.Add(1)
	}
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st.compact()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.st, x.ready = st, true
	return nil
}

// state is one complete index; Rebuild makes a new one and swaps it in.
type state struct {
	docs  []*doc            // by doc id, in the order incidents were first put
	byNum map[uint64]uint32 // incident number → doc id
	terms map[string]uint32 // word → term id
	post  [][]uint32        // term id → the docs holding it anywhere, ascending
	sim   [][]simPosting    // term id → the docs holding it in a field Similar reads, ascending

	// Scratch space of put, reused from one doc to the next.
	buf []byte
	ids []uint32
	vec []simTerm
}

// simPosting is a doc holding a word in the fields Similar reads, and the
// word's weight there (its count, the title's counted twice).
type simPosting struct {
	doc uint32
	w   float32
}

// simTerm is one word of a doc's vector for Similar.
type simTerm struct {
	term uint32
	w    float32
}

func newState() *state {
	return &state{byNum: map[uint64]uint32{}, terms: map[string]uint32{}}
}

// compact gives back the room the posting lists grew into while they
// were built: about a quarter of their memory.
func (st *state) compact() {
	for t, l := range st.post {
		if cap(l) > len(l)+len(l)/8 {
			st.post[t] = slices.Clone(l)
		}
	}
	for t, l := range st.sim {
		if cap(l) > len(l)+len(l)/8 {
			st.sim[t] = slices.Clone(l)
		}
	}
	st.ids, st.vec, st.buf = nil, nil, nil
}

// put adds d, replacing the doc of the same incident.
func (st *state) put(d *doc) {
	id, ok := st.byNum[d.inc.Number]
	if ok {
		st.remove(id)
		st.docs[id] = d
	} else {
		id = uint32(len(st.docs))
		st.docs = append(st.docs, d)
		st.byNum[d.inc.Number] = id
	}
	for _, t := range st.termsOf(d, true) {
		st.post[t] = insertID(st.post[t], id)
	}
	d.sim = st.vector(d)
	for _, s := range d.sim {
		st.sim[s.term] = insertSim(st.sim[s.term], simPosting{doc: id, w: s.w})
	}
}

// remove takes doc id out of every posting list that holds it; the slot
// is then filled again by put.
func (st *state) remove(id uint32) {
	d := st.docs[id]
	for _, t := range st.termsOf(d, false) {
		st.post[t] = deleteID(st.post[t], id)
	}
	for _, s := range d.sim {
		st.sim[s.term] = deleteSim(st.sim[s.term], id)
	}
}

// termsOf returns the distinct term ids of d's lines, ascending, adding
// new words when add.
func (st *state) termsOf(d *doc, add bool) []uint32 {
	ids := st.ids[:0]
	for i := range d.lines {
		st.buf = eachToken(d.lineText(i), st.buf, func(tok []byte) {
			if t, ok := st.term(tok, add); ok {
				ids = append(ids, t)
			}
		})
	}
	slices.Sort(ids)
	st.ids = ids
	return slices.Compact(ids)
}

// vector returns d's words in the fields Similar reads, with their
// weights, by term id; every word is in the index already.
func (st *state) vector(d *doc) []simTerm {
	v := st.vec[:0]
	for i := range d.lines {
		w := similarWeight(d.lines[i].field)
		if w == 0 {
			continue
		}
		st.buf = eachToken(d.lineText(i), st.buf, func(tok []byte) {
			if isStopWord(string(tok)) {
				return
			}
			if t, ok := st.term(tok, false); ok {
				v = append(v, simTerm{term: t, w: w})
			}
		})
	}
	slices.SortFunc(v, func(a, b simTerm) int { return cmp.Compare(a.term, b.term) })
	st.vec = v
	out := make([]simTerm, 0, len(v))
	for _, s := range v {
		if n := len(out); n > 0 && out[n-1].term == s.term {
			out[n-1].w += s.w
			continue
		}
		out = append(out, s)
	}
	return slices.Clip(out)
}

// term returns the id of word tok, adding it when add.
func (st *state) term(tok []byte, add bool) (uint32, bool) {
	if t, ok := st.terms[string(tok)]; ok {
		return t, true
	}
	if !add {
		return 0, false
	}
	t := uint32(len(st.post))
	st.terms[string(tok)] = t
	st.post = append(st.post, nil)
	st.sim = append(st.sim, nil)
	return t, true
}

func insertID(ids []uint32, id uint32) []uint32 {
	if n := len(ids); n == 0 || ids[n-1] < id {
		return append(ids, id)
	}
	i, found := slices.BinarySearch(ids, id)
	if found {
		return ids
	}
	return slices.Insert(ids, i, id)
}

func deleteID(ids []uint32, id uint32) []uint32 {
	if i, found := slices.BinarySearch(ids, id); found {
		return slices.Delete(ids, i, i+1)
	}
	return ids
}

func insertSim(ps []simPosting, p simPosting) []simPosting {
	if n := len(ps); n == 0 || ps[n-1].doc < p.doc {
		return append(ps, p)
	}
	i, found := slices.BinarySearchFunc(ps, p.doc, func(q simPosting, doc uint32) int { return cmp.Compare(q.doc, doc) })
	if found {
		ps[i] = p
		return ps
	}
	return slices.Insert(ps, i, p)
}

func deleteSim(ps []simPosting, doc uint32) []simPosting {
	i, found := slices.BinarySearchFunc(ps, doc, func(q simPosting, doc uint32) int { return cmp.Compare(q.doc, doc) })
	if found {
		return slices.Delete(ps, i, i+1)
	}
	return ps
}

// dump writes the index in a canonical form, independent of the order
// incidents were put in: its docs by number (what results and the access
// rule read, and every line), then every word with the incidents that
// hold it, and the weights Similar reads. Two indexes of the same
// incidents dump the same.
func (x *Index) dump() string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	st := x.st
	var b strings.Builder
	docs := slices.Clone(st.docs)
	slices.SortFunc(docs, func(a, b *doc) int { return cmp.Compare(a.inc.Number, b.inc.Number) })
	for _, d := range docs {
		fmt.Fprintf(&b, "doc %+v\n", d.inc)
		for i, l := range d.lines {
			fmt.Fprintf(&b, "  %s %s %q\n", fieldOf(l.field), fromUnixNano(l.at).Format("2006-01-02T15:04:05.999999999Z"), d.lineText(i))
		}
	}
	words := make([]string, 0, len(st.terms))
	for w, t := range st.terms {
		if len(st.post[t]) > 0 {
			words = append(words, w)
		}
	}
	slices.Sort(words)
	for _, w := range words {
		t := st.terms[w]
		numbers := make([]uint64, 0, len(st.post[t]))
		for _, id := range st.post[t] {
			numbers = append(numbers, st.docs[id].inc.Number)
		}
		slices.Sort(numbers)
		fmt.Fprintf(&b, "word %s %v", w, numbers)
		sims := make([]string, 0, len(st.sim[t]))
		for _, p := range st.sim[t] {
			sims = append(sims, fmt.Sprintf("%d:%g", st.docs[p.doc].inc.Number, p.w))
		}
		slices.Sort(sims)
		if len(sims) > 0 {
			fmt.Fprintf(&b, " similar %v", sims)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
