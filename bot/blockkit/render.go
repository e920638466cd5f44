package blockkit

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/timeline"
)

// Action ids of the interactive elements Ooda's messages carry. The
// interactivity handler dispatches on them; their values are
// "<incident number>:<role or status>".
const (
	ActionTakeRole  = "ooda_take_role"
	ActionSetStatus = "ooda_set_status"
)

// MaxTopic is Slack's limit on a channel topic, in characters.
const MaxTopic = 250

// Slack's limits on what a message may hold: a section's text, and the
// fallback text (which notifications cut far earlier anyway).
const (
	maxSectionText  = 3000
	maxFallbackText = 4000
)

// recentInBrief is how many entries a handover brief lists.
const recentInBrief = 5

// Message is a rendered Slack message.
type Message struct {
	// Text is the fallback that notifications, screen readers and clients
	// without Block Kit show, so it must make sense on its own.
	Text   string
	Blocks []slack.Block
}

// PostContext is what a message is rendered from.
type PostContext struct {
	// Event is the event the message is about: the one at the effect's
	// sequence.
	Event timeline.Event
	// Incident is the incident as Event's command left it, so a message
	// delayed by an outage says what was true when it was written: an
	// update written at SEV1 says SEV1 even if the incident is SEV2 when
	// Slack takes it. The kickoff is the exception: it is a live message,
	// rendered from the incident as it is when it is sent.
	Incident incident.Incident
	// Recent are events before Event, oldest first; the handover brief
	// lists the last few entries among them.
	Recent []timeline.Event
	// Announce renders for the announcement channel, where a message has
	// to name its incident and link the incident's channel.
	Announce bool
	// Written is when the message's event was recorded, and Delivered when
	// the message is sent. A message sent more than LateAfter after it was
	// written says when it was written. Either zero: it is on time.
	Written, Delivered time.Time
	// Similar are the past incidents most like this one, for the kickoff
	// (only what every reader of the channel may see); none: no such
	// block.
	Similar []search.Hit
}

// LateAfter is how long after it was written a message is delivered
// before it says when it was written. Posts normally reach Slack within
// seconds, and the executor's own retries within a minute; past two
// minutes it waited out an outage, and readers may already have seen the
// incident move on, so a message showing an older severity or status must
// say it is old.
const LateAfter = 2 * time.Minute

// Render renders one of the domain's message templates. It fails only for
// a template it does not know, which no retry can fix.
func Render(template string, pc PostContext) (Message, error) {
	msg, err := render(template, pc)
	if err != nil || template == incident.TemplateKickoff {
		// The kickoff says when it was declared, and it is kept current
		// by later refreshes that would drop the line again.
		return msg, err
	}
	return late(msg, pc), nil
}

func render(template string, pc PostContext) (Message, error) {
	switch template {
	case incident.TemplateKickoff:
		return renderKickoff(pc), nil
	case incident.TemplateLine:
		return renderLine(pc), nil
	case incident.TemplateHandover:
		return renderHandover(pc), nil
	case incident.TemplateUpdate:
		return renderUpdate(pc), nil
	case incident.TemplateAnnounce:
		return renderAnnounce(pc), nil
	case incident.TemplateResolved:
		return renderResolved(pc), nil
	case incident.TemplateNudge:
		return renderNudge(pc), nil
	}
	return Message{}, fmt.Errorf("render: unknown message template %q", template)
}

