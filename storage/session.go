package storage

import "time"

// Session is one signed-in person's session of the web UI: who signed in
// with Slack, in which workspace, and until when. Sessions are records in
// the store, so every replica honours them and deleting one revokes it.
type Session struct {
	// ID names the session: the hex SHA-256 of the secret its cookie
	// holds, so the store never holds a live cookie.
	ID        string    `json:"id"`
	User      string    `json:"user"`           // Slack member ID
	Team      string    `json:"team"`           // Slack workspace (team) ID
	Name      string    `json:"name,omitempty"` // display name from the ID token
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}
