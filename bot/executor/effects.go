package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/timeline"
)

// Bounds of the searches the executor makes.
const (
	listPage     = 1000
	listMaxPages = 100 // 100,000 channels
	// eventsBefore is how far before a handover the brief's entries are
	// read from.
	eventsBefore = 30
)

// attrEffectKind records, in an effect_failed event, what kind of effect
// failed, so later effects can tell that the channel will never exist.
const attrEffectKind = "kind"

// Errors the executor makes of its own.
var (
	// errNoChannelYet defers an incident-channel effect whose channel does
	// not exist yet. Effects run in order, so it only happens when the
	// channel's creation has not completed.
	errNoChannelYet = errors.New("no_channel_yet")
	// errNoChannel fails one whose channel's creation failed for good.
	errNoChannel = errors.New("no_channel")
	// errNotUploadedYet defers a bookmark whose upload has not completed.
	// Effects run in order, so it only happens should that order break.
	errNotUploadedYet = errors.New("not_uploaded_yet")
	// errSharePending defers an upload Slack completed but whose sharing
	// message is not in the channel's history yet (Slack shares files
	// asynchronously); that message is where the permalink comes from.
	errSharePending = errors.New("file_share_pending")
)

// shareLookups is how many times an uploaded draft is looked for in the
// channel's history before it is recorded without its permalink (and so
// without a bookmark): a message deleted at once must not keep the
// incident's later effects waiting forever.
const shareLookups = 5

// storeError is a failure of Ooda's own store while performing an effect:
// not the effect's fault, not Slack's, and nothing to record in the
// outbox, which is what failed.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func storeErr(what string, err error) error {
	return &storeError{err: fmt.Errorf("%s: %w", what, err)}
}

// result is what performing an effect produced.
type result struct {
	values  map[string]string // what later attempts and effects need (channel, ts)
	decide  incident.Decider  // events to append with the completion
	skipped bool
}

// performOne makes one attempt at pe and records how it went. It reports
// whether the incident's chain may go on to its next effect.
func (e *Executor) performOne(ctx context.Context, p *pass, pe incident.Pending) bool {
	fx := pe.Effect
	attempt := pe.Attempts + 1
	res, err := e.perform(ctx, pe)
	now := e.cfg.Now()
	kind := string(fx.Kind)
	var se *storeError
	switch {
	case err == nil:
		_, cerr := e.cfg.Outbox.Complete(ctx, pe.OutboxSeq, incident.Outcome{
			Result: res.values, At: now, Key: fx.Key, Decide: res.decide,
		})
		if cerr != nil {
			// Slack did it; keep what it returned, so the next attempt
			// updates instead of posting again. Should this write fail
			// too, the next attempt still reconciles (see post).
			if ctx.Err() == nil {
				_ = e.cfg.Outbox.Defer(ctx, pe.OutboxSeq, incident.Retry{
					Attempts: attempt, NextAt: now, Error: "complete: " + cerr.Error(), Result: res.values,
				})
			}
			p.fail(fmt.Errorf("complete effect %s: %w", fx.Key, cerr))
			return false
		}
		outcome := effectDone
		if res.skipped {
			outcome = effectSkipped
		} else {
			e.slackAnswered()
		}
		e.metrics.effects.WithLabelValues(kind, outcome).Inc()
		p.removedOne()
		return true
	case ctx.Err() != nil:
		// Shutting down. Whatever was in flight is ambiguous; a post was
		// marked before it was sent, so the next attempt reconciles.
		return false
	case errors.As(err, &se):
		p.fail(fmt.Errorf("effect %s: %w", fx.Key, err))
		return false
	case errors.Is(err, resilience.ErrPermanent):
		return e.failForGood(ctx, p, pe, res, err)
	}
	return e.deferEffect(ctx, p, pe, res, err)
}

