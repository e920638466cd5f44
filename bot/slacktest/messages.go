package slacktest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Slack's limits on a message.
const (
	maxMessageText = 40000
	maxBlocks      = 50
)

// Message is a snapshot of a message the bot posted, or of an ephemeral
// message it sent.
type Message struct {
	// Channel is the channel id, and TS the message's ts: together they name the
	// message, as in Slack.
	Channel, TS string
	Text        string
	// User is the author (the bot) for a channel message, and the recipient for
	// an ephemeral one, whose author is always the bot.
	User string
	// Blocks is the blocks JSON array exactly as posted (or last updated).
	Blocks json.RawMessage
	// MetadataType and MetadataPayload are the Slack message metadata's
	// event_type and event_payload. Numbers in the payload decode as float64,
	// as they do in slack.SlackMetadata.
	MetadataType    string
	MetadataPayload map[string]any
	// Edited reports whether chat.update changed the message.
	Edited bool
	// Reactions are emoji names the bot added, in order.
	Reactions []string
	// Thread is the parent's ts for a reply in a thread, "" otherwise.
	Thread string
	// Files are the ids of files shared with the message.
	Files []string
}

type message struct {
	channel, ts, text, user string
	thread                  string // parent ts, for a reply
	parentUser              string
	broadcast               bool // a reply also sent to the channel
	blocks, attachments     json.RawMessage
	metaType                string
	metaPayload             json.RawMessage
	editedTS                string
	reactions               []string
	files                   []string
	replies                 []string // ts of the replies, for a parent
}

func (m *message) snapshot() Message {
	out := Message{
		Channel:      m.channel,
		TS:           m.ts,
		Text:         m.text,
		User:         m.user,
		Blocks:       slices.Clone(m.blocks),
		MetadataType: m.metaType,
		Edited:       m.editedTS != "",
		Reactions:    slices.Clone(m.reactions),
		Thread:       m.thread,
		Files:        slices.Clone(m.files),
	}
	if m.metaType != "" {
		// Decoding afresh on every snapshot gives each caller its own map.
		_ = json.Unmarshal(m.metaPayload, &out.MetadataPayload)
	}
	return out
}

// Messages returns the messages in a channel in post order, thread replies
// included. Ephemeral messages are in Ephemerals.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelByID(channelID)
	if c == nil {
		return nil
	}
	out := make([]Message, len(c.messages))
	for i, m := range c.messages {
		out[i] = m.snapshot()
	}
	return out
}

// Ephemerals returns every ephemeral message sent, in order.
func (s *Server) Ephemerals() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.ephemerals))
	for i, m := range s.ephemerals {
		m.Blocks = slices.Clone(m.Blocks)
		out[i] = m
	}
	return out
}

// content is what a post or an update may set; a nil field was not sent.
type content struct {
	text                *string
	blocks, attachments json.RawMessage
	metaType            string
	metaPayload         json.RawMessage
	hasMeta             bool
}

// readContent validates the parts of a message the client sent and returns the
// error code Slack would give for the first bad one.
func readContent(args map[string]string) (content, string) {
	var out content
	if t, ok := args["text"]; ok {
		if utf8.RuneCountInString(t) > maxMessageText {
			return out, "msg_too_long"
		}
		out.text = &t
	}
	if b, ok := args["blocks"]; ok {
		var blocks []map[string]any
		if json.Unmarshal([]byte(b), &blocks) != nil || len(blocks) > maxBlocks {
			return out, "invalid_blocks"
		}
		for _, blk := range blocks {
			if t, _ := blk["type"].(string); t == "" {
				return out, "invalid_blocks"
			}
		}
		out.blocks = json.RawMessage(b)
	}
	if a, ok := args["attachments"]; ok {
		var atts []json.RawMessage
		if json.Unmarshal([]byte(a), &atts) != nil {
			return out, "invalid_attachments"
		}
		out.attachments = json.RawMessage(a)
	}
	if md, ok := args["metadata"]; ok {
		var meta struct {
			EventType    string          `json:"event_type"`
			EventPayload json.RawMessage `json:"event_payload"`
		}
		if json.Unmarshal([]byte(md), &meta) != nil || meta.EventType == "" {
			return out, "invalid_metadata_format"
		}
		payload := map[string]any{}
		if len(meta.EventPayload) > 0 && json.Unmarshal(meta.EventPayload, &payload) != nil {
			return out, "invalid_metadata_format"
		}
		if payload == nil { // "event_payload": null, as slack-go sends for a nil map
			payload = map[string]any{}
		}
		raw, _ := json.Marshal(payload)
		out.metaType, out.metaPayload, out.hasMeta = meta.EventType, raw, true
	}
	return out, ""
}

