package incident

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/timeline"
)

// The states of an action item. An item starts open and ends done, or
// not done for a reason (won't do); either end can be reopened.
const (
	ActionOpen   = "open"
	ActionDone   = "done"
	ActionWontDo = "wontdo"
)

// Priorities of follow-up actions.
var priorities = []string{"P0", "P1", "P2", "P3"}

// DayLayout is how a due day is written and stored: 2026-12-20. Days
// compare as strings.
const DayLayout = "2006-01-02"

// Day is the calendar day t falls on in loc (UTC when nil).
func Day(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(DayLayout)
}

// maxDueDays bounds how far ahead a due day may be: ten years is a typo,
// not a plan.
const maxDueDays = 3650

// DefaultDueDays is how many days an item of priority p has, from the
// day it is added, when no due day is given: P0 a week, P1 two, P2 thirty
// days; P3 has no due day (0).
func DefaultDueDays(p string) int {
	switch p {
	case "P0":
		return 7
	case "P1":
		return 14
	case "P2":
		return 30
	}
	return 0
}

var relativeDueRE = regexp.MustCompile(`^\+([0-9]{1,4})d$`)

// dueHelp says how to write a due day.
const dueHelp = "write a day (due 2026-12-20), a number of days from today (due +14d) or none"

// ResolveDue reads a due day as people write it, at the instant at: a day
// (2026-12-20), days from at's UTC day (+14d), or none (""). A day before
// the earliest calendar day anywhere on Earth at that instant is refused
// as past: whatever zone the writer is in, it cannot be today.
func ResolveDue(spec string, at time.Time) (string, error) {
	spec = strings.ToLower(strings.TrimSpace(spec))
	if spec == "none" {
		return "", nil
	}
	today := at.UTC().Truncate(24 * time.Hour)
	if m := relativeDueRE.FindStringSubmatch(spec); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n > maxDueDays {
			return "", invalid("+%dd is more than ten years away; %s", n, dueHelp)
		}
		return today.AddDate(0, 0, n).Format(DayLayout), nil
	}
	d, err := time.Parse(DayLayout, spec)
	if err != nil {
		return "", invalid("%q is not a due day; %s", spec, dueHelp)
	}
	if earliest := Day(at.Add(-12*time.Hour), time.UTC); spec < earliest {
		return "", invalid("%s is past; give a day from today on, such as due +7d", spec)
	}
	if d.After(today.AddDate(0, 0, maxDueDays)) {
		return "", invalid("%s is more than ten years away; %s", spec, dueHelp)
	}
	return spec, nil
}

// Overdue reports whether a is open and its due day ended before today,
// a Day in the owner's zone.
func (a Action) Overdue(today string) bool {
	return a.Status == ActionOpen && a.Due != "" && a.Due < today
}

// StateLabel is the item's state as people read it: open, done, won't do.
func (a Action) StateLabel() string {
	if a.Status == ActionWontDo {
		return "won't do"
	}
	return a.Status
}

// NewAction is what `/incident action <text>` carries.
type NewAction struct {
	Text     string
	Owner    string // a Slack user id, "" for nobody yet
	Priority string // P0–P3; "" means the incident's default (ActionPriority)
	// Due is the due day as typed (see ResolveDue); "" means the
	// priority's default (DefaultDueDays).
	Due string
	// Ticket asks for the item's ticket in the tracker its incident's
	// service routes to: set when a tracker is configured.
	Ticket bool
}

// AddAction records a follow-up action with the default due day of its
// priority. An empty priority means the default (see ActionPriority).
func (inc *Incident) AddAction(text, owner, priority string, m Meta) (Change, error) {
	return inc.AddActionItem(NewAction{Text: text, Owner: owner, Priority: priority}, m)
}

