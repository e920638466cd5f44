package executor

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/jobs"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// command runs one /incident command as alice, typed in channel, through
// the dispatcher every transport uses.
func (h *harness) command(d *command.Dispatcher, channel, text string) command.Reply {
	h.t.Helper()
	return d.Handle(h.ctx, command.Request{
		Text: text, User: alice, Channel: channel, Source: timeline.SourceCommand, Key: h.key(), At: h.clock.Now(),
	})
}

// resolvedIncident declares a SEV2 incident, works it through the
// dispatcher (impact, a loop turn, an action) and resolves it, with every
// effect performed. It returns the incident's number and channel.
func (h *harness) resolvedIncident(d *command.Dispatcher) (uint64, string) {
	h.t.Helper()
	n := h.declare("Checkout is down", false).Number
	h.drainAll(h.exec)
	ch := h.incident(n).ChannelID
	require.NotEmpty(h.t, ch)
	for _, text := range []string{
		"impact 12% of checkouts fail with a 502",
		"observe 5xx on checkout-api since 08:58",
		"orient --cause the connection pool default of 2 was too small for the new traffic",
		"act rolled back checkout-api to v41",
		"action make the pool size configurable <@" + bob + "> P1",
		"resolve rolled back; error rate back to baseline",
	} {
		h.clock.Advance(time.Minute)
		r := h.command(d, ch, text)
		require.Equal(h.t, http.StatusOK, r.Code, "%s: %s", text, r.Text)
	}
	h.drainAll(h.exec)
	return n, ch
}

// generatedRE matches the draft's generation time, which differs between
// a draft and its export when the clock moved on in between.
var generatedRE = regexp.MustCompile(` on \d{4}-\d\d-\d\d \d\d:\d\d UTC\.`)

func withoutGeneratedAt(s string) string { return generatedRE.ReplaceAllString(s, ".") }

// sharedFiles returns the files the fake shows completed and shared.
func sharedFiles(s *slacktest.Server) []slacktest.File {
	var out []slacktest.File
	for _, f := range s.Files() {
		if f.Completed && len(f.Channels) > 0 {
			out = append(out, f)
		}
	}
	return out
}