// empty reports whether a message would have nothing to show.
func (c content) empty() bool {
	return (c.text == nil || *c.text == "") && isEmptyJSONArray(c.blocks) && isEmptyJSONArray(c.attachments)
}

func isEmptyJSONArray(raw json.RawMessage) bool {
	var items []json.RawMessage
	return len(raw) == 0 || (json.Unmarshal(raw, &items) == nil && len(items) == 0)
}

func (m *message) apply(c content) {
	if c.text != nil {
		m.text = *c.text
	}
	if c.blocks != nil {
		m.blocks = c.blocks
		if isEmptyJSONArray(c.blocks) {
			m.blocks = nil
		}
	}
	if c.attachments != nil {
		m.attachments = c.attachments
	}
	if c.hasMeta {
		m.metaType, m.metaPayload = c.metaType, c.metaPayload
	}
}

// post adds a message from the bot to a channel, threading it under threadTS
// when that names a message in the channel. Slack posts a reply whose parent is
// gone as an ordinary message, and so does this. s.mu must be held.
func (s *Server) post(c *channel, m *message, threadTS string, broadcast bool) {
	m.channel, m.user, m.ts = c.id, s.cfg.botUserID, s.nextTS()
	if parent := c.message(threadTS); parent != nil {
		if parent.thread != "" { // Slack threads a reply to a reply under the root
			parent = c.message(parent.thread)
		}
		m.thread, m.parentUser, m.broadcast = parent.ts, parent.user, broadcast
		parent.replies = append(parent.replies, m.ts)
	}
	c.messages = append(c.messages, m)
}

// PostAs adds a message a person wrote to a channel, as posting it in
// Slack does, and returns its ts; "" when there is no such channel. It
// sends no event: it is there for the bot to read, link to and reply to
// (a message shortcut's message).
func (s *Server) PostAs(channelID, userID, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelByID(channelID)
	if c == nil {
		return ""
	}
	m := &message{channel: c.id, user: userID, text: text, ts: s.nextTS()}
	c.messages = append(c.messages, m)
	return m.ts
}

// chatPostMessage posts in any public channel, as a bot with the
// chat:write.public scope (Ooda's manifest asks for it) may, but in a
// private channel only once the bot is a member: not_in_channel otherwise.
func (s *Server) chatPostMessage(args map[string]string) reply {
	c := s.resolveChannel(args["channel"])
	if c == nil {
		c = s.im(args["channel"])
	}
	if c == nil {
		return fail("channel_not_found")
	}
	if c.private && !c.isMember(s.cfg.botUserID) {
		return fail("not_in_channel")
	}
	body, code := readContent(args)
	if code != "" {
		return fail(code)
	}
	if body.empty() {
		return fail("no_text")
	}
	m := &message{}
	m.apply(body)
	s.post(c, m, args["thread_ts"], isTrue(args["reply_broadcast"]))
	return ok(map[string]any{"channel": c.id, "ts": m.ts, "message": s.messageJSON(c, m, true)})
}