// AddActionItem records a follow-up action. Its due day is fixed when it
// is added, so it is the day the reply named: a given one, else the
// default of the priority it is worked at then.
func (inc *Incident) AddActionItem(a NewAction, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if inc.Status == StatusClosed {
		return Change{}, inc.activeCheck()
	}
	t, err := checkText("action", a.Text, MaxText)
	if err != nil {
		return Change{}, err
	}
	priority := strings.ToUpper(strings.TrimSpace(a.Priority))
	if priority != "" && !slices.Contains(priorities, priority) {
		return Change{}, invalid("priority %q does not exist; use P0 (most urgent) to P3", priority)
	}
	due := ""
	if strings.TrimSpace(a.Due) != "" {
		if due, err = ResolveDue(a.Due, m.At); err != nil {
			return Change{}, err
		}
	} else if days := DefaultDueDays(inc.ActionPriority(Action{Priority: priority})); days > 0 {
		due = m.At.UTC().AddDate(0, 0, days).Format(DayLayout)
	}
	attrs := map[string]string{
		timeline.AttrActionID: strconv.Itoa(len(inc.Actions) + 1),
		timeline.AttrOwner:    a.Owner,
		timeline.AttrPriority: priority,
		timeline.AttrDue:      due,
	}
	if a.Ticket {
		attrs[timeline.AttrState] = TicketPending
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindActionAdded, timeline.PhaseDecide, t, attrs)
	b.line(seq)
	if a.Ticket {
		b.ticket(seq, len(inc.Actions)+1, nil)
	}
	return b.ch, nil
}

// Action returns action item id.
func (inc Incident) Action(id int) (Action, bool) {
	i := slices.IndexFunc(inc.Actions, func(a Action) bool { return a.ID == id })
	if i < 0 {
		return Action{}, false
	}
	return inc.Actions[i], true
}

// The changes to an existing item. They are accepted in every status,
// closed included: follow-up work goes on long after the incident, and
// its record belongs in the incident's log. They are told in the incident
// channel until the incident is closed; after that only the log keeps
// them (the channel of a closed incident is often archived).

// MarkActionDone records that item id is done.
func (inc *Incident) MarkActionDone(id int, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	if a.Status == ActionDone {
		return Change{}, refused("action %d of %s is already done", id, inc.ID)
	}
	return inc.closeTicket(a, timeline.ActionChangeDone)(inc.actionUpdated(id, timeline.ActionChangeDone, "", map[string]string{timeline.AttrPrevious: a.Status}, m))
}

// MarkActionWontDo records that item id will not be done, and why.
func (inc *Incident) MarkActionWontDo(id int, reason string, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	switch a.Status {
	case ActionWontDo:
		return Change{}, refused("action %d of %s is already marked won't do", id, inc.ID)
	case ActionDone:
		return Change{}, refused("action %d of %s is done; to drop it instead, reopen it first: `/incident action %s reopen %d`", id, inc.ID, inc.ID, id)
	}
	if strings.TrimSpace(timeline.Normalize(reason)) == "" {
		return Change{}, invalid("say why action %d won't be done: `/incident action wontdo %d superseded by the queue rewrite`", id, id)
	}
	why, err := checkText("reason", reason, MaxText)
	if err != nil {
		return Change{}, err
	}
	return inc.closeTicket(a, timeline.ActionChangeWontDo)(inc.actionUpdated(id, timeline.ActionChangeWontDo, why, map[string]string{timeline.AttrPrevious: a.Status}, m))
}

// ReopenAction makes a done or won't-do item id open again.
func (inc *Incident) ReopenAction(id int, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	if a.Status == ActionOpen {
		return Change{}, refused("action %d of %s is open already", id, inc.ID)
	}
	return inc.actionUpdated(id, timeline.ActionChangeReopen, "", map[string]string{timeline.AttrPrevious: a.Status}, m)
}

