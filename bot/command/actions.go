package command

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// The changes `/incident action <op> <n> …` makes to item n.
const (
	ItemDone   = "done"
	ItemWontDo = "wontdo"
	ItemReopen = "reopen"
	ItemOwner  = "owner"
	ItemDue    = "due"
	ItemLink   = "link"
	ItemTicket = "ticket"
)

var itemOps = []string{ItemDone, ItemWontDo, ItemReopen, ItemOwner, ItemDue, ItemLink, ItemTicket}

// ItemCommand is `action <op> <n> …` read as a change to item n.
//
// The same words are a new item's text unless the incident has an item n
// (`/incident action done with the migration` adds an item), and the
// parser cannot know which items exist. So the Command keeps both
// readings, and the dispatcher picks one on the incident's state inside
// the store's transaction (decideAction): the state it decides on is the
// state the change applies to.
type ItemCommand struct {
	Op  string // one of itemOps; "" when the words cannot be a change
	ID  int
	Arg string // the new owner's id, the due day as typed, the link, the reason
	// Err is what is wrong with the words as a change to item ID, NewErr
	// as a new item; each is reported only when its reading is picked.
	Err, NewErr *UsageError
}

// parseAction reads what follows `action [INC-7]`.
func parseAction(c Command, args []string) (Command, error) {
	item := parseItemCommand(args)
	read, err := parseNewAction(c, args)
	if item.Op == "" {
		return read, err
	}
	if err != nil {
		// Only a new item would be wrong; whether the words are one is
		// up to the incident. Its text is then all of them.
		item.NewErr, _ = err.(*UsageError)
		read = c
		read.Text = strings.Join(args, " ")
	}
	read.Item = item
	return read, nil
}

// parseItemCommand reads args as `<op> <n> …`; an ItemCommand without Op
// when they are not.
func parseItemCommand(args []string) ItemCommand {
	if len(args) < 2 {
		return ItemCommand{}
	}
	op := strings.ToLower(args[0])
	if !slices.Contains(itemOps, op) || !allDigits(args[1]) {
		return ItemCommand{}
	}
	id, err := strconv.Atoi(args[1])
	if err != nil || id < 1 {
		return ItemCommand{}
	}
	it := ItemCommand{Op: op, ID: id}
	rest := args[2:]
	switch op {
	case ItemDone, ItemReopen, ItemTicket:
		if len(rest) > 0 {
			it.Err = usage("`/incident action %s %d` takes nothing after the item's number. To add a new item, start its text with another word.", op, id)
		}
	case ItemWontDo:
		// The domain refuses an empty reason, saying what to type.
		it.Arg = strings.Join(rest, " ")
	case ItemOwner:
		u, ok := "", len(rest) == 1
		if ok {
			u, ok = parsePerson(rest[0])
		}
		if !ok {
			it.Err = usage("name action %d's new owner after an @, by their Slack handle, display name or member ID: `/incident action owner %d @U0123ABCD`. %s", id, id, memberIDHint)
		}
		// A handle (@bob) is also the new item's owner, the slot the
		// dispatcher resolves through the directory (decideAction).
		it.Arg = u
	case ItemDue:
		if len(rest) != 1 || !looksLikeDue(rest[0]) {
			it.Err = usage("give action %d one due day: `/incident action due %d +7d` (a number of days from today), a day such as 2026-12-20, or none", id, id)
			break
		}
		it.Arg = rest[0]
	case ItemLink:
		if len(rest) != 1 {
			it.Err = usage("give action %d one link, its ticket's web address: `/incident action link %d https://tracker.example.com/OPS-123`", id, id)
			break
		}
		link, err := parseLink(rest[0], fmt.Sprintf("the http(s) address of the ticket that tracks action %d: `/incident action link %d https://tracker.example.com/OPS-123`", id, id))
		if err != nil {
			it.Err, _ = err.(*UsageError)
		}
		it.Arg = link
	}
	return it
}

