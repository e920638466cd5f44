package incident

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// Bot is the actor Ooda records for its own events.
const Bot = "ooda"

// Limits on what people type, set by what Slack can show: a Block Kit
// section holds 3,000 characters, and a title must fit a channel topic and a
// modal's plain-text title with room to spare.
const (
	MaxTitle = 150
	MaxText  = 3000
	MaxURL   = 2000
)

// Meta says who issued a command, when, how, and under which idempotency
// key. The key identifies the request (a Slack trigger or event id, an API
// request id): the same key applied twice records once.
type Meta struct {
	At     time.Time
	Actor  string
	Source timeline.Source
	Key    string
	// Fingerprint identifies the request's content where the key is the
	// client's own (an API Idempotency-Key). The events' keys carry it
	// (key@fingerprint, key@fingerprint#1, …), so a later request with the
	// same key and another fingerprint is refused rather than answered with
	// this one's result (see RequestOf).
	Fingerprint string
}

// Change is what a command decided: the events to append, in order, with
// their sequence numbers, and the effects they require.
type Change struct {
	Events  []timeline.Event
	Effects []Effect
}

// Declaration is what a declare command carries.
type Declaration struct {
	Title    string
	Severity int // 1–4; 0 means the default, SEV3
	Private  bool
	Service  string
	// Status is StatusInvestigating for a person's declaration and
	// StatusTriage for one raised by an alert nobody has looked at yet.
	Status      Status
	Description string
	// Commander is the member ID of the person named Commander at
	// declaration; empty makes the declarer Commander when a person
	// declares, and leaves the role empty when a token or an alert does.
	Commander string
}

// DefaultSeverity is the severity of an incident declared without one.
const DefaultSeverity = 3

// builder accumulates the events and effects of one command, numbering
// events from the state's last sequence.
type builder struct {
	inc  *Incident
	meta Meta
	ch   Change
	next uint64
}

func newBuilder(inc *Incident, m Meta) *builder {
	return &builder{inc: inc, meta: m, next: inc.LastSeq + 1}
}

func (b *builder) event(kind timeline.Kind, phase timeline.Phase, text string, attrs map[string]string) uint64 {
	seq := b.next
	b.next++
	key := b.meta.Key
	if b.meta.Fingerprint != "" {
		key += "@" + b.meta.Fingerprint
	}
	if len(b.ch.Events) > 0 {
		key += "#" + strconv.Itoa(len(b.ch.Events))
	}
	b.ch.Events = append(b.ch.Events, timeline.Event{
		Seq: seq, At: b.meta.At.UTC(), Kind: kind, Phase: phase, Actor: b.meta.Actor,
		Text: text, Source: b.meta.Source, Key: key, Attrs: attrs,
	})
	return seq
}

func (b *builder) effect(seq uint64, kind EffectKind, target, template string, params map[string]string) {
	b.ch.Effects = append(b.ch.Effects, newEffect(b.inc.Number, seq, kind, target, template, params))
}

// line posts a one-line record of the event into the incident channel.
func (b *builder) line(seq uint64) { b.effect(seq, EffectPost, TargetIncident, TemplateLine, nil) }

// topic refreshes the channel topic from the state after the command.
func (b *builder) topic(seq uint64) { b.effect(seq, EffectSetTopic, TargetIncident, "", nil) }

// stateChanged refreshes what shows the incident's state in its channel:
// the topic, and the kickoff message's roles, buttons and status menu.
func (b *builder) stateChanged(seq uint64) {
	b.topic(seq)
	b.effect(seq, EffectRefreshKickoff, TargetIncident, TemplateKickoff, nil)
}

func (b *builder) announce(seq uint64, template string) {
	if !b.inc.Private {
		b.effect(seq, EffectPost, TargetAnnounce, template, nil)
	}
}

// RequestOf returns the fingerprint of the request that recorded an event,
// from its key; "" when the request carried none (Slack's, and the API's
// before fingerprints were kept).
func RequestOf(e timeline.Event) string {
	i := strings.LastIndex(e.Key, "@"+fingerprintScheme)
	if i < 0 {
		return ""
	}
	fp, _, _ := strings.Cut(e.Key[i+1:], "#")
	return fp
}