// SetActionOwner gives item id to owner, a person.
func (inc *Incident) SetActionOwner(id int, owner string, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	if !IsPerson(owner) {
		return Change{}, invalid("an action item's owner is a person: `/incident action owner %d @U0123ABCD`", id)
	}
	if a.Owner == owner {
		return Change{}, refused("<@%s> already owns action %d of %s", owner, id, inc.ID)
	}
	return inc.actionUpdated(id, timeline.ActionChangeOwner, "", map[string]string{
		timeline.AttrOwner: owner, timeline.AttrPrevious: a.Owner,
	}, m)
}

// SetActionDue gives item id a new due day, written as ResolveDue reads
// it; none removes it.
func (inc *Incident) SetActionDue(id int, spec string, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	if strings.TrimSpace(spec) == "" {
		return Change{}, invalid("give action %d a due day: `/incident action due %d +7d` (or 2026-12-20, or none)", id, id)
	}
	due, err := ResolveDue(spec, m.At)
	if err != nil {
		return Change{}, err
	}
	if due == a.Due {
		if due == "" {
			return Change{}, refused("action %d of %s has no due day already", id, inc.ID)
		}
		return Change{}, refused("action %d of %s is due %s already", id, inc.ID, due)
	}
	return inc.actionUpdated(id, timeline.ActionChangeDue, "", map[string]string{
		timeline.AttrDue: due, timeline.AttrPrevious: a.Due,
	}, m)
}

// SetActionLink links item id to the ticket that tracks it, an http(s)
// address.
func (inc *Incident) SetActionLink(id int, link string, m Meta) (Change, error) {
	a, err := inc.changeableAction(id, m)
	if err != nil {
		return Change{}, err
	}
	link = strings.TrimSpace(link)
	if len(link) > MaxURL {
		return Change{}, invalid("the link is too long; keep it under %d characters", MaxURL)
	}
	if !IsWebLink(link) {
		return Change{}, invalid("link action %d to its ticket's web address, starting with https:// or http://: `/incident action link %d https://tracker.example.com/OPS-123`", id, id)
	}
	if a.Link == link {
		return Change{}, refused("action %d of %s links %s already", id, inc.ID, link)
	}
	return inc.actionUpdated(id, timeline.ActionChangeLink, "", map[string]string{
		timeline.AttrURL: link, timeline.AttrPrevious: a.Link,
	}, m)
}

// changeableAction is item id, for a command that changes it.
func (inc *Incident) changeableAction(id int, m Meta) (Action, error) {
	if err := checkMeta(m); err != nil {
		return Action{}, err
	}
	a, ok := inc.Action(id)
	if !ok {
		if len(inc.Actions) == 0 {
			return Action{}, invalid("%s has no action items; add one with `/incident action <text> @owner`", inc.ID)
		}
		return Action{}, invalid("%s has no action %d; its items are 1 to %d (`/incident actions` lists them)", inc.ID, id, len(inc.Actions))
	}
	return a, nil
}

func (inc *Incident) actionUpdated(id int, change, text string, attrs map[string]string, m Meta) (Change, error) {
	b, _ := inc.actionEvent(id, change, text, attrs, true, m)
	return b.ch, nil
}

// actionEvent starts the change that records an action_updated event of
// item id, told in the channel when tell and the incident is not closed;
// callers add the effects the event requires at the sequence it returns.
func (inc *Incident) actionEvent(id int, change, text string, attrs map[string]string, tell bool, m Meta) (*builder, uint64) {
	attrs[timeline.AttrActionID] = strconv.Itoa(id)
	attrs[timeline.AttrChange] = change
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindActionUpdated, timeline.PhaseNone, text, attrs)
	if tell && inc.Status != StatusClosed {
		b.line(seq)
	}
	return b, seq
}

