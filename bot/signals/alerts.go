package signals

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/timeline"
)

// AlertmanagerWebhook is the body Alertmanager's webhook receiver posts,
// version 4 (Alertmanager's notify/webhook.Message). Fields Ooda does not
// read are left out; unknown fields are ignored, as Alertmanager adds
// some between releases without changing the version.
type AlertmanagerWebhook struct {
	Version  string              `json:"version"`
	GroupKey string              `json:"groupKey"`
	Alerts   []AlertmanagerAlert `json:"alerts"`
}

// AlertmanagerAlert is one alert of an Alertmanager notification.
type AlertmanagerAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// The alert statuses.
const (
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// AlertmanagerVersion is the webhook version Ooda reads.
const AlertmanagerVersion = "4"

// Defaults of AlertsConfig.
const (
	DefaultMaxAlertsBody = 1 << 20
	DefaultAlertQueue    = 256
)

// DefaultServiceLabels are the labels that name an alert's service, the
// first one set winning: Ooda's own convention, then Prometheus's job.
func DefaultServiceLabels() []string { return []string{"service", "job"} }

// AlertsConfig is what the Alertmanager receiver needs.
type AlertsConfig struct {
	Store incident.Store
	// Slack posts triage signals; nil leaves alerts without an incident
	// unposted (logged once).
	Slack slackapi.SignalSlack
	// Guard wraps every Slack call; required with Slack.
	Guard *resilience.Guard
	// Channel is the channel id triage signals go to: the SLO channel,
	// else the announcement channel. Empty: they are not posted.
	Channel string
	// ServiceLabels name an alert's service, first set wins; nil means
	// DefaultServiceLabels().
	ServiceLabels []string
	// Committed wakes the executor after an incident got an entry; nil
	// does nothing.
	Committed func()
	Now       func() time.Time
	Logger    *slog.Logger
	// Registerer receives the receiver's metrics; nil records none.
	Registerer prometheus.Registerer
	// MaxBody bounds a request body; 0 means DefaultMaxAlertsBody.
	MaxBody int64
	// QueueSize bounds the triage signals waiting for Slack; beyond it a
	// request is answered 503 and Alertmanager sends it again. 0 means
	// DefaultAlertQueue.
	QueueSize int
	// Timeout bounds one signal's Slack calls; 0 means
	// DefaultSignalTimeout.
	Timeout time.Duration
}

// AlertReceiver serves POST /api/v1/alerts, Alertmanager's webhook. A
// firing alert for a service with an open incident becomes an observe
// entry in that incident; otherwise it is posted to the channel as a
// triage signal with a "Declare incident" button. A resolved alert is
// noted where its firing went: an entry in the incident, a reply in the
// signal's thread. The same alert delivered again records once.
//
// Recording in an incident is local and done before answering. Posting is
// not: signals wait in a bounded queue that Run works through, so
// Alertmanager never waits on Slack.
type AlertReceiver struct {
	cfg     AlertsConfig
	metrics alertMetrics

	queue chan alertSignal

	mu     sync.Mutex
	closed bool
	// seen holds the keys of signals queued or posted by this process,
	// so Alertmanager's re-sends of a group (every group_interval while
	// it changes, every repeat_interval while it lasts) do not each cost
	// a history lookup. It is only a shortcut: the post's metadata is
	// what makes a signal post once across restarts.
	seen map[string]time.Time

	noChannel sync.Once
}

// view is what the signal's message shows of it.
func (sig alertSignal) view() blockkit.Alert {
	al := sig.alert
	return blockkit.Alert{
		Name: alertName(al), Summary: alertSummary(al), Span: alertSpan(al), Service: sig.service,
		Resolved: al.Status == AlertResolved, StartsAt: al.StartsAt, GeneratorURL: al.GeneratorURL, Labels: al.Labels,
	}
}

// alertSignal is an alert waiting to be posted.
type alertSignal struct {
	alert   AlertmanagerAlert
	service string
	key     string
	// firingKey is, for a resolved alert, the key its firing signal was
	// posted under: the resolution is a reply in that thread.
	firingKey string
}

// NewAlertReceiver checks cfg and fills in its defaults. It starts
// nothing: Run posts the triage signals the webhook queues.
func NewAlertReceiver(cfg AlertsConfig) (*AlertReceiver, error) {
	if cfg.Store == nil {
		return nil, errors.New("alert receiver: needs a store")
	}
	if cfg.Slack != nil && cfg.Guard == nil {
		return nil, errors.New("alert receiver: Slack calls need a guard")
	}
	if cfg.ServiceLabels == nil {
		cfg.ServiceLabels = DefaultServiceLabels()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxAlertsBody
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultAlertQueue
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = slackapi.DefaultSignalTimeout
	}
	a := &AlertReceiver{
		cfg:     cfg,
		metrics: newAlertMetrics(cfg.Registerer),
		queue:   make(chan alertSignal, cfg.QueueSize),
		seen:    map[string]time.Time{},
	}
	return a, nil
}

// Close refuses further webhooks (they are answered 503). Run still ends
// with its context.
func (a *AlertReceiver) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
}

