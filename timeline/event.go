// Package timeline holds the events an incident is made of, the OODA phase
// each one belongs to, and the minute-by-minute view people read during and
// after an incident.
package timeline

import "time"

// Phase is the OODA phase an event belongs to. Bookkeeping events have
// PhaseNone.
type Phase string

// The OODA phases.
const (
	PhaseNone    Phase = ""
	PhaseObserve Phase = "observe"
	PhaseOrient  Phase = "orient"
	PhaseDecide  Phase = "decide"
	PhaseAct     Phase = "act"
)

// Source says how an event reached Ooda.
type Source string

// The sources of events.
const (
	SourceCommand  Source = "command"
	SourceReaction Source = "reaction"
	SourcePin      Source = "pin"
	SourceAlert    Source = "alert"
	SourceSLO      Source = "slo"
	SourceReminder Source = "reminder"
	SourceAPI      Source = "api"
	// SourceSystem marks bookkeeping Ooda records about its own work, such
	// as the channel it created or an effect that failed for good.
	SourceSystem Source = "system"
)

// Kind names what happened.
type Kind string

// The event kinds. Their Attrs keys are listed beside them.
const (
	KindDeclared        Kind = "declared"         // title, severity, private, service
	KindRoleAssigned    Kind = "role_assigned"    // role, user, previous (set on a handover)
	KindStatusChanged   Kind = "status_changed"   // status, previous
	KindSeverityChanged Kind = "severity_changed" // severity, previous
	KindImpactSet       Kind = "impact_set"       // text is the impact
	KindLoopEntry       Kind = "loop_entry"       // phase carries observe/orient/decide/act; none is a note; cause=true marks a root cause
	KindActionAdded     Kind = "action_added"     // id, owner, priority, due
	KindActionUpdated   Kind = "action_updated"   // id, change (done, wontdo: text is the reason, reopen, owner, due, link: url), previous
	KindUpdatePosted    Kind = "update_posted"    // text is the stakeholder update
	KindResolved        Kind = "resolved"         // text is the summary
	KindReopened        Kind = "reopened"
	KindClosed          Kind = "closed"             // url of the published post-mortem
	KindChannelCreated  Kind = "channel_created"    // channel
	KindParticipant     Kind = "participant_joined" // user
	KindMessageCaptured Kind = "message_captured"   // channel, ts, via pin or reaction
	KindEffectFailed    Kind = "effect_failed"      // effect, error
	KindNudged          Kind = "nudged"             // nudge kind
	// KindPostmortemRequested records `/incident postmortem`: someone asked
	// for a draft. The draft itself is written when the upload is performed.
	KindPostmortemRequested Kind = "postmortem_requested"
	// KindPostmortemDrafted records a draft that reached the incident
	// channel: file (Slack file id), url (its permalink), channel, ts (the
	// message that shared it).
	KindPostmortemDrafted Kind = "postmortem_drafted"
	// KindBudgetBreached records that the incident alone spent more of an
	// SLO's error budget than the policy allows without a post-mortem
	// (attrs: slo, share); it makes the post-mortem required.
	KindBudgetBreached Kind = "budget_breached"
	// The incident channel's membership, which decides who may see a
	// private incident: KindParticipant adds the person who joined,
	// KindMembersAdded the people Ooda invited (users), KindMembersSynced
	// replaces the whole set with what Slack listed (users), KindMemberLeft
	// removes one (user).
	KindMembersAdded  Kind = "members_added"
	KindMembersSynced Kind = "members_synced"
	KindMemberLeft    Kind = "member_left"
	// Corrections of a loop entry or note (correction.go): entry is its
	// sequence number and previous its text before. An amendment's text
	// is the new text ("" when only the time changed; at and previous_at
	// then say the new and the old time); a strike's text is the reason.
	KindEntryAmended Kind = "entry_amended"
	KindEntryStruck  Kind = "entry_struck"
)

// Attribute keys used in Event.Attrs.
const (
	AttrTitle    = "title"
	AttrSeverity = "severity"
	AttrPrivate  = "private"
	AttrService  = "service"
	AttrRole     = "role"
	AttrUser     = "user"
	AttrPrevious = "previous"
	AttrStatus   = "status"
	AttrCause    = "cause"
	AttrActionID = "id"
	AttrOwner    = "owner"
	AttrPriority = "priority"
	AttrDue      = "due"     // a day, 2026-12-20
	AttrChange   = "change"  // what an action_updated event changed
	AttrDay      = "day"     // the day a reminder is for
	AttrActions  = "actions" // comma-separated action item numbers
	AttrURL      = "url"
	AttrChannel  = "channel"
	AttrTS       = "ts"
	AttrEffect   = "effect"
	AttrError    = "error"
	AttrNudge    = "nudge"
	AttrFile     = "file"
	AttrUsers    = "users"   // comma-separated Slack user ids
	AttrTracker  = "tracker" // a configured tracker's name
	AttrProject  = "project" // a tracker's project: owner/repo, a GitLab path, a Jira key
	AttrTicket   = "ticket"  // a ticket's id in its project: 42, OPS-12
	AttrState    = "state"   // a ticket's state: open, closed
)

// Event is one entry in an incident's append-only log. Seq is assigned by
// the store when the event is committed and is contiguous from 1 within an
// incident.
type Event struct {
	Seq    uint64            `json:"seq"`
	At     time.Time         `json:"at"`
	Kind   Kind              `json:"kind"`
	Phase  Phase             `json:"phase"`
	Actor  string            `json:"actor"`
	Text   string            `json:"text"`
	Source Source            `json:"source"`
	Key    string            `json:"key,omitempty"`
	Attrs  map[string]string `json:"attrs,omitempty"`
}

// Attr returns the attribute k, or "" when it is not set.
func (e Event) Attr(k string) string { return e.Attrs[k] }

// Bookkeeping reports whether the event records Ooda's own work rather than
// something a responder did or saw; the timeline view shows it dimmed and
// the post-mortem leaves it out.
//
// Drafting the post-mortem is bookkeeping too: it is work about the
// incident, usually days after it, and as an entry it would put a silent
// stretch of days and a last word that is not the incident's at the end of
// the very draft it produces.
func (e Event) Bookkeeping() bool {
	switch e.Kind {
	case KindChannelCreated, KindParticipant, KindNudged, KindEffectFailed,
		KindPostmortemRequested, KindPostmortemDrafted,
		KindMembersAdded, KindMembersSynced, KindMemberLeft:
		return true
	}
	return false
}