// applyActionUpdate folds an action_updated event into the item it names.
func (inc *Incident) applyActionUpdate(e timeline.Event) {
	id, _ := strconv.Atoi(e.Attr(timeline.AttrActionID))
	i := slices.IndexFunc(inc.Actions, func(a Action) bool { return a.ID == id })
	if i < 0 {
		return
	}
	a := &inc.Actions[i]
	switch e.Attr(timeline.AttrChange) {
	case timeline.ActionChangeDone:
		a.Status, a.Reason, a.ClosedAt, a.ClosedBy, a.ClosedByTicket = ActionDone, "", e.At, e.Actor, false
	case timeline.ActionChangeWontDo:
		a.Status, a.Reason, a.ClosedAt, a.ClosedBy, a.ClosedByTicket = ActionWontDo, e.Text, e.At, e.Actor, false
	case timeline.ActionChangeReopen:
		a.Status, a.Reason, a.ClosedAt, a.ClosedBy, a.ClosedByTicket = ActionOpen, "", time.Time{}, "", false
		if a.Ticket != nil && a.Ticket.State == TicketOpen && a.Ticket.Error != "" {
			t := *a.Ticket
			t.Error = "" // a close that failed: the item wants it open now
			a.Ticket = &t
		}
	case timeline.ActionChangeOwner:
		a.Owner = e.Attr(timeline.AttrOwner)
		inc.addParticipant(a.Owner)
	case timeline.ActionChangeDue:
		a.Due = e.Attr(timeline.AttrDue)
	case timeline.ActionChangeLink:
		a.Link = e.Attr(timeline.AttrURL)
	default:
		applyTicketUpdate(a, e, inc.Number)
	}
}

// Zones tells the time zone of a person (their Slack profile's), which
// decides which day it is for them: when an item is overdue, when a
// working day starts. Nil, or a nil answer, means UTC.
type Zones func(user string) *time.Location

// Of is user's zone, UTC when unknown.
func (z Zones) Of(user string) *time.Location {
	if z == nil || user == "" {
		return time.UTC
	}
	if loc := z(user); loc != nil {
		return loc
	}
	return time.UTC
}

// Which items a list of action items across incidents shows.
const (
	ActionsOpen = ""    // open items (the default)
	ActionsAll  = "all" // every item, done and won't do too
)

// ActionFilter selects action items across incidents.
type ActionFilter struct {
	// State is ActionsOpen, ActionsAll, or one state (ActionDone,
	// ActionWontDo).
	State string
	// Owner keeps one person's items; "" keeps everyone's.
	Owner string
	// Overdue keeps the open items past their due day in their owner's
	// zone.
	Overdue bool
	// Service keeps the items of incidents of one service (any case).
	Service string
}

// ActionItem is an action item with its incident, as lists across
// incidents show it.
type ActionItem struct {
	Incident Incident
	Action   Action
	// Priority is the priority it is worked at (ActionPriority).
	Priority string
	// Overdue is Action.Overdue on its owner's day.
	Overdue bool
}

// ActionItems lists the items of incs that f selects, at now, in the
// order a person works them: overdue first, most overdue first; then open
// ones by due day, those without one after; then done and won't-do ones,
// latest first. Ties go by incident and item number. The caller applies
// the access rule to incs first: an incident the reader may not see
// gives no items and is not counted.
func ActionItems(incs []Incident, f ActionFilter, now time.Time, zones Zones) []ActionItem {
	var out []ActionItem
	for _, inc := range incs {
		if f.Service != "" && !strings.EqualFold(inc.Service, f.Service) {
			continue
		}
		for _, a := range inc.Actions {
			if f.Owner != "" && a.Owner != f.Owner {
				continue
			}
			switch f.State {
			case ActionsAll:
			case ActionsOpen:
				if a.Status != ActionOpen {
					continue
				}
			default:
				if a.Status != f.State {
					continue
				}
			}
			overdue := a.Overdue(Day(now, zones.Of(a.Owner)))
			if f.Overdue && !overdue {
				continue
			}
			out = append(out, ActionItem{Incident: inc, Action: a, Priority: inc.ActionPriority(a), Overdue: overdue})
		}
	}
	slices.SortStableFunc(out, func(x, y ActionItem) int {
		if c := cmp.Compare(rank(x), rank(y)); c != 0 {
			return c
		}
		if x.Action.Status != ActionOpen {
			if c := y.Action.ClosedAt.Compare(x.Action.ClosedAt); c != 0 {
				return c
			}
		} else if c := cmp.Compare(x.Action.Due, y.Action.Due); c != 0 {
			return c
		}
		if c := cmp.Compare(x.Incident.Number, y.Incident.Number); c != 0 {
			return c
		}
		return cmp.Compare(x.Action.ID, y.Action.ID)
	})
	return out
}