// Topic is the incident channel's topic, rendered from the incident's
// current state:
//
//	Investigating · SEV2 · Commander <@U1> · Comms — · Ops <@U2> · Checkout is down
//
// It is at most MaxTopic characters. The title comes last and is what
// gets shortened; a mention or an escaped character is never cut in half.
func Topic(inc incident.Incident) string {
	parts := []string{statusTitle(inc.Status), "SEV" + strconv.Itoa(inc.Severity)}
	for _, r := range roles.All {
		if u := inc.Roles.Get(r); u != "" {
			parts = append(parts, r.Title()+" "+mrkdwn.Mention(u))
		} else {
			parts = append(parts, r.Title()+" —")
		}
	}
	// Only ids that are not Slack's own (API actors) could make the roles
	// alone too long; drop whole parts rather than cut one.
	head := strings.Join(parts, " · ")
	for utf8.RuneCountInString(head) > MaxTopic && len(parts) > 1 {
		parts = parts[:len(parts)-1]
		head = strings.Join(parts, " · ")
	}
	title := mrkdwn.Escape(inc.Title)
	room := MaxTopic - utf8.RuneCountInString(head) - utf8.RuneCountInString(" · ")
	if title == "" || room < 8 {
		return mrkdwn.Clip(head, MaxTopic)
	}
	return head + " · " + mrkdwn.Clip(title, room)
}

// renderKickoff is the first message in an incident channel: what was
// declared and by whom, who holds which role (with a button for each empty
// one), the status (a menu to move it), and how to run the loop.
func renderKickoff(pc PostContext) Message {
	inc, e := pc.Incident, pc.Event
	title := incidentTitle(pc)
	var head strings.Builder
	fmt.Fprintf(&head, ":rotating_light: *%s · SEV%d · %s*\nDeclared by %s at %s UTC",
		inc.ID, inc.Severity, title, mrkdwn.Mention(e.Actor), e.At.UTC().Format("15:04"))
	if s := cmp.Or(inc.Service, e.Attr(timeline.AttrService)); s != "" {
		fmt.Fprintf(&head, " · service `%s`", mrkdwn.Escape(s))
	}
	if inc.Private {
		head.WriteString(" · private: kept out of the announcement channel")
	}
	if e.Text != "" {
		head.WriteString("\n")
		head.WriteString(quoteLines(mrkdwn.Escape(e.Text)))
	}
	blocks := []slack.Block{mrkdwnSection(head.String())}

	for _, r := range roles.All {
		u := inc.Roles.Get(r)
		if u != "" {
			blocks = append(blocks, mrkdwnSection(fmt.Sprintf("*%s*: %s", r.Title(), mrkdwn.Mention(u))))
			continue
		}
		if !inc.Status.Active() {
			// Nobody takes a role in an incident that is over.
			blocks = append(blocks, mrkdwnSection(fmt.Sprintf("*%s*: nobody", r.Title())))
			continue
		}
		take := slack.NewButtonBlockElement(ActionTakeRole, actionValue(inc.Number, string(r)), plainText("I'll take it"))
		blocks = append(blocks, slack.NewSectionBlock(
			mrkdwnText(fmt.Sprintf("*%s*: nobody yet — %s", r.Title(), roleDuty(r))), nil, slack.NewAccessory(take)))
	}

	var options []*slack.OptionBlockObject
	var current *slack.OptionBlockObject
	for _, st := range []incident.Status{incident.StatusInvestigating, incident.StatusIdentified, incident.StatusMonitoring, incident.StatusResolved} {
		o := slack.NewOptionBlockObject(actionValue(inc.Number, string(st)), plainText(statusTitle(st)), nil)
		options = append(options, o)
		if st == inc.Status {
			current = o
		}
	}
	menu := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Set status"), ActionSetStatus, options...)
	if current != nil {
		menu = menu.WithInitialOption(current)
	}
	var status slack.Block = slack.NewSectionBlock(mrkdwnText("*Status*: "+statusTitle(inc.Status)), nil, slack.NewAccessory(menu))
	if inc.Status == incident.StatusClosed {
		// Closed is final: a menu would only offer refusals.
		status = mrkdwnSection("*Status*: " + statusTitle(inc.Status))
	}
	blocks = append(blocks,
		status,
		slack.NewDividerBlock(),
		// Placeholders are escaped like user text: a bare <text> is
		// markup to Slack, even between backticks.
		mrkdwnSection("*Run the loop* — every entry goes into the timeline and the post-mortem:\n"+
			"• *Observe* what you see: `/incident observe &lt;signal&gt;`\n"+
			"• *Orient* on what it means: `/incident orient [--cause] &lt;finding&gt;`\n"+
			"• *Decide* what to do: `/incident decide &lt;decision&gt;`\n"+
			"• *Act* and say what you did: `/incident act &lt;action&gt;`"),
	)
	if len(pc.Similar) > 0 {
		blocks = append(blocks, similarSection(pc.Similar))
	}
	blocks = append(blocks,
		contextMrkdwn("`/incident role ops @you` · `/incident status identified` · `/incident update &lt;text&gt;` · "+
			"`/incident action &lt;text&gt; @owner` · `/incident resolve [summary]` · `/incident help`"),
	)

	text := fmt.Sprintf("%s declared by %s: SEV%d %s. Commander: %s.",
		inc.ID, mrkdwn.Mention(e.Actor), inc.Severity, title, mrkdwn.Mention(inc.Roles.Commander))
	return Message{Text: mrkdwn.Clip(text, maxFallbackText), Blocks: blocks}
}

