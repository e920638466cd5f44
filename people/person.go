package people

import (
	"strings"
	"time"

	"github.com/ooda-sre/ooda/timeline"
)

// Person is one member of the Slack workspace as Slack last described
// them. Events keep the id; this is what the id is shown as.
type Person struct {
	// ID is the Slack member ID (U0123ABCD, W0123ABCD).
	ID string `json:"id"`
	// Handle is the member's username (Slack's "name"): unique in the
	// workspace, what older clients completed after @.
	Handle string `json:"handle"`
	// RealName is the full name from the profile ("Alice Chen").
	RealName string `json:"real_name,omitempty"`
	// DisplayName is the name the member chose to be shown as, which
	// Slack's @ completion now offers; it may be empty, and it need not be
	// unique.
	DisplayName string `json:"display_name,omitempty"`
	// TZ is the member's IANA time zone ("Europe/Paris"); empty when
	// unknown.
	TZ string `json:"tz,omitempty"`
	// Deleted is true for a deactivated member: still shown by name, never
	// offered for a role or an action.
	Deleted bool `json:"deleted,omitempty"`
	// Bot is true for a bot user (Ooda itself, integrations).
	Bot bool `json:"bot,omitempty"`
	// Email is the member's email address, when the app has the
	// users:read.email scope: how an action item's owner is found in a
	// tracker (an accounts file entry by email, or the tracker's own user
	// search). Never shown in Slack or the web UI.
	Email string `json:"email,omitempty"`
	// SeenAt is when Slack last described the member: the age of the name.
	SeenAt time.Time `json:"seen_at"`
}

// Mention is the name people type after @ for p: the display name when
// the member chose one, else the handle; empty when Slack gave neither.
func (p Person) Mention() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Handle
}

// Display is how Ooda writes p out of Slack: "Alice Chen (@alice)", the
// full name and what to type to name them; "@alice" when the two are the
// same, the full name alone without a handle, and "" for a person Slack
// described with no name at all. Control characters are shown as U+FFFD:
// names come from people's profiles and end up on terminals.
func (p Person) Display() string {
	name, at := strings.TrimSpace(p.RealName), strings.TrimSpace(p.Mention())
	var s string
	switch {
	case name != "" && at != "" && !strings.EqualFold(name, at):
		s = name + " (@" + at + ")"
	case at != "":
		s = "@" + at
	default:
		s = name
	}
	return timeline.Clean(s)
}

// Active reports whether p may be named for a role or an action: a member
// who has not left the workspace and is no bot.
func (p Person) Active() bool { return !p.Deleted && !p.Bot }