// fileMessages returns the channel's messages that share a file.
func fileMessages(s *slacktest.Server, channel string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range s.Messages(channel) {
		if len(m.Files) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// requireOneDraft checks the outcome every path to a draft must reach:
// one Markdown file shared once in the incident channel, holding what the
// export says, one bookmark on it, and one timeline event recording it.
func (h *harness) requireOneDraft(n uint64, channel string) slacktest.File {
	h.t.Helper()
	t := h.t
	require.Zero(t, h.depth(), "every effect done")
	files := sharedFiles(h.slack)
	require.Len(t, files, 1, "exactly one file shared")
	f := files[0]
	require.Equal(t, []string{channel}, f.Channels, "shared once, in the incident channel")
	require.Len(t, fileMessages(h.slack, channel), 1, "one message shares it")
	require.True(t, strings.HasSuffix(f.Name, ".md"), f.Name)
	require.Equal(t, incident.ID(n)+" post-mortem draft", f.Title)

	want, ctype, err := postmortem.Export(h.ctx, h.db, n, postmortem.FormatMarkdown, postmortem.Options{Now: h.clock.Now()})
	require.NoError(t, err)
	require.Equal(t, "text/markdown; charset=utf-8", ctype)
	require.Equal(t, withoutGeneratedAt(string(want)), withoutGeneratedAt(string(f.Content)), "the CLI, the API and Slack agree")

	drafted := eventsOfKind(h.events(n), timeline.KindPostmortemDrafted)
	require.Len(t, drafted, 1, "one timeline event")
	e := drafted[0]
	require.Equal(t, f.ID, e.Attr(timeline.AttrFile))
	require.Equal(t, channel, e.Attr(timeline.AttrChannel))
	permalink := e.Attr(timeline.AttrURL)
	require.Contains(t, permalink, "/files/", "the permalink from the message that shared it")
	require.Contains(t, permalink, f.ID)

	inc := h.incident(n)
	require.Equal(t, f.ID, inc.PostmortemDraftFileID, "the snapshot knows the draft")
	require.Equal(t, permalink, inc.PostmortemDraftURL)

	ch, ok := h.slack.Channel(channel)
	require.True(t, ok)
	require.Len(t, ch.Bookmarks, 1, "one bookmark")
	require.Equal(t, permalink, ch.Bookmarks[0].Link)
	require.Equal(t, "link", ch.Bookmarks[0].Type)
	require.True(t, strings.HasPrefix(ch.Bookmarks[0].Title, incident.ID(n)+" post-mortem draft · "), ch.Bookmarks[0].Title)
	return f
}

func TestSlackPostmortemDraft(t *testing.T) {
	h := newHarness(t)
	d := &command.Dispatcher{Store: h.db}
	n, ch := h.resolvedIncident(d)

	reply := h.command(d, ch, "postmortem")
	require.Equal(t, http.StatusOK, reply.Code, reply.Text)
	require.Contains(t, reply.Text, "INC-1: writing the post-mortem draft from the timeline")
	require.Contains(t, reply.Text, "`/incident postmortem publish <url>`")
	require.Equal(t, 2, h.drain(), "the upload and the bookmark")

	f := h.requireOneDraft(n, ch)
	requested := eventsOfKind(h.events(n), timeline.KindPostmortemRequested)
	require.Len(t, requested, 1)
	require.Equal(t, alice, requested[0].Actor)
	require.Equal(t, fmt.Sprintf("inc-1-postmortem-draft-%d.md", requested[0].Seq), f.Name, "named for the incident and the event that asked")
	require.True(t, strings.HasPrefix(string(f.Content), "# Post-mortem: INC-1 — Checkout is down\n"))
	require.Contains(t, string(f.Content), "## Root Cause")
	require.Contains(t, string(f.Content), "connection pool default of 2")
	msg := fileMessages(h.slack, ch)[0]
	require.Contains(t, msg.Text, "Post-mortem draft for INC-1 “Checkout is down”")
	require.Contains(t, msg.Text, "`/incident postmortem publish &lt;url&gt;`")
	require.Len(t, h.slack.CallsTo("files.getUploadURLExternal"), 1)
	require.Len(t, h.slack.CallsTo("files.completeUploadExternal"), 1)
	require.Equal(t, 1.0, executorMetric(t, h.reg, "ooda_effects_total", map[string]string{"kind": "upload_file", "outcome": "done"}))
	require.Equal(t, 1.0, executorMetric(t, h.reg, "ooda_effects_total", map[string]string{"kind": "bookmark", "outcome": "done"}))

	// The same request replayed (a Slack retry) drafts nothing more.
	again := d.Handle(h.ctx, command.Request{Text: "postmortem", User: alice, Channel: ch, Source: timeline.SourceCommand, Key: requested[0].Key, At: h.clock.Now()})
	require.Equal(t, http.StatusOK, again.Code)
	require.Zero(t, h.drain())
	require.Len(t, sharedFiles(h.slack), 1)

	// Named from elsewhere, a new request makes a fresh draft.
	h.clock.Advance(time.Hour)
	reply = h.command(d, "", "postmortem INC-1")
	require.Equal(t, http.StatusOK, reply.Code, reply.Text)
	require.Equal(t, 2, h.drain())
	require.Len(t, sharedFiles(h.slack), 2)
	after := h.incident(n)
	require.Equal(t, sharedFiles(h.slack)[1].ID, after.PostmortemDraftFileID, "the snapshot points at the latest draft")
	bms, _ := h.slack.Channel(ch)
	require.Len(t, bms.Bookmarks, 2)
	require.NotEqual(t, bms.Bookmarks[0].Title, bms.Bookmarks[1].Title, "drafts are told apart by when they were written")
}

// TestSlackPostmortemDraftSurvivesFaults: whatever fails on the way, and
// however the failure is retried, the draft is shared exactly once.
func TestSlackPostmortemDraftSurvivesFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults map[string][]slacktest.Fault
		// uploads is how many upload tickets files.getUploadURLExternal
		// hands out: a new one only when the last one was surely not shared.
		uploads int
	}{
		{name: "completeUploadExternal's answer is lost",
			faults:  map[string][]slacktest.Fault{"files.completeUploadExternal": {{Kind: slacktest.FaultLostResponse}}},
			uploads: 1},
		{name: "completeUploadExternal's answer is lost and history fails for the rest of the pass",
			faults: map[string][]slacktest.Fault{
				"files.completeUploadExternal": {{Kind: slacktest.FaultLostResponse}},
				"conversations.history":        {{Kind: slacktest.FaultStatus, Status: http.StatusServiceUnavailable, Times: 3}},
			},
			uploads: 1},
		{name: "completeUploadExternal fails before it shares",
			faults:  map[string][]slacktest.Fault{"files.completeUploadExternal": {{Kind: slacktest.FaultStatus, Status: http.StatusInternalServerError}}},
			uploads: 2},
		{name: "the bytes' answer is lost",
			faults:  map[string][]slacktest.Fault{slacktest.UploadMethod: {{Kind: slacktest.FaultLostResponse}}},
			uploads: 2},
		{name: "getUploadURLExternal's answer is lost",
			faults:  map[string][]slacktest.Fault{"files.getUploadURLExternal": {{Kind: slacktest.FaultLostResponse}}},
			uploads: 2},
		{name: "the permalink lookup fails for a whole pass",
			faults:  map[string][]slacktest.Fault{"conversations.history": {{Kind: slacktest.FaultStatus, Status: http.StatusBadGateway, Times: 4}}},
			uploads: 1},
		{name: "Slack is rate limiting",
			faults:  map[string][]slacktest.Fault{"files.completeUploadExternal": {{Kind: slacktest.FaultRateLimit, RetryAfter: time.Second}}},
			uploads: 2},
		{name: "bookmarks.add fails before it bookmarks",
			faults:  map[string][]slacktest.Fault{"bookmarks.add": {{Kind: slacktest.FaultStatus, Status: http.StatusServiceUnavailable}}},
			uploads: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			d := &command.Dispatcher{Store: h.db}
			n, ch := h.resolvedIncident(d)
			for method, fs := range tt.faults {
				for _, f := range fs {
					h.slack.Fault(method, f)
				}
			}
			require.Equal(t, http.StatusOK, h.command(d, ch, "postmortem").Code)
			h.drainAll(h.exec)

			h.requireOneDraft(n, ch)
			require.Len(t, h.slack.Files(), tt.uploads, "upload tickets")
			require.Len(t, h.slack.CallsTo("files.getUploadURLExternal"), tt.uploads)
			require.Zero(t, h.incident(n).FailedEffects)
		})
	}
}