// AlertsReply is the answer to a webhook: what became of its alerts.
type AlertsReply struct {
	OK bool `json:"ok"`
	// Observed alerts became entries in open incidents.
	Observed int `json:"observed"`
	// Queued alerts wait to be posted as triage signals.
	Queued int `json:"queued"`
	// Duplicates were recorded before.
	Duplicates int `json:"duplicates"`
	// Unposted alerts have no incident and nowhere to be posted.
	Unposted int `json:"unposted"`
}

// Outcomes of an alert, the outcome label of ooda_alerts_total.
const (
	alertObserved  = "observed"
	alertQueued    = "queued"
	alertDuplicate = "duplicate"
	alertUnposted  = "unposted"
)

// Outcomes of a triage signal, the outcome label of
// ooda_alert_signals_total.
const (
	signalPosted   = "posted"
	signalFound    = "already_posted"
	signalNoThread = "no_thread" // a resolution whose firing signal is not in the channel
	signalFailed   = "failed"
	signalDropped  = "dropped"
)

// ServeHTTP receives one webhook.
func (a *AlertReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBody))
	if err != nil {
		if tooBig, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the notification is larger than %d bytes; lower max_alerts in the Alertmanager webhook config", tooBig.Limit))
			return
		}
		writeError(w, http.StatusBadRequest, "could not read the request body")
		return
	}
	msg, err := parseAlertmanager(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	reply, err := a.receive(r.Context(), msg)
	switch {
	case errors.Is(err, errAlertQueueFull), errors.Is(err, errAlertsClosed):
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case err != nil:
		a.cfg.Logger.ErrorContext(r.Context(), "could not record Alertmanager alerts; Alertmanager will send them again", "group", msg.GroupKey, "err", err)
		writeError(w, http.StatusInternalServerError, "could not record the alerts (logged); Alertmanager will retry")
	default:
		writeJSON(w, http.StatusOK, reply)
	}
}

// parseAlertmanager reads and checks a webhook body, saying what is wrong
// with one that is not Alertmanager's version 4.
func parseAlertmanager(body []byte) (AlertmanagerWebhook, error) {
	var msg AlertmanagerWebhook
	if err := json.Unmarshal(body, &msg); err != nil {
		return msg, fmt.Errorf("the body is not Alertmanager webhook JSON: %v", err)
	}
	if msg.Version != AlertmanagerVersion {
		return msg, fmt.Errorf("webhook version %q is unknown: Ooda reads Alertmanager's version %s", msg.Version, AlertmanagerVersion)
	}
	for i, al := range msg.Alerts {
		if al.Status != AlertFiring && al.Status != AlertResolved {
			return msg, fmt.Errorf("alerts[%d]: status %q is neither firing nor resolved", i, al.Status)
		}
		if len(al.Labels) == 0 {
			return msg, fmt.Errorf("alerts[%d]: an alert without labels", i)
		}
	}
	return msg, nil
}

// Refusals of a webhook whose signals cannot be queued, answered 503 so
// that Alertmanager sends it again.
var (
	errAlertQueueFull = errors.New("too many triage signals wait for Slack; Alertmanager will retry")
	errAlertsClosed   = errors.New("shutting down; Alertmanager will retry")
)

// receive records msg's alerts: in open incidents now, the rest queued.
// An error leaves some alerts unrecorded; Alertmanager sends the whole
// notification again, and what was recorded is recognised by its key.
func (a *AlertReceiver) receive(ctx context.Context, msg AlertmanagerWebhook) (AlertsReply, error) {
	reply := AlertsReply{OK: true}
	incs, err := a.cfg.Store.Incidents(ctx, false)
	if err != nil {
		return reply, fmt.Errorf("open incidents: %w", err)
	}
	now := a.cfg.Now().UTC()
	recorded := false
	var errs []error
	for _, al := range msg.Alerts {
		service := a.serviceOf(al)
		key := alertKey(msg.GroupKey, al, al.Status)
		var open []incident.Incident
		for _, inc := range incs {
			if service != "" && inc.Status.Active() && strings.EqualFold(strings.TrimSpace(inc.Service), service) {
				open = append(open, inc)
			}
		}
		outcome := ""
		switch {
		case len(open) > 0:
			outcome = alertDuplicate
			for _, inc := range open {
				added, err := observeIn(ctx, a.cfg.Store, inc, alertEntryText(al, service), timeline.SourceAlert, key, now)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if added {
					outcome, recorded = alertObserved, true
				}
			}
		default:
			sig := alertSignal{alert: al, service: service, key: key}
			if al.Status == AlertResolved {
				sig.firingKey = alertKey(msg.GroupKey, al, AlertFiring)
			}
			outcome, err = a.enqueue(sig)
			if err != nil {
				errs = append(errs, err)
				continue
			}
		}
		a.metrics.alerts.WithLabelValues(al.Status, outcome).Inc()
		switch outcome {
		case alertObserved:
			reply.Observed++
		case alertQueued:
			reply.Queued++
		case alertDuplicate:
			reply.Duplicates++
		case alertUnposted:
			reply.Unposted++
		}
	}
	if recorded && a.cfg.Committed != nil {
		a.cfg.Committed()
	}
	return reply, errors.Join(errs...)
}

