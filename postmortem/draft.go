package postmortem

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// Version is the version of the document's JSON shape.
const Version = 1

// The section headings, in the order every rendering shows them.
const (
	SectionSummary   = "Summary"
	SectionImpact    = "Impact"
	SectionRootCause = "Root Cause"
	SectionTrigger   = "Trigger"
	SectionTimeline  = "Timeline"
	SectionLessons   = "Lessons Learned"
	SectionActions   = "Action Items"
)

// Sections lists the section headings in order. The review note follows
// them and is not a section of the post-mortem itself.
func Sections() []string {
	return []string{SectionSummary, SectionImpact, SectionRootCause, SectionTrigger, SectionTimeline, SectionLessons, SectionActions}
}

// Options says how Draft writes the draft.
type Options struct {
	// Now is when the draft is generated, shown in its header; zero leaves
	// the line out. Draft never reads the clock itself.
	Now time.Time
	// Gap is the longest stretch without entries the timeline does not
	// mark; zero means timeline.DefaultGap.
	Gap time.Duration
	// Names turns a Slack user id into the name to show. It is called once
	// per distinct id; nil, or an empty answer, shows the id.
	Names func(userID string) string
	// Budget is the error budget the incident spent, when an SLO for its
	// service is known; nil means unknown.
	Budget *BudgetSpent
	// Chart is an SVG chart of the incident's window (an SLO's error
	// ratio, drawn by package chart, which writes SVG safe to inline),
	// shown in the HTML draft's impact section; nil shows none. The
	// Markdown and JSON drafts leave it out.
	Chart []byte
}

// BudgetSpent is how much of an SLO's error budget the incident window
// consumed.
type BudgetSpent struct {
	// SLO names the objective.
	SLO string `json:"slo"`
	// Spent is the fraction of the budget spent: 0.043 is 4.3 %.
	Spent float64 `json:"spent"`
}

// Doc is a post-mortem draft: the sections in order, then the review note.
type Doc struct {
	// Version is the version of this JSON shape (Version).
	Version int `json:"version"`
	// Incident is the incident's id, "INC-7".
	Incident string `json:"incident"`
	// Title is the incident's title as declared.
	Title string `json:"title"`
	// Private is true for an incident kept out of the announcement channel;
	// its draft should be shared as narrowly.
	Private bool `json:"private"`
	// GeneratedAt is Options.Now in UTC; absent when it was not given.
	GeneratedAt time.Time `json:"generated_at,omitzero"`
	// Events is how many events the incident's log holds.
	Events int `json:"events"`

	Summary   Summary     `json:"summary"`
	Impact    Impact      `json:"impact"`
	RootCause RootCause   `json:"root_cause"`
	Trigger   Trigger     `json:"trigger"`
	Timeline  Timeline    `json:"timeline"`
	Lessons   Lessons     `json:"lessons_learned"`
	Actions   ActionItems `json:"action_items"`
	// Corrections lists the entries changed after they were written, in
	// the order the changes were made (corrections.go); empty when none.
	Corrections []Correction `json:"corrections"`

	// Review is the note for the authors at the end of the draft.
	Review Review `json:"review"`
}

// Summary is what happened, when, where, how bad, and where it stands.
type Summary struct {
	// Title is what happened, as declared.
	Title string `json:"title"`
	// Description is the text given with the declaration, if any.
	Description string `json:"description"`
	// Resolution is the summary given when the incident was resolved.
	Resolution string `json:"resolution"`
	// Start is the declaration time; End the resolution time, absent while
	// the incident is unresolved.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	// Duration is End − Start.
	Duration Elapsed `json:"duration_seconds"`
	// Service is the affected service, "" when none was given.
	Service string `json:"service"`
	// ChannelID is the Slack channel's id, "" when it was never created;
	// ChannelName is the name Ooda gives it.
	ChannelID   string `json:"channel_id"`
	ChannelName string `json:"channel_name"`
	// Severity is the final severity (1 worst, 4 least); WorstSeverity the
	// worst it reached.
	Severity      int `json:"severity"`
	WorstSeverity int `json:"worst_severity"`
	// Status is the final status.
	Status string `json:"status"`
	// People is how many people took part.
	People int `json:"people"`
	// Prompt asks the authors for what the log could not say.
	Prompt string `json:"prompt,omitempty"`
}

