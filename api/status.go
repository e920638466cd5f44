package api

import (
	"context"
	"net/http"
	"time"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
)

// DependencyStatus is one outbound dependency as `ooda status` shows it.
type DependencyStatus struct {
	Name    string `json:"name"`
	Breaker string `json:"breaker"` // closed, half-open, open
}

// OutboxStatus is the queue of effects waiting for Slack.
type OutboxStatus struct {
	Depth            int       `json:"depth"`
	Oldest           time.Time `json:"oldest,omitzero"`
	OldestAgeSeconds float64   `json:"oldest_age_seconds"`
}

// SlackStatus says whether Slack is reachable as the executor sees it.
type SlackStatus struct {
	Mode        string    `json:"mode"` // socket, http or off
	Unreachable bool      `json:"unreachable"`
	Since       time.Time `json:"since,omitzero"`
}

// StatusReport is GET /api/v1/status: what an on-call engineer checks first
// when Ooda seems quiet.
type StatusReport struct {
	Version           string             `json:"version"`
	Slack             SlackStatus        `json:"slack"`
	Dependencies      []DependencyStatus `json:"dependencies"`
	Outbox            OutboxStatus       `json:"outbox"`
	LastSLOEvaluation time.Time          `json:"last_slo_evaluation,omitzero"`
	Now               time.Time          `json:"now"`
}

// StatusSource gathers the report. Every field may be nil or empty on a
// server that runs without that part.
type StatusSource struct {
	Version   string
	SlackMode string
	Guards    []*resilience.Guard
	Outbox    incident.Outbox
	Health    command.SlackHealth
	// LastSLOEvaluation returns when the SLOs were last evaluated; nil or
	// zero when no SLOs are configured.
	LastSLOEvaluation func() time.Time
	Now               func() time.Time
}

// Report reads the current status. It reads the database once (the outbox
// statistics) and calls nothing outside the process.
func (s StatusSource) Report(ctx context.Context) (StatusReport, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	r := StatusReport{Version: s.Version, Now: now().UTC(), Slack: SlackStatus{Mode: s.SlackMode}, Dependencies: []DependencyStatus{}}
	for _, g := range s.Guards {
		r.Dependencies = append(r.Dependencies, DependencyStatus{Name: g.Dependency(), Breaker: g.State()})
	}
	if s.Health != nil {
		if since, _, down := s.Health.SlackDown(); down {
			r.Slack.Unreachable, r.Slack.Since = true, since.UTC()
		}
	}
	if s.Outbox != nil {
		depth, oldest, err := s.Outbox.OutboxStats(ctx)
		if err != nil {
			return r, err
		}
		r.Outbox.Depth = depth
		if !oldest.IsZero() {
			r.Outbox.Oldest = oldest.UTC()
			r.Outbox.OldestAgeSeconds = max(r.Now.Sub(oldest).Seconds(), 0)
		}
	}
	if s.LastSLOEvaluation != nil {
		if t := s.LastSLOEvaluation(); !t.IsZero() {
			r.LastSLOEvaluation = t.UTC()
		}
	}
	return r, nil
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	rep, err := s.cfg.Status.Report(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
