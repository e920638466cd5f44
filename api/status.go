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

// SlackStatus says whether Slack is reachable as the executor sees it,
// and, in Socket Mode, whether Slack can reach Ooda.
type SlackStatus struct {
	Mode        string    `json:"mode"` // socket, http or off
	Unreachable bool      `json:"unreachable"`
	Since       time.Time `json:"since,omitzero"`
	// SocketMode is the connection Slack sends commands and events over;
	// absent unless Mode is socket.
	SocketMode *SocketModeStatus `json:"socket_mode,omitempty"`
}

// SocketStatus is the Socket Mode connection's health as its owner
// reports it.
type SocketStatus struct {
	Connected bool          // open and heard from within Silence
	Since     time.Time     // when Connected last changed
	LastFrame time.Time     // the last envelope, ping or hello; zero before any
	Silence   time.Duration // the watchdog's limit
}

// SocketModeStatus is SocketStatus as GET /api/v1/status shows it.
// Connected is false while no connection is open, and while the open one
// has been silent past the watchdog's limit (it is being replaced): in
// both cases Slack's commands and events are not reaching Ooda.
type SocketModeStatus struct {
	Connected           bool      `json:"connected"`
	Since               time.Time `json:"since,omitzero"`
	LastFrame           time.Time `json:"last_frame,omitzero"`
	LastFrameAgeSeconds float64   `json:"last_frame_age_seconds"`
	SilenceLimitSeconds float64   `json:"silence_limit_seconds"`
}

// StoreStatus is the store this replica uses and whether it answers.
type StoreStatus struct {
	Backend string `json:"backend"` // bbolt or etcd
	Healthy bool   `json:"healthy"`
	Error   string `json:"error,omitempty"`
}

// ReplicaStatus is this process among the replicas sharing the store.
type ReplicaStatus struct {
	Name    string `json:"name"`
	Leading bool   `json:"leading"`
}

// LeaderStatus is the replica that runs the executor and the scheduler.
type LeaderStatus struct {
	Name  string    `json:"name"`
	Since time.Time `json:"since,omitzero"`
}

// StatusReport is GET /api/v1/status: what an on-call engineer checks first
// when Ooda seems quiet.
type StatusReport struct {
	Version           string             `json:"version"`
	Store             StoreStatus        `json:"store"`
	Replica           *ReplicaStatus     `json:"replica,omitempty"`
	Leader            *LeaderStatus      `json:"leader,omitempty"`
	Slack             SlackStatus        `json:"slack"`
	Dependencies      []DependencyStatus `json:"dependencies"`
	Outbox            OutboxStatus       `json:"outbox"`
	LastSLOEvaluation time.Time          `json:"last_slo_evaluation,omitzero"`
	// SLOErrors are the SLOs Ooda cannot evaluate because of their files:
	// what was wrong when the SLO files were (re)loaded, and the SLOs
	// whose queries Prometheus refused. Prometheus being down is not one.
	SLOErrors []string  `json:"slo_errors,omitempty"`
	Now       time.Time `json:"now"`
}

// StoreSource says which store serves and checks that it answers.
type StoreSource struct {
	Backend string
	Check   func(ctx context.Context) error
}

// ReplicaSource is the election of several replicas.
type ReplicaSource interface {
	Name() string
	Leading() (bool, time.Time)
	Leader(ctx context.Context) (name string, since time.Time, ok bool, err error)
}

// StatusSource gathers the report. Every field may be nil or empty on a
// server that runs without that part.
type StatusSource struct {
	Version   string
	SlackMode string
	Guards    []*resilience.Guard
	Outbox    incident.Outbox
	Health    command.SlackHealth
	// SocketMode reports the Socket Mode connection; nil outside Socket
	// Mode.
	SocketMode func() SocketStatus
	// Store is the store; Replicas the election, nil for one process.
	Store    StoreSource
	Replicas ReplicaSource
	// LastSLOEvaluation returns when the SLOs were last evaluated; nil or
	// zero when no SLOs are configured.
	LastSLOEvaluation func() time.Time
	// SLOErrors returns the SLO configuration errors; nil when no SLOs
	// are configured.
	SLOErrors func() []string
	Now       func() time.Time
}

// Report reads the current status. It reads the database once (the outbox
// statistics) and calls nothing outside the process.
func (s StatusSource) Report(ctx context.Context) (StatusReport, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	r := StatusReport{Version: s.Version, Now: now().UTC(), Slack: SlackStatus{Mode: s.SlackMode}, Dependencies: []DependencyStatus{}}
	r.Store = StoreStatus{Backend: s.Store.Backend, Healthy: true}
	if s.Store.Check != nil {
		if err := s.Store.Check(ctx); err != nil {
			r.Store.Healthy, r.Store.Error = false, err.Error()
		}
	}
	if s.Replicas != nil {
		leading, _ := s.Replicas.Leading()
		r.Replica = &ReplicaStatus{Name: s.Replicas.Name(), Leading: leading}
		if name, since, ok, err := s.Replicas.Leader(ctx); err == nil && ok {
			r.Leader = &LeaderStatus{Name: name, Since: since.UTC()}
		}
	}
	for _, g := range s.Guards {
		r.Dependencies = append(r.Dependencies, DependencyStatus{Name: g.Dependency(), Breaker: g.State()})
	}
	if s.Health != nil {
		if since, _, down := s.Health.SlackDown(); down {
			r.Slack.Unreachable, r.Slack.Since = true, since.UTC()
		}
	}
	if s.SocketMode != nil {
		st := s.SocketMode()
		sm := &SocketModeStatus{Connected: st.Connected, SilenceLimitSeconds: st.Silence.Seconds()}
		if !st.Since.IsZero() {
			sm.Since = st.Since.UTC()
		}
		if !st.LastFrame.IsZero() {
			sm.LastFrame = st.LastFrame.UTC()
			sm.LastFrameAgeSeconds = max(r.Now.Sub(st.LastFrame).Seconds(), 0)
		}
		r.Slack.SocketMode = sm
	}
	if s.Outbox != nil && r.Store.Healthy {
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
	if s.SLOErrors != nil {
		r.SLOErrors = s.SLOErrors()
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