// late adds, to a message delivered LateAfter or more after it was
// written, a line that says when it was written and that what it shows is
// as it was then.
func late(msg Message, pc PostContext) Message {
	if pc.Written.IsZero() || pc.Delivered.IsZero() || pc.Delivered.Sub(pc.Written) < LateAfter {
		return msg
	}
	written := mrkdwn.Clock(pc.Written)
	if w, d := pc.Written.UTC(), pc.Delivered.UTC(); w.YearDay() != d.YearDay() || w.Year() != d.Year() {
		written = w.Format("Jan 2 ") + written
	}
	delay := mrkdwn.Duration(pc.Delivered.Sub(pc.Written))
	// Lateness has more causes than Slack's outages (Ooda itself may have
	// been down), so the line says what happened, not why.
	when := fmt.Sprintf("Written %s, delivered %s late", written, delay)
	msg.Blocks = append(msg.Blocks, contextMrkdwn(":hourglass: "+when+": it shows the incident as it was then; `/incident list` shows it now."))
	msg.Text = mrkdwn.Clip(when+": "+msg.Text, maxFallbackText)
	return msg
}

// renderLine is a one-line record of a change.
func renderLine(pc PostContext) Message {
	text := lineText(pc.Event, pc.Incident)
	if pc.Announce {
		text = announcePrefix(pc) + text
	}
	return Message{Text: mrkdwn.Clip(text, maxFallbackText), Blocks: []slack.Block{mrkdwnSection(text)}}
}

// renderHandover briefs the new holder of a role: where the incident
// stands, what happened last, and what is still open.
func renderHandover(pc PostContext) Message {
	inc, e := pc.Incident, pc.Event
	r := roles.Role(e.Attr(timeline.AttrRole))
	to, from := e.Attr(timeline.AttrUser), e.Attr(timeline.AttrPrevious)
	headline := fmt.Sprintf(":handshake: *Handover: %s is now %s of %s*", mrkdwn.Mention(to), r.Title(), inc.ID)
	if from != "" {
		headline += " (taking over from " + mrkdwn.Mention(from) + ")"
	}
	var b strings.Builder
	b.WriteString(headline)
	fmt.Fprintf(&b, "\n*Where it stands*: %s · SEV%d · %s", statusTitle(inc.Status), inc.Severity, incidentTitle(pc))
	if inc.CustomerImpacting {
		fmt.Fprintf(&b, "\n*Customer impact*: %s", mrkdwn.Escape(inc.Impact))
	}
	blocks := []slack.Block{mrkdwnSection(b.String())}

	var recent []timeline.Event
	for _, ev := range pc.Recent {
		if ev.Seq < e.Seq && !ev.Bookkeeping() {
			recent = append(recent, ev)
		}
	}
	if len(recent) > recentInBrief {
		recent = recent[len(recent)-recentInBrief:]
	}
	if len(recent) > 0 {
		var rb strings.Builder
		rb.WriteString("*Latest entries*")
		for _, ev := range recent {
			fmt.Fprintf(&rb, "\n• `%s` %s", ev.At.UTC().Format("15:04"), lineText(ev, inc))
		}
		blocks = append(blocks, mrkdwnSection(rb.String()))
	}
	var ab strings.Builder
	open := 0
	for _, a := range inc.Actions {
		if a.Status != "open" {
			continue
		}
		if open == 0 {
			ab.WriteString("*Open actions*")
		}
		open++
		fmt.Fprintf(&ab, "\n• %d (%s, %s): %s", a.ID, inc.ActionPriority(a), ownerText(a.Owner), mrkdwn.Escape(a.Text))
	}
	if open > 0 {
		blocks = append(blocks, mrkdwnSection(ab.String()))
	}
	blocks = append(blocks, contextMrkdwn(roleDutyLine(r)+" The whole story: `/incident timeline`."))
	text := fmt.Sprintf("Handover: %s is now %s of %s (%s, SEV%d).", mrkdwn.Mention(to), r.Title(), inc.ID, inc.Status, inc.Severity)
	return Message{Text: text, Blocks: blocks}
}