func (s *Server) chatUpdate(args map[string]string) reply {
	c := s.resolveChannel(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	m := c.message(args["ts"])
	if m == nil {
		return fail("message_not_found")
	}
	if m.user != s.cfg.botUserID {
		return fail("cant_update_message")
	}
	body, code := readContent(args)
	if code != "" {
		return fail(code)
	}
	updated := *m
	updated.apply(body)
	if len(updated.files) == 0 && (content{text: &updated.text, blocks: updated.blocks, attachments: updated.attachments}).empty() {
		return fail("no_text")
	}
	*m = updated
	m.editedTS = s.nextTS()
	return ok(map[string]any{"channel": c.id, "ts": m.ts, "text": m.text, "message": s.messageJSON(c, m, true)})
}

// chatPostEphemeral requires the recipient to be in the channel, as Slack does
// (user_not_in_channel): seed membership with conversations.invite.
func (s *Server) chatPostEphemeral(args map[string]string) reply {
	c := s.resolveChannel(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	to := args["user"]
	if s.users[to] == nil {
		return fail("user_not_found")
	}
	if !c.isMember(to) {
		return fail("user_not_in_channel")
	}
	body, code := readContent(args)
	if code != "" {
		return fail(code)
	}
	if body.empty() {
		return fail("no_text")
	}
	m := &message{}
	m.apply(body)
	ts := s.nextTS()
	s.ephemerals = append(s.ephemerals, Message{
		Channel: c.id, TS: ts, Text: m.text, User: to, Blocks: m.blocks, Thread: args["thread_ts"],
	})
	return ok(map[string]any{"message_ts": ts})
}

func (s *Server) chatGetPermalink(args map[string]string) reply {
	c := s.channelByID(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	m := c.message(args["message_ts"])
	if m == nil {
		return fail("message_not_found")
	}
	link := fmt.Sprintf("https://%s.slack.com/archives/%s/p%s", s.domain(), c.id, strings.Replace(m.ts, ".", "", 1))
	if m.thread != "" {
		link += fmt.Sprintf("?thread_ts=%s&cid=%s", m.thread, c.id)
	}
	return ok(map[string]any{"channel": c.id, "permalink": link})
}

func (s *Server) reactionsAdd(args map[string]string) reply {
	c := s.channelByID(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	if args["timestamp"] == "" {
		return fail("no_item_specified")
	}
	name := args["name"]
	if name == "" || strings.ContainsAny(name, ": ") {
		return fail("invalid_name")
	}
	m := c.message(args["timestamp"])
	if m == nil {
		return fail("message_not_found")
	}
	if slices.Contains(m.reactions, name) {
		return fail("already_reacted")
	}
	m.reactions = append(m.reactions, name)
	return ok(nil)
}

// conversationsHistory lists a channel newest first, without thread replies
// (unless broadcast), honouring oldest/latest/inclusive, limit and cursor.
// Message metadata is returned only with include_all_metadata, so code that
// reconciles posts by metadata must ask for it.
func (s *Server) conversationsHistory(args map[string]string) reply {
	c := s.channelByID(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	oldest, latest := int64(0), int64(-1)
	if v := args["oldest"]; v != "" {
		us, ok := parseTS(v)
		if !ok {
			return fail("invalid_ts_oldest")
		}
		oldest = us
	}
	if v := args["latest"]; v != "" {
		us, ok := parseTS(v)
		if !ok {
			return fail("invalid_ts_latest")
		}
		latest = us
	}
	resume, ok := tsCursor(args["cursor"])
	if !ok {
		return fail("invalid_cursor")
	}
	inclusive := isTrue(args["inclusive"])
	var picked []*message
	for _, m := range slices.Backward(c.messages) {
		us, _ := parseTS(m.ts)
		switch {
		case m.thread != "" && !m.broadcast:
		case resume >= 0 && us > resume:
		case us < oldest || (us == oldest && !inclusive && args["oldest"] != ""):
		case latest >= 0 && (us > latest || (us == latest && !inclusive)):
		default:
			picked = append(picked, m)
		}
	}
	return s.messagePage(c, picked, args, 100)
}

// conversationsReplies lists a thread oldest first, parent included.
func (s *Server) conversationsReplies(args map[string]string) reply {
	c := s.channelByID(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	parent := c.message(args["ts"])
	if parent == nil {
		return fail("thread_not_found")
	}
	if parent.thread != "" {
		parent = c.message(parent.thread)
	}
	resume, ok := tsCursor(args["cursor"])
	if !ok {
		return fail("invalid_cursor")
	}
	thread := []*message{parent}
	for _, ts := range parent.replies {
		thread = append(thread, c.message(ts))
	}
	if resume >= 0 {
		thread = slices.DeleteFunc(thread, func(m *message) bool {
			us, _ := parseTS(m.ts)
			return us < resume
		})
	}
	return s.messagePage(c, thread, args, 1000)
}

// messagePage answers a history-like call with one page of msgs.
func (s *Server) messagePage(c *channel, msgs []*message, args map[string]string, def int) reply {
	page, next, more := paginate(msgs, pageLimit(args["limit"], def, 999))
	withMeta := isTrue(args["include_all_metadata"])
	out := make([]map[string]any, len(page))
	for i, m := range page {
		out[i] = s.messageJSON(c, m, withMeta)
	}
	fields := map[string]any{"messages": out, "has_more": more, "pin_count": len(c.pins)}
	if more {
		us, _ := parseTS(next.ts)
		fields["response_metadata"] = map[string]any{"next_cursor": encodeCursor("next_ts", strconv.FormatInt(us, 10))}
	}
	return ok(fields)
}

// tsCursor decodes a "next_ts" cursor into the ts (in microseconds) where the
// next page starts; -1 when there is no cursor.
func tsCursor(cursor string) (int64, bool) {
	var us int64 = -1
	_, ok := pageStart(cursor, "next_ts", func(key string) int {
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return -1
		}
		us = n
		return 0
	})
	return us, ok
}

// messageJSON renders a message as Slack does for a bot token's own posts.
func (s *Server) messageJSON(c *channel, m *message, withMeta bool) map[string]any {
	out := map[string]any{
		"type": "message",
		"user": m.user,
		"text": m.text,
		"ts":   m.ts,
		"team": s.cfg.teamID,
	}
	if m.user == s.cfg.botUserID {
		out["bot_id"] = s.cfg.botID
		out["app_id"] = s.cfg.appID
		out["bot_profile"] = map[string]any{
			"id": s.cfg.botID, "app_id": s.cfg.appID, "name": "ooda", "deleted": false, "team_id": s.cfg.teamID,
		}
	}
	if len(m.blocks) > 0 {
		out["blocks"] = m.blocks
	}
	if len(m.attachments) > 0 {
		out["attachments"] = m.attachments
	}
	if withMeta && m.metaType != "" {
		out["metadata"] = map[string]any{"event_type": m.metaType, "event_payload": m.metaPayload}
	}
	if m.thread != "" {
		out["thread_ts"] = m.thread
		out["parent_user_id"] = m.parentUser
		if m.broadcast {
			out["subtype"] = "thread_broadcast"
		}
	}
	if len(m.replies) > 0 {
		out["thread_ts"] = m.ts
		out["reply_count"] = len(m.replies)
		out["reply_users"] = []string{s.cfg.botUserID}
		out["reply_users_count"] = 1
		out["latest_reply"] = m.replies[len(m.replies)-1]
	}
	if m.editedTS != "" {
		out["edited"] = map[string]any{"user": s.cfg.botUserID, "ts": m.editedTS}
	}
	if len(m.reactions) > 0 {
		rs := make([]map[string]any, len(m.reactions))
		for i, name := range m.reactions {
			rs[i] = map[string]any{"name": name, "users": []string{s.cfg.botUserID}, "count": 1}
		}
		out["reactions"] = rs
	}
	if slices.Contains(c.pins, m.ts) {
		out["pinned_to"] = []string{c.id}
	}
	if len(m.files) > 0 {
		out["subtype"] = "file_share"
		out["upload"] = true
		out["display_as_bot"] = false
		fs := make([]map[string]any, 0, len(m.files))
		for _, id := range m.files {
			if f := s.fileByID(id); f != nil {
				fs = append(fs, s.fileJSON(f))
			}
		}
		out["files"] = fs
	}
	return out
}

// formatTS renders unix microseconds as a Slack ts, "1732641234.000100".
func formatTS(us int64) string {
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

// parseTS reads a Slack ts (or a plain unix time) into microseconds.
func parseTS(ts string) (int64, bool) {
	secs, frac, _ := strings.Cut(ts, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || sec < 0 || len(frac) > 6 {
		return 0, false
	}
	us := int64(0)
	if frac != "" {
		f, err := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		if err != nil || f < 0 {
			return 0, false
		}
		us = f
	}
	return sec*1_000_000 + us, true
}

// isTrue reads a boolean argument the way Slack does: "true" or "1".
func isTrue(v string) bool { return v == "true" || v == "1" }

// MetadataKey is the "key" of the message's metadata when its event type
// is eventType, else "": the key an app marks its posts with, to find
// them again.
func (m Message) MetadataKey(eventType string) string {
	if m.MetadataType != eventType {
		return ""
	}
	k, _ := m.MetadataPayload["key"].(string)
	return k
}

// DuplicateKeys counts the messages, across the whole workspace, beyond
// the first carrying the same metadata key of eventType: posts made twice.
func (s *Server) DuplicateKeys(eventType string) (dupes int, keys map[string]int) {
	keys = map[string]int{}
	for _, ch := range s.Channels() {
		for _, m := range s.Messages(ch.ID) {
			k := m.MetadataKey(eventType)
			if k == "" {
				continue
			}
			keys[k]++
			if keys[k] > 1 {
				dupes++
			}
		}
	}
	return dupes, keys
}