// CommandKey returns the idempotency key of the command that recorded an
// event: its key without the request's fingerprint and without the "#n"
// that numbers a command's later events.
func CommandKey(e timeline.Event) string {
	key := e.Key
	if i := strings.LastIndex(key, "@"+fingerprintScheme); i >= 0 {
		return key[:i]
	}
	if i := strings.LastIndexByte(key, '#'); i >= 0 {
		if _, err := strconv.Atoi(key[i+1:]); err == nil {
			return key[:i]
		}
	}
	return key
}

// fingerprintScheme starts every request fingerprint.
const fingerprintScheme = "sha256:"

func checkMeta(m Meta) error {
	if m.At.IsZero() || m.Actor == "" || m.Source == "" || m.Key == "" {
		return invalid("internal: a command needs a time, an actor, a source and an idempotency key")
	}
	return nil
}

func checkText(what, s string, max int) (string, error) {
	s = strings.TrimSpace(timeline.Normalize(s))
	if s == "" {
		return "", invalid("the %s is empty; write it after the command", what)
	}
	return checkOptional(what, s, max, false)
}

// checkOptional checks text that may be empty: its length, its encoding,
// and that it holds no character a person may not type (timeline's
// FirstControl), saying which one and where. A one-line text (a title)
// may hold no line break or tab either.
func checkOptional(what, s string, max int, oneLine bool) (string, error) {
	s = strings.TrimSpace(timeline.Normalize(s))
	if !utf8.ValidString(s) {
		return "", invalid("the %s is not valid UTF-8", what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", invalid("the %s is %d characters; keep it under %d", what, n, max)
	}
	if c, bad := timeline.FirstControl(s, oneLine); bad {
		if oneLine {
			return "", invalid("the %s has %s at character %d; a %s is one line of plain text, so remove it and send it again", what, c.Name(), c.Pos, what)
		}
		return "", invalid("the %s has %s at character %d; remove it and send it again (line breaks and tabs are fine)", what, c.Name(), c.Pos)
	}
	return s, nil
}

// Declare opens incident number with the declarer as its Commander (unless
// Ooda itself declared it from an alert) and asks for its channel, topic,
// kickoff message and announcement.
func Declare(number uint64, d Declaration, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	title := strings.TrimSpace(d.Title)
	if title == "" || utf8.RuneCountInString(title) > MaxTitle {
		return Change{}, invalid("an incident needs a title of at most %d characters: `/incident declare sev2 Checkout is down`", MaxTitle)
	}
	title, err := checkOptional("title", title, MaxTitle, true)
	if err != nil {
		return Change{}, err
	}
	description, err := checkOptional("description", d.Description, MaxText, false)
	if err != nil {
		return Change{}, err
	}
	if d.Severity == 0 {
		d.Severity = DefaultSeverity
	}
	if d.Severity < 1 || d.Severity > 4 {
		return Change{}, invalid("severity %d does not exist; use sev1 (worst) to sev4", d.Severity)
	}
	if d.Status == "" {
		d.Status = StatusInvestigating
	}
	if d.Status != StatusInvestigating && d.Status != StatusTriage {
		return Change{}, invalid("an incident is declared in triage or investigating, not %s", d.Status)
	}
	service, err := checkOptional("service name", d.Service, 100, true)
	if err != nil {
		return Change{}, err
	}
	if d.Commander != "" && (!IsPerson(d.Commander) || strings.ContainsAny(d.Commander, "@<> ")) {
		return Change{}, invalid("the Commander must be a person, named by their Slack member ID: `/incident declare sev2 --commander @U0123ABCD Checkout is down`")
	}
	inc := &Incident{Number: number, Private: d.Private}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindDeclared, timeline.PhaseObserve, description, map[string]string{
		attrNumber:            strconv.FormatUint(number, 10),
		timeline.AttrTitle:    title,
		timeline.AttrSeverity: strconv.Itoa(d.Severity),
		timeline.AttrPrivate:  strconv.FormatBool(d.Private),
		timeline.AttrService:  service,
		timeline.AttrStatus:   string(d.Status),
	})
	invite := []string{}
	if IsPerson(m.Actor) {
		invite = append(invite, m.Actor)
	}
	commander := d.Commander
	if commander == "" && IsPerson(m.Actor) {
		commander = m.Actor
	}
	if commander != "" {
		b.event(timeline.KindRoleAssigned, timeline.PhaseDecide, "", map[string]string{
			timeline.AttrRole: string(roles.Commander), timeline.AttrUser: commander,
		})
		if !slices.Contains(invite, commander) {
			invite = append(invite, commander)
		}
	}
	b.effect(seq, EffectCreateChannel, TargetIncident, "", map[string]string{
		"name": ChannelName(number, title), "private": strconv.FormatBool(d.Private),
	})
	if len(invite) > 0 {
		b.effect(seq, EffectInvite, TargetIncident, "", map[string]string{"users": strings.Join(invite, ",")})
	}
	b.topic(seq)
	b.effect(seq, EffectPost, TargetIncident, TemplateKickoff, nil)
	b.announce(seq, TemplateAnnounce)
	return b.ch, nil
}