// hiddenShares hides shared files from conversations.history, as Slack
// does for a moment after completeUploadExternal, or for good when the
// message was deleted at once.
type hiddenShares struct{ slackapi.SlackAPI }

func (h hiddenShares) GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error) {
	resp, err := h.SlackAPI.GetConversationHistoryContext(ctx, params)
	if resp != nil {
		for i := range resp.Messages {
			resp.Messages[i].Files = nil
		}
	}
	return resp, err
}

var _ slackapi.SlackAPI = hiddenShares{}

// TestSlackPostmortemShareNeverSeen: Slack completed the upload, but the
// message that shared it never shows in the history. The draft is not
// uploaded again; after a few looks it is recorded without a permalink and
// nothing is bookmarked, so the incident's later effects do not wait
// forever.
func TestSlackPostmortemShareNeverSeen(t *testing.T) {
	h := newHarness(t, withSlackWrapper(func(api slackapi.SlackAPI) slackapi.SlackAPI { return hiddenShares{api} }))
	d := &command.Dispatcher{Store: h.db}
	n, ch := h.resolvedIncident(d)
	require.Equal(t, http.StatusOK, h.command(d, ch, "postmortem").Code)
	h.drainAll(h.exec)

	require.Zero(t, h.depth())
	require.Len(t, sharedFiles(h.slack), 1)
	require.Len(t, h.slack.CallsTo("files.getUploadURLExternal"), 1, "never uploaded again")
	require.Len(t, h.slack.CallsTo("conversations.history"), shareLookups)
	drafted := eventsOfKind(h.events(n), timeline.KindPostmortemDrafted)
	require.Len(t, drafted, 1)
	require.Equal(t, sharedFiles(h.slack)[0].ID, drafted[0].Attr(timeline.AttrFile))
	require.Empty(t, drafted[0].Attr(timeline.AttrURL))
	c, _ := h.slack.Channel(ch)
	require.Empty(t, c.Bookmarks, "no link, no bookmark")
	require.Equal(t, 1.0, executorMetric(t, h.reg, "ooda_effects_total", map[string]string{"kind": "bookmark", "outcome": "skipped"}))
	require.Contains(t, h.logs.String(), "recorded without its permalink")
}