// Impact says whether and how customers were affected.
type Impact struct {
	// CustomerImpacting is true once `/incident impact` was used.
	CustomerImpacting bool `json:"customer_impacting"`
	// Text is the impact as recorded.
	Text string `json:"text"`
	// Start is when the impact was recorded; End when the incident next
	// reached monitoring or resolved, which EndedBy names.
	Start   time.Time `json:"start,omitzero"`
	End     time.Time `json:"end,omitzero"`
	EndedBy string    `json:"ended_by,omitempty"`
	// Duration is End − Start; null when either is missing.
	Duration Elapsed `json:"duration_seconds"`
	// Budget is the error budget spent during the incident; null when no
	// SLO is known for the service (unknown, not zero).
	Budget *BudgetSpent `json:"error_budget"`
	// Chart is Options.Chart, for the HTML draft only.
	Chart template.HTML `json:"-"`
	// Prompt asks the authors for what the log could not say.
	Prompt string `json:"prompt,omitempty"`
}

// Entry is a timeline entry quoted in another section.
type Entry struct {
	// Seq is the event's sequence number in the incident's log.
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"`
	// Role is who acted: see TimelineEntry.Role.
	Role string `json:"role"`
	// Source says what kind of entry it is: "orient entry", "alert",
	// "SLO warning", "observation", "pinned message"…
	Source string `json:"source"`
	Text   string `json:"text"`
}

// RootCause is why the incident could happen.
type RootCause struct {
	// Confirmed is true when Entries are orient entries marked as the
	// cause; false when they are every orient entry, as candidates.
	Confirmed bool    `json:"confirmed"`
	Entries   []Entry `json:"entries"`
	// Prompt guides the authors.
	Prompt string `json:"prompt"`
}

// Trigger is what set the incident off.
type Trigger struct {
	// Entry is the first observation or alert; null when there was none.
	Entry *Entry `json:"entry"`
	// Prompt guides the authors.
	Prompt string `json:"prompt"`
}

// Timeline is the incident minute by minute, bookkeeping left out.
type Timeline struct {
	// Start is the declaration time; offsets count from its minute.
	Start time.Time `json:"start,omitzero"`
	// SpansDays is true when the clocks carry their date.
	SpansDays bool `json:"spans_days"`
	// Gap is the longest silence left unmarked.
	Gap     Elapsed  `json:"gap_seconds"`
	Minutes []Minute `json:"minutes"`
}

// Minute is one minute of the timeline that has entries.
type Minute struct {
	At time.Time `json:"at"`
	// Clock is "23:10", or "2026-11-26 23:10" when the timeline spans days.
	Clock string `json:"clock"`
	// Offset is from the declaration: "T+00:05", "T-00:03".
	Offset string `json:"offset"`
	// SilenceBefore is the stretch without entries before this minute when
	// it is longer than the gap; null otherwise.
	SilenceBefore Elapsed         `json:"silence_before_seconds"`
	Entries       []TimelineEntry `json:"entries"`
}

// TimelineEntry is one event of the timeline.
type TimelineEntry struct {
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"`
	// Kind is the event kind (timeline.Kind).
	Kind string `json:"kind"`
	// Phase is observe, orient, decide or act; "" for notes, updates and
	// the close.
	Phase string `json:"phase"`
	// Role is who acted, by the role they held at that moment: Commander,
	// Comms, Ops (joined with "/" when one person held several),
	// "responder" for someone without a role, "alert", "SLO" or "Ooda" for
	// entries no person made.
	Role string `json:"role"`
	// Text says what happened, with names only where they are needed
	// (role assignments, handovers, action owners).
	Text string `json:"text"`
}

// Lessons is what the team takes away: prompts for the authors and the
// measured key times.
type Lessons struct {
	Prompts  []Prompt  `json:"prompts"`
	KeyTimes []KeyTime `json:"key_times"`
}

