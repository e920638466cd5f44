package slacktest

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Slack's limits on channel names and topics.
const (
	maxChannelName = 80
	maxTopic       = 250
)

// Channel is a snapshot of a channel in the fake workspace.
type Channel struct {
	ID, Name, Topic string
	Private         bool
	// Members are user ids in the order they joined; the bot is always first.
	Members []string
	// Pins are the ts of pinned messages, in the order they were pinned.
	Pins      []string
	Bookmarks []Bookmark
}

// Bookmark is a link bookmarked in a channel's header.
type Bookmark struct {
	ID, Title, Type, Link, Emoji string
}

type channel struct {
	id, name  string
	private   bool
	created   time.Time
	creator   string
	topic     string
	topicBy   string
	topicSet  time.Time
	members   []string
	pins      []string
	bookmarks []Bookmark
	messages  []*message // in post order, thread replies included
}

func (c *channel) snapshot() Channel {
	return Channel{
		ID:        c.id,
		Name:      c.name,
		Topic:     c.topic,
		Private:   c.private,
		Members:   slices.Clone(c.members),
		Pins:      slices.Clone(c.pins),
		Bookmarks: slices.Clone(c.bookmarks),
	}
}

func (c *channel) isMember(userID string) bool { return slices.Contains(c.members, userID) }

func (c *channel) message(ts string) *message {
	for _, m := range c.messages {
		if m.ts == ts {
			return m
		}
	}
	return nil
}

// CreateChannel pre-seeds a channel, such as the announcement channel, with the
// bot as its only member, and returns its id. Creating a name that exists
// returns the existing channel's id, so seeding is idempotent. It panics on a
// name Slack would reject, since no test means to seed one.
func (s *Server) CreateChannel(name string, private bool) string {
	if code := checkChannelName(name); code != "" {
		panic(fmt.Sprintf("slacktest: CreateChannel(%q): %s", name, code))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channelNamed(name); c != nil {
		return c.id
	}
	return s.createChannel(name, private).id
}

// Join puts userID in the channel, as a person joining it in Slack does,
// and reports whether the channel exists. It sends no event: the test
// delivers member_joined_channel to the app itself, when it wants to.
func (s *Server) Join(channelID, userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelByID(channelID)
	if c == nil {
		return false
	}
	if !c.isMember(userID) {
		c.members = append(c.members, userID)
	}
	return true
}

// Leave takes userID out of the channel, as leaving it in Slack does, and
// reports whether the channel exists. Like Join, it sends no event.
func (s *Server) Leave(channelID, userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelByID(channelID)
	if c == nil {
		return false
	}
	c.members = slices.DeleteFunc(c.members, func(u string) bool { return u == userID })
	return true
}

// Channel returns a snapshot of the channel with the given id.
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channelByID(id); c != nil {
		return c.snapshot(), true
	}
	return Channel{}, false
}

// ChannelByName returns a snapshot of the channel with the given name; a leading
// "#" is ignored.
func (s *Server) ChannelByName(name string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channelNamed(strings.TrimPrefix(name, "#")); c != nil {
		return c.snapshot(), true
	}
	return Channel{}, false
}

// Channels returns snapshots of every channel, in creation order.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Channel, len(s.channels))
	for i, c := range s.channels {
		out[i] = c.snapshot()
	}
	return out
}

// createChannel adds a channel created by the bot. s.mu must be held.
// New private channels get C ids too: Slack stopped issuing G ids for them, so
// code must read is_private rather than the id's first letter.
func (s *Server) createChannel(name string, private bool) *channel {
	c := &channel{
		id:      s.newID("C"),
		name:    name,
		private: private,
		created: s.now(),
		creator: s.cfg.botUserID,
		members: []string{s.cfg.botUserID},
	}
	s.channels = append(s.channels, c)
	return c
}