func TestSlackPostmortemWithoutChannelFailsForGood(t *testing.T) {
	h := newHarness(t)
	h.slack.Fault("conversations.create", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "restricted_action"})
	inc := h.declare("Checkout is down", false)
	h.drainAll(h.exec)
	d := &command.Dispatcher{Store: h.db}
	require.Equal(t, http.StatusOK, h.command(d, "", "resolve INC-1").Code)
	require.Equal(t, http.StatusOK, h.command(d, "", "postmortem INC-1").Code)
	h.drainAll(h.exec)

	require.Empty(t, h.slack.Files())
	codes := map[string]string{}
	for _, ev := range eventsOfKind(h.events(inc.Number), timeline.KindEffectFailed) {
		codes[ev.Attr(attrEffectKind)] = ev.Attr(timeline.AttrError)
		if ev.Attr(attrEffectKind) == string(incident.EffectUploadFile) {
			require.Contains(t, ev.Text, "upload the post-mortem draft to the incident channel")
		}
	}
	require.Equal(t, "no_channel", codes[string(incident.EffectUploadFile)])
	require.Empty(t, codes[string(incident.EffectBookmark)], "nothing to bookmark is not a failure")
}

func TestPostmortemPublish(t *testing.T) {
	tests := []struct {
		name     string
		resolved bool
		text     string
		code     int
		want     string
		closed   bool
	}{
		{name: "not a link", resolved: true, text: "postmortem publish the wiki", code: http.StatusBadRequest, want: "give the one link"},
		{name: "not a web link", resolved: true, text: "postmortem publish ftp://files.example/pm-1.md", code: http.StatusBadRequest, want: "is not a web link"},
		{name: "no link", resolved: true, text: "postmortem publish", code: http.StatusBadRequest, want: "`/incident postmortem publish <url>`"},
		{name: "before the incident is resolved", text: "postmortem publish https://wiki.example.com/pm/1", code: http.StatusConflict,
			want: "INC-1 is investigating; resolve it with `/incident resolve` before publishing its post-mortem"},
		{name: "publish closes the incident", resolved: true, text: "postmortem publish <https://wiki.example.com/pm/1?v=2&lang=en|wiki>", code: http.StatusOK,
			want: "INC-1 is closed; its post-mortem is published at https://wiki.example.com/pm/1?v=2&amp;lang=en.", closed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			d := &command.Dispatcher{Store: h.db}
			n := h.declare("Checkout is down", false).Number
			h.drainAll(h.exec)
			ch := h.incident(n).ChannelID
			if tt.resolved {
				require.Equal(t, http.StatusOK, h.command(d, ch, "resolve").Code)
			}
			before := h.incident(n)
			reply := h.command(d, ch, tt.text)
			require.Equal(t, tt.code, reply.Code, reply.Text)
			require.Contains(t, reply.Text, tt.want)
			after := h.incident(n)
			if !tt.closed {
				require.Equal(t, before.Status, after.Status)
				require.Equal(t, before.LastSeq, after.LastSeq, "nothing recorded")
				return
			}
			require.Equal(t, incident.StatusClosed, after.Status)
			require.Equal(t, "https://wiki.example.com/pm/1?v=2&lang=en", after.PostmortemURL)
			h.drainAll(h.exec)
			c, _ := h.slack.Channel(ch)
			require.True(t, strings.HasPrefix(c.Topic, "Closed · "), c.Topic)

			// Closed is final: no more drafts, no second publish.
			again := h.command(d, ch, "postmortem")
			require.Equal(t, http.StatusConflict, again.Code)
			require.Contains(t, again.Text, "INC-1 is closed: its post-mortem is published at https://wiki.example.com/pm/1")
			require.Equal(t, http.StatusConflict, h.command(d, ch, "postmortem publish https://wiki.example.com/pm/1b").Code)
		})
	}
}

