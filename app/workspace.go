package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/resilience"
)

// workspace is who Ooda is in Slack, as auth.test says: its own user id
// (so its messages are not captured) and its workspace's team id (the
// only workspace whose people may sign in to the web UI). It is asked at
// start-up; when Slack did not answer then, the team is asked again when
// someone signs in, at most once per workspaceRetry.
type workspace struct {
	client *slack.Client
	guard  *resilience.Guard
	logger *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	team    string
	user    string
	lastTry time.Time
}

// workspaceRetry spaces the auth.test calls a sign-in makes while the
// team is unknown, so a Slack outage is not hammered by people retrying.
const workspaceRetry = 10 * time.Second

// errWorkspaceUnknown is a team Slack has not told yet.
var errWorkspaceUnknown = errors.New("Slack has not said which workspace Ooda is installed in yet (auth.test); try again in a minute")

// identify asks Slack once, within 10 s, and returns Ooda's own user id
// ("" when Slack did not answer). A Slack that does not answer costs a
// warning, not the start-up.
func (w *workspace) identify(ctx context.Context) string {
	if err := w.ask(ctx); err != nil {
		w.logger.Warn("auth.test failed; Ooda's own messages are told apart by bot_id only until restart, and sign-in waits for Slack to answer", "err", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.user
}

// Team is the workspace's team id, asking Slack when it is not known yet.
func (w *workspace) Team(ctx context.Context) (string, error) {
	w.mu.Lock()
	team, last := w.team, w.lastTry
	w.mu.Unlock()
	if team != "" {
		return team, nil
	}
	if !last.IsZero() && w.now().Sub(last) < workspaceRetry {
		return "", errWorkspaceUnknown
	}
	if err := w.ask(ctx); err != nil {
		return "", errors.Join(errWorkspaceUnknown, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.team, nil
}

func (w *workspace) ask(ctx context.Context) error {
	w.mu.Lock()
	w.lastTry = w.now()
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var resp *slack.AuthTestResponse
	err := w.guard.Do(ctx, resilience.Op{Method: "auth.test", Idempotent: true}, func(ctx context.Context) error {
		r, err := w.client.AuthTestContext(ctx)
		resp = r
		return err
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.user, w.team = resp.UserID, resp.TeamID
	return nil
}