// failForGood completes an effect that cannot succeed and records why in
// the incident's timeline, in the same transaction, so the next reply
// about the incident mentions it.
func (e *Executor) failForGood(ctx context.Context, p *pass, pe incident.Pending, res result, err error) bool {
	fx := pe.Effect
	now := e.cfg.Now()
	code := errorCode(err)
	msg := resilience.Redact(err.Error())
	if slackapi.AnsweredBySlack(err) {
		e.slackAnswered()
	}
	sentence := fmt.Sprintf("Ooda could not %s: %s", describeEffect(fx), code)
	meta := incident.Meta{At: now, Actor: incident.Bot, Source: timeline.SourceSystem, Key: fx.Key}
	_, cerr := e.cfg.Outbox.Complete(ctx, pe.OutboxSeq, incident.Outcome{
		Result: res.values, Failed: true, Error: msg, At: now, Key: fx.Key,
		Decide: func(inc *incident.Incident) (incident.Change, error) {
			return inc.Record(timeline.KindEffectFailed, timeline.PhaseNone, sentence, map[string]string{
				timeline.AttrEffect: fx.Key, timeline.AttrError: code, attrEffectKind: string(fx.Kind),
			}, meta)
		},
	})
	if cerr != nil {
		p.fail(fmt.Errorf("record failed effect %s: %w", fx.Key, cerr))
		return false
	}
	e.metrics.effects.WithLabelValues(string(fx.Kind), effectFailed).Inc()
	e.log.LogAttrs(ctx, slog.LevelError, "effect failed for good",
		slog.String("effect", fx.Key), slog.Int("attempts", pe.Attempts+1), slog.String("error", msg))
	p.removedOne()
	// The chain goes on: later effects do not depend on this one, except
	// on a channel, and those find out for themselves.
	return true
}

// deferEffect records a failed attempt that may pass and when to try
// again. Nothing is ever given up on: an outage only delays.
func (e *Executor) deferEffect(ctx context.Context, p *pass, pe incident.Pending, res result, err error) bool {
	fx := pe.Effect
	now := e.cfg.Now()
	attempt := pe.Attempts + 1
	wait := e.cfg.Backoff.Delay(attempt)
	if d, ok := e.cfg.Guard.RetryAfter(err); ok {
		wait = d
	}
	switch {
	case errors.Is(err, resilience.ErrBulkheadFull), errors.Is(err, errNoChannelYet),
		errors.Is(err, errNotUploadedYet), errors.Is(err, errSharePending):
		// Our own congestion or ordering, or Slack still at work: not
		// news about Slack's health.
	case e.cfg.Guard.Classify(err) == resilience.ClassRateLimited:
		e.slackAnswered()
	default:
		e.slackFailed(now)
	}
	msg := resilience.Redact(err.Error())
	next := now.Add(wait)
	values := res.values
	if values == nil {
		values = pe.Result
	}
	if derr := e.cfg.Outbox.Defer(ctx, pe.OutboxSeq, incident.Retry{
		Attempts: attempt, NextAt: next, Error: msg, Result: values,
	}); derr != nil {
		p.fail(fmt.Errorf("defer effect %s: %w", fx.Key, derr))
		return false
	}
	e.metrics.effects.WithLabelValues(string(fx.Kind), effectDeferred).Inc()
	level, what := slog.LevelWarn, "effect deferred"
	if attempt == loudAfter {
		level, what = slog.LevelError, "effect still failing; it stays queued and is retried"
	}
	e.log.LogAttrs(ctx, level, what,
		slog.String("effect", fx.Key), slog.Int("attempts", attempt),
		slog.Duration("retry_in", wait), slog.String("error", msg))
	p.stop(fx.Incident, next)
	return false
}

// perform makes one attempt at an effect.
func (e *Executor) perform(ctx context.Context, pe incident.Pending) (result, error) {
	switch pe.Effect.Kind {
	case incident.EffectCreateChannel:
		return e.createChannel(ctx, pe)
	case incident.EffectInvite:
		return e.invite(ctx, pe)
	case incident.EffectSetTopic:
		return e.setTopic(ctx, pe)
	case incident.EffectPost, incident.EffectDM:
		return e.post(ctx, pe)
	case incident.EffectUploadFile:
		return e.uploadPostmortem(ctx, pe)
	case incident.EffectBookmark:
		return e.bookmark(ctx, pe)
	case incident.EffectRefreshKickoff:
		return e.refreshKickoff(ctx, pe)
	}
	return result{}, resilience.Permanent(fmt.Errorf("unknown_effect: %q", pe.Effect.Kind))
}