func (s *Server) channelByID(id string) *channel {
	for _, c := range s.channels {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (s *Server) channelNamed(name string) *channel {
	for _, c := range s.channels {
		if c.name == name {
			return c
		}
	}
	return nil
}

// resolveChannel finds a channel by id, or by name with or without "#", as
// chat.postMessage allows.
func (s *Server) resolveChannel(ref string) *channel {
	if c := s.channelByID(ref); c != nil {
		return c
	}
	if c := s.imByID(ref); c != nil {
		return c
	}
	return s.channelNamed(strings.TrimPrefix(ref, "#"))
}

// checkChannelName applies Slack's rules for new channel names and returns the
// error code it would give, or "".
func checkChannelName(name string) string {
	if name == "" {
		return "invalid_name_required"
	}
	if utf8.RuneCountInString(name) > maxChannelName {
		return "invalid_name_maxlength"
	}
	onlyPunct := true
	for _, r := range name {
		switch {
		case r == '-' || r == '_':
		case unicode.IsDigit(r) || (unicode.IsLetter(r) && !unicode.IsUpper(r) && !unicode.IsTitle(r)):
			onlyPunct = false
		default:
			return "invalid_name_specials"
		}
	}
	if onlyPunct {
		return "invalid_name_punctuation"
	}
	return ""
}

// channelJSON renders a channel as the bot sees it in conversations.* answers.
func (s *Server) channelJSON(c *channel) map[string]any {
	topic := map[string]any{"value": c.topic, "creator": c.topicBy, "last_set": unixOrZero(c.topicSet)}
	return map[string]any{
		"id":                         c.id,
		"name":                       c.name,
		"name_normalized":            c.name,
		"is_channel":                 true,
		"is_group":                   false,
		"is_im":                      false,
		"is_mpim":                    false,
		"is_private":                 c.private,
		"is_archived":                false,
		"is_general":                 false,
		"is_shared":                  false,
		"is_org_shared":              false,
		"is_ext_shared":              false,
		"is_pending_ext_shared":      false,
		"is_read_only":               false,
		"is_member":                  c.isMember(s.cfg.botUserID),
		"created":                    c.created.Unix(),
		"updated":                    c.created.UnixMilli(),
		"creator":                    c.creator,
		"unlinked":                   0,
		"context_team_id":            s.cfg.teamID,
		"shared_team_ids":            []string{s.cfg.teamID},
		"pending_shared":             []string{},
		"pending_connected_team_ids": []string{},
		"parent_conversation":        nil,
		"last_read":                  "0000000000.000000",
		"topic":                      topic,
		"purpose":                    map[string]any{"value": "", "creator": "", "last_set": 0},
		"previous_names":             []string{},
		"priority":                   0,
	}
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func (s *Server) conversationsCreate(args map[string]string) reply {
	name := args["name"]
	if code := checkChannelName(name); code != "" {
		return fail(code)
	}
	if s.channelNamed(name) != nil {
		return fail("name_taken")
	}
	c := s.createChannel(name, isTrue(args["is_private"]))
	return ok(map[string]any{"channel": s.channelJSON(c)})
}

// conversationsInvite follows Slack: without force=true one bad user id fails
// the whole call and nobody is added; the per-user reasons come back in
// "errors". With force, the valid users are added and the call fails only if
// none was.
func (s *Server) conversationsInvite(args map[string]string) reply {
	c := s.channelByID(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	var ids []string
	for id := range strings.SplitSeq(args["users"], ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return fail("no_user")
	}
	var valid []string
	var errs []map[string]any
	firstErr := ""
	for _, id := range ids {
		code := ""
		switch {
		case id == s.cfg.botUserID:
			code = "cant_invite_self"
		case s.users[id] == nil:
			code = "user_not_found"
		case c.isMember(id) || slices.Contains(valid, id):
			code = "already_in_channel"
		}
		if code == "" {
			valid = append(valid, id)
			continue
		}
		errs = append(errs, map[string]any{"user": id, "ok": false, "error": code})
		if firstErr == "" {
			firstErr = code
		}
	}
	if firstErr != "" && (!isTrue(args["force"]) || len(valid) == 0) {
		return reply{err: firstErr, fields: map[string]any{"errors": errs}}
	}
	c.members = append(c.members, valid...)
	fields := map[string]any{"channel": s.channelJSON(c)}
	if len(errs) > 0 {
		fields["errors"] = errs
	}
	return ok(fields)
}

func (s *Server) conversationsSetTopic(args map[string]string) reply {
	c := s.channelByID(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	topic := args["topic"]
	if utf8.RuneCountInString(topic) > maxTopic {
		return fail("too_long")
	}
	c.topic, c.topicBy, c.topicSet = topic, s.cfg.botUserID, s.now()
	return ok(map[string]any{"channel": s.channelJSON(c)})
}

func (s *Server) conversationsInfo(args map[string]string) reply {
	c := s.channelByID(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	ch := s.channelJSON(c)
	if isTrue(args["include_num_members"]) {
		ch["num_members"] = len(c.members)
	}
	return ok(map[string]any{"channel": ch})
}

// conversationsList follows Slack in listing only public channels unless
// types asks for private_channel: a lookup by name that forgets this misses
// private incident channels in production too.
func (s *Server) conversationsList(args map[string]string) reply {
	types := args["types"]
	if types == "" {
		types = "public_channel"
	}
	wantPublic := strings.Contains(types, "public_channel")
	wantPrivate := strings.Contains(types, "private_channel")
	var all []*channel
	for _, c := range s.channels {
		if (c.private && wantPrivate) || (!c.private && wantPublic) {
			all = append(all, c)
		}
	}
	start, okCursor := pageStart(args["cursor"], "channel", func(id string) int {
		return slices.IndexFunc(all, func(c *channel) bool { return c.id == id })
	})
	if !okCursor {
		return fail("invalid_cursor")
	}
	page, next, more := paginate(all[start:], pageLimit(args["limit"], 100, 1000))
	out := make([]map[string]any, len(page))
	for i, c := range page {
		out[i] = s.channelJSON(c)
		out[i]["num_members"] = len(c.members)
	}
	cursor := ""
	if more {
		cursor = encodeCursor("channel", next.id)
	}
	return ok(map[string]any{"channels": out, "response_metadata": map[string]any{"next_cursor": cursor}})
}

func (s *Server) conversationsMembers(args map[string]string) reply {
	c := s.channelByID(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	start, okCursor := pageStart(args["cursor"], "user", func(id string) int {
		return slices.Index(c.members, id)
	})
	if !okCursor {
		return fail("invalid_cursor")
	}
	members, next, more := paginate(c.members[start:], pageLimit(args["limit"], 100, 1000))
	cursor := ""
	if more {
		cursor = encodeCursor("user", next)
	}
	return ok(map[string]any{
		"members":           slices.Clone(members),
		"response_metadata": map[string]any{"next_cursor": cursor},
	})
}

func (s *Server) pinsAdd(args map[string]string) reply {
	c := s.channelByID(args["channel"])
	if c == nil {
		return fail("channel_not_found")
	}
	ts := args["timestamp"]
	if ts == "" {
		return fail("no_item_specified")
	}
	if c.message(ts) == nil {
		return fail("message_not_found")
	}
	if slices.Contains(c.pins, ts) {
		return fail("already_pinned")
	}
	c.pins = append(c.pins, ts)
	return ok(nil)
}

func (s *Server) bookmarksAdd(args map[string]string) reply {
	c := s.channelByID(args["channel_id"])
	if c == nil {
		return fail("channel_not_found")
	}
	b := Bookmark{Title: args["title"], Type: args["type"], Link: args["link"], Emoji: args["emoji"]}
	if b.Title == "" || b.Type != "link" || b.Link == "" {
		return fail("invalid_arguments")
	}
	b.ID = s.newID("Bk")
	c.bookmarks = append(c.bookmarks, b)
	now := s.now().Unix()
	return ok(map[string]any{"bookmark": map[string]any{
		"id":                      b.ID,
		"channel_id":              c.id,
		"title":                   b.Title,
		"link":                    b.Link,
		"emoji":                   b.Emoji,
		"icon_url":                "",
		"type":                    b.Type,
		"entity_id":               nil,
		"date_created":            now,
		"date_updated":            0,
		"rank":                    strconv.Itoa(len(c.bookmarks)),
		"last_updated_by_user_id": s.cfg.botUserID,
		"last_updated_by_team_id": s.cfg.teamID,
		"shortcut_id":             nil,
		"app_id":                  s.cfg.appID,
	}})
}

// Cursors are opaque to clients; like Slack's they are base64 of "kind:key",
// where key is the first item of the next page.
func encodeCursor(kind, key string) string {
	return base64.StdEncoding.EncodeToString([]byte(kind + ":" + key))
}

// pageStart decodes a cursor into the index where the page starts, using find
// to locate the cursor's key. An empty cursor starts at 0.
func pageStart(cursor, kind string, find func(key string) int) (int, bool) {
	if cursor == "" {
		return 0, true
	}
	raw, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return 0, false
	}
	key, found := strings.CutPrefix(string(raw), kind+":")
	if !found {
		return 0, false
	}
	i := find(key)
	return i, i >= 0
}

// pageLimit parses limit as Slack does: absent or 0 means def, and values
// above max are capped.
func pageLimit(limit string, def, maxLimit int) int {
	n, err := strconv.Atoi(limit)
	if err != nil || n <= 0 {
		return def
	}
	return min(n, maxLimit)
}

// paginate returns the first limit items and, when there are more, the first
// item of the next page.
func paginate[T any](items []T, limit int) (page []T, next T, more bool) {
	if len(items) <= limit {
		return items, next, false
	}
	return items[:limit], items[limit], true
}
