package search

import (
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// Dump is the index in canonical form (dump), for the tests that compare
// two indexes.
func Dump(x *Index) string { return x.dump() }

// Lines returns the lines the index keeps of inc: field and text.
func Lines(inc incident.Incident, events []timeline.Event) map[Field][]string {
	d := newDoc(inc, events)
	out := map[Field][]string{}
	for i := range d.lines {
		f := fieldOf(d.lines[i].field)
		out[f] = append(out[f], d.lineText(i))
	}
	return out
}

// Sizes returns the bytes of text and the number of lines x keeps.
func Sizes(x *Index) (text, lines int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, d := range x.st.docs {
		text += len(d.text)
		lines += len(d.lines)
	}
	return text, lines
}