// createChannel creates the incident's channel and records it on the
// incident in the same transaction that completes the effect. The name is
// the natural key: name_taken means an earlier attempt (or someone) made
// it, and the channel is looked up instead.
func (e *Executor) createChannel(ctx context.Context, pe incident.Pending) (result, error) {
	fx := pe.Effect
	name := fx.Params["name"]
	id := pe.Result["channel"]
	if id == "" {
		err := e.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.create", Idempotent: true}, func(ctx context.Context) error {
			ch, err := e.cfg.Slack.CreateConversationContext(ctx, slack.CreateConversationParams{
				ChannelName: name, IsPrivate: fx.Params["private"] == "true",
			})
			if err == nil {
				id = ch.ID
			}
			return err
		})
		if slackapi.ErrorCode(err) == "name_taken" {
			id, err = e.findChannel(ctx, name)
		}
		if err != nil {
			return result{}, err
		}
	}
	meta := incident.Meta{At: e.cfg.Now(), Actor: incident.Bot, Source: timeline.SourceSystem, Key: fx.Key}
	return result{
		values: map[string]string{"channel": id},
		decide: func(inc *incident.Incident) (incident.Change, error) { return inc.ChannelCreated(id, meta) },
	}, nil
}

// findChannel looks a channel up by name among those Ooda can see.
func (e *Executor) findChannel(ctx context.Context, name string) (string, error) {
	params := &slack.GetConversationsParameters{
		Types: []string{"public_channel", "private_channel"}, ExcludeArchived: true, Limit: listPage,
	}
	for range listMaxPages {
		var page []slack.Channel
		var next string
		err := e.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.list", Idempotent: true}, func(ctx context.Context) error {
			var err error
			page, next, err = e.cfg.Slack.GetConversationsContext(ctx, params)
			return err
		})
		if err != nil {
			return "", err
		}
		for _, ch := range page {
			if ch.Name == name {
				return ch.ID, nil
			}
		}
		if next == "" {
			break
		}
		params.Cursor = next
	}
	return "", resilience.Permanent(fmt.Errorf("name_taken: #%s exists but Ooda cannot see it (archived, or private without Ooda in it)", name))
}

// invite adds people to the incident channel one at a time: Slack fails
// a whole invitation for one bad user, and one at a time also makes
// already_in_channel a plain success. Who was invited is kept as a partial
// result, so a retry resumes where the last attempt stopped.
func (e *Executor) invite(ctx context.Context, pe incident.Pending) (result, error) {
	channel, err := e.incidentChannel(ctx, pe.Effect.Incident)
	if err != nil {
		return result{}, err
	}
	done := splitUsers(pe.Result["invited"])
	var refused []string
	for _, u := range splitUsers(pe.Effect.Params["users"]) {
		if slices.Contains(done, u) {
			continue
		}
		err := e.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.invite", Idempotent: true}, func(ctx context.Context) error {
			_, err := e.cfg.Slack.InviteUsersToConversationContext(ctx, channel, u)
			return err
		})
		code := slackapi.ErrorCode(err)
		switch {
		case err == nil, code == "already_in_channel", code == "cant_invite_self":
			done = append(done, u)
		case userRefusal(code):
			// This person cannot be invited; the others still can.
			refused = append(refused, "<@"+u+">: "+code)
			done = append(done, u)
		default:
			return result{values: invited(channel, done)}, err
		}
	}
	if len(refused) > 0 {
		return result{values: invited(channel, done)}, resilience.Permanent(fmt.Errorf("invite_refused: %s", strings.Join(refused, ", ")))
	}
	return result{values: invited(channel, done)}, nil
}

func invited(channel string, users []string) map[string]string {
	return map[string]string{"channel": channel, "invited": strings.Join(users, ",")}
}