// serviceOf names the alert's service from the first configured label
// it carries.
func (a *AlertReceiver) serviceOf(al AlertmanagerAlert) string {
	for _, l := range a.cfg.ServiceLabels {
		if v := strings.TrimSpace(al.Labels[l]); v != "" {
			return v
		}
	}
	return ""
}

// alertKey names one state of one alert of one group: Alertmanager's
// group key and the alert's fingerprint (computed from its labels, as
// Alertmanager does, when the payload lacks it), its status and when it
// started. Hashed, since group keys are long.
func alertKey(groupKey string, al AlertmanagerAlert, status string) string {
	fp := al.Fingerprint
	if fp == "" {
		fp = model.Fingerprint(model.LabelsToSignature(al.Labels)).String()
	}
	h := sha256.Sum256([]byte(groupKey + "\x00" + fp + "\x00" + status + "\x00" + al.StartsAt.UTC().Format(time.RFC3339Nano)))
	return "alert:" + hex.EncodeToString(h[:16])
}

// enqueue hands a signal to the posting goroutine, unless this process
// queued or posted it already.
func (a *AlertReceiver) enqueue(sig alertSignal) (string, error) {
	if a.cfg.Slack == nil || a.cfg.Channel == "" {
		a.noChannel.Do(func() {
			a.cfg.Logger.Info("no channel for alert triage signals: alerts without an open incident are not posted; set OODA_SLO_CHANNEL or OODA_ANNOUNCE_CHANNEL")
		})
		return alertUnposted, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return "", errAlertsClosed
	}
	if _, ok := a.seen[sig.key]; ok {
		return alertDuplicate, nil
	}
	select {
	case a.queue <- sig:
	default:
		return "", errAlertQueueFull
	}
	a.remember(sig.key)
	return alertQueued, nil
}

// seenRetention is how long a queued or posted signal's key is kept in
// memory; maxSeen bounds how many.
const (
	seenRetention = 24 * time.Hour
	maxSeen       = 4096
)

// remember records key as queued; a.mu is held.
func (a *AlertReceiver) remember(key string) {
	now := a.cfg.Now()
	if len(a.seen) >= maxSeen {
		for k, at := range a.seen {
			if now.Sub(at) > seenRetention {
				delete(a.seen, k)
			}
		}
		if len(a.seen) >= maxSeen {
			clear(a.seen)
		}
	}
	a.seen[key] = now
}

// forget drops key after its post failed, so the next delivery queues it
// again.
func (a *AlertReceiver) forget(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.seen, key)
}

// Run posts queued signals one at a time, until ctx ends: in order, and
// so that a signal sent twice is found by the second attempt's history
// lookup. Signals still queued when ctx ends are dropped (and logged):
// Alertmanager sends them again on its repeat interval, and a signal that
// did land is not posted twice.
func (a *AlertReceiver) Run(ctx context.Context) error {
	for {
		// A context that ended wins over a waiting signal: select picks
		// at random among ready cases.
		if ctx.Err() != nil {
			a.dropQueued()
			return nil
		}
		select {
		case <-ctx.Done():
			a.dropQueued()
			return nil
		case sig := <-a.queue:
			a.post(ctx, sig)
		}
	}
}

// dropQueued counts and logs the signals still queued when Run ends.
func (a *AlertReceiver) dropQueued() {
	if n := len(a.queue); n > 0 {
		a.metrics.signals.WithLabelValues(signalDropped).Add(float64(n))
		a.cfg.Logger.Warn("alert triage signals dropped at shutdown; Alertmanager sends them again", "count", n)
	}
}

// post makes one attempt at a signal. A failure is logged and forgotten:
// Alertmanager repeats a standing alert, and the repeat is posted then.
func (a *AlertReceiver) post(ctx context.Context, sig alertSignal) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	outcome, err := a.postSignal(ctx, sig)
	if err != nil {
		a.forget(sig.key)
		outcome = signalFailed
		a.cfg.Logger.WarnContext(ctx, "could not post an alert triage signal; it is posted when Alertmanager sends it again",
			"alert", sig.alert.Labels[model.AlertNameLabel], "service", sig.service, "err", resilience.Redact(err.Error()))
	}
	a.metrics.signals.WithLabelValues(outcome).Inc()
}