// renderUpdate is a stakeholder update, in the incident channel and, for
// those outside it, the announcement channel.
func renderUpdate(pc PostContext) Message {
	inc, e := pc.Incident, pc.Event
	head := fmt.Sprintf(":mega: *Update on %s* · SEV%d · %s", inc.ID, inc.Severity, statusTitle(inc.Status))
	if pc.Announce {
		head += " · " + incidentTitle(pc)
		if inc.ChannelID != "" {
			head += " · <#" + inc.ChannelID + ">"
		}
	}
	body := mrkdwn.Escape(e.Text)
	blocks := []slack.Block{
		mrkdwnSection(head + "\n" + quoteLines(body)),
		contextMrkdwn("Posted by " + mrkdwn.Mention(e.Actor) + " at " + e.At.UTC().Format("15:04") + " UTC"),
	}
	text := fmt.Sprintf("%s update (SEV%d, %s): %s", inc.ID, inc.Severity, inc.Status, body)
	return Message{Text: mrkdwn.Clip(text, maxFallbackText), Blocks: blocks}
}

// renderAnnounce tells the announcement channel a new incident is open
// and where to follow it.
func renderAnnounce(pc PostContext) Message {
	inc, e := pc.Incident, pc.Event
	var b strings.Builder
	fmt.Fprintf(&b, ":rotating_light: *%s declared* · SEV%d · %s", inc.ID, inc.Severity, incidentTitle(pc))
	fmt.Fprintf(&b, "\nCommander: %s", mrkdwn.Mention(inc.Roles.Commander))
	if s := cmp.Or(inc.Service, e.Attr(timeline.AttrService)); s != "" {
		fmt.Fprintf(&b, " · service `%s`", mrkdwn.Escape(s))
	}
	if inc.ChannelID != "" {
		fmt.Fprintf(&b, " · follow it in <#%s>", inc.ChannelID)
	}
	text := fmt.Sprintf("%s declared: SEV%d %s. Commander: %s.", inc.ID, inc.Severity, incidentTitle(pc), mrkdwn.Mention(inc.Roles.Commander))
	if inc.ChannelID != "" {
		text += " Follow it in <#" + inc.ChannelID + ">."
	}
	return Message{Text: mrkdwn.Clip(text, maxFallbackText), Blocks: []slack.Block{
		mrkdwnSection(b.String()),
		contextMrkdwn("Declared by " + mrkdwn.Mention(e.Actor) + " at " + e.At.UTC().Format("15:04") + " UTC"),
	}}
}