// userRefusal reports whether conversations.invite's code is about the
// user rather than the channel or the call.
func userRefusal(code string) bool {
	switch code {
	case "user_not_found", "user_is_restricted", "user_is_ultra_restricted", "ura_max_channels",
		"cant_invite", "user_is_deactivated", "user_disabled", "cannot_invite_user":
		return true
	}
	return false
}

func splitUsers(s string) []string {
	var out []string
	for u := range strings.SplitSeq(s, ",") {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// setTopic renders the topic from the incident as it is now, not as it
// was when the effect was queued, so topics that land late are current.
func (e *Executor) setTopic(ctx context.Context, pe incident.Pending) (result, error) {
	inc, err := e.cfg.Store.Incident(ctx, pe.Effect.Incident)
	if err != nil {
		return result{}, storeErr("read incident", err)
	}
	channel, err := e.channelOf(ctx, inc)
	if err != nil {
		return result{}, err
	}
	topic := blockkit.Topic(inc)
	err = e.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.setTopic", Idempotent: true}, func(ctx context.Context) error {
		_, err := e.cfg.Slack.SetTopicOfConversationContext(ctx, channel, topic)
		return err
	})
	if err != nil {
		return result{}, err
	}
	return result{values: map[string]string{"channel": channel, "topic": topic}}, nil
}