// Prompt is a heading the authors fill in.
type Prompt struct {
	Heading string `json:"heading"`
	Text    string `json:"text"`
}

// KeyTime is one measured stretch of the response.
type KeyTime struct {
	// Name is "Time to declare", "Time to Commander"…
	Name string `json:"name"`
	// From and To name the two moments measured between.
	From string `json:"from"`
	To   string `json:"to"`
	// Elapsed is the stretch; null when one of the moments is not in the log.
	Elapsed Elapsed `json:"seconds"`
	// Note says which event was used, or why the time is unknown.
	Note string `json:"note,omitempty"`
}

// ActionItems are the follow-up actions, ready to become tickets.
type ActionItems struct {
	Items []ActionItem `json:"items"`
	// Prompt is set when no action was recorded.
	Prompt string `json:"prompt,omitempty"`
}

// ActionItem is one follow-up action.
type ActionItem struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
	// Owner is the owner's name, "" when nobody owns it; OwnerID their id.
	Owner   string `json:"owner"`
	OwnerID string `json:"owner_id"`
	// Priority is P0–P3; DefaultPriority is true when it was not given and
	// comes from the incident (P0 when customer-impacting, else P2).
	Priority        string `json:"priority"`
	DefaultPriority bool   `json:"default_priority"`
	Status          string `json:"status"`
	// Done is true for an action whose status is done or closed.
	Done      bool      `json:"done"`
	CreatedAt time.Time `json:"created_at"`
	// Due is the day it is due (2026-12-20), "" without one; Overdue
	// says it is open past that day when the draft is written (UTC).
	Due     string `json:"due"`
	Overdue bool   `json:"overdue,omitempty"`
	// Link is the ticket that tracks it; Reason why it won't be done.
	Link     string    `json:"link,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// Ticket is the ticket Ooda keeps for it in a tracker; nil for none.
	Ticket *Ticket `json:"ticket,omitempty"`
}

// Ticket is an action item's ticket as the draft shows it.
type Ticket struct {
	// Name is the ticket's name (OPS-12, acme/ops#42), "" until created.
	Name  string `json:"name,omitempty"`
	URL   string `json:"url,omitempty"`
	State string `json:"state"` // pending, open, closed, failed
	Error string `json:"error,omitempty"`
}

// Label is the ticket's state as the draft writes it beside its name:
// "ticket pending", "(open)", "ticket failed: why".
func (t Ticket) Label() string {
	switch t.State {
	case incident.TicketPending:
		return "ticket pending"
	case incident.TicketFailed:
		return "ticket failed: " + t.Error
	}
	if t.Error != "" {
		return "(" + t.State + "; close failed: " + t.Error + ")"
	}
	return "(" + t.State + ")"
}

// Review is the note for the authors: what the blameless check found in
// the text people wrote. It is never part of the sections.
type Review struct {
	Findings []ReviewFinding `json:"findings"`
	// UnresolvedNames counts the people shown by member ID because
	// Options.Names knew no name for them (Slack unreachable, and never
	// seen); absent without Options.Names.
	UnresolvedNames int `json:"unresolved_names,omitempty"`
}

// ReviewFinding is a finding of the blameless check and where in the
// draft it is.
type ReviewFinding struct {
	// Section is the section holding the text; Where the place within it,
	// such as a timeline minute.
	Section string `json:"section"`
	Where   string `json:"where"`
	Finding
}

// Draft writes the post-mortem draft of inc from its events, which must be
// in sequence order. It is pure and deterministic.
func Draft(inc incident.Incident, events []timeline.Event, opts Options) Doc {
	d := drafter{inc: &inc, opts: &opts, names: make(map[string]string), worst: inc.Severity}
	gap := opts.Gap
	if gap <= 0 {
		gap = timeline.DefaultGap
	}
	view := timeline.Build(timelineEvents(events), inc.DeclaredAt, timeline.Options{Gap: gap})
	doc := Doc{
		Version:  Version,
		Incident: inc.ID,
		Title:    inc.Title,
		Private:  inc.Private,
		Events:   len(events),
	}
	if !opts.Now.IsZero() {
		doc.GeneratedAt = opts.Now.UTC()
	}
	doc.Timeline = d.timeline(view, gap)
	doc.Summary = d.summary()
	doc.Impact = d.impact()
	doc.RootCause = d.rootCause()
	doc.Trigger = d.trigger(view)
	doc.Lessons = d.lessons(view.SpansDays)
	doc.Actions = d.actions()
	doc.Corrections = d.corrections(view.Corrections, events, view.Start, view.SpansDays)
	d.lintTitle()
	doc.Review = Review{Findings: d.findings, UnresolvedNames: d.unresolved}
	if doc.Review.Findings == nil {
		doc.Review.Findings = []ReviewFinding{}
	}
	return doc
}

// drafter holds what one pass over the timeline learns.
type drafter struct {
	inc   *incident.Incident
	opts  *Options
	names map[string]string
	// unresolved counts the ids Options.Names had no name for.
	unresolved int

	worst        int
	causes       []Entry
	orients      []Entry
	firstSignal  *timeline.Event
	commanderAt  time.Time
	updateAt     time.Time
	monitoringAt time.Time
	impactStart  time.Time
	impactEnd    time.Time
	impactEndBy  string
	description  string
	findings     []ReviewFinding
}

// name resolves a user id once per id.
func (d *drafter) name(id string) string {
	if n, ok := d.names[id]; ok {
		return n
	}
	n := id
	if d.opts.Names != nil && id != "" {
		if looked := d.opts.Names(id); looked != "" {
			n = looked
		} else {
			d.unresolved++
		}
	}
	d.names[id] = n
	return n
}

func (d *drafter) timeline(view timeline.View, gap time.Duration) Timeline {
	t := Timeline{Start: view.Start, SpansDays: view.SpansDays, Gap: known(gap), Minutes: make([]Minute, len(view.Minutes))}
	total := 0
	for i := range view.Minutes {
		total += len(view.Minutes[i].Events)
	}
	// One backing array for every minute's entries, as timeline.Build does.
	all := make([]TimelineEntry, total)
	var holders roles.Holders
	n := 0
	for i := range view.Minutes {
		m := &view.Minutes[i]
		out := &t.Minutes[i]
		out.At = m.At
		out.Clock = view.Clock(*m)
		out.Offset = m.OffsetLabel()
		if m.Silence > 0 {
			out.SilenceBefore = known(m.Silence)
		}
		from := n
		for j := range m.Events {
			e := &m.Events[j]
			role := roleOf(e, holders)
			all[n] = TimelineEntry{Seq: e.Seq, At: e.At.UTC(), Kind: string(e.Kind), Phase: string(e.Phase), Role: role, Text: d.describe(e)}
			n++
			d.learn(e, role)
			// The text as the draft shows it: a mention reads @name.
			if fs := Lint(d.plain(e.Text)); len(fs) > 0 {
				d.addFindings(SectionTimeline, out.Clock+" ("+out.Offset+")", fs)
			}
			if e.Kind == timeline.KindRoleAssigned {
				holders = holders.With(roles.Role(e.Attr(timeline.AttrRole)), e.Attr(timeline.AttrUser))
			}
		}
		out.Entries = all[from:n:n]
	}
	return t
}

func (d *drafter) addFindings(section, where string, fs []Finding) {
	for _, f := range fs {
		d.findings = append(d.findings, ReviewFinding{Section: section, Where: where, Finding: f})
	}
}

// lintTitle checks the title, which no event text carries, and puts its
// findings first: the title is the first thing in the draft.
func (d *drafter) lintTitle() {
	fs := Lint(d.inc.Title)
	if len(fs) == 0 {
		return
	}
	out := make([]ReviewFinding, 0, len(fs)+len(d.findings))
	for _, f := range fs {
		out = append(out, ReviewFinding{Section: SectionSummary, Where: "title", Finding: f})
	}
	d.findings = append(out, d.findings...)
}

// learn gathers, in one pass, the facts the other sections need.
func (d *drafter) learn(e *timeline.Event, role string) {
	if isSignal(e) && (d.firstSignal == nil || e.At.Before(d.firstSignal.At)) {
		d.firstSignal = e
	}
	switch e.Kind {
	case timeline.KindDeclared:
		d.description = e.Text
		d.worsen(e.Attr(timeline.AttrSeverity))
	case timeline.KindSeverityChanged:
		d.worsen(e.Attr(timeline.AttrSeverity))
	case timeline.KindRoleAssigned:
		if d.commanderAt.IsZero() && roles.Role(e.Attr(timeline.AttrRole)) == roles.Commander && e.Attr(timeline.AttrUser) != "" {
			d.commanderAt = e.At
		}
	case timeline.KindUpdatePosted:
		if d.updateAt.IsZero() {
			d.updateAt = e.At
		}
	case timeline.KindImpactSet:
		if d.impactStart.IsZero() {
			d.impactStart = e.At
		}
	case timeline.KindStatusChanged:
		if e.Attr(timeline.AttrStatus) == string(incident.StatusMonitoring) {
			if d.monitoringAt.IsZero() {
				d.monitoringAt = e.At
			}
			d.endImpact(e.At, "monitoring")
		}
	case timeline.KindResolved:
		d.endImpact(e.At, "resolved")
	case timeline.KindLoopEntry:
		if e.Phase != timeline.PhaseOrient {
			break
		}
		entry := Entry{Seq: e.Seq, At: e.At.UTC(), Role: role, Source: "orient entry", Text: d.plain(e.Text)}
		if e.Attr(timeline.AttrCause) == "true" {
			d.causes = append(d.causes, entry)
		}
		d.orients = append(d.orients, entry)
	}
}

func (d *drafter) endImpact(at time.Time, by string) {
	if !d.impactStart.IsZero() && d.impactEnd.IsZero() {
		d.impactEnd, d.impactEndBy = at, by
	}
}

func (d *drafter) worsen(sev string) {
	if s, err := strconv.Atoi(sev); err == nil && s > 0 && (d.worst == 0 || s < d.worst) {
		d.worst = s
	}
}

// isSignal reports whether e tells of the problem before or as people
// noticed it: an observation, an alert or SLO warning, a captured message.
func isSignal(e *timeline.Event) bool {
	switch {
	case e.Source == timeline.SourceAlert, e.Source == timeline.SourceSLO:
		return true
	case e.Kind == timeline.KindMessageCaptured:
		return true
	case e.Kind == timeline.KindLoopEntry && e.Phase == timeline.PhaseObserve:
		return true
	}
	return false
}

// isTrigger reports whether e can be the trigger: the first observe entry
// (typed or captured) or alert.
func isTrigger(e *timeline.Event) bool {
	switch {
	case e.Source == timeline.SourceAlert, e.Source == timeline.SourceSLO:
		return true
	case e.Kind == timeline.KindLoopEntry, e.Kind == timeline.KindMessageCaptured:
		return e.Phase == timeline.PhaseObserve
	}
	return false
}

// sourceLabel says what kind of entry e is, for the sections that quote it.
func sourceLabel(e *timeline.Event) string {
	switch {
	case e.Source == timeline.SourceAlert:
		return "alert"
	case e.Source == timeline.SourceSLO:
		return "SLO warning"
	case e.Kind == timeline.KindMessageCaptured && e.Source == timeline.SourcePin:
		return "pinned message"
	case e.Kind == timeline.KindMessageCaptured && e.Source == timeline.SourceReaction:
		return "marked message"
	case e.Kind == timeline.KindMessageCaptured:
		return "captured message"
	case e.Kind == timeline.KindLoopEntry && e.Phase == timeline.PhaseObserve:
		return "observation"
	}
	return string(e.Kind)
}

func (d *drafter) summary() Summary {
	inc := d.inc
	s := Summary{
		Title:       inc.Title,
		Description: d.plain(d.description),
		Resolution:  d.plain(inc.Summary),
		Start:       utc(inc.DeclaredAt),
		End:         utc(inc.ResolvedAt),
		Duration:    between(inc.DeclaredAt, inc.ResolvedAt),
		Service:     inc.Service,
		ChannelID:   inc.ChannelID,
		Severity:    inc.Severity,
		Status:      string(inc.Status),
		People:      len(inc.Participants),
	}
	if inc.Number != 0 && inc.Title != "" {
		s.ChannelName = incident.ChannelName(inc.Number, inc.Title)
	}
	s.WorstSeverity = d.worst
	if s.Resolution == "" {
		s.Prompt = "Say in two or three sentences what happened, what customers saw, and what brought the service back."
	}
	return s
}

func (d *drafter) impact() Impact {
	inc := d.inc
	im := Impact{
		CustomerImpacting: inc.CustomerImpacting,
		Text:              d.plain(inc.Impact),
		Start:             utc(d.impactStart),
		End:               utc(d.impactEnd),
		EndedBy:           d.impactEndBy,
		Duration:          between(d.impactStart, d.impactEnd),
	}
	if b := d.opts.Budget; b != nil && !math.IsNaN(b.Spent) && !math.IsInf(b.Spent, 0) {
		im.Budget = &BudgetSpent{SLO: b.SLO, Spent: b.Spent}
	}
	if len(d.opts.Chart) > 0 {
		// The caller vouches for the SVG (Options.Chart): package chart
		// escapes its text and writes no script or reference.
		im.Chart = template.HTML(d.opts.Chart) //nolint:gosec // see above
	}
	switch {
	case !inc.CustomerImpacting:
		im.Prompt = "No customer impact was recorded. If customers or other teams were affected, say who, how, and for how long."
	case !im.Duration.Known:
		im.Prompt = "The log does not say when the impact ended. Say when customers stopped being affected, and how many were."
	default:
		im.Prompt = "Say how many customers were affected and what they could not do."
	}
	return im
}

func (d *drafter) rootCause() RootCause {
	switch {
	case len(d.causes) > 0:
		return RootCause{Confirmed: true, Entries: d.causes,
			Prompt: "Add the contributing factors: what made this cause possible, and what let it reach customers?"}
	case len(d.orients) > 0:
		return RootCause{Entries: d.orients,
			Prompt: "No orient entry was marked as the cause. Keep the one that explains the incident (`/incident orient --cause <text>` records it) and move the others to contributing factors."}
	}
	return RootCause{Entries: []Entry{},
		Prompt: "No orient entry records a cause yet. What condition in the system made this incident possible? Write it here, or record it with `/incident orient --cause <text>`."}
}

// trigger picks the earliest observation or alert whose text is not also
// the root cause: the trigger is what set the incident off, the cause why
// it could.
func (d *drafter) trigger(view timeline.View) Trigger {
	var best *timeline.Event
	for i := range view.Minutes {
		for j := range view.Minutes[i].Events {
			e := &view.Minutes[i].Events[j]
			if !isTrigger(e) || (best != nil && !e.At.Before(best.At)) || d.isCause(e.Text) {
				continue
			}
			best = e
		}
	}
	if best == nil {
		return Trigger{Prompt: "Nothing in the timeline says what set this incident off. Name the alert, report or change that started it."}
	}
	text := best.Text
	if best.Kind == timeline.KindDeclared {
		text = best.Attr(timeline.AttrTitle)
		if best.Text != "" {
			text += ": " + best.Text
		}
	}
	holdersRole := d.roleAt(view, best.Seq)
	return Trigger{
		Entry:  &Entry{Seq: best.Seq, At: best.At.UTC(), Role: holdersRole, Source: sourceLabel(best), Text: d.plain(text)},
		Prompt: "The trigger is what set the incident off; the root cause is why it could. Check that this is the first sign of trouble, and add what changed just before it.",
	}
}

// roleAt finds the role attributed to event seq in the timeline already
// drafted; it is only asked for a handful of events.
func (d *drafter) roleAt(view timeline.View, seq uint64) string {
	var holders roles.Holders
	for i := range view.Minutes {
		for j := range view.Minutes[i].Events {
			e := &view.Minutes[i].Events[j]
			if e.Seq == seq {
				return roleOf(e, holders)
			}
			if e.Kind == timeline.KindRoleAssigned {
				holders = holders.With(roles.Role(e.Attr(timeline.AttrRole)), e.Attr(timeline.AttrUser))
			}
		}
	}
	return "responder"
}

func (d *drafter) isCause(text string) bool {
	t := strings.TrimSpace(text)
	for _, c := range d.causes {
		if strings.EqualFold(strings.TrimSpace(c.Text), t) {
			return true
		}
	}
	return false
}

func (d *drafter) lessons(spansDays bool) Lessons {
	inc := d.inc
	declared := inc.DeclaredAt
	l := Lessons{Prompts: []Prompt{
		{Heading: "What went well", Text: "Which alerts, tools, runbooks and habits helped the response?"},
		{Heading: "What went wrong", Text: "Where did the system, the tooling or the process make the response harder? Describe conditions, not people."},
		{Heading: "Where we got lucky", Text: "What could have made this worse, and did not? Which of those should not be left to luck next time?"},
	}}

	toDeclare := KeyTime{Name: "Time to declare", From: "first signal", To: "declared"}
	switch {
	case declared.IsZero():
		toDeclare.Note = "the declaration is not in the log"
	case d.firstSignal == nil:
		toDeclare.Note = "no alert, observation or captured message is recorded; add when the first alert or report came in"
	case d.firstSignal.At.After(declared):
		toDeclare.Note = "every signal was recorded after the declaration; add when the first alert or report came in"
	default:
		toDeclare.Elapsed = between(d.firstSignal.At, declared)
		toDeclare.Note = "first signal at " + clockUTC(d.firstSignal.At, spansDays) + ": " + sourceLabel(d.firstSignal)
	}
	if d.firstSignal != nil && d.firstSignal.Kind == timeline.KindDeclared {
		toDeclare.Note = "declared from an " + sourceLabel(d.firstSignal)
	}

	since := func(name, to string, at time.Time, unknown string) KeyTime {
		k := KeyTime{Name: name, From: "declared", To: to, Elapsed: between(declared, at)}
		if !k.Elapsed.Known {
			k.Note = unknown
		}
		return k
	}
	l.KeyTimes = []KeyTime{
		toDeclare,
		since("Time to Commander", "Commander named", d.commanderAt, "no Commander was named"),
		since("Time to first stakeholder update", "first update", d.updateAt, "no stakeholder update was posted"),
		since("Time to mitigation", "monitoring", d.monitoringAt, "the status never reached monitoring"),
		since("Time to resolution", "resolved", inc.ResolvedAt, "not resolved yet"),
	}
	return l
}

func (d *drafter) actions() ActionItems {
	inc := d.inc
	items := make([]ActionItem, 0, len(inc.Actions))
	for _, a := range inc.Actions {
		it := ActionItem{
			ID: a.ID, Text: d.plain(a.Text), OwnerID: a.Owner,
			Priority: inc.ActionPriority(a), DefaultPriority: a.Priority == "",
			Status: a.Status, CreatedAt: utc(a.CreatedAt),
			Due: a.Due, Link: a.Link, Reason: d.plain(a.Reason), ClosedAt: utc(a.ClosedAt),
		}
		if t := a.Ticket; t != nil {
			it.Ticket = &Ticket{URL: t.URL, State: t.State, Error: d.plain(t.Error)}
			if t.ID != "" {
				it.Ticket.Name = t.Name()
			}
		}
		if !d.opts.Now.IsZero() {
			it.Overdue = a.Overdue(incident.Day(d.opts.Now, time.UTC))
		}
		if a.Owner != "" {
			it.Owner = d.name(a.Owner)
		}
		switch strings.ToLower(a.Status) {
		case "done", "closed":
			it.Done = true
		}
		items = append(items, it)
	}
	out := ActionItems{Items: items}
	if len(items) == 0 {
		out.Prompt = "No follow-up action was recorded. What would stop this from happening again, or make it shorter? Record each with `/incident action <text> @owner`, or add it here."
	}
	return out
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// clockUTC renders a time to the minute with its zone, and its date when
// the incident spans days: "23:04 UTC", "2026-11-26 23:04 UTC".
func clockUTC(t time.Time, withDate bool) string {
	if withDate {
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}
	return t.UTC().Format("15:04 UTC")
}
