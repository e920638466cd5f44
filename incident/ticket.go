package incident

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/timeline"
)

// The effects that keep an action item's ticket, performed by the tickets
// adapter through the tracker's guard.
const (
	// EffectCreateTicket opens the ticket of an action item in the tracker
	// its incident's service routes to; params: action (the item's
	// number). Its key travels with the ticket, so a retry after an
	// ambiguous failure finds the ticket instead of opening another.
	EffectCreateTicket EffectKind = "create_ticket"
	// EffectCloseTicket comments on and closes the ticket of an item
	// marked done or won't do in Ooda; params: action, how (done, wontdo).
	EffectCloseTicket EffectKind = "close_ticket"
)

// Params of the ticket effects.
const (
	ParamAction = "action"
	ParamHow    = "how"
	// ParamPrevious is, on a create_ticket that retries failed ones, their
	// keys, comma-separated: a create may have landed before its request
	// failed for good, and the ticket it made is looked for too.
	ParamPrevious = "previous"
)

// The states of an item's ticket.
const (
	TicketPending = "pending" // asked for; not created yet (the tracker may be down)
	TicketOpen    = "open"    // created, open in its tracker
	TicketClosed  = "closed"  // closed in its tracker
	TicketFailed  = "failed"  // failed for good; Error says why
)

// Ticket is the ticket that tracks an action item in a tracker.
type Ticket struct {
	State   string `json:"state"`
	Tracker string `json:"tracker,omitempty"` // the configured tracker's name
	Project string `json:"project,omitempty"` // owner/repo, a GitLab path or id, a Jira project key
	ID      string `json:"id,omitempty"`      // 42, OPS-12
	URL     string `json:"url,omitempty"`
	// Error is why it failed (TicketFailed), or, on an open ticket, why
	// Ooda could not close it when its item was done.
	Error string `json:"error,omitempty"`
	// Effect is the key of the create_ticket effect that creates (or
	// created) it; Previous the keys of the earlier requests for the
	// item's ticket that failed, whose creates may have landed all the
	// same, and are looked for too.
	Effect   string   `json:"effect,omitempty"`
	Previous []string `json:"previous,omitempty"`
}

// Name is how people read the ticket's name: OPS-12 on Jira, acme/ops#42
// on GitHub and GitLab.
func (t Ticket) Name() string { return timeline.TicketName(t.Project, t.ID) }

// TicketLabel says in a few words where the ticket stands: "ticket
// pending", "OPS-12 (open)", "ticket failed: …"; "" for no ticket.
func (a Action) TicketLabel() string {
	t := a.Ticket
	if t == nil {
		return ""
	}
	switch t.State {
	case TicketPending:
		return "ticket pending"
	case TicketFailed:
		return "ticket failed: " + t.Error
	}
	if t.Error != "" {
		return t.Name() + " (" + t.State + "; close failed: " + t.Error + ")"
	}
	return t.Name() + " (" + t.State + ")"
}

// RequestTicket asks for a ticket for item id: one made before a tracker
// was configured, or whose ticket failed for good (after the cause is
// fixed). The command layer checks that a tracker is configured.
func (inc *Incident) RequestTicket(id int, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	if t := a.Ticket; t != nil {
		switch t.State {
		case TicketPending:
			return Change{}, refused("action %d of %s has a ticket pending already: it is created as soon as the tracker answers", id, inc.ID)
		case TicketOpen, TicketClosed:
			return Change{}, refused("action %d of %s is tracked by %s already: %s", id, inc.ID, t.Name(), t.URL)
		}
	}
	b, seq := inc.actionEvent(id, timeline.ActionChangeTicket, "", map[string]string{}, false, m)
	var prev []string
	if a.Ticket != nil {
		prev = append(slices.Clone(a.Ticket.Previous), a.Ticket.Effect)
	}
	b.ticket(seq, id, prev)
	return b.ch, nil
}