// post sends a message: into the incident channel, the announcement
// channel, or (dm) to a person. It never posts twice:
//   - a post whose ts is known from an earlier attempt is updated;
//   - before sending, the effect is marked as attempted, so that a crash
//     after Slack took the message but before the completion committed
//     leaves a mark the next attempt sees;
//   - an attempt after any earlier one (in the outbox or within the
//     guard's retries) first looks for the message in the channel's
//     history by the effect key in its metadata.
func (e *Executor) post(ctx context.Context, pe incident.Pending) (result, error) {
	fx := pe.Effect
	inc, err := e.cfg.Store.Incident(ctx, fx.Incident)
	if err != nil {
		return result{}, storeErr("read incident", err)
	}
	var channel string
	announce := false
	switch {
	case fx.Kind == incident.EffectDM:
		channel = fx.Target
		if channel == "" {
			return result{}, resilience.Permanent(errors.New("no_user: a direct message without a recipient"))
		}
	case fx.Target == incident.TargetAnnounce:
		if e.cfg.AnnounceChannel == "" {
			e.noAnnounceLogged.Do(func() {
				e.log.LogAttrs(ctx, slog.LevelInfo, "no announcement channel configured: announcements are skipped")
			})
			return result{skipped: true, values: map[string]string{"skipped": "no announcement channel"}}, nil
		}
		channel, announce = e.cfg.AnnounceChannel, true
	case fx.Target == incident.TargetIncident || fx.Target == "":
		if channel, err = e.channelOf(ctx, inc); err != nil {
			return result{}, err
		}
	default:
		return result{}, resilience.Permanent(fmt.Errorf("unknown_target: %q", fx.Target))
	}

	// Most posts tell one event; a handover brief also the ones before it,
	// a catch-up the ones after.
	var events []timeline.Event
	switch {
	case fx.Template == incident.TemplateHandover:
		events, err = e.cfg.Store.Events(ctx, fx.Incident, max(fx.Seq, eventsBefore+1)-eventsBefore)
	case pe.Result[resultCatchUp] != "":
		events, err = e.cfg.Store.Events(ctx, fx.Incident, fx.Seq)
	default:
		var ev timeline.Event
		if ev, err = e.cfg.Store.Event(ctx, fx.Incident, fx.Seq); err == nil {
			events = []timeline.Event{ev}
		} else if errors.Is(err, incident.ErrNotFound) {
			err = nil
		}
	}
	if err != nil {
		return result{}, storeErr("read events", err)
	}
	i := slices.IndexFunc(events, func(ev timeline.Event) bool { return ev.Seq == fx.Seq })
	if i < 0 {
		return result{}, resilience.Permanent(fmt.Errorf("event_missing: %s has no event %d", inc.ID, fx.Seq))
	}
	var msg blockkit.Message
	if seqs := pe.Result[resultCatchUp]; seqs != "" {
		msg = blockkit.CatchUp(inc, events[i:], seqs)
	} else if msg, err = blockkit.Render(fx.Template, blockkit.PostContext{Event: events[i], Incident: inc, Recent: events[:i], Announce: announce}); err != nil {
		return result{}, resilience.Permanent(err)
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: slackapi.MetadataEventType, EventPayload: map[string]any{"key": fx.Key}}),
		slack.MsgOptionDisableLinkUnfurl(),
	}

	if ts := pe.Result["ts"]; ts != "" {
		if c := pe.Result["channel"]; c != "" {
			channel = c
		}
		return e.update(ctx, channel, ts, opts)
	}

	// A direct message goes to a user id, whose conversation's history
	// cannot be read without another call; it is not marked or
	// reconciled, and a lost answer may repeat it.
	reconcile := fx.Kind == incident.EffectPost
	if reconcile {
		if err := e.cfg.Outbox.Defer(ctx, pe.OutboxSeq, incident.Retry{
			Attempts: pe.Attempts + 1, NextAt: pe.NextAt, Error: pe.LastError, Result: pe.Result,
		}); err != nil {
			return result{}, storeErr("mark effect attempted", err)
		}
	}
	doubt := pe.Attempts > 0
	var gotChannel, gotTS string
	var landed bool // an earlier attempt's message was found
	err = e.cfg.Guard.Do(ctx, resilience.Op{Method: "chat.postMessage", Idempotent: true}, func(ctx context.Context) error {
		if reconcile && (doubt || resilience.Attempt(ctx) > 1) {
			ts, found, err := e.findPosted(ctx, channel, fx.Key, pe.QueuedAt)
			if err != nil {
				return err
			}
			if found {
				gotChannel, gotTS, landed = channel, ts, true
				return nil
			}
		}
		c, ts, err := e.cfg.Slack.PostMessageContext(ctx, channel, opts...)
		if err != nil {
			return err
		}
		gotChannel, gotTS = c, ts
		return nil
	})
	if err != nil {
		return result{}, err
	}
	if gotChannel == "" {
		gotChannel = channel
	}
	if landed && pe.Result[resultCatchUp] != "" {
		// What landed may be this post as it was before a catch-up took it
		// as its anchor, or a shorter catch-up: rewrite it to tell all the
		// entries folded into it since, or those would never be seen.
		res, err := e.update(ctx, gotChannel, gotTS, opts)
		if err != nil {
			return result{}, err
		}
		res.values[resultCatchUp] = pe.Result[resultCatchUp]
		return res, nil
	}
	values := map[string]string{"channel": gotChannel, "ts": gotTS}
	if seqs := pe.Result[resultCatchUp]; seqs != "" {
		values[resultCatchUp] = seqs
	}
	return result{values: values}, nil
}

// update replaces a message an earlier attempt posted.
func (e *Executor) update(ctx context.Context, channel, ts string, opts []slack.MsgOption) (result, error) {
	err := e.cfg.Guard.Do(ctx, resilience.Op{Method: "chat.update", Idempotent: true}, func(ctx context.Context) error {
		_, _, _, err := e.cfg.Slack.UpdateMessageContext(ctx, channel, ts, opts...)
		return err
	})
	// Someone deleted the message: it was posted, which is what was asked.
	if err != nil && slackapi.ErrorCode(err) != "message_not_found" {
		return result{}, err
	}
	return result{values: map[string]string{"channel": channel, "ts": ts}}, nil
}

// findPosted looks for the message carrying key in its metadata among the
// channel's recent history (since the effect was queued).
func (e *Executor) findPosted(ctx context.Context, channel, key string, queuedAt time.Time) (string, bool, error) {
	return slackapi.FindMarked(ctx, e.cfg.Slack, channel, key, slackapi.SinceQueued(queuedAt))
}

