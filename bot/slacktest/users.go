package slacktest

import "strings"

type user struct {
	id, name string
	isBot    bool
}

// AddUser adds a person to the workspace, so that they can be invited,
// looked up with users.info and sent ephemeral messages. name serves as their
// handle, real name and display name. Adding an existing id renames the user.
func (s *Server) AddUser(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = &user{id: id, name: name}
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
	profile := map[string]any{
		"real_name":               u.name,
		"real_name_normalized":    u.name,
		"display_name":            u.name,
		"display_name_normalized": u.name,
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
	out := map[string]any{
		"id":                  u.id,
		"team_id":             s.cfg.teamID,
		"name":                u.name,
		"deleted":             false,
		"color":               "9f69e7",
		"real_name":           u.name,
		"tz":                  "Etc/UTC",
		"tz_label":            "Coordinated Universal Time",
		"tz_offset":           0,
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
	if isTrue(args["include_locale"]) {
		out["locale"] = "en-US"
	}
	return ok(map[string]any{"user": out})
}
