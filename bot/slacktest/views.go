package slacktest

import (
	"encoding/json"
	"fmt"
	"slices"
)

// View is a snapshot of a modal opened with views.open or a Home tab published
// with views.publish, as last set by the client.
type View struct {
	ID, Type               string
	CallbackID, ExternalID string
	PrivateMetadata        string
	Hash                   string // changes on every update, as views.update's hash check expects
	TriggerID              string // the trigger that opened a modal
	UserID                 string // whose Home tab, for views.publish
	// JSON is the view object exactly as the client last sent it.
	JSON    json.RawMessage
	Updates int // views.update or repeated views.publish calls since it was created
}

type view struct{ View }

func (v *view) snapshot() View {
	out := v.View
	out.JSON = slices.Clone(v.JSON)
	return out
}

// Views returns every view opened or published, in creation order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, len(s.views))
	for i, v := range s.views {
		out[i] = v.snapshot()
	}
	return out
}

// viewBody is the part of a view payload the server reads.
type viewBody struct {
	Type            string            `json:"type"`
	Blocks          []json.RawMessage `json:"blocks"`
	CallbackID      string            `json:"callback_id"`
	ExternalID      string            `json:"external_id"`
	PrivateMetadata string            `json:"private_metadata"`
}

// readView checks a view argument and returns it with the error code Slack
// gives for a malformed one. An empty want accepts modals and Home tabs.
func readView(raw, want string) (viewBody, string) {
	var b viewBody
	if raw == "" || json.Unmarshal([]byte(raw), &b) != nil || b.Blocks == nil || len(b.Blocks) > 100 {
		return b, "invalid_arguments"
	}
	if (want != "" && b.Type != want) || (b.Type != "modal" && b.Type != "home") {
		return b, "invalid_arguments"
	}
	return b, ""
}

func (s *Server) newHash() string {
	s.seq++
	return fmt.Sprintf("%d.%08x", s.now().Unix(), s.seq)
}

func (s *Server) addView(b viewBody, raw string) *view {
	v := &view{View{
		ID:              s.newID("V"),
		Type:            b.Type,
		CallbackID:      b.CallbackID,
		ExternalID:      b.ExternalID,
		PrivateMetadata: b.PrivateMetadata,
		Hash:            s.newHash(),
		JSON:            json.RawMessage(raw),
	}}
	s.views = append(s.views, v)
	return v
}

func (s *Server) setView(v *view, b viewBody, raw string) {
	v.Type, v.CallbackID, v.PrivateMetadata = b.Type, b.CallbackID, b.PrivateMetadata
	if b.ExternalID != "" {
		v.ExternalID = b.ExternalID
	}
	v.JSON = json.RawMessage(raw)
	v.Hash = s.newHash()
	v.Updates++
}

func (s *Server) externalIDTaken(id string) bool {
	return id != "" && slices.ContainsFunc(s.views, func(v *view) bool { return v.ExternalID == id })
}

func (s *Server) viewsOpen(args map[string]string) reply {
	if args["trigger_id"] == "" {
		return fail("invalid_arguments")
	}
	b, code := readView(args["view"], "modal")
	if code != "" {
		return fail(code)
	}
	if s.externalIDTaken(b.ExternalID) {
		return fail("duplicate_external_id")
	}
	v := s.addView(b, args["view"])
	v.TriggerID = args["trigger_id"]
	return ok(map[string]any{"view": s.viewJSON(v)})
}

func (s *Server) viewsUpdate(args map[string]string) reply {
	id, ext := args["view_id"], args["external_id"]
	if id == "" && ext == "" {
		return fail("invalid_arguments")
	}
	i := slices.IndexFunc(s.views, func(v *view) bool {
		return (id != "" && v.ID == id) || (id == "" && v.ExternalID == ext)
	})
	if i < 0 {
		return fail("not_found")
	}
	v := s.views[i]
	if h := args["hash"]; h != "" && h != v.Hash {
		return fail("hash_conflict")
	}
	b, code := readView(args["view"], "")
	if code != "" {
		return fail(code)
	}
	if b.ExternalID != v.ExternalID && s.externalIDTaken(b.ExternalID) {
		return fail("duplicate_external_id")
	}
	s.setView(v, b, args["view"])
	return ok(map[string]any{"view": s.viewJSON(v)})
}

// viewsPublish keeps one Home tab per user, replacing it on each publish.
func (s *Server) viewsPublish(args map[string]string) reply {
	userID := args["user_id"]
	if s.users[userID] == nil {
		return fail("user_not_found")
	}
	b, code := readView(args["view"], "home")
	if code != "" {
		return fail(code)
	}
	i := slices.IndexFunc(s.views, func(v *view) bool { return v.Type == "home" && v.UserID == userID })
	if i < 0 {
		v := s.addView(b, args["view"])
		v.UserID = userID
		return ok(map[string]any{"view": s.viewJSON(v)})
	}
	v := s.views[i]
	if h := args["hash"]; h != "" && h != v.Hash {
		return fail("hash_conflict")
	}
	s.setView(v, b, args["view"])
	return ok(map[string]any{"view": s.viewJSON(v)})
}

// viewJSON is the view as sent, plus the fields Slack adds to it.
func (s *Server) viewJSON(v *view) map[string]any {
	out := map[string]any{}
	_ = json.Unmarshal(v.JSON, &out) // readView already accepted it as an object
	for k, def := range map[string]any{
		"private_metadata": "", "callback_id": "", "external_id": "",
		"clear_on_close": false, "notify_on_close": false, "close": nil, "submit": nil,
	} {
		if _, ok := out[k]; !ok {
			out[k] = def
		}
	}
	out["id"] = v.ID
	out["team_id"] = s.cfg.teamID
	out["external_id"] = v.ExternalID
	out["state"] = map[string]any{"values": map[string]any{}}
	out["hash"] = v.Hash
	out["root_view_id"] = v.ID
	out["previous_view_id"] = nil
	out["app_id"] = s.cfg.appID
	out["app_installed_team_id"] = s.cfg.teamID
	out["bot_id"] = s.cfg.botID
	return out
}