// renderResolved closes the story: how long it took and what happened.
func renderResolved(pc PostContext) Message {
	inc, e := pc.Incident, pc.Event
	took := "?"
	if !inc.DeclaredAt.IsZero() {
		took = mrkdwn.Duration(e.At.Sub(inc.DeclaredAt))
	}
	head := fmt.Sprintf(":white_check_mark: *%s resolved* after %s · SEV%d · %s", inc.ID, took, inc.Severity, incidentTitle(pc))
	if pc.Announce && inc.ChannelID != "" {
		head += " · <#" + inc.ChannelID + ">"
	}
	var b strings.Builder
	b.WriteString(head)
	if e.Text != "" {
		b.WriteString("\n*Summary*:\n")
		b.WriteString(quoteLines(mrkdwn.Escape(e.Text)))
	}
	open := 0
	for _, a := range inc.Actions {
		if a.Status == "open" {
			open++
		}
	}
	ctx := "Resolved by " + mrkdwn.Mention(e.Actor) + "."
	if open > 0 {
		ctx += fmt.Sprintf(" %d follow-up action(s) open.", open)
	}
	if inc.PostmortemRequired() {
		why := fmt.Sprintf("SEV%d", inc.Severity)
		if inc.CustomerImpacting {
			why = "Customer-impacting"
		}
		ctx += " " + why + ": a post-mortem is expected"
		if !pc.Announce {
			ctx += "; `/incident postmortem` writes the draft"
		}
		ctx += "."
	}
	text := fmt.Sprintf("%s resolved after %s.", inc.ID, took)
	if e.Text != "" {
		text += " Summary: " + mrkdwn.Escape(e.Text)
	}
	return Message{Text: mrkdwn.Clip(text, maxFallbackText), Blocks: []slack.Block{mrkdwnSection(b.String()), contextMrkdwn(ctx)}}
}

// renderNudge is a reminder Ooda sends on its own.
func renderNudge(pc PostContext) Message {
	e := pc.Event
	text := mrkdwn.Escape(e.Text)
	if text == "" {
		text = "Reminder"
		if k := e.Attr(timeline.AttrNudge); k != "" {
			text += " (" + mrkdwn.Escape(k) + ")"
		}
	}
	if u := e.Attr(timeline.AttrUser); u != "" {
		text = mrkdwn.Mention(u) + " " + text
	}
	text = ":bell: " + pc.Incident.ID + ": " + text
	return Message{Text: mrkdwn.Clip(text, maxFallbackText), Blocks: []slack.Block{mrkdwnSection(text)}}
}

// lineText says what e did in one short line of mrkdwn, user text escaped.
func lineText(e timeline.Event, inc incident.Incident) string {
	who := mrkdwn.Mention(e.Actor)
	switch e.Kind {
	case timeline.KindRoleAssigned:
		r := roles.Role(e.Attr(timeline.AttrRole)).Title()
		u, prev := e.Attr(timeline.AttrUser), e.Attr(timeline.AttrPrevious)
		switch {
		case u == "":
			return fmt.Sprintf("%s left %s empty", who, r)
		case prev != "":
			return fmt.Sprintf("%s handed %s from %s to %s", who, r, mrkdwn.Mention(prev), mrkdwn.Mention(u))
		case u == e.Actor:
			return fmt.Sprintf("%s took %s", who, r)
		}
		return fmt.Sprintf("%s made %s %s", who, mrkdwn.Mention(u), r)
	case timeline.KindStatusChanged:
		return fmt.Sprintf("%s set status: %s", who, changeArrow(e.Attr(timeline.AttrPrevious), e.Attr(timeline.AttrStatus), ""))
	case timeline.KindSeverityChanged:
		return fmt.Sprintf("%s set severity: %s", who, changeArrow(e.Attr(timeline.AttrPrevious), e.Attr(timeline.AttrSeverity), "SEV"))
	case timeline.KindImpactSet:
		return fmt.Sprintf("%s set the customer impact: %s", who, mrkdwn.Escape(e.Text))
	case timeline.KindLoopEntry:
		label := string(e.Phase)
		if e.Phase == timeline.PhaseNone {
			label = "note"
		}
		if e.Attr(timeline.AttrCause) == "true" {
			label += " · root cause"
		}
		return fmt.Sprintf("[%s] %s: %s", label, who, mrkdwn.Escape(e.Text)) + backdated(e)
	case timeline.KindEntryAmended, timeline.KindEntryStruck:
		return correctionLine(e, who)
	case timeline.KindActionAdded:
		prio := e.Attr(timeline.AttrPriority)
		if prio == "" {
			prio = inc.ActionPriority(incident.Action{})
		}
		return fmt.Sprintf("%s added action %s (%s, %s): %s", who, mrkdwn.Escape(e.Attr(timeline.AttrActionID)), prio,
			ownerText(e.Attr(timeline.AttrOwner)), mrkdwn.Escape(e.Text))
	case timeline.KindActionUpdated:
		return actionLine(e)
	case timeline.KindUpdatePosted:
		return fmt.Sprintf("%s posted an update: %s", who, mrkdwn.Escape(e.Text))
	case timeline.KindResolved:
		if e.Text == "" {
			return fmt.Sprintf("%s resolved %s", who, inc.ID)
		}
		return fmt.Sprintf("%s resolved %s: %s", who, inc.ID, mrkdwn.Escape(e.Text))
	case timeline.KindReopened:
		return fmt.Sprintf("%s reopened %s: back to investigating", who, inc.ID)
	case timeline.KindClosed:
		if u := e.Attr(timeline.AttrURL); u != "" {
			return fmt.Sprintf("%s closed %s; post-mortem: %s", who, inc.ID, mrkdwn.Escape(u))
		}
		return fmt.Sprintf("%s closed %s", who, inc.ID)
	}
	return who + ": " + mrkdwn.Escape(timeline.Describe(e))
}

