package bot

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/timeline"
)

// Signals are what tells people something is wrong before anyone declared
// an incident: SLO burn notices and Alertmanager alerts. Both land in an
// open incident of their service as observe entries, or in a channel as a
// message with a "Declare incident" button; this file holds what the two
// share.

// SignalSlack is what posting signals calls of Slack's Web API: a post,
// and the channel history and thread replies that tell whether an earlier
// post whose answer was lost landed after all.
type SignalSlack interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (channel, timestamp string, err error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) (msgs []slack.Message, hasMore bool, nextCursor string, err error)
	HistoryReader
}

var _ SignalSlack = (*slack.Client)(nil)

// DefaultSignalTimeout bounds one signal's Slack calls (the history
// lookup and the post, with the guard's retries).
const DefaultSignalTimeout = 15 * time.Second

// postOnce posts msg to channel carrying key in its metadata, unless a
// message with that key is already there: a post whose answer was lost,
// by this process or an earlier one. oldest bounds the history searched.
// It reports the message's ts and whether this call posted it.
func postOnce(ctx context.Context, g *resilience.Guard, api SignalSlack, channel, key string, oldest time.Time, msg Message, thread string) (string, bool, error) {
	// A reply is not in the channel's history, only in its thread's.
	find, method := func(ctx context.Context) (string, bool, error) {
		return findMarked(ctx, api, channel, key, oldest)
	}, "conversations.history"
	if thread != "" {
		find, method = func(ctx context.Context) (string, bool, error) {
			return findReply(ctx, api, channel, thread, key)
		}, "conversations.replies"
	}
	var ts string
	var found bool
	err := g.Do(ctx, resilience.Op{Method: method, Idempotent: true}, func(ctx context.Context) error {
		var err error
		ts, found, err = find(ctx)
		return err
	})
	if err != nil || found {
		return ts, false, err
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: MetadataEventType, EventPayload: map[string]any{"key": key}}),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	posted := false
	err = g.Do(ctx, resilience.Op{Method: "chat.postMessage", Idempotent: true}, func(ctx context.Context) error {
		if resilience.Attempt(ctx) > 1 {
			// The previous attempt may have landed with its answer lost.
			got, ok, err := find(ctx)
			if err != nil {
				return err
			}
			if ok {
				ts, posted = got, false
				return nil
			}
		}
		_, got, err := api.PostMessageContext(ctx, channel, opts...)
		if err != nil {
			return err
		}
		ts, posted = got, true
		return nil
	})
	return ts, posted, err
}

// findMarked looks for the message carrying key in its Ooda metadata among
// the channel's history since oldest (zero: the latest pages). It is the
// executor's reconciliation (Executor.findPosted) for posts that are not
// effects of an incident.
func findMarked(ctx context.Context, r HistoryReader, channel, key string, oldest time.Time) (string, bool, error) {
	var ts string
	found, err := scanHistory(ctx, r, channel, oldest, true, func(m slack.Message) bool {
		if m.Metadata.EventType == MetadataEventType && m.Metadata.EventPayload["key"] == key {
			ts = m.Timestamp
			return true
		}
		return false
	})
	return ts, found, err
}

// findReply is findMarked for the replies in thread.
func findReply(ctx context.Context, api SignalSlack, channel, thread, key string) (string, bool, error) {
	params := &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: thread, Limit: historyPage, IncludeAllMetadata: true}
	for range historyMaxPages {
		msgs, more, next, err := api.GetConversationRepliesContext(ctx, params)
		if err != nil {
			return "", false, err
		}
		for _, m := range msgs {
			if m.Metadata.EventType == MetadataEventType && m.Metadata.EventPayload["key"] == key {
				return m.Timestamp, true, nil
			}
		}
		if !more || next == "" {
			break
		}
		params.Cursor = next
	}
	return "", false, nil
}

