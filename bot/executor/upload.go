package executor

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/timeline"
	"github.com/slack-go/slack"
)

// namesTimeout bounds the lookups of names a draft needs that Slack has
// not given yet.
const namesTimeout = 10 * time.Second

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
	inc, channel, err := e.incidentAndChannel(ctx, fx.Incident)
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
	if e.cfg.People != nil {
		// Names Slack has not given yet are asked for, briefly: the
		// upload itself needs the rest of the effect's time.
		nctx, cancel := context.WithTimeout(ctx, namesTimeout)
		defer cancel()
		opts.Names = e.cfg.People.Names(nctx)
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
