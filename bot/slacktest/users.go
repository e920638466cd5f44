package slacktest

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

type user struct {
	id, name              string // name is the handle (Slack's "name")
	realName, displayName string
	tz                    string
	isBot, deleted        bool
}

// Member is a person of the fake workspace as users.info and users.list
// describe them. Empty names take Handle; an empty TZ is "Etc/UTC".
type Member struct {
	ID string
	// Handle is the username, Slack's "name".
	Handle      string
	RealName    string
	DisplayName string
	// TZ is an IANA time zone ("America/New_York").
	TZ string
	// Deleted marks a deactivated member; Bot a bot user.
	Deleted, Bot bool
}

// AddUser adds a person to the workspace, so that they can be invited,
// looked up with users.info and users.list and sent ephemeral messages.
// name serves as their handle, real name and display name. Adding an
// existing id renames the user.
func (s *Server) AddUser(id, name string) {
	s.AddMember(Member{ID: id, Handle: name})
}

// AddMember adds a person with names of their own (a full name unlike the
// handle, a display name, a time zone), or deactivated, or a bot. Adding
// an existing id replaces them: a rename, a deactivation.
func (s *Server) AddMember(m Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[m.ID] = &user{
		id: m.ID, name: m.Handle, realName: cmp.Or(m.RealName, m.Handle), displayName: cmp.Or(m.DisplayName, m.Handle),
		tz: cmp.Or(m.TZ, "Etc/UTC"), isBot: m.Bot, deleted: m.Deleted,
	}
}

// domain is the workspace's slack.com subdomain, derived from the team name.
func (s *Server) domain() string {
	return strings.ToLower(strings.Join(strings.Fields(s.cfg.teamName), "-"))
}

func (s *Server) authTest(map[string]string) reply {
	return ok(map[string]any{
		"url":                   "https://" + s.domain() + ".slack.com/",
		"team":                  s.cfg.teamName,
		"user":                  s.users[s.cfg.botUserID].name,
		"team_id":               s.cfg.teamID,
		"user_id":               s.cfg.botUserID,
		"bot_id":                s.cfg.botID,
		"is_enterprise_install": false,
	})
}

func (s *Server) usersInfo(args map[string]string) reply {
	u := s.users[args["user"]]
	if u == nil {
		return fail("user_not_found")
	}
	return ok(map[string]any{"user": s.userJSON(u, isTrue(args["include_locale"]))})
}

// usersList answers users.list: every member, deactivated ones and bots
// included as Slack lists them, a page at a time. Slack lists them in no
// particular order; the fake lists them by id, so pages are stable.
func (s *Server) usersList(args map[string]string) reply {
	all := make([]*user, 0, len(s.users))
	for _, u := range s.users {
		all = append(all, u)
	}
	slices.SortFunc(all, func(a, b *user) int { return strings.Compare(a.id, b.id) })
	start, okCursor := pageStart(args["cursor"], "user", func(id string) int {
		return slices.IndexFunc(all, func(u *user) bool { return u.id == id })
	})
	if !okCursor {
		return fail("invalid_cursor")
	}
	// Without a limit Slack tries to send everyone at once.
	page, next, more := paginate(all[start:], pageLimit(args["limit"], max(len(all), 1), 1000))
	members := make([]map[string]any, len(page))
	for i, u := range page {
		members[i] = s.userJSON(u, isTrue(args["include_locale"]))
	}
	cursor := ""
	if more {
		cursor = encodeCursor("user", next.id)
	}
	return ok(map[string]any{
		"members":           members,
		"cache_ts":          s.now().Unix(),
		"response_metadata": map[string]any{"next_cursor": cursor},
	})
}

// userJSON is a user object as users.info and users.list send it.
func (s *Server) userJSON(u *user, locale bool) map[string]any {
	profile := map[string]any{
		"real_name":               u.realName,
		"real_name_normalized":    u.realName,
		"display_name":            u.displayName,
		"display_name_normalized": u.displayName,
		"avatar_hash":             "g0000000000a",
		"image_24":                "https://a.slack-edge.com/avatar_24.png",
		"image_48":                "https://a.slack-edge.com/avatar_48.png",
		"image_72":                "https://a.slack-edge.com/avatar_72.png",
		"status_text":             "",
		"status_emoji":            "",
		"team":                    s.cfg.teamID,
		"fields":                  map[string]any{},
	}
	if u.isBot {
		profile["bot_id"] = s.cfg.botID
		profile["api_app_id"] = s.cfg.appID
		profile["always_active"] = true
	}
	// tz_offset is the zone's offset now, in seconds, as Slack gives it.
	label, offset := "Coordinated Universal Time", 0
	if loc, err := time.LoadLocation(u.tz); err == nil && u.tz != "Etc/UTC" {
		label = u.tz
		_, offset = s.now().In(loc).Zone()
	}
	out := map[string]any{
		"id":                  u.id,
		"team_id":             s.cfg.teamID,
		"name":                u.name,
		"deleted":             u.deleted,
		"color":               "9f69e7",
		"real_name":           u.realName,
		"tz":                  u.tz,
		"tz_label":            label,
		"tz_offset":           offset,
		"profile":             profile,
		"is_admin":            false,
		"is_owner":            false,
		"is_primary_owner":    false,
		"is_restricted":       false,
		"is_ultra_restricted": false,
		"is_bot":              u.isBot,
		"is_app_user":         false,
		"is_email_confirmed":  !u.isBot,
		"updated":             s.now().Unix(),
	}
	if locale {
		out["locale"] = "en-US"
	}
	return out
}