// usage is usagef for a caller that keeps the *UsageError.
func usage(format string, args ...any) *UsageError {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// parseNewAction reads args as a new item: its text, then its owner,
// priority and due day in any order.
func parseNewAction(c Command, args []string) (Command, error) {
	for len(args) > 0 {
		last := args[len(args)-1]
		if len(args) >= 2 && c.Due == "" && strings.EqualFold(args[len(args)-2], "due") && (looksLikeDue(last) || strings.ContainsAny(last, "0123456789")) {
			if !looksLikeDue(last) {
				return c, usagef("%s is not a due day: write it as 2026-12-20, or as a number of days from today: `action roll back the config due +14d`", echo(last))
			}
			c.Due = last
			args = args[:len(args)-2]
			continue
		}
		if u, ok := parsePerson(last); ok && c.Owner == "" {
			c.Owner = u
		} else if p := strings.ToUpper(last); len(p) == 2 && p[0] == 'P' && p[1] >= '0' && p[1] <= '3' && c.Priority == "" {
			c.Priority = p
		} else if looksLikePriority(p) {
			return c, usagef("priority is P0–P3, P0 the most urgent: `action roll back the config P1`")
		} else if strings.HasPrefix(last, "@") && c.Owner == "" {
			return c, usagef("name the owner after an @, by their Slack handle, display name or member ID: `action roll back the config @U0123ABCD P1`. %s", memberIDHint)
		} else {
			break
		}
		args = args[:len(args)-1]
	}
	c.Text = strings.Join(args, " ")
	if c.Text == "" {
		return c, usagef("describe the follow-up: %s", VerbUsage(VerbAction))
	}
	return c, nil
}

var dueRE = regexp.MustCompile(`^(?i:[0-9]{4}-[0-9]{2}-[0-9]{2}|\+[0-9]+d|none)$`)

// looksLikeDue reports whether s is written as a due day; whether it is
// one (a real day, not past) the domain decides.
func looksLikeDue(s string) bool { return dueRE.MatchString(s) }

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// decideAction picks the reading of an action command on the state it
// applies to: a change to item n when the incident has one, else a new
// item.
func decideAction(inc *incident.Incident, cmd Command, m incident.Meta, tickets Tickets) (incident.Change, error) {
	if it := cmd.Item; it.Op == ItemTicket {
		if _, ok := inc.Action(it.ID); !ok {
			// "ticket 2 …" is never a new item's text: as one, it would
			// open a ticket titled "ticket 2 …".
			_, err := inc.RequestTicket(it.ID, m)
			if it.Err != nil && err != nil {
				return incident.Change{}, usage("%s. To add an item whose text starts with “ticket %d”, begin it with another word: `/incident action open ticket %d …`", err.Error(), it.ID, it.ID)
			}
			return incident.Change{}, err
		}
	}
	if it := cmd.Item; it.Op != "" {
		if _, ok := inc.Action(it.ID); ok {
			if it.Err != nil {
				return incident.Change{}, it.Err
			}
			switch it.Op {
			case ItemDone:
				return inc.MarkActionDone(it.ID, m)
			case ItemWontDo:
				return inc.MarkActionWontDo(it.ID, it.Arg, m)
			case ItemReopen:
				return inc.ReopenAction(it.ID, m)
			case ItemOwner:
				owner := it.Arg
				if IsHandle(owner) {
					// The same word, resolved as the new reading's owner.
					if owner = cmd.Owner; owner == "" || IsHandle(owner) {
						return incident.Change{}, usage("name action %d's new owner by their Slack member ID: `/incident action owner %d @U0123ABCD`. %s", it.ID, it.ID, memberIDHint)
					}
				}
				return inc.SetActionOwner(it.ID, owner, m)
			case ItemDue:
				return inc.SetActionDue(it.ID, it.Arg, m)
			case ItemLink:
				return inc.SetActionLink(it.ID, it.Arg, m)
			case ItemTicket:
				if tickets == nil || !tickets.Routed(inc.Service) {
					return incident.Change{}, usage("%s for action %d: an admin configures a tracker under `tickets:` in Ooda's configuration (the README's Tickets section shows how), then `/incident action ticket %d` creates it. Until then, `/incident action link %d <url>` links a ticket made by hand.",
						noTracker(tickets, inc.Service), it.ID, it.ID, it.ID)
				}
				return inc.RequestTicket(it.ID, m)
			}
		}
		if it.NewErr != nil {
			return incident.Change{}, it.NewErr
		}
	}
	return inc.AddActionItem(incident.NewAction{
		Text: cmd.Text, Owner: cmd.Owner, Priority: cmd.Priority, Due: cmd.Due,
		Ticket: tickets != nil && tickets.Routed(inc.Service),
	}, m)
}

// Tickets says which incidents' action items get tickets in a tracker.
type Tickets interface {
	// Routed reports whether an incident of service has a tracker to
	// open tickets in (its own route, or the default).
	Routed(service string) bool
}

// noTracker says why an item of an incident of service gets no ticket.
func noTracker(t Tickets, service string) string {
	if t == nil {
		return "No tracker is configured to open a ticket"
	}
	if service == "" {
		return "No tracker route covers incidents without a service (there is no default route) to open a ticket"
	}
	return "No tracker route covers service " + mrkdwn.Escape(service) + " (and there is no default route) to open a ticket"
}

// maxTicketLink is the longest ticket address the actions list links.
const maxTicketLink = 120

// ticketText is an item's ticket as replies show it: its name linked to
// its page and its state, "ticket pending", or why it failed; "" for
// none.
func ticketText(a incident.Action) string {
	t := a.Ticket
	if t == nil {
		return ""
	}
	switch t.State {
	case incident.TicketPending:
		return "ticket pending"
	case incident.TicketFailed:
		return "ticket failed: " + mrkdwn.Clip(mrkdwn.Escape(t.Error), 120)
	}
	name := mrkdwn.Escape(t.Name())
	if utf8.RuneCountInString(t.URL) <= maxTicketLink {
		// A long address would crowd out the item's text in the list.
		name = mrkdwn.Link(t.URL, t.Name())
	}
	if t.Error != "" {
		return name + " (" + t.State + "; close failed: " + mrkdwn.Clip(mrkdwn.Escape(t.Error), 120) + ")"
	}
	return name + " (" + t.State + ")"
}

// actionText confirms an action command: the item added or the change
// made, read from the command's events, so a replayed request names what
// it did rather than the incident's newest item.
func actionText(res incident.Result) string {
	inc := res.Incident
	for _, e := range res.Events {
		id, _ := strconv.Atoi(e.Attr(timeline.AttrActionID))
		a, ok := inc.Action(id)
		if !ok {
			continue
		}
		switch e.Kind {
		case timeline.KindActionAdded:
			owner := "no owner yet"
			if a.Owner != "" {
				owner = "<@" + a.Owner + ">"
			}
			text := fmt.Sprintf("%s: action %d added (%s, %s, %s", inc.ID, a.ID, inc.ActionPriority(a), owner, dueText(e.Attr(timeline.AttrDue), e.At))
			if e.Attr(timeline.AttrState) == incident.TicketPending {
				text += ", ticket pending"
			}
			return text + ")." + outsider(inc, a.Owner)
		case timeline.KindActionUpdated:
			text := fmt.Sprintf("%s: %s.", inc.ID, itemChangeText(e))
			if e.Attr(timeline.AttrChange) == timeline.ActionChangeOwner {
				text += outsider(inc, e.Attr(timeline.AttrOwner))
			}
			return text
		}
	}
	return fmt.Sprintf("%s: recorded.", inc.ID)
}

// outsider warns, after a reply, that owner cannot see the private
// incident they were given an item of: they are neither reminded of it
// nor shown it until they join its channel. The item is theirs all the
// same: whoever assigned it may be about to invite them.
func outsider(inc incident.Incident, owner string) string {
	if !inc.Private || !incident.IsPerson(owner) || inc.Admits(owner) {
		return ""
	}
	return " " + mrkdwn.Mention(owner) + " is not in this private incident's channel: invite them, or they will not see or be reminded of it."
}

// itemChangeText says what an action_updated event changed, in mrkdwn.
func itemChangeText(e timeline.Event) string {
	id := e.Attr(timeline.AttrActionID)
	switch e.Attr(timeline.AttrChange) {
	case timeline.ActionChangeDone:
		return "action " + id + " is done"
	case timeline.ActionChangeWontDo:
		return "action " + id + " won't be done: " + mrkdwn.Escape(e.Text)
	case timeline.ActionChangeReopen:
		return "action " + id + " is open again"
	case timeline.ActionChangeOwner:
		return "action " + id + " is owned by " + mrkdwn.Mention(e.Attr(timeline.AttrOwner))
	case timeline.ActionChangeDue:
		return "action " + id + " is " + dueText(e.Attr(timeline.AttrDue), e.At)
	case timeline.ActionChangeLink:
		return "action " + id + " is tracked at " + mrkdwn.Escape(e.Attr(timeline.AttrURL))
	case timeline.ActionChangeTicket:
		return "action " + id + "'s ticket is asked for; it is created as soon as the tracker answers"
	}
	return "action " + id + " changed"
}

// dueText is a due day as replies say it: "due Thu 10 Dec", with the
// year when it is not the year of now; "no due day" for none.
func dueText(day string, now time.Time) string {
	if day == "" {
		return "no due day"
	}
	return "due " + dayLabel(day, now)
}

// dayLabel writes a day (incident.DayLayout) as "Thu 10 Dec", with the
// year when it is not now's.
func dayLabel(day string, now time.Time) string {
	d, err := time.Parse(incident.DayLayout, day)
	if err != nil {
		return mrkdwn.Escape(day)
	}
	if d.Year() != now.UTC().Year() {
		return d.Format("Mon 2 Jan 2006")
	}
	return d.Format("Mon 2 Jan")
}

// actions answers `/incident actions`: the items of every incident the
// caller may see, a page at a time.
func (d *Dispatcher) actions(ctx context.Context, req Request, cmd Command) Reply {
	f := incident.ActionFilter{Overdue: cmd.Overdue, Service: cmd.Service}
	if cmd.AllStates {
		f.State = incident.ActionsAll
	}
	if cmd.Mine {
		if !incident.IsPerson(req.User) {
			return Reply{Code: http.StatusBadRequest, Text: "`mine` is the items you own as a Slack user, and an API token owns none. Ask for one person's instead: GET /api/v1/actions?owner=U0123ABCD"}
		}
		f.Owner = req.User
	}
	incs, err := d.Store.Incidents(ctx, true)
	if err != nil {
		return d.Failed(ctx, 0, err)
	}
	visible := incs[:0:0]
	for _, inc := range incs {
		// An incident the caller may not see has no items for it, listed
		// or counted.
		if req.admits(inc) {
			visible = append(visible, inc)
		}
	}
	l := actionList{
		Items: incident.ActionItems(visible, f, req.At, d.Zones),
		Mine:  cmd.Mine, Overdue: cmd.Overdue, All: cmd.AllStates, Service: cmd.Service,
		Page: max(cmd.Page, 1), Now: req.At,
	}
	return Reply{Text: l.Text(), Code: http.StatusOK}
}

// actionList is what `/incident actions` shows, within the bounds of
// `/incident list` (listPageSize lines, maxListText characters).
type actionList struct {
	Items              []incident.ActionItem
	Mine, Overdue, All bool
	Service            string
	Page               int // from 1
	Now                time.Time
}

// what names n of the items the list holds: "overdue action items of
// yours (service checkout)".
func (l actionList) what(n int) string {
	s := "open action "
	switch {
	case l.Overdue:
		s = "overdue action "
	case l.All:
		s = "action "
	}
	s += mrkdwn.Plural(n, "item", "items")
	if l.Mine {
		s += " of yours"
	}
	if l.Service != "" {
		s += " (service " + mrkdwn.Clip(mrkdwn.Escape(l.Service), 60) + ")"
	}
	return s
}

// command is the `/incident actions` that shows page p of the same list.
func (l actionList) command(p int) string {
	s := "/incident actions"
	if l.Mine {
		s += " mine"
	}
	if l.Overdue {
		s += " overdue"
	}
	if l.All && !l.Overdue {
		s += " all"
	}
	if l.Service != "" {
		s += " --service " + mrkdwn.Escape(l.Service)
	}
	if p > 1 {
		s += " page " + strconv.Itoa(p)
	}
	return "`" + s + "`"
}

// Text renders the page. The lines share what the header and the
// footer leave of maxListText, each at most maxListLine characters.
func (l actionList) Text() string {
	total := len(l.Items)
	pages := max(1, (total+listPageSize-1)/listPageSize)
	if total == 0 {
		if l.Page > 1 {
			return fmt.Sprintf("There is no page %d: there are no %s.", l.Page, l.what(0))
		}
		return fmt.Sprintf("No %s.", l.what(0))
	}
	if l.Page > pages {
		return fmt.Sprintf("There is no page %d: %d %s make %d page(s) of %d. %s shows the last.",
			l.Page, total, l.what(total), pages, listPageSize, l.command(pages))
	}
	from := (l.Page - 1) * listPageSize
	to := min(from+listPageSize, total)
	head := fmt.Sprintf("%d %s", total, l.what(total))
	if to-from < total {
		head += fmt.Sprintf(" (%d–%d)", from+1, to)
	}
	head += ", overdue first:"
	var foot []string
	for i := from; i < to; i++ {
		if it := l.Items[i]; it.Action.Status == incident.ActionOpen {
			foot = append(foot, fmt.Sprintf("Mark one done with `/incident action %s done %d`, or give it a new day with `/incident action %s due %d +7d`.",
				it.Incident.ID, it.Action.ID, it.Incident.ID, it.Action.ID))
			break
		}
	}
	if to < total {
		foot = append(foot, fmt.Sprintf("…and %d more. See the next %d with %s.", total-to, min(listPageSize, total-to), l.command(l.Page+1)))
	}
	frame := utf8.RuneCountInString(head) + len(foot) + listPageSize
	for _, f := range foot {
		frame += utf8.RuneCountInString(f)
	}
	width := min(maxListLine, (maxListText-frame)/listPageSize)
	var b strings.Builder
	b.WriteString(head)
	for i := from; i < to; i++ {
		b.WriteString("\n" + l.line(l.Items[i], width))
	}
	for _, f := range foot {
		b.WriteString("\n" + f)
	}
	return b.String()
}

// line is one item of the list, within width characters: where it is,
// its priority, state or due day, and owner, then as much of its text as
// fits.
func (l actionList) line(it incident.ActionItem, width int) string {
	a := it.Action
	var state string
	switch {
	case a.Status == incident.ActionDone:
		state = "done"
	case a.Status == incident.ActionWontDo:
		state = "won't do"
	case it.Overdue:
		state = "*overdue*, " + dueText(a.Due, l.Now)
	default:
		state = dueText(a.Due, l.Now)
	}
	owner := "no owner"
	if a.Owner != "" {
		owner = mrkdwn.Mention(a.Owner)
	}
	head := fmt.Sprintf("• %s #%d %s · %s · %s · ", it.Incident.ID, a.ID, it.Priority, state, owner)
	if t := ticketText(a); t != "" {
		head += t + " · "
	}
	room := max(width-utf8.RuneCountInString(head)-2, minListTitle)
	return mrkdwn.Clip(head+"“"+mrkdwn.Clip(mrkdwn.Escape(a.Text), room)+"”", width)
}

// parseActions reads what follows `actions`: mine, overdue, all,
// --service NAME and page N, in any order, each at most once.
func parseActions(c Command, args []string) (Command, error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch l := strings.ToLower(a); {
		case l == "mine" && !c.Mine:
			c.Mine = true
		case l == "overdue" && !c.Overdue:
			c.Overdue = true
		case l == "all" && !c.AllStates:
			c.AllStates = true
		case (l == "--service" || strings.HasPrefix(l, "--service=")) && c.Service == "":
			if v, ok := strings.CutPrefix(a, "--service="); ok {
				c.Service = v
			} else if i+1 < len(args) {
				i++
				c.Service = args[i]
			}
			if c.Service == "" {
				return c, usagef("--service needs a name: `/incident actions overdue --service checkout`")
			}
		case l == "page" && c.Page == 0:
			if i+1 >= len(args) {
				return c, usagef("say which page: `/incident actions page 2`")
			}
			i++
			p, err := strconv.Atoi(args[i])
			if err != nil || p < 1 {
				return c, usagef("%s is not a page number; pages count from 1: `/incident actions page 2`", echo(args[i]))
			}
			c.Page = p
		default:
			return c, usagef("%s is not an actions option: %s", echo(a), VerbUsage(VerbActions))
		}
	}
	if c.AllStates && c.Overdue {
		return c, usagef("overdue items are open ones; ask for `/incident actions overdue` or `/incident actions all`, not both")
	}
	return c, nil
}
