package incident

import "fmt"

// EffectKind names something Ooda must do outside its own store.
type EffectKind string

// The effects the domain asks for. The Slack adapter performs them.
const (
	EffectCreateChannel EffectKind = "create_channel" // params: name, private
	EffectInvite        EffectKind = "invite"         // params: users (comma-separated)
	EffectSetTopic      EffectKind = "set_topic"      // rendered from the state when performed, so it is always current
	// EffectRefreshKickoff re-renders the kickoff message from the state
	// when performed: its role buttons and status menu follow the incident.
	EffectRefreshKickoff EffectKind = "refresh_kickoff"
	EffectPost           EffectKind = "post" // Target, Template; the event at Seq is the content
	EffectDM             EffectKind = "dm"   // Target is a user id
	// EffectUploadFile uploads the post-mortem draft, as Markdown, into the
	// incident channel. The draft is written from the events as they are
	// when the upload is performed, not stored here, so a long incident does
	// not put a megabyte into the outbox. No params.
	EffectUploadFile EffectKind = "upload_file"
	// EffectBookmark bookmarks the file the upload_file effect of the same
	// event uploaded; params: upload (that effect's key), title.
	EffectBookmark EffectKind = "bookmark"
	// EffectThreadReply answers, in its thread, the chat message an
	// incident was declared from, pointing to the incident (see
	// DeclaredFromMessage); params: channel, ts (the message's). It waits
	// for the incident channel, and never names a private incident.
	EffectThreadReply EffectKind = "thread_reply"
)

// Targets of a post.
const (
	TargetIncident = "incident" // the incident's own channel
	TargetAnnounce = "announce" // the announcement channel
)

// Message templates the Slack adapter renders.
const (
	TemplateKickoff  = "kickoff"
	TemplateLine     = "line"     // a one-line record of a change
	TemplateHandover = "handover" // a handover brief for the new role holder
	TemplateUpdate   = "update"   // a stakeholder update
	TemplateAnnounce = "announce" // the announcement of a new incident
	TemplateResolved = "resolved"
	TemplateNudge    = "nudge"
	// TemplateActionsDue is a person's direct message about their overdue
	// action items, of any incident (see RemindActions).
	TemplateActionsDue = "actions_due"
)

// Effect is something an event requires of the world. Key is deterministic
// (incident, event sequence, kind, target), so performing an effect twice
// can be detected and stopped.
type Effect struct {
	Key      string            `json:"key"`
	Kind     EffectKind        `json:"kind"`
	Incident uint64            `json:"incident"`
	Seq      uint64            `json:"seq"`
	Target   string            `json:"target,omitempty"`
	Template string            `json:"template,omitempty"`
	Params   map[string]string `json:"params,omitempty"`
}

func newEffect(n, seq uint64, kind EffectKind, target, template string, params map[string]string) Effect {
	key := fmt.Sprintf("%s/%d/%s", ID(n), seq, kind)
	if target != "" {
		key += "/" + target
	}
	return Effect{Key: key, Kind: kind, Incident: n, Seq: seq, Target: target, Template: template, Params: params}
}

// KickoffKey is the key of incident number's kickoff post: the first
// effect of its declaration, whose result holds the message's ts.
func KickoffKey(number uint64) string {
	return newEffect(number, 1, EffectPost, TargetIncident, TemplateKickoff, nil).Key
}