// openIncidentsOf returns the active incidents declared for service. The
// comparison ignores case and surrounding space: people type service
// names into the declare form, machines write them into labels.
func openIncidentsOf(ctx context.Context, store incident.Store, service string) ([]incident.Incident, error) {
	service = strings.TrimSpace(service)
	if service == "" {
		return nil, nil
	}
	incs, err := store.Incidents(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("open incidents of %s: %w", service, err)
	}
	var out []incident.Incident
	for _, inc := range incs {
		if inc.Status.Active() && strings.EqualFold(strings.TrimSpace(inc.Service), service) {
			out = append(out, inc)
		}
	}
	return out, nil
}

// observeIn records text as an observe entry of inc by Ooda. key names the
// signal; the entry's own key adds the incident, since one signal may be
// recorded in two incidents of the same service and keys are global. It
// reports whether the entry is new (a repeat records nothing).
func observeIn(ctx context.Context, store incident.Store, inc incident.Incident, text string, src timeline.Source, key string, at time.Time) (bool, error) {
	k := key + "@" + inc.ID
	m := incident.Meta{At: at, Actor: incident.Bot, Source: src, Key: k}
	res, err := store.Apply(ctx, inc.Number, k, func(i *incident.Incident) (incident.Change, error) {
		return i.AddEntry(timeline.PhaseObserve, clipRunes(text, incident.MaxText), false, m)
	})
	if err != nil {
		return false, fmt.Errorf("observe in %s: %w", inc.ID, err)
	}
	return !res.Duplicate, nil
}

// ActionDeclareFromSignal is the action id of the "Declare incident"
// button that SLO warnings and alert triage signals carry. Its value is
// the service; the block holding it carries the suggested title after
// signalBlockPrefix.
const ActionDeclareFromSignal = "ooda_declare_from_slo"

// signalBlockPrefix starts the block id of the button's actions block,
// followed by the title the declare form suggests. Slack sends the block
// id back with the click, so the button needs no state of Ooda's.
const signalBlockPrefix = "ooda_signal:"

// maxBlockID is Slack's limit on a block id.
const maxBlockID = 255

// declareSignalBlock is the "Declare incident" button for service, whose
// form suggests title and SEV2. The block id also says what kind of signal
// it is (slo or alert), so the incident records where it came from.
func declareSignalBlock(service, title string, source timeline.Source) slack.Block {
	btn := slack.NewButtonBlockElement(ActionDeclareFromSignal, service, plainText("Declare incident"))
	btn.Style = slack.StyleDanger
	prefix := signalBlockPrefix + string(source) + ":"
	id := prefix + clipRunes(title, maxBlockID-utf8.RuneCountInString(prefix))
	return slack.NewActionBlock(id, btn)
}

// signalSource is the kind of signal a button's block id names.
func signalSource(blockID string) timeline.Source {
	rest, _ := strings.CutPrefix(blockID, signalBlockPrefix)
	switch {
	case strings.HasPrefix(rest, string(timeline.SourceAlert)+":"):
		return timeline.SourceAlert
	}
	return timeline.SourceSLO
}

// signalTitle is the title a declaration from a signal suggests: the one
// its block carries, else "<service> SLO burning".
func signalTitle(blockID, service string) string {
	t, ok := strings.CutPrefix(blockID, signalBlockPrefix)
	for _, src := range []timeline.Source{timeline.SourceSLO, timeline.SourceAlert} {
		t = strings.TrimPrefix(t, string(src)+":")
	}
	if ok && strings.TrimSpace(t) != "" {
		return clipRunes(strings.TrimSpace(t), incident.MaxTitle)
	}
	if service == "" {
		return "Alert firing"
	}
	return clipRunes(service+" SLO burning", incident.MaxTitle)
}

// signalDeclareSeverity is the severity a declaration from a signal
// suggests: a burning SLO or a firing alert is a major problem until
// someone says otherwise.
const signalDeclareSeverity = 2

// webLink returns s when it is an absolute http(s) address safe to put in
// a Slack link, else "".
func webLink(s string) string {
	if incident.IsWebLink(s) {
		return s
	}
	return ""
}

// clockUTC writes t as Slack messages show times: "09:42 UTC".
func clockUTC(t time.Time) string { return t.UTC().Format("15:04") + " UTC" }
