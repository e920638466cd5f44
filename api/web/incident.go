package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

// incidentPage shows one incident: its header, impact, the timeline
// exactly as `/incident timeline` builds it, its action items and the
// stakeholder updates. While the incident is not closed the page loads
// the live script, which follows the incident's stream (live.go).
func (s *Site) incidentPage(w http.ResponseWriter, r *http.Request, v *Viewer) {
	n, ok := s.incidentNumber(w, r, v)
	if !ok {
		return
	}
	st, err := s.readIncident(r.Context(), n, v.User)
	switch {
	case errors.Is(err, errUnseen):
		s.notFound(w, r, v, n)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	pg := s.incidentView(st, v, s.cfg.Now())
	pg.Command = s.commandBox(st.inc, "", nil)
	s.render(w, r, http.StatusOK, "incident", layout{
		Title:  st.inc.ID + " " + timeline.Clean(st.inc.Title),
		Viewer: v,
		Script: st.inc.Status != incident.StatusClosed,
		Page:   pg,
	})
}

// incidentNumber reads the {n} of an incident's URL, 7 or INC-7, and
// answers 400 when it is not a number.
func (s *Site) incidentNumber(w http.ResponseWriter, r *http.Request, v *Viewer) (uint64, bool) {
	n, err := incident.ParseID(r.PathValue("n"))
	if err != nil {
		s.fail(w, r, v, http.StatusBadRequest, "That is not an incident number",
			"An incident's page is at /incidents/7 for INC-7; the list of incidents links to each.")
		return 0, false
	}
	return n, true
}

// notFound is the answer for an incident that does not exist and for one
// the viewer may not see, word for word: a private incident's existence
// is not told to those outside it.
func (s *Site) notFound(w http.ResponseWriter, r *http.Request, v *Viewer, n uint64) {
	text, next := notFoundText(n)
	s.fail(w, r, v, http.StatusNotFound, text, next)
}

func notFoundText(n uint64) (text, next string) {
	return "There is no " + incident.ID(n) + " for you to see",
		"The number may be wrong, or the incident is private to its channel's members. The list of incidents shows every one you may see."
}

// errUnseen is an incident that does not exist or that the viewer may
// not see; the two are answered alike.
var errUnseen = errors.New("no such incident for this viewer")

// incidentState is what the page and the live stream render from: the
// incident folded from exactly the events read, so the header and the
// timeline never disagree, and the transcript messages its captured
// entries name.
type incidentState struct {
	inc    incident.Incident
	events []timeline.Event
	// messages are the captured messages as the channel's transcript
	// keeps them, by Slack ts; nil when no entry captured one.
	messages map[string]storage.TranscriptMessage
}

// readIncident reads incident n for user, or errUnseen when there is no
// such incident or the access rule does not admit user to it.
func (s *Site) readIncident(ctx context.Context, n uint64, user string) (incidentState, error) {
	inc, err := s.cfg.Store.Incident(ctx, n)
	if errors.Is(err, incident.ErrNotFound) {
		return incidentState{}, errUnseen
	}
	if err != nil {
		return incidentState{}, fmt.Errorf("read %s: %w", incident.ID(n), err)
	}
	if !inc.Admits(user) {
		return incidentState{}, errUnseen
	}
	events, err := s.cfg.Store.Events(ctx, n, 1)
	if err != nil {
		return incidentState{}, fmt.Errorf("read %s's events: %w", incident.ID(n), err)
	}
	st := incidentState{inc: inc.Clone()}
	st.add(events)
	// Events committed after the snapshot was read may have taken the
	// viewer out.
	if !st.inc.Admits(user) {
		return incidentState{}, errUnseen
	}
	if err := s.readMessages(ctx, &st); err != nil {
		return incidentState{}, err
	}
	return st, nil
}

// add appends events read after the state's last and folds those the
// incident has not seen yet.
func (st *incidentState) add(events []timeline.Event) {
	if len(st.events) == 0 {
		// The first read: the state takes the slice as it is.
		st.events = events
		for i := range events {
			if events[i].Seq > st.inc.LastSeq {
				st.inc.Apply(events[i])
			}
		}
		return
	}
	for _, e := range events {
		if n := len(st.events); n > 0 && e.Seq <= st.events[n-1].Seq {
			continue
		}
		st.events = append(st.events, e)
		if e.Seq > st.inc.LastSeq {
			st.inc.Apply(e)
		}
	}
}

// seq is the last event the state holds: what a page rendered from it
// says it shows.
func (st *incidentState) seq() uint64 {
	if n := len(st.events); n > 0 {
		return st.events[n-1].Seq
	}
	return st.inc.LastSeq
}

// captured lists the Slack ts of the captured messages the timeline
// shows, those of the incident's own channel, whose transcript holds them.
func (st *incidentState) captured() []string {
	var out []string
	for i := range st.events {
		e := &st.events[i]
		if e.Kind != timeline.KindMessageCaptured {
			continue
		}
		ts, ch := e.Attr(timeline.AttrTS), e.Attr(timeline.AttrChannel)
		if ts == "" || (ch != "" && st.inc.ChannelID != "" && ch != st.inc.ChannelID) {
			continue
		}
		if !slices.Contains(out, ts) {
			out = append(out, ts)
		}
	}
	return out
}

// messageReader reads one transcript message; *storage.DB is one. A
// store without it is read whole.
type messageReader interface {
	TranscriptMessageAt(ctx context.Context, n uint64, ts string) (storage.TranscriptMessage, bool, error)
}

// readMessages reads the transcript messages of the captured entries, so
// an edit or a deletion after the capture shows.
func (s *Site) readMessages(ctx context.Context, st *incidentState) error {
	want := st.captured()
	if len(want) == 0 {
		st.messages = nil
		return nil
	}
	n := st.inc.Number
	msgs := make(map[string]storage.TranscriptMessage, len(want))
	if mr, ok := s.cfg.Store.(messageReader); ok && len(want) <= 32 {
		for _, ts := range want {
			m, found, err := mr.TranscriptMessageAt(ctx, n, ts)
			if err != nil {
				return fmt.Errorf("read %s's transcript: %w", incident.ID(n), err)
			}
			if found {
				msgs[ts] = m
			}
		}
		st.messages = msgs
		return nil
	}
	all, err := s.cfg.Store.Transcript(ctx, n)
	if err != nil {
		return fmt.Errorf("read %s's transcript: %w", incident.ID(n), err)
	}
	for _, m := range all {
		if slices.Contains(want, m.TS) {
			msgs[m.TS] = m
		}
	}
	st.messages = msgs
	return nil
}

// incidentData is the incident page's data; each part is also what a
// live update re-renders on its own.
type incidentData struct {
	Summary  summaryData
	Timeline timelineData
	Actions  actionsData
	Updates  updatesData
	// Command is the command box (command.go); nil when the page shows
	// none.
	Command *commandData
}

// summaryData is the header: <section id="summary">.
type summaryData struct {
	Number      uint64
	ID          string
	Title       string
	Status      string // the status's name: investigating, closed
	StatusLabel string // as a heading shows it: Investigating
	Severity    int
	Private     bool
	Service     string
	Roles       []roleData
	DeclaredBy  string
	Declared    moment
	Resolved    moment // zero while open
	Duration    string
	Running     bool // the duration runs to now
	ChannelURL  string
	// PostmortemURL is the published post-mortem (closed incidents);
	// DraftURL the site's page of the draft.
	PostmortemURL string
	DraftURL      string
	Impact        string
	Summary       string // the resolution's summary
}

// roleData is one role and who holds it, by name.
type roleData struct {
	Role   string
	Holder string // "" when vacant
}

// moment is a time as a page shows it: readable text and the
// machine-readable <time datetime>.
type moment struct {
	Text string
	ISO  string
}

func momentOf(t time.Time, layout string) moment {
	if t.IsZero() {
		return moment{}
	}
	return moment{Text: t.UTC().Format(layout), ISO: t.UTC().Format(time.RFC3339)}
}

// timelineData is the timeline: <ol id="timeline">.
type timelineData struct {
	Number  uint64
	Seq     uint64 // the last event rendered: where the live stream starts
	Minutes []minuteData
	// HTML is Minutes rendered (minutes.go).
	HTML template.HTML
	// Numbered says some entry shows a number people may correct it by.
	Numbered bool
}

// minuteData is one minute of the timeline.
type minuteData struct {
	Minute  int64 // Unix minute: data-minute, what a live update replaces from
	Clock   moment
	Offset  string // T+00:05
	Silence string // "47 min" when a silence precedes the minute
	Entries []entryData
}

// entryData is one entry of the timeline.
type entryData struct {
	Seq    uint64
	Phase  string // observe, orient, decide, act, none
	Actor  string
	Text   string
	Number string // "#12" for an entry people may correct
	Cause  bool
	// Struck entries are shown crossed out, with who struck them and why.
	Struck   bool
	StruckBy string
	Reason   string
	// Amended entries carry their earlier texts, oldest first.
	Amended bool
	Earlier []versionData
	// Written is when a backdated entry was written: "14:10 UTC".
	Written string
	// Edited and Deleted mark a captured message changed in the channel
	// since; Edits are its earlier texts, oldest first.
	Edited  moment
	Deleted moment
	Edits   []versionData
}

// versionData is an earlier text of an entry or a message.
type versionData struct {
	Until moment // when it was replaced
	By    string // who replaced it, when known
	Text  string
}

// actionsData is <section id="actions">.
type actionsData struct {
	Items []actionData
}

// actionData is one action item.
type actionData struct {
	ID       int
	Text     string
	Owner    string // by name; "" when nobody has it
	Priority string
	Default  bool // the priority was not given
	Due      string
	State    string // open, overdue, done, wontdo
	Label    string // open, overdue, done, won't do
	Reason   string
	ClosedBy string
	Link     string
	// Ticket is the item's ticket in a tracker: its name and page once
	// created (TicketURL only when a web address), its state, and why it
	// failed; TicketState "" for none.
	TicketName, TicketURL, TicketState, TicketError string
}

// updatesData is <section id="updates">: the stakeholder updates, the
// latest first.
type updatesData struct {
	Items []updateData
}

// updateData is one stakeholder update.
type updateData struct {
	At   moment
	By   string
	Text string
}

// names resolves member IDs to the names people know, once per ID per
// render; an ID the directory does not know shows as itself, and Ooda's
// own entries as Ooda.
type names struct {
	people People
	seen   map[string]string
}

func (s *Site) names() *names { return &names{people: s.cfg.People, seen: map[string]string{}} }

func (nm *names) name(id string) string {
	if n, ok := nm.seen[id]; ok {
		return n
	}
	n := id
	switch {
	case id == incident.Bot:
		n = "Ooda"
	case nm.people != nil && id != "":
		if looked := nm.people.Name(id); looked != "" {
			n = looked
		}
	}
	n = timeline.Clean(n)
	nm.seen[id] = n
	return n
}

// incidentView is the whole page's data at now, for v.
func (s *Site) incidentView(st incidentState, v *Viewer, now time.Time) incidentData {
	nm := s.names()
	tl := timelineView(st, buildTimeline(st), 0, nm)
	tl.HTML = minutesHTML(tl.Minutes)
	return incidentData{
		Summary:  s.summaryView(st.inc, v, now, nm),
		Timeline: tl,
		Actions:  s.actionsView(st.inc, now, nm),
		Updates:  updatesView(st.events, nm),
	}
}

// buildTimeline is the timeline as `/incident timeline` builds it: the
// same events, the same options.
func buildTimeline(st incidentState) timeline.View {
	return timeline.Build(st.events, st.inc.DeclaredAt, timeline.Options{IncludeStruck: true})
}

func (s *Site) summaryView(inc incident.Incident, v *Viewer, now time.Time, nm *names) summaryData {
	d := summaryData{
		Number:      inc.Number,
		ID:          inc.ID,
		Title:       timeline.Clean(inc.Title),
		Status:      string(inc.Status),
		StatusLabel: capitalize(string(inc.Status)),
		Severity:    inc.Severity,
		Private:     inc.Private,
		Service:     timeline.Clean(inc.Service),
		DeclaredBy:  nm.name(inc.DeclaredBy),
		Declared:    momentOf(inc.DeclaredAt, "2006-01-02 15:04 UTC"),
		Resolved:    momentOf(inc.ResolvedAt, "2006-01-02 15:04 UTC"),
		DraftURL:    "/incidents/" + strconv.FormatUint(inc.Number, 10) + "/postmortem",
		Impact:      timeline.Clean(inc.Impact),
		Summary:     timeline.Clean(inc.Summary),
	}
	for _, r := range roles.All {
		rd := roleData{Role: r.Title()}
		if u := inc.Roles.Get(r); u != "" {
			rd.Holder = nm.name(u)
		}
		d.Roles = append(d.Roles, rd)
	}
	end := inc.ResolvedAt
	if end.IsZero() {
		end, d.Running = now, true
	}
	if !inc.DeclaredAt.IsZero() {
		// As the list of incidents says it.
		d.Duration = humanDuration(max(end.Sub(inc.DeclaredAt), 0))
	}
	if inc.ChannelID != "" {
		d.ChannelURL = channelURL(v.Team, inc.ChannelID)
	}
	if inc.Status == incident.StatusClosed && incident.IsWebLink(inc.PostmortemURL) {
		d.PostmortemURL = inc.PostmortemURL
	}
	return d
}

// channelURL opens a channel in Slack's web client, in the viewer's
// workspace; without one known, Slack's redirect finds it.
func channelURL(team, channel string) string {
	if team == "" {
		return "https://slack.com/app_redirect?channel=" + url.QueryEscape(channel)
	}
	return "https://app.slack.com/client/" + url.PathEscape(team) + "/" + url.PathEscape(channel)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// timelineView renders the minutes of view from Unix minute from on (all
// of them when from is 0).
func timelineView(st incidentState, view timeline.View, from int64, nm *names) timelineData {
	d := timelineData{Number: st.inc.Number, Seq: st.seq()}
	first := 0
	if from != 0 {
		first, _ = slices.BinarySearchFunc(view.Minutes, from, func(m timeline.Minute, k int64) int {
			return cmp.Compare(unixMinute(m.At), k)
		})
	}
	// Amendments by the entry they amend, for the earlier texts.
	var earlier map[uint64][]versionData
	for _, c := range view.Corrections {
		if c.Kind != timeline.CorrectionAmended {
			continue
		}
		if earlier == nil {
			earlier = map[uint64][]versionData{}
		}
		text := c.Previous
		if c.Text == "" && !c.PreviousAt.IsZero() {
			text = c.Previous + " (at " + c.PreviousAt.UTC().Format("15:04 UTC") + ")"
		}
		earlier[c.Entry] = append(earlier[c.Entry], versionData{
			Until: momentOf(c.At, "2006-01-02 15:04 UTC"), By: nm.name(c.By), Text: timeline.Clean(text),
		})
	}
	layout := "15:04"
	if view.SpansDays {
		layout = "2006-01-02 15:04"
	}
	d.Minutes = make([]minuteData, 0, len(view.Minutes)-first)
	for i := first; i < len(view.Minutes); i++ {
		m := &view.Minutes[i]
		md := minuteData{
			Minute:  unixMinute(m.At),
			Clock:   moment{Text: m.At.UTC().Format(layout), ISO: m.At.UTC().Format(time.RFC3339)},
			Offset:  m.OffsetLabel(),
			Entries: make([]entryData, 0, len(m.Events)),
		}
		if m.Silence > 0 {
			md.Silence = timeline.Minutes(m.Silence)
		}
		for j := range m.Events {
			ed := entryView(&m.Events[j], st.messages, nm)
			if ed.Amended {
				ed.Earlier = earlier[ed.Seq]
			}
			d.Numbered = d.Numbered || ed.Number != ""
			md.Entries = append(md.Entries, ed)
		}
		d.Minutes = append(d.Minutes, md)
	}
	return d
}

func entryView(e *timeline.Event, messages map[string]storage.TranscriptMessage, nm *names) entryData {
	d := entryData{Seq: e.Seq, Phase: string(e.Phase), Actor: nm.name(e.Actor)}
	if e.Phase == timeline.PhaseNone {
		d.Phase = "none"
	}
	if e.Actor == "" {
		d.Actor = "Ooda"
	}
	ev := *e
	if e.Kind == timeline.KindMessageCaptured {
		if m, ok := messages[e.Attr(timeline.AttrTS)]; ok {
			if len(m.Edits) > 0 {
				// The message as it reads now; what it said before is
				// kept beside it.
				ev.Text = m.Text
				last := m.Edits[len(m.Edits)-1]
				d.Edited = momentOf(last.At, "15:04 UTC")
				if d.Edited.Text == "" {
					d.Edited.Text = "later"
				}
				for _, ed := range m.Edits {
					d.Edits = append(d.Edits, versionData{Until: momentOf(ed.At, "2006-01-02 15:04 UTC"), Text: timeline.Clean(ed.Before)})
				}
			}
			if m.Deleted {
				d.Deleted = momentOf(m.DeletedAt, "15:04 UTC")
				if d.Deleted.Text == "" {
					d.Deleted.Text = "later"
				}
			}
		}
	}
	d.Text = timeline.Clean(timeline.DescribeEntry(ev, nm.name))
	if timeline.Correctable(*e) && !e.Struck() {
		d.Number = "#" + strconv.FormatUint(e.Seq, 10)
	}
	d.Cause = e.Kind == timeline.KindLoopEntry && e.Attr(timeline.AttrCause) == "true"
	if e.Kind == timeline.KindLoopEntry {
		d.Amended = e.Attr(timeline.AttrAmended) == "true"
		if e.Struck() {
			d.Struck = true
			d.StruckBy = nm.name(e.Attr(timeline.AttrStruckBy))
			d.Reason = timeline.Clean(e.Attr(timeline.AttrReason))
		}
		if w := e.Attr(timeline.AttrWrittenAt); w != "" {
			if t, err := time.Parse(time.RFC3339Nano, w); err == nil {
				layout := "15:04 UTC"
				if t.UTC().Format(time.DateOnly) != e.At.UTC().Format(time.DateOnly) {
					layout = "2006-01-02 15:04 UTC"
				}
				d.Written = t.UTC().Format(layout)
			}
		}
	}
	return d
}

func (s *Site) actionsView(inc incident.Incident, now time.Time, nm *names) actionsData {
	var d actionsData
	for _, a := range inc.Actions {
		ad := actionData{
			ID:       a.ID,
			Text:     timeline.Clean(a.Text),
			Priority: inc.ActionPriority(a),
			Default:  a.Priority == "",
			Due:      a.Due,
			State:    a.Status,
			Label:    a.StateLabel(),
			Reason:   timeline.Clean(a.Reason),
		}
		if a.Owner != "" {
			ad.Owner = nm.name(a.Owner)
		}
		if a.ClosedBy != "" && a.Status != incident.ActionOpen {
			ad.ClosedBy = nm.name(a.ClosedBy)
		}
		if incident.IsWebLink(a.Link) {
			ad.Link = a.Link
		}
		if t := a.Ticket; t != nil {
			ad.TicketState, ad.TicketError = t.State, timeline.Clean(t.Error)
			if t.ID != "" {
				ad.TicketName = t.Name()
			}
			if incident.IsWebLink(t.URL) {
				ad.TicketURL = t.URL
				if ad.Link == t.URL {
					ad.Link = ""
				}
			}
		}
		if a.Overdue(incident.Day(now, s.cfg.Zones.Of(a.Owner))) {
			ad.State, ad.Label = "overdue", "overdue"
		}
		d.Items = append(d.Items, ad)
	}
	return d
}

func updatesView(events []timeline.Event, nm *names) updatesData {
	var d updatesData
	for i := len(events) - 1; i >= 0; i-- {
		e := &events[i]
		if e.Kind != timeline.KindUpdatePosted {
			continue
		}
		d.Items = append(d.Items, updateData{
			At: momentOf(e.At, "2006-01-02 15:04 UTC"), By: nm.name(e.Actor), Text: timeline.Clean(e.Text),
		})
	}
	return d
}

// unixMinute numbers t's minute from the Unix epoch, as timeline.Build
// groups them.
func unixMinute(t time.Time) int64 {
	s := t.Unix()
	if s < 0 && s%60 != 0 {
		return s/60 - 1
	}
	return s / 60
}