func (a *AlertReceiver) postSignal(ctx context.Context, sig alertSignal) (string, error) {
	// The signal was first posted after the alert started; the history
	// before that cannot hold it.
	oldest := sig.alert.StartsAt.Add(-slackapi.HistorySkew)
	if sig.alert.StartsAt.IsZero() {
		oldest = a.cfg.Now().Add(-seenRetention)
	}
	thread := ""
	if sig.alert.Status == AlertResolved {
		var found bool
		err := a.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.history", Idempotent: true}, func(ctx context.Context) error {
			var err error
			thread, found, err = slackapi.FindMarked(ctx, a.cfg.Slack, a.cfg.Channel, sig.firingKey, oldest)
			return err
		})
		if err != nil {
			return "", err
		}
		if !found {
			return signalNoThread, nil
		}
	}
	msg := blockkit.AlertSignal(sig.view())
	_, posted, err := slackapi.PostOnce(ctx, a.cfg.Guard, a.cfg.Slack, a.cfg.Channel, sig.key, oldest, msg.Text, msg.Blocks, thread)
	switch {
	case err != nil:
		return "", err
	case !posted:
		return signalFound, nil
	}
	return signalPosted, nil
}

// alertName is the alert's name, or "alert" for one without.
func alertName(al AlertmanagerAlert) string {
	if n := al.Labels[model.AlertNameLabel]; n != "" {
		return n
	}
	return "alert"
}

// alertSummary is what the alert says about itself.
func alertSummary(al AlertmanagerAlert) string {
	for _, k := range []string{"summary", "description", "message"} {
		if s := strings.TrimSpace(al.Annotations[k]); s != "" {
			return s
		}
	}
	return ""
}

// alertEntryText is the observe entry an alert becomes in an incident.
func alertEntryText(al AlertmanagerAlert, service string) string {
	var b strings.Builder
	if al.Status == AlertResolved {
		fmt.Fprintf(&b, "resolved: %s", alertName(al))
	} else {
		fmt.Fprintf(&b, "Alert firing: %s", alertName(al))
	}
	var about []string
	if sev := al.Labels["severity"]; sev != "" {
		about = append(about, "severity "+sev)
	}
	if service != "" {
		about = append(about, "service "+service)
	}
	if len(about) > 0 {
		b.WriteString(" (" + strings.Join(about, ", ") + ")")
	}
	if s := alertSummary(al); s != "" && al.Status == AlertFiring {
		b.WriteString(": " + s)
	}
	if al.Status == AlertResolved {
		b.WriteString(" — " + alertSpan(al))
	} else if !al.StartsAt.IsZero() {
		b.WriteString(" — since " + mrkdwn.Clock(al.StartsAt))
	}
	if link := blockkit.WebLink(al.GeneratorURL); link != "" && al.Status == AlertFiring {
		b.WriteString(" — " + link)
	}
	return b.String()
}

// alertSpan says when a resolved alert fired: "fired 09:00–09:42 UTC".
func alertSpan(al AlertmanagerAlert) string {
	switch {
	case al.StartsAt.IsZero():
		return "ended " + mrkdwn.Clock(al.EndsAt)
	case al.EndsAt.IsZero() || al.EndsAt.Before(al.StartsAt):
		return "fired since " + mrkdwn.Clock(al.StartsAt)
	}
	return "fired " + al.StartsAt.UTC().Format("15:04") + "–" + mrkdwn.Clock(al.EndsAt)
}

// alertMetrics are the receiver's collectors.
type alertMetrics struct {
	alerts  *prometheus.CounterVec
	signals *prometheus.CounterVec
}

func newAlertMetrics(reg prometheus.Registerer) alertMetrics {
	m := alertMetrics{
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ooda_alerts_total",
			Help: "Alerts received from Alertmanager by status (firing, resolved) and outcome (observed in an incident, queued as a triage signal, duplicate, unposted for want of a channel).",
		}, []string{"status", "outcome"}),
		signals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ooda_alert_signals_total",
			Help: "Alert triage signals by outcome: posted, already_posted (found in the channel), no_thread (a resolution whose signal is not there), failed, dropped (at shutdown).",
		}, []string{"outcome"}),
	}
	if reg != nil {
		m.alerts = resilience.RegisterOrReuse(reg, m.alerts)
		m.signals = resilience.RegisterOrReuse(reg, m.signals)
	}
	return m
}

// writeJSON answers the webhook with v, as the API answers its clients.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // Alertmanager went away; nothing to do
}

// writeError answers with a refusal Alertmanager logs.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"ok": false, "error": msg})
}