func TestPostmortemNeedsAnIncident(t *testing.T) {
	d := &command.Dispatcher{Store: storagetest.Open(t)}
	for _, text := range []string{"postmortem", "postmortem publish https://wiki.example.com/pm/1"} {
		reply := d.Handle(context.Background(), command.Request{Text: text, User: alice, Source: timeline.SourceAPI, Key: text})
		require.Equal(t, http.StatusBadRequest, reply.Code)
		require.Contains(t, reply.Text, "Which incident?")
		require.Contains(t, reply.Text, "`/incident "+strings.Fields(text)[0])
	}
	reply := d.Handle(context.Background(), command.Request{Text: "postmortem INC-9", User: alice, Source: timeline.SourceAPI, Key: "k"})
	require.Equal(t, http.StatusNotFound, reply.Code)
}

func TestHelpListsPostmortem(t *testing.T) {
	help := command.HelpText()
	require.Contains(t, help, "• `/incident postmortem` — ")
	require.Contains(t, help, "• `/incident postmortem publish <url>` — ")
}

// listed is an incident the list test builds: declared by alice at the
// given time, and taken as far as its fields say.
type listed struct {
	title     string
	sev       int
	impact    bool
	resolveAt time.Time // zero: still open
	publish   bool
}

func TestListShowsOverduePostmortems(t *testing.T) {
	ctx := context.Background()
	// Thursday 26 November 2026, 10:00 UTC.
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	build := func(t *testing.T, incs []listed) *command.Dispatcher {
		db := storagetest.Open(t)
		for i, l := range incs {
			m := incident.Meta{At: now.Add(-10 * 24 * time.Hour), Actor: alice, Source: timeline.SourceCommand, Key: fmt.Sprintf("declare-%d", i)}
			res, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
				return incident.Declare(n, incident.Declaration{Title: l.title, Severity: l.sev}, m)
			})
			require.NoError(t, err)
			n := res.Incident.Number
			apply := func(key string, at time.Time, cmd func(inc *incident.Incident, m incident.Meta) (incident.Change, error)) {
				m := incident.Meta{At: at, Actor: alice, Source: timeline.SourceCommand, Key: fmt.Sprintf("%s-%d", key, i)}
				_, err := db.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return cmd(inc, m) })
				require.NoError(t, err)
			}
			if l.impact {
				apply("impact", m.At, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
					return inc.SetImpact("customers saw errors", m)
				})
			}
			if !l.resolveAt.IsZero() {
				apply("resolve", l.resolveAt, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.Resolve("", m) })
			}
			if l.publish {
				apply("publish", l.resolveAt.Add(time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
					return inc.Close("https://wiki.example.com/pm", m)
				})
			}
		}
		return &command.Dispatcher{Store: db}
	}
	list := func(d *command.Dispatcher) string {
		r := d.Handle(ctx, command.Request{Text: "list", User: alice, Source: timeline.SourceCommand, Key: "list", At: now})
		require.Equal(t, http.StatusOK, r.Code)
		return r.Text
	}

	t.Run("open and overdue", func(t *testing.T) {
		got := list(build(t, []listed{
			{title: "Search is slow", sev: 3},
			{title: "Checkout down", sev: 2, resolveAt: now.Add(-3 * 24 * time.Hour)},              // Monday: due Tuesday
			{title: "Refunds late", sev: 4, impact: true, resolveAt: now.Add(-2 * 24 * time.Hour)}, // Tuesday: due Wednesday
			{title: "Cron noise", sev: 3, resolveAt: now.Add(-3 * 24 * time.Hour)},                 // needs none
			{title: "Login errors", sev: 1, resolveAt: now.Add(-2 * time.Hour)},                    // resolved today: not due yet
			{title: "DNS outage", sev: 1, resolveAt: now.Add(-5 * 24 * time.Hour), publish: true},  // published
		}))
		require.Equal(t, "1 open incident(s):\n"+
			"• INC-1 SEV3 “Search is slow” — investigating, Commander <@"+alice+">\n"+
			"2 post-mortem(s) overdue:\n"+
			"• INC-3 SEV4 “Refunds late” — resolved Tue 24 Nov, post-mortem due since Wed 25 Nov 09:00 UTC, Commander <@"+alice+">\n"+
			"• INC-2 SEV2 “Checkout down” — resolved Mon 23 Nov, post-mortem due since Tue 24 Nov 09:00 UTC, Commander <@"+alice+">\n"+
			"Publish one with `/incident postmortem publish INC-7 <url>`.", got)
	})
	t.Run("only overdue", func(t *testing.T) {
		got := list(build(t, []listed{{title: "Checkout down", sev: 2, resolveAt: now.Add(-3 * 24 * time.Hour)}}))
		require.True(t, strings.HasPrefix(got, "No open incidents.\n1 post-mortem(s) overdue:\n• INC-1 "), got)
	})
	t.Run("nothing", func(t *testing.T) {
		got := list(build(t, []listed{{title: "Cron noise", sev: 3, resolveAt: now.Add(-3 * 24 * time.Hour)}}))
		require.Equal(t, "No open incidents.", got)
	})
}