// activeCheck refuses work on an incident that is no longer active.
func (inc *Incident) activeCheck() error { return inactive(inc.ID, inc.Status) }

// AssignRole gives role r to user. A second assignment of a held role is a
// handover: the new holder gets a brief.
func (inc *Incident) AssignRole(r roles.Role, user string, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if err := inc.activeCheck(); err != nil {
		return Change{}, err
	}
	a, err := roles.Assign(inc.Roles, r, user)
	if errors.Is(err, roles.ErrAlreadyHolds) {
		// Who holds the role is the incident's state, not a typo.
		return Change{}, refused("<@%s> is already %s of %s", user, r.Title(), inc.ID)
	}
	if err != nil {
		return Change{}, invalid("%s", err.Error())
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindRoleAssigned, timeline.PhaseDecide, "", map[string]string{
		timeline.AttrRole: string(r), timeline.AttrUser: user, timeline.AttrPrevious: a.Previous,
	})
	b.effect(seq, EffectInvite, TargetIncident, "", map[string]string{"users": user})
	b.stateChanged(seq)
	if a.Handover() {
		b.effect(seq, EffectPost, TargetIncident, TemplateHandover, nil)
	} else {
		b.line(seq)
	}
	return b.ch, nil
}

// SetStatus moves the incident through the status machine. Setting
// resolved is the same as Resolve without a summary.
func (inc *Incident) SetStatus(to Status, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if err := checkTransition(inc.ID, inc.Status, to); err != nil {
		return Change{}, err
	}
	if to == StatusResolved {
		return inc.Resolve("", m)
	}
	if to == StatusClosed || to == StatusTriage {
		return Change{}, invalid("status %s is set by Ooda, not by hand", to)
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindStatusChanged, timeline.PhaseDecide, "", map[string]string{
		timeline.AttrStatus: string(to), timeline.AttrPrevious: string(inc.Status),
	})
	b.stateChanged(seq)
	b.line(seq)
	return b.ch, nil
}

// SetSeverity changes the severity (1 worst, 4 least).
func (inc *Incident) SetSeverity(sev int, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if sev < 1 || sev > 4 {
		return Change{}, invalid("severity %d does not exist; use 1 (worst) to 4: `/incident sev 2`", sev)
	}
	if err := inc.activeCheck(); err != nil {
		return Change{}, err
	}
	if sev == inc.Severity {
		return Change{}, refused("%s is already SEV%d", inc.ID, sev)
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindSeverityChanged, timeline.PhaseDecide, "", map[string]string{
		timeline.AttrSeverity: strconv.Itoa(sev), timeline.AttrPrevious: strconv.Itoa(inc.Severity),
	})
	b.stateChanged(seq)
	b.line(seq)
	return b.ch, nil
}

// SetImpact records the customer impact and marks the incident
// customer-impacting, which makes its post-mortem mandatory.
func (inc *Incident) SetImpact(text string, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if inc.Status == StatusClosed {
		return Change{}, inc.activeCheck()
	}
	t, err := checkText("impact", text, MaxText)
	if err != nil {
		return Change{}, err
	}
	b := newBuilder(inc, m)
	b.line(b.event(timeline.KindImpactSet, timeline.PhaseObserve, t, nil))
	return b.ch, nil
}