// rank orders the groups of ActionItems.
func rank(it ActionItem) int {
	switch {
	case it.Overdue:
		return 0
	case it.Action.Status == ActionOpen && it.Action.Due != "":
		return 1
	case it.Action.Status == ActionOpen:
		return 2
	}
	return 3
}

// ActionRef names an action item of any incident.
type ActionRef struct {
	Incident uint64
	Action   int
}

// String writes the reference as an effect's params carry it: "3:2".
func (r ActionRef) String() string {
	return strconv.FormatUint(r.Incident, 10) + ":" + strconv.Itoa(r.Action)
}

// ParseActionRefs reads what JoinActionRefs wrote; malformed parts are
// left out.
func ParseActionRefs(s string) []ActionRef {
	var out []ActionRef
	for part := range strings.SplitSeq(s, ",") {
		n, id, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			continue
		}
		num, err1 := strconv.ParseUint(n, 10, 64)
		a, err2 := strconv.Atoi(id)
		if err1 == nil && err2 == nil && num > 0 && a > 0 {
			out = append(out, ActionRef{Incident: num, Action: a})
		}
	}
	return out
}

// JoinActionRefs writes refs as one param: "3:2,5:1".
func JoinActionRefs(refs []ActionRef) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// ParamDay is the param of a TemplateActionsDue direct message: the
// owner's day the reminder is for. The message names no items: the
// executor lists, when it sends it, the items the owner may see.
const ParamDay = "day"

// NudgeActionsOverdue is the nudge kind of an overdue-items reminder.
const NudgeActionsOverdue = "actions_overdue"

// RemindActions records that Ooda reminds user, on their day, of their
// overdue action items, and queues the one direct message that does it.
// The items may be of several incidents; this one (one of them, closed
// ones included: follow-up work outlives its incident, and item changes
// are recorded on a closed incident too) carries the record, which
// names only its own items: another incident may be private, so neither
// the record nor the queued message names them. The message is written
// when it is sent, from the items that are open, overdue and the owner's
// then, and names only incidents the owner may see. Callers key the
// command by user and day, so a person is reminded once a day however
// often they ask.
func (inc *Incident) RemindActions(user, day string, items []ActionRef, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if !IsPerson(user) {
		return Change{}, invalid("internal: a reminder is for a person, not %q", user)
	}
	if _, err := time.Parse(DayLayout, day); err != nil {
		return Change{}, invalid("internal: %q is not a day", day)
	}
	if len(items) == 0 {
		return Change{}, invalid("internal: a reminder names at least one item")
	}
	var own []string
	for _, r := range items {
		if r.Incident == inc.Number {
			own = append(own, strconv.Itoa(r.Action))
		}
	}
	text := "Reminded the owner of overdue action items by direct message"
	if len(own) > 0 {
		text = fmt.Sprintf("Reminded the owner of overdue action item(s) %s by direct message", strings.Join(own, ", "))
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindNudged, timeline.PhaseNone, text,
		map[string]string{
			timeline.AttrNudge: NudgeActionsOverdue, timeline.AttrUser: user,
			timeline.AttrDay: day, timeline.AttrActions: strings.Join(own, ","),
		})
	b.effect(seq, EffectDM, user, TemplateActionsDue, map[string]string{ParamDay: day})
	return b.ch, nil
}
