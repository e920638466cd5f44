package blockkit

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
	"github.com/slack-go/slack"
)

// The "Declare incident from this message" shortcut: the title its form
// suggests, the observation that records the message, and the reply in
// the message's thread.

// slackMarkupRE is one of Slack's <…> markups in a message as Slack
// delivers it: a mention, a channel, a special mention or a link, with its
// label after "|".
var slackMarkupRE = regexp.MustCompile(`<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>`)

// plainMessage reads a message's text as Slack delivers it (markup and
// escaped entities) as a person reads it: a link becomes its label or its
// address, a special mention @here or its label. A person or a channel
// becomes @name or #name when plainPeople is set (a title, shown as it
// is); otherwise it stays <@U…> or <#C…>, which every place that shows a
// timeline entry names from the ID.
func plainMessage(text string, plainPeople bool) string {
	text = slackMarkupRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := slackMarkupRE.FindStringSubmatch(m)
		sigil, target, label := sub[1], sub[2], sub[3]
		switch sigil {
		case "@", "#":
			if !plainPeople {
				return "<" + sigil + target + ">"
			}
			return sigil + strings.TrimPrefix(cmp.Or(label, target), sigil)
		case "!":
			// <!here>, <!channel>, <!subteam^S1|@oncall>, <!date^…|fallback>.
			if label != "" {
				return label
			}
			name, _, _ := strings.Cut(target, "^")
			return "@" + name
		}
		return cmp.Or(label, target)
	})
	return mrkdwn.Unescape(text)
}

// onlyLinksRE matches a line that holds nothing but links.
var onlyLinksRE = regexp.MustCompile(`^(?:\s*<(?:https?://|mailto:)[^<>]*>\s*)+$`)

// MessageTitle is the title the declare form suggests for a message: its
// first line in plain text, clipped to a title's length. A message with
// no words of its own (a link alone, an image, a file) suggests where it
// was posted instead, for the declarer to reword.
func MessageTitle(text, channelName string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if onlyLinksRE.MatchString(line) {
			break
		}
		t := strings.Join(strings.Fields(timeline.Clean(plainMessage(line, true))), " ")
		if t == "" {
			break
		}
		return mrkdwn.Clip(t, incident.MaxTitle)
	}
	switch channelName {
	case "", "directmessage", "privategroup", "mpdm":
		return "Declared from a message"
	}
	return "Declared from a message in #" + channelName
}

// MessageObservation is the observation that records a message an
// incident was declared from: who wrote it where, what it said, and the
// link to it. People and channels are kept as Slack's mentions (<@U…>,
// <#C…>), which every place that shows the entry names from the ID.
func MessageObservation(author, channel, text, permalink string, limit int) string {
	head := "Message"
	if incident.IsPerson(author) {
		head += " from " + mrkdwn.Mention(author)
	}
	head += " in <#" + channel + ">: “"
	tail := "”"
	if permalink != "" {
		tail += " (" + permalink + ")"
	}
	body := strings.TrimSpace(plainMessage(text, false))
	if body == "" {
		body = "(no text: an attachment or a file)"
	}
	room := limit - len([]rune(head)) - len([]rune(tail))
	return head + mrkdwn.Clip(body, max(room, 1)) + tail
}

// MessageDeclaredReply is the reply, in the thread of the message an
// incident was declared from, that points to the incident. A private
// incident is not named outside its channel: neither its title nor its
// severity, nor the channel only its members can open.
func MessageDeclaredReply(inc incident.Incident) Message {
	text := "An incident was declared from this message; its channel is private."
	if !inc.Private {
		text = fmt.Sprintf("Declared as *%s* (SEV%d) %s: follow it in <#%s>.", inc.ID, inc.Severity, mrkdwn.Quote(inc.Title), inc.ChannelID)
	}
	return Message{Text: mrkdwn.Clip(text, maxFallbackText), Blocks: []slack.Block{mrkdwnSection(text)}}
}