// AddEntry records a loop entry: an observation, orientation, decision or
// action, or a note (PhaseNone). cause marks an orient entry as the root
// cause for the post-mortem. Entries are accepted after resolution too,
// because people keep learning until the post-mortem is published.
func (inc *Incident) AddEntry(phase timeline.Phase, text string, cause bool, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if inc.Status == StatusClosed {
		return Change{}, inc.activeCheck()
	}
	switch phase {
	case timeline.PhaseNone, timeline.PhaseObserve, timeline.PhaseOrient, timeline.PhaseDecide, timeline.PhaseAct:
	default:
		return Change{}, invalid("%q is not an OODA phase; use observe, orient, decide or act", string(phase))
	}
	if cause && phase != timeline.PhaseOrient {
		return Change{}, invalid("only an orient entry can be the cause: `/incident orient --cause <text>`")
	}
	t, err := checkText("entry", text, MaxText)
	if err != nil {
		return Change{}, err
	}
	var attrs map[string]string
	if cause {
		attrs = map[string]string{timeline.AttrCause: "true"}
	}
	b := newBuilder(inc, m)
	b.line(b.event(timeline.KindLoopEntry, phase, t, attrs))
	return b.ch, nil
}

// PostUpdate records a stakeholder update and posts it to the incident and
// announcement channels.
func (inc *Incident) PostUpdate(text string, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if err := inc.activeCheck(); err != nil {
		return Change{}, err
	}
	t, err := checkText("update", text, MaxText)
	if err != nil {
		return Change{}, err
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindUpdatePosted, timeline.PhaseNone, t, nil)
	b.effect(seq, EffectPost, TargetIncident, TemplateUpdate, nil)
	b.announce(seq, TemplateUpdate)
	return b.ch, nil
}

// Resolve ends the incident, with an optional summary.
func (inc *Incident) Resolve(summary string, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if err := inc.activeCheck(); err != nil {
		return Change{}, err
	}
	summary, err := checkOptional("summary", summary, MaxText, false)
	if err != nil {
		return Change{}, err
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindResolved, timeline.PhaseAct, summary, map[string]string{
		timeline.AttrPrevious: string(inc.Status),
	})
	b.stateChanged(seq)
	b.effect(seq, EffectPost, TargetIncident, TemplateResolved, nil)
	b.announce(seq, TemplateResolved)
	return b.ch, nil
}

// Reopen brings a resolved incident back to investigating.
func (inc *Incident) Reopen(m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	switch inc.Status {
	case StatusResolved:
	case StatusClosed:
		return Change{}, inc.activeCheck()
	default:
		return Change{}, refused("%s is %s, not resolved; there is nothing to reopen", inc.ID, inc.Status)
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindReopened, timeline.PhaseDecide, "", nil)
	b.stateChanged(seq)
	b.line(seq)
	b.announce(seq, TemplateLine)
	return b.ch, nil
}

// Close records that the post-mortem is published at link and closes the
// incident for good. The link, when given, must be a web address.
func (inc *Incident) Close(link string, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	switch inc.Status {
	case StatusResolved:
	case StatusClosed:
		return Change{}, refused("%s is already closed", inc.ID)
	default:
		return Change{}, refused("%s is %s; resolve it with `/incident resolve` before publishing its post-mortem", inc.ID, inc.Status)
	}
	link = strings.TrimSpace(link)
	if len(link) > MaxURL {
		return Change{}, invalid("the post-mortem link is too long; keep it under %d characters", MaxURL)
	}
	if link != "" && !IsWebLink(link) {
		return Change{}, invalid("the post-mortem link must be a web address starting with https:// or http://: `/incident postmortem publish https://wiki.example.com/postmortems/%s`", strings.ToLower(inc.ID))
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindClosed, timeline.PhaseNone, "", map[string]string{timeline.AttrURL: link})
	b.stateChanged(seq)
	b.line(seq)
	return b.ch, nil
}

// IsWebLink reports whether s is an absolute http or https address with a
// host, and nothing Slack would read as markup around it.
func IsWebLink(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n<>\"|`") || timeline.HasControl(s) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// DraftPostmortem asks for a post-mortem draft: Ooda writes it from the
// incident's events, uploads the Markdown file into the incident channel
// and bookmarks it there. The draft is written when the upload is
// performed, from the events as they are then, so it is current and the
// outbox holds no copy of it. Every request makes a new draft (the timeline may
// have grown since the last); a replayed request makes none. A closed
// incident's post-mortem is published, so it gets no more drafts.
func (inc *Incident) DraftPostmortem(m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if inc.Status == StatusClosed {
		if inc.PostmortemURL != "" {
			return Change{}, refused("%s is closed: its post-mortem is published at %s", inc.ID, inc.PostmortemURL)
		}
		return Change{}, refused("%s is closed: its post-mortem is published", inc.ID)
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindPostmortemRequested, timeline.PhaseNone, "", nil)
	b.effect(seq, EffectUploadFile, TargetIncident, "", nil)
	upload := b.ch.Effects[len(b.ch.Effects)-1].Key
	b.effect(seq, EffectBookmark, TargetIncident, "", map[string]string{
		"upload": upload, "title": inc.ID + " post-mortem draft",
	})
	return b.ch, nil
}