// ticket queues the creation of item id's ticket by the event at seq;
// previous are the keys of the failed requests it retries, if any.
func (b *builder) ticket(seq uint64, id int, previous []string) {
	params := map[string]string{ParamAction: strconv.Itoa(id)}
	if len(previous) > 0 {
		params[ParamPrevious] = strings.Join(previous, ",")
	}
	b.effect(seq, EffectCreateTicket, "", "", params)
}

// PreviousKeys reads a create_ticket's ParamPrevious.
func PreviousKeys(fx Effect) []string {
	if p := fx.Params[ParamPrevious]; p != "" {
		return strings.Split(p, ",")
	}
	return nil
}

// TicketEffectKey is the key of the create_ticket effect the event at seq
// of incident number queues.
func TicketEffectKey(number, seq uint64) string {
	return newEffect(number, seq, EffectCreateTicket, "", "", nil).Key
}

// TicketCreated records that the create_ticket effect effect opened t
// for item id. It records nothing when the item's ticket is no longer the
// one that effect was creating (a later request replaced it) or is
// already recorded, so a completion replayed after a crash is harmless.
func (inc *Incident) TicketCreated(id int, effect string, t Ticket, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	if a.Ticket == nil || a.Ticket.Effect != effect || a.Ticket.State != TicketPending {
		return Change{}, nil
	}
	state := TicketOpen
	if t.State == TicketClosed {
		state = TicketClosed
	}
	attrs := t.attrs()
	attrs[timeline.AttrState], attrs[timeline.AttrEffect] = state, effect
	b, seq := inc.actionEvent(id, timeline.ActionChangeTicketCreated, "", attrs, true, m)
	if state == TicketOpen && a.Status != ActionOpen {
		// Done or dropped while the tracker had not answered: the new
		// ticket is closed at once, so the tracker agrees.
		how := timeline.ActionChangeDone
		if a.Status == ActionWontDo {
			how = timeline.ActionChangeWontDo
		}
		b.effect(seq, EffectCloseTicket, "", "", map[string]string{ParamAction: strconv.Itoa(id), ParamHow: how})
	}
	return b.ch, nil
}

// TicketFailed records that the create_ticket effect effect failed for
// good, and why, on item id; like TicketCreated it records nothing when
// the item no longer waits for that effect.
func (inc *Incident) TicketFailed(id int, effect, reason string, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	if a.Ticket == nil || a.Ticket.Effect != effect || a.Ticket.State != TicketPending {
		return Change{}, nil
	}
	return inc.actionUpdated(id, timeline.ActionChangeTicketFailed, "", map[string]string{
		timeline.AttrError: trackerText(reason), timeline.AttrEffect: effect,
	}, m)
}

// TicketChanged records that item id's ticket is now state (TicketOpen or
// TicketClosed) in its tracker, as a poll or a webhook learned it. A
// closed ticket makes an open item done, and a reopened one makes an item
// done that way open again; neither queues a change back to the tracker.
// It records nothing when the ticket is in that state already, so a poll
// and a webhook telling the same close record it once.
func (inc *Incident) TicketChanged(id int, state string, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	if state != TicketOpen && state != TicketClosed {
		return Change{}, invalid("internal: a ticket is open or closed, not %q", state)
	}
	t := a.Ticket
	if t == nil || (t.State != TicketOpen && t.State != TicketClosed) || t.State == state {
		return Change{}, nil
	}
	attrs := t.attrs()
	attrs[timeline.AttrState] = state
	switch {
	case state == TicketClosed && a.Status == ActionOpen:
		attrs[timeline.AttrStatus] = timeline.ActionChangeDone
	case state == TicketOpen && a.Status == ActionDone && a.ClosedByTicket:
		attrs[timeline.AttrStatus] = timeline.ActionChangeReopen
	}
	// Told in the channel when it changed the item, not for the close
	// Ooda itself asked for.
	b, _ := inc.actionEvent(id, timeline.ActionChangeTicketState, "", attrs, attrs[timeline.AttrStatus] != "", m)
	return b.ch, nil
}