// TestSlackPostmortemReminder: the reminder lands in the incident channel,
// addressed to the Commander.
func TestSlackPostmortemReminder(t *testing.T) {
	h := newHarness(t)
	d := &command.Dispatcher{Store: h.db}
	n, ch := h.resolvedIncident(d) // Saturday 14 March 2026
	r := &jobs.Reminders{Store: h.db}
	mon := time.Date(2026, 3, 16, 9, 30, 0, 0, time.UTC)
	sent, err := r.Tick(h.ctx, mon)
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	h.drainAll(h.exec)
	msgs := h.slack.Messages(ch)
	last := msgs[len(msgs)-1]
	require.True(t, strings.HasPrefix(last.Text, ":bell: INC-1: <@"+alice+"> The post-mortem is due: customer-impacting incidents get one"), last.Text)

	list := d.Handle(h.ctx, command.Request{Text: "list", User: alice, Source: timeline.SourceCommand, Key: "list", At: mon})
	require.Contains(t, list.Text, "1 post-mortem(s) overdue:\n• INC-1 SEV2 “Checkout is down” — resolved Sat 14 Mar, post-mortem due since Mon 16 Mar 09:00 UTC")

	// After a draft, the reminder points at it.
	require.Equal(t, http.StatusOK, h.command(d, ch, "postmortem").Code)
	h.drainAll(h.exec)
	sent, err = r.Tick(h.ctx, mon.Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	h.drainAll(h.exec)
	msgs = h.slack.Messages(ch)
	require.Contains(t, msgs[len(msgs)-1].Text, "The draft is bookmarked in this channel")
	list = d.Handle(h.ctx, command.Request{Text: "list", User: alice, Source: timeline.SourceCommand, Key: "list2", At: mon.Add(24 * time.Hour)})
	require.Contains(t, list.Text, "(drafted) <#"+ch+">")

	require.Equal(t, http.StatusOK, h.command(d, ch, "postmortem publish https://wiki.example.com/pm/1").Code)
	sent, err = r.Tick(h.ctx, mon.Add(48*time.Hour))
	require.NoError(t, err)
	require.Zero(t, sent, "published")
	require.Equal(t, incident.StatusClosed, h.incident(n).Status)
}