// announcePrefix names the incident for a line posted outside its channel.
func announcePrefix(pc PostContext) string {
	p := "*" + pc.Incident.ID + "* " + incidentTitle(pc)
	if pc.Incident.ChannelID != "" {
		p += " (<#" + pc.Incident.ChannelID + ">)"
	}
	return p + ": "
}

func changeArrow(prev, now, prefix string) string {
	if prev == "" {
		return prefix + now
	}
	return prefix + prev + " → " + prefix + now
}

// incidentTitle is the quoted, escaped title: the snapshot's, or the
// declared event's for a snapshot that somehow lacks it.
func incidentTitle(pc PostContext) string {
	return mrkdwn.Quote(cmp.Or(pc.Incident.Title, pc.Event.Attr(timeline.AttrTitle)))
}

func ownerText(u string) string {
	if u == "" {
		return "no owner yet"
	}
	return "owner " + mrkdwn.Mention(u)
}

func roleDuty(r roles.Role) string {
	switch r {
	case roles.Commander:
		return "owns decisions and the loop"
	case roles.Comms:
		return "keeps stakeholders told"
	case roles.Ops:
		return "leads hands-on mitigation"
	}
	return "unassigned"
}

func roleDutyLine(r roles.Role) string {
	switch r {
	case roles.Commander:
		return "The Commander owns decisions and the loop: check in with `/incident decide &lt;text&gt;`."
	case roles.Comms:
		return "Comms keeps stakeholders told: `/incident update &lt;text&gt;` posts here and in the announcement channel."
	case roles.Ops:
		return "Ops leads hands-on mitigation: record what you do with `/incident act &lt;text&gt;`."
	}
	return ""
}

// statusTitle is a status as a heading shows it: "Investigating".
func statusTitle(s incident.Status) string {
	if s == "" {
		return "Unknown"
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

func actionValue(n uint64, v string) string { return strconv.FormatUint(n, 10) + ":" + v }

// quoteLines renders s as a mrkdwn block quote.
func quoteLines(s string) string {
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}

// mrkdwn is a text object Slack shows as written: verbatim, so it does not
// turn words of user text into links or mentions on its own. Every mention
// Ooda means is written out in <@U…> form.
func mrkdwnText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, mrkdwn.Clip(s, maxSectionText), false, true)
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func mrkdwnSection(s string) slack.Block { return slack.NewSectionBlock(mrkdwnText(s), nil, nil) }

func contextMrkdwn(s string) slack.Block { return slack.NewContextBlock("", mrkdwnText(s)) }