// sharedFile is a file the channel's history shows shared, and the
// message that shared it.
type sharedFile struct {
	id, permalink, ts string
}

// findShared looks for a file that match accepts among the files shared
// in the channel's recent history (since the effect was queued).
func (e *Executor) findShared(ctx context.Context, channel string, queuedAt time.Time, match func(slack.File) bool) (sharedFile, bool, error) {
	var got sharedFile
	found, err := slackapi.ScanHistory(ctx, e.cfg.Slack, channel, slackapi.SinceQueued(queuedAt), false, func(m slack.Message) bool {
		for _, f := range m.Files {
			if match(f) {
				got = sharedFile{id: f.ID, permalink: f.Permalink, ts: m.Timestamp}
				return true
			}
		}
		return false
	})
	return got, found, err
}

// uploadPostmortem writes the incident's post-mortem draft from its
// events as they are now, uploads the Markdown file into the incident
// channel (files.getUploadURLExternal, the bytes, then
// files.completeUploadExternal, which shares it), and records the file on
// the incident in the same transaction that completes the effect.
//
// It never shares the draft twice. The file's name carries the incident
// and the event that asked for it (inc-7-postmortem-draft-12.md), so it
// is unique to the effect: like a post, the effect is marked as attempted
// before anything is sent, and any attempt after an earlier one first
// looks for a file of that name shared in the channel since the effect was
// queued. completeUploadExternal takes no message metadata, and the file
// id that files.getUploadURLExternal hands out says nothing about whether
// the upload was completed, so the name is what reconciles.
//
// Once Slack has said the upload is complete, its file id is kept as a
// partial result, and later attempts only look for the message that shared
// it, which carries the permalink the bookmark links to.
func (e *Executor) uploadPostmortem(ctx context.Context, pe incident.Pending) (result, error) {
	fx := pe.Effect
	inc, err := e.cfg.Store.Incident(ctx, fx.Incident)
	if err != nil {
		return result{}, storeErr("read incident", err)
	}
	channel, err := e.channelOf(ctx, inc)
	if err != nil {
		return result{}, err
	}
	name := postmortemFileName(fx)
	generated := pe.Result["generated"]
	fileID := pe.Result["file_id"]
	var shared sharedFile
	found := false
	if fileID == "" {
		now := e.cfg.Now().UTC()
		generated = now.Format(time.RFC3339)
		shared, found, fileID, err = e.uploadDraft(ctx, pe, inc, channel, name, now)
		if err != nil {
			return result{}, err
		}
	}
	if !found {
		lookups, _ := strconv.Atoi(pe.Result["lookups"])
		err := e.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.history", Idempotent: true}, func(ctx context.Context) error {
			var err error
			shared, found, err = e.findShared(ctx, channel, pe.QueuedAt, func(f slack.File) bool { return f.ID == fileID })
			return err
		})
		partial := map[string]string{
			"channel": channel, "file_id": fileID, "generated": generated, "lookups": strconv.Itoa(lookups + 1),
		}
		switch {
		case err != nil:
			return result{values: partial}, err
		case !found && lookups+1 < shareLookups:
			return result{values: partial}, fmt.Errorf("%w: file %s is not in the channel's history yet", errSharePending, fileID)
		case !found:
			e.log.LogAttrs(ctx, slog.LevelWarn, "uploaded post-mortem draft not found in the channel; recorded without its permalink",
				slog.String("effect", fx.Key), slog.String("file", fileID))
			shared = sharedFile{id: fileID}
		}
	}
	values := map[string]string{"channel": channel, "file_id": shared.id, "generated": generated}
	if shared.permalink != "" {
		values["permalink"] = shared.permalink
	}
	if shared.ts != "" {
		values["ts"] = shared.ts
	}
	meta := incident.Meta{At: e.cfg.Now(), Actor: incident.Bot, Source: timeline.SourceSystem, Key: fx.Key}
	return result{
		values: values,
		decide: func(inc *incident.Incident) (incident.Change, error) {
			return inc.PostmortemDrafted(shared.id, shared.permalink, channel, shared.ts, meta)
		},
	}, nil
}