// TicketCloseFailed records that closing item id's ticket failed for
// good, and why: the item is done in Ooda and its ticket still open in
// the tracker, which people need to know to close it by hand.
func (inc *Incident) TicketCloseFailed(id int, reason string, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	t := a.Ticket
	if t == nil || t.State != TicketOpen || a.Status == ActionOpen {
		return Change{}, nil // closed meanwhile in the tracker, or the item reopened
	}
	attrs := t.attrs()
	attrs[timeline.AttrError] = trackerText(reason)
	return inc.actionUpdated(id, timeline.ActionChangeTicketCloseFailed, "", attrs, m)
}

// attrs are the attributes that name t in an event.
func (t Ticket) attrs() map[string]string {
	return map[string]string{
		timeline.AttrTracker: t.Tracker, timeline.AttrProject: t.Project,
		timeline.AttrTicket: t.ID, timeline.AttrURL: t.URL,
	}
}

// trackerText is a tracker's words (an error) as an event keeps them:
// valid UTF-8, at most MaxText bytes, cut between characters.
func trackerText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxText {
		return s
	}
	n := MaxText
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ActionByTicket finds the item tracked by ticket id of project in the
// tracker named tracker.
func (inc Incident) ActionByTicket(tracker, project, id string) (Action, bool) {
	for _, a := range inc.Actions {
		if t := a.Ticket; t != nil && t.Tracker == tracker && t.Project == project && t.ID == id {
			return a, true
		}
	}
	return Action{}, false
}

// applyTicketUpdate folds the ticket changes of an action_updated event.
func applyTicketUpdate(a *Action, e timeline.Event, number uint64) {
	switch e.Attr(timeline.AttrChange) {
	case timeline.ActionChangeTicket:
		t := &Ticket{State: TicketPending, Effect: TicketEffectKey(number, e.Seq)}
		if a.Ticket != nil {
			t.Previous = append(slices.Clone(a.Ticket.Previous), a.Ticket.Effect)
		}
		a.Ticket = t
	case timeline.ActionChangeTicketCreated:
		a.Ticket = &Ticket{
			State: e.Attr(timeline.AttrState), Tracker: e.Attr(timeline.AttrTracker),
			Project: e.Attr(timeline.AttrProject), ID: e.Attr(timeline.AttrTicket),
			URL: e.Attr(timeline.AttrURL), Effect: e.Attr(timeline.AttrEffect),
		}
	case timeline.ActionChangeTicketFailed:
		if a.Ticket != nil {
			t := *a.Ticket
			t.State, t.Error = TicketFailed, e.Attr(timeline.AttrError)
			a.Ticket = &t
		}
	case timeline.ActionChangeTicketCloseFailed:
		if a.Ticket != nil {
			t := *a.Ticket
			t.Error = e.Attr(timeline.AttrError)
			a.Ticket = &t
		}
	case timeline.ActionChangeTicketState:
		if a.Ticket != nil {
			t := *a.Ticket
			t.State, t.Error = e.Attr(timeline.AttrState), ""
			a.Ticket = &t
		}
		switch e.Attr(timeline.AttrStatus) {
		case timeline.ActionChangeDone:
			a.Status, a.Reason, a.ClosedAt, a.ClosedBy, a.ClosedByTicket = ActionDone, "", e.At, e.Actor, true
		case timeline.ActionChangeReopen:
			a.Status, a.Reason, a.ClosedAt, a.ClosedBy, a.ClosedByTicket = ActionOpen, "", time.Time{}, "", false
		}
	}
}

// closeTicket returns what queues, with a person's done or won't do of
// item a, the close of its open ticket: the tracker then agrees with Ooda.
func (inc *Incident) closeTicket(a Action, how string) func(Change, error) (Change, error) {
	return func(ch Change, err error) (Change, error) {
		if err != nil || a.Ticket == nil || a.Ticket.State != TicketOpen || len(ch.Events) == 0 {
			return ch, err
		}
		seq := ch.Events[len(ch.Events)-1].Seq
		ch.Effects = append(ch.Effects, newEffect(inc.Number, seq, EffectCloseTicket, "", "",
			map[string]string{ParamAction: strconv.Itoa(a.ID), ParamHow: how}))
		return ch, nil
	}
}