// PostmortemDrafted records the draft an upload put into the incident
// channel: Slack's file id, its permalink (empty when Slack did not say),
// and the channel and message that shared it. It requires no effects.
func (inc *Incident) PostmortemDrafted(fileID, link, channel, ts string, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if fileID == "" {
		return Change{}, invalid("internal: a post-mortem draft needs its file id")
	}
	b := newBuilder(inc, m)
	b.event(timeline.KindPostmortemDrafted, timeline.PhaseNone, "", map[string]string{
		timeline.AttrFile: fileID, timeline.AttrURL: link, timeline.AttrChannel: channel, timeline.AttrTS: ts,
	})
	return b.ch, nil
}

// ChannelCreated records the channel Slack created for the incident.
func (inc *Incident) ChannelCreated(channelID string, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if channelID == "" {
		return Change{}, invalid("internal: channel id is empty")
	}
	if inc.ChannelID == channelID {
		return Change{}, nil
	}
	b := newBuilder(inc, m)
	b.event(timeline.KindChannelCreated, timeline.PhaseNone, "", map[string]string{timeline.AttrChannel: channelID})
	return b.ch, nil
}

// Nudge records a reminder from the nudge policy and posts it into the
// incident channel, addressed to the role holder. Callers use the nudge's
// key in the command key, so a nudge asked for on every tick posts once.
//
// Nudges are for active incidents, except the post-mortem reminder, which
// is for resolved ones only: the state may have moved on (reopened,
// closed) since the policy was asked, and then the nudge is dropped.
func (inc *Incident) Nudge(n roles.Nudge, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	due := inc.Status.Active()
	if n.Kind == roles.NudgePostmortemDue {
		due = inc.Status == StatusResolved
	}
	if !due {
		return Change{}, nil
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindNudged, timeline.PhaseNone, n.Text, map[string]string{
		timeline.AttrNudge: string(n.Kind), timeline.AttrRole: string(n.Role), timeline.AttrUser: n.User,
	})
	b.effect(seq, EffectPost, TargetIncident, TemplateNudge, nil)
	return b.ch, nil
}

// BudgetBreached records that the incident alone spent more of an SLO's
// error budget than the error-budget policy allows without a post-mortem,
// which makes its post-mortem required, and says so in its channel.
func (inc *Incident) BudgetBreached(text string, attrs map[string]string, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if inc.BudgetBreach {
		return Change{}, nil
	}
	t, err := checkText("note", text, MaxText)
	if err != nil {
		return Change{}, err
	}
	b := newBuilder(inc, m)
	b.line(b.event(timeline.KindBudgetBreached, timeline.PhaseNone, t, attrs))
	return b.ch, nil
}

// Record appends a bookkeeping or captured event that needs no validation
// beyond its shape: participants joining, messages pinned or marked, effects
// that failed for good, nudges sent. It requires no effects.
func (inc *Incident) Record(kind timeline.Kind, phase timeline.Phase, text string, attrs map[string]string, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	switch kind {
	case timeline.KindParticipant, timeline.KindMessageCaptured, timeline.KindEffectFailed, timeline.KindNudged:
	default:
		return Change{}, invalid("internal: %s events are recorded through their own command", kind)
	}
	if kind == timeline.KindParticipant {
		u := attrs[timeline.AttrUser]
		if u == "" {
			// Apply ignores an empty user, so the event would name nobody.
			return Change{}, invalid("internal: a participant event needs a user")
		}
		if slices.Contains(inc.Participants, u) {
			return Change{}, nil
		}
	}
	b := newBuilder(inc, m)
	b.event(kind, phase, text, attrs)
	return b.ch, nil
}