// uploadDraft marks the effect as attempted, writes the draft and uploads
// it, unless the channel already shows the file an earlier attempt
// shared; then found is true and shared says where it is.
func (e *Executor) uploadDraft(ctx context.Context, pe incident.Pending, inc incident.Incident, channel, name string, now time.Time) (shared sharedFile, found bool, fileID string, err error) {
	if err := e.cfg.Outbox.Defer(ctx, pe.OutboxSeq, incident.Retry{
		Attempts: pe.Attempts + 1, NextAt: pe.NextAt, Error: pe.LastError, Result: pe.Result,
	}); err != nil {
		return sharedFile{}, false, "", storeErr("mark effect attempted", err)
	}
	opts := postmortem.Options{Now: now}
	if e.cfg.Budget != nil {
		opts.Budget = postmortem.LookupBudget(ctx, inc, e.cfg.Budget)
	}
	body, _, err := postmortem.Export(ctx, e.cfg.Store, inc.Number, postmortem.FormatMarkdown, opts)
	if err != nil {
		return sharedFile{}, false, "", storeErr("draft the post-mortem", err)
	}
	params := slack.UploadFileParameters{
		Content:        string(body),
		FileSize:       len(body),
		Filename:       name,
		Title:          inc.ID + " post-mortem draft",
		Channel:        channel,
		InitialComment: postmortemComment(inc, now),
	}
	doubt := pe.Attempts > 0
	err = e.cfg.Guard.Do(ctx, resilience.Op{Method: "files.upload", Idempotent: true}, func(ctx context.Context) error {
		if doubt || resilience.Attempt(ctx) > 1 {
			s, ok, err := e.findShared(ctx, channel, pe.QueuedAt, func(f slack.File) bool { return f.Name == name })
			if err != nil {
				return err
			}
			if ok {
				shared, found = s, true
				return nil
			}
		}
		sum, err := e.cfg.Slack.UploadFileContext(ctx, params)
		if err != nil {
			return err
		}
		fileID = sum.ID
		return nil
	})
	if found {
		fileID = shared.id
	}
	return shared, found, fileID, err
}

// postmortemFileName names the draft's file after the incident and the
// event that asked for it, which makes it unique to the effect.
func postmortemFileName(fx incident.Effect) string {
	return fmt.Sprintf("%s-postmortem-draft-%d.md", strings.ToLower(incident.ID(fx.Incident)), fx.Seq)
}

// postmortemComment is the message that shares the draft.
func postmortemComment(inc incident.Incident, at time.Time) string {
	return fmt.Sprintf(":memo: Post-mortem draft for %s %s, written from the timeline at %s UTC. "+
		"Start from it where your team publishes post-mortems (the review note at its end lists wording to reconsider), "+
		"then record the link with `/incident postmortem publish &lt;url&gt;`.",
		inc.ID, mrkdwn.Quote(inc.Title), at.UTC().Format("2006-01-02 15:04"))
}

// bookmark adds the draft the upload of the same event shared to the
// channel's bookmarks. bookmarks.add cannot be reconciled (reading
// bookmarks needs a scope Ooda does not ask for), so the call is not
// retried within an attempt; an answer lost on the way back may, on a
// later pass, leave a second bookmark, which is harmless and easy to
// remove.
func (e *Executor) bookmark(ctx context.Context, pe incident.Pending) (result, error) {
	fx := pe.Effect
	up, ok, err := e.cfg.Outbox.EffectResult(ctx, fx.Params["upload"])
	if err != nil {
		return result{}, storeErr("read the upload's result", err)
	}
	if !ok {
		return result{}, fmt.Errorf("%w: %s", errNotUploadedYet, fx.Params["upload"])
	}
	link := up.Result["permalink"]
	if up.Failed || link == "" {
		return result{skipped: true, values: map[string]string{"skipped": "no draft to bookmark"}}, nil
	}
	channel := up.Result["channel"]
	if channel == "" {
		if channel, err = e.incidentChannel(ctx, fx.Incident); err != nil {
			return result{}, err
		}
	}
	title := fx.Params["title"]
	if title == "" {
		title = "Post-mortem draft"
	}
	if at, err := time.Parse(time.RFC3339, up.Result["generated"]); err == nil {
		title += " · " + at.UTC().Format("2 Jan 15:04") + " UTC"
	}
	var bm slack.Bookmark
	err = e.cfg.Guard.Do(ctx, resilience.Op{Method: "bookmarks.add"}, func(ctx context.Context) error {
		var err error
		bm, err = e.cfg.Slack.AddBookmarkContext(ctx, channel, slack.AddBookmarkParameters{
			Title: title, Type: "link", Link: link, Emoji: ":memo:",
		})
		return err
	})
	if err != nil {
		return result{}, err
	}
	return result{values: map[string]string{"channel": channel, "bookmark": bm.ID, "link": link}}, nil
}

