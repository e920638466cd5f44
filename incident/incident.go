package incident

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// ID renders an incident number as people write it: "INC-7".
func ID(number uint64) string { return "INC-" + strconv.FormatUint(number, 10) }

// ParseID reads "INC-7", "inc-7", "#7" or "7".
func ParseID(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(t, "#")
	if len(t) > 4 && strings.EqualFold(t[:4], "inc-") {
		t = t[4:]
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 {
		return 0, invalid("%q is not an incident number; write it as INC-7", s)
	}
	return n, nil
}

// Action is a follow-up item: work that prevents the next incident. Its
// lifecycle is in action.go.
type Action struct {
	ID        int       `json:"id"`
	Text      string    `json:"text"`
	Owner     string    `json:"owner,omitempty"`
	Priority  string    `json:"priority,omitempty"`
	Status    string    `json:"status"` // ActionOpen, ActionDone, ActionWontDo
	CreatedAt time.Time `json:"created_at"`
	Due       string    `json:"due,omitempty"`    // the day it is due (DayLayout); "" none
	Link      string    `json:"link,omitempty"`   // the ticket that tracks it
	Reason    string    `json:"reason,omitempty"` // why it won't be done
	ClosedAt  time.Time `json:"closed_at,omitzero"`
	ClosedBy  string    `json:"closed_by,omitempty"` // who marked it done or won't do
	// ClosedByTicket is true when the item is done because its ticket
	// was closed in the tracker, so reopening the ticket reopens it.
	ClosedByTicket bool `json:"closed_by_ticket,omitempty"`
	// Ticket is the ticket that tracks it in a tracker; nil for none.
	Ticket *Ticket `json:"ticket,omitempty"`
}

// Incident is the current state of an incident: a fold over its events.
// The JSON field names are a contract with the API, exports and tooling.
type Incident struct {
	Number            uint64        `json:"number"`
	ID                string        `json:"id"`
	Title             string        `json:"title"`
	Status            Status        `json:"status"`
	Severity          int           `json:"severity"`
	Private           bool          `json:"private"`
	Service           string        `json:"service"`
	ChannelID         string        `json:"channel_id"`
	Roles             roles.Holders `json:"roles"`
	CustomerImpacting bool          `json:"customer_impacting"`
	Impact            string        `json:"impact"`
	Actions           []Action      `json:"actions"`
	DeclaredAt        time.Time     `json:"declared_at,omitzero"`
	ResolvedAt        time.Time     `json:"resolved_at,omitzero"`
	ClosedAt          time.Time     `json:"closed_at,omitzero"`
	Participants      []string      `json:"participants"`
	// Members are the people in the incident channel, as Ooda recorded
	// them (its invites, Slack's join and leave events, syncs with
	// conversations.members); MembersKnown says any such record exists.
	// They decide who may see a private incident (Admits).
	Members       []string `json:"members,omitempty"`
	MembersKnown  bool     `json:"members_known,omitempty"`
	DeclaredBy    string   `json:"declared_by"`
	Summary       string   `json:"summary,omitempty"`
	PostmortemURL string   `json:"postmortem_url,omitempty"`
	// BudgetBreached: the incident alone spent more of an SLO's error
	// budget than the error-budget policy allows without a post-mortem.
	BudgetBreach bool `json:"budget_breached,omitempty"`
	// The latest post-mortem draft Ooda uploaded into the channel: its
	// Slack file id and permalink, and when it was uploaded.
	PostmortemDraftFileID string    `json:"postmortem_draft_file_id,omitempty"`
	PostmortemDraftURL    string    `json:"postmortem_draft_url,omitempty"`
	PostmortemDraftedAt   time.Time `json:"postmortem_drafted_at,omitzero"`

	// Bookkeeping the nudges and replies need.
	LastSeq              uint64    `json:"last_seq"`
	LastActivityAt       time.Time `json:"last_activity_at,omitzero"`
	LastUpdateAt         time.Time `json:"last_update_at,omitzero"`
	CommanderVacantSince time.Time `json:"commander_vacant_since,omitzero"`
	FailedEffects        int       `json:"failed_effects,omitempty"` // Slack effects that failed for good

	// Corrections is the audit trail of the timeline: entries amended,
	// struck or backdated, by whom and when, in the order they were made
	// (correction.go).
	Corrections []timeline.Correction `json:"corrections,omitempty"`
}

// IsPerson reports whether actor is a Slack user, as opposed to Ooda
// itself or an API token ("api:<name>"): only people take roles and count
// as participants.
func IsPerson(actor string) bool {
	return actor != "" && actor != Bot && !strings.Contains(actor, ":")
}

// Replay folds events, in order, into the state they describe.
func Replay(events []timeline.Event) Incident {
	var inc Incident
	for _, e := range events {
		inc.Apply(e)
	}
	return inc
}

// Apply folds one event into the state. It never fails: events are facts
// that were validated when they were recorded.
func (inc *Incident) Apply(e timeline.Event) {
	inc.LastSeq = e.Seq
	if !e.Bookkeeping() {
		// A backdated entry (a signal recorded with the time it was seen)
		// is not new activity.
		if e.At.After(inc.LastActivityAt) {
			inc.LastActivityAt = e.At
		}
	}
	if IsPerson(e.Actor) {
		inc.addParticipant(e.Actor)
	}
	switch e.Kind {
	case timeline.KindDeclared:
		inc.Number = incidentNumber(e)
		inc.ID = ID(inc.Number)
		inc.Title = e.Attr(timeline.AttrTitle)
		inc.Severity, _ = strconv.Atoi(e.Attr(timeline.AttrSeverity))
		inc.Private = e.Attr(timeline.AttrPrivate) == "true"
		inc.Service = e.Attr(timeline.AttrService)
		inc.Status = Status(e.Attr(timeline.AttrStatus))
		inc.DeclaredAt = e.At
		inc.DeclaredBy = e.Actor
		inc.CommanderVacantSince = e.At
		inc.Actions = []Action{}
		if inc.Participants == nil {
			inc.Participants = []string{}
		}
	case timeline.KindRoleAssigned:
		r := roles.Role(e.Attr(timeline.AttrRole))
		u := e.Attr(timeline.AttrUser)
		inc.Roles = inc.Roles.With(r, u)
		if r == roles.Commander {
			inc.CommanderVacantSince = time.Time{}
			if u == "" {
				inc.CommanderVacantSince = e.At
			}
		}
		if u != "" {
			inc.addParticipant(u)
		}
	case timeline.KindStatusChanged:
		inc.Status = Status(e.Attr(timeline.AttrStatus))
	case timeline.KindSeverityChanged:
		inc.Severity, _ = strconv.Atoi(e.Attr(timeline.AttrSeverity))
	case timeline.KindImpactSet:
		inc.CustomerImpacting = true
		inc.Impact = e.Text
	case timeline.KindActionAdded:
		id, _ := strconv.Atoi(e.Attr(timeline.AttrActionID))
		inc.Actions = append(inc.Actions, Action{
			ID: id, Text: e.Text, Owner: e.Attr(timeline.AttrOwner),
			Priority: e.Attr(timeline.AttrPriority), Status: ActionOpen, CreatedAt: e.At,
			Due: e.Attr(timeline.AttrDue),
		})
		if e.Attr(timeline.AttrState) == TicketPending {
			inc.Actions[len(inc.Actions)-1].Ticket = &Ticket{State: TicketPending, Effect: TicketEffectKey(inc.Number, e.Seq)}
		}
		if o := e.Attr(timeline.AttrOwner); o != "" {
			inc.addParticipant(o)
		}
	case timeline.KindActionUpdated:
		inc.applyActionUpdate(e)
	case timeline.KindUpdatePosted:
		inc.LastUpdateAt = e.At
	case timeline.KindResolved:
		inc.Status = StatusResolved
		inc.ResolvedAt = e.At
		if e.Text != "" {
			inc.Summary = e.Text
		}
	case timeline.KindReopened:
		inc.Status = StatusInvestigating
		inc.ResolvedAt = time.Time{}
	case timeline.KindClosed:
		inc.Status = StatusClosed
		inc.ClosedAt = e.At
		inc.PostmortemURL = e.Attr(timeline.AttrURL)
	case timeline.KindChannelCreated:
		inc.ChannelID = e.Attr(timeline.AttrChannel)
	case timeline.KindParticipant:
		inc.addParticipant(e.Attr(timeline.AttrUser))
		inc.addMembers(e.Attr(timeline.AttrUser))
	case timeline.KindMembersAdded:
		inc.addMembers(timeline.Users(e.Attr(timeline.AttrUsers))...)
	case timeline.KindMembersSynced:
		inc.Members, inc.MembersKnown = nil, true
		inc.addMembers(timeline.Users(e.Attr(timeline.AttrUsers))...)
	case timeline.KindMemberLeft:
		inc.Members = slices.DeleteFunc(inc.Members, func(m string) bool { return m == e.Attr(timeline.AttrUser) })
		inc.MembersKnown = true
	case timeline.KindEffectFailed:
		// FailedEffects counts Slack's; a tracker's failures are told on
		// their items and in the timeline.
		if k := EffectKind(e.Attr("kind")); k != EffectCreateTicket && k != EffectCloseTicket {
			inc.FailedEffects++
		}
	case timeline.KindLoopEntry, timeline.KindEntryAmended, timeline.KindEntryStruck:
		if c, ok := timeline.CorrectionOf(e); ok {
			inc.Corrections = append(inc.Corrections, c)
		}
	case timeline.KindBudgetBreached:
		inc.BudgetBreach = true
	case timeline.KindPostmortemDrafted:
		inc.PostmortemDraftFileID = e.Attr(timeline.AttrFile)
		inc.PostmortemDraftURL = e.Attr(timeline.AttrURL)
		inc.PostmortemDraftedAt = e.At
	}
}

// incidentNumber reads the number a declared event carries in its key
// prefix-free attribute; declared events always carry it.
func incidentNumber(e timeline.Event) uint64 {
	n, _ := strconv.ParseUint(e.Attr(attrNumber), 10, 64)
	return n
}

const attrNumber = "number"

func (inc *Incident) addParticipant(u string) {
	if u == "" || slices.Contains(inc.Participants, u) {
		return
	}
	inc.Participants = append(inc.Participants, u)
}

// Situation is what the nudge policy needs to know about the incident.
func (inc Incident) Situation() roles.Situation {
	s := roles.Situation{
		Severity:             inc.Severity,
		Active:               inc.Status.Active(),
		DeclaredAt:           inc.DeclaredAt,
		Holders:              inc.Roles,
		CommanderVacantSince: inc.CommanderVacantSince,
		LastUpdateAt:         inc.LastUpdateAt,
		LastActivityAt:       inc.LastActivityAt,
		CustomerImpacting:    inc.CustomerImpacting,
		PostmortemDrafted:    inc.PostmortemDraftFileID != "",
		BudgetBreached:       inc.BudgetBreach,
	}
	// A closed incident keeps its resolution time, but its post-mortem is
	// published: nothing is due any more.
	if inc.Status == StatusResolved {
		s.ResolvedAt = inc.ResolvedAt
	}
	return s
}

// PostmortemRequired reports whether the incident owes a published
// post-mortem (see roles.Situation.PostmortemRequired).
func (inc Incident) PostmortemRequired() bool { return inc.Situation().PostmortemRequired() }

// Label is the incident as it is named in replies: "INC-7 (SEV2) Checkout down".
func (inc Incident) Label() string {
	return fmt.Sprintf("%s (SEV%d) %s", inc.ID, inc.Severity, inc.Title)
}

// ActionPriority is the priority an action is worked at: the one given, or
// P0 for a customer-impacting incident, P2 otherwise.
func (inc Incident) ActionPriority(a Action) string {
	if a.Priority != "" {
		return a.Priority
	}
	if inc.CustomerImpacting {
		return "P0"
	}
	return "P2"
}

// Clone returns a deep copy, so a caller can fold more events into it
// without touching the original's slices.
func (inc Incident) Clone() Incident {
	inc.Actions = slices.Clone(inc.Actions)
	inc.Participants = slices.Clone(inc.Participants)
	inc.Members = slices.Clone(inc.Members)
	inc.Corrections = slices.Clone(inc.Corrections)
	return inc
}
