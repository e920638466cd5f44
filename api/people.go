package api

import (
	"context"
	"strings"

	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/timeline"
)

// People shows member IDs as names; *directory.Directory is one.
type People interface {
	// Name is how id is shown, "" when it is not known; it answers from
	// memory and never waits.
	Name(id string) string
	// Names is a name function for a draft written now, which may look
	// an unknown id up within ctx.
	Names(ctx context.Context) func(id string) string
	// Find resolves a name typed after @ (owner=@alice), as commands do.
	Find(name string) people.Match
	// Len is how many people it knows; 0 means it cannot tell a name from
	// a typo.
	Len() int
}

// PeopleOf is the names of the people events name (who acted, who took
// or handed over a role, who owns an action, who was mentioned), by
// member ID, as name shows them; ids it does not know are left out, and
// readers show them as ids. Nil when there are none, or name is nil.
func PeopleOf(events []timeline.Event, name func(string) string) map[string]string {
	if name == nil {
		return nil
	}
	var out map[string]string
	add := func(id string) {
		if !people.IsMemberID(id) {
			return
		}
		if _, done := out[id]; done {
			return
		}
		if n := name(id); n != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[id] = n
		}
	}
	for i := range events {
		e := &events[i]
		add(e.Actor)
		add(e.Attr(timeline.AttrUser))
		add(e.Attr(timeline.AttrPrevious))
		add(e.Attr(timeline.AttrOwner))
		for _, u := range strings.Split(e.Attr(timeline.AttrUsers), ",") {
			add(u)
		}
		addMentions(e.Text, add)
	}
	return out
}

// PeopleIn is the names of the people text mentions (<@U123>), as name
// shows them; nil when it mentions nobody name knows.
func PeopleIn(text string, name func(string) string) map[string]string {
	if name == nil {
		return nil
	}
	var out map[string]string
	addMentions(text, func(id string) {
		if n := name(id); n != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[id] = n
		}
	})
	return out
}

func addMentions(text string, add func(string)) {
	if !strings.Contains(text, "<@") {
		return
	}
	for _, id := range people.Mentions(text) {
		add(id)
	}
}

// namer is p's Name, or nil without p.
func namer(p People) func(string) string {
	if p == nil {
		return nil
	}
	return p.Name
}
