package incident

import (
	"strings"

	"github.com/ooda-sre/ooda/timeline"
)

// SourceMessage is a chat message an incident was declared from: where it
// is, who wrote it, and the observation that records it.
type SourceMessage struct {
	Channel string // the channel's id
	TS      string // the message's id within its channel
	// Text is the observation as it is recorded: who wrote what, where,
	// with a link to the message.
	Text string
}

// DeclaredFromMessage records the message an incident was declared from
// as an observation (the meta's time is when the message was posted), and
// asks for a reply in the message's thread pointing to the incident.
// Callers key it by the declaration, so it is recorded once.
func (inc *Incident) DeclaredFromMessage(msg SourceMessage, m Meta) (Change, error) {
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	if inc.Status == StatusClosed {
		return Change{}, inc.activeCheck()
	}
	if strings.TrimSpace(msg.Channel) == "" || strings.TrimSpace(msg.TS) == "" {
		return Change{}, invalid("internal: a message is named by its channel and its ts")
	}
	// The message is someone else's words, captured as sent: a control
	// character in it is shown, not refused.
	t, err := checkText("message", timeline.Clean(msg.Text), MaxText)
	if err != nil {
		return Change{}, err
	}
	b := newBuilder(inc, m)
	seq := b.event(timeline.KindLoopEntry, timeline.PhaseObserve, t, map[string]string{
		timeline.AttrChannel: msg.Channel, timeline.AttrTS: msg.TS,
	})
	b.line(seq)
	b.effect(seq, EffectThreadReply, "", "", map[string]string{"channel": msg.Channel, "ts": msg.TS})
	return b.ch, nil
}