// incidentChannel returns the channel of incident n (see channelOf).
func (e *Executor) incidentChannel(ctx context.Context, n uint64) (string, error) {
	inc, err := e.cfg.Store.Incident(ctx, n)
	if err != nil {
		return "", storeErr("read incident", err)
	}
	return e.channelOf(ctx, inc)
}

// channelOf returns the incident's channel. Effects run in order, so one
// that needs the channel runs after its creation: no channel means the
// creation failed for good (and so will this effect), or, should order
// ever be broken, that it has not happened yet (and this effect waits).
func (e *Executor) channelOf(ctx context.Context, inc incident.Incident) (string, error) {
	if inc.ChannelID != "" {
		return inc.ChannelID, nil
	}
	events, err := e.cfg.Store.Events(ctx, inc.Number, 1)
	if err != nil {
		return "", storeErr("read events", err)
	}
	for _, ev := range events {
		if ev.Kind == timeline.KindEffectFailed && ev.Attr(attrEffectKind) == string(incident.EffectCreateChannel) {
			return "", resilience.Permanent(fmt.Errorf("%w: %s has no channel: creating it failed", errNoChannel, inc.ID))
		}
	}
	return "", fmt.Errorf("%w: %s has no channel yet", errNoChannelYet, inc.ID)
}

// describeEffect says what an effect does, for the timeline entry that
// records its failure.
func describeEffect(fx incident.Effect) string {
	switch fx.Kind {
	case incident.EffectCreateChannel:
		return "create the incident channel #" + fx.Params["name"]
	case incident.EffectInvite:
		var who []string
		for _, u := range splitUsers(fx.Params["users"]) {
			who = append(who, mrkdwn.Mention(u))
		}
		return "invite " + strings.Join(who, ", ") + " to the incident channel"
	case incident.EffectSetTopic:
		return "set the incident channel's topic"
	case incident.EffectDM:
		return "send " + mrkdwn.Mention(fx.Target) + " a direct message"
	case incident.EffectUploadFile:
		return "upload the post-mortem draft to the incident channel"
	case incident.EffectBookmark:
		return "bookmark the post-mortem draft in the incident channel"
	case incident.EffectRefreshKickoff:
		return "update the kickoff message"
	case incident.EffectPost:
		where := "the incident channel"
		if fx.Target == incident.TargetAnnounce {
			where = "the announcement channel"
		}
		return fmt.Sprintf("post the %s message in %s", fx.Template, where)
	}
	return "perform " + string(fx.Kind)
}

// errorCode is the short code an effect_failed event records: Slack's
// error code, an HTTP status, or the executor's own.
func errorCode(err error) string {
	if c := slackapi.ErrorCode(err); c != "" {
		return c
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return "http_" + strconv.Itoa(sc.Code)
	}
	for _, own := range []error{errNoChannel, errNoChannelYet} {
		if errors.Is(err, own) {
			return own.Error()
		}
	}
	// The executor's own permanent errors start with their code.
	if code, _, ok := strings.Cut(rootMessage(err), ":"); ok && !strings.ContainsAny(code, " ") {
		return code
	}
	return "error"
}

func rootMessage(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
