package signals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"

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
	Version  string `json:"version"`
	GroupKey string `json:"groupKey"`
	// TruncatedAlerts counts the group's alerts left out by the
	// receiver's max_alerts.
	TruncatedAlerts int                 `json:"truncatedAlerts"`
	Alerts          []AlertmanagerAlert `json:"alerts"`
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
	DefaultAlertRetry    = 5 * time.Second
)

// maxAlertRetry caps the wait between attempts at a notification whose
// Slack work failed.
const maxAlertRetry = 5 * time.Minute

// DefaultServiceLabels are the labels that name an alert's service, the
// first one set winning: Ooda's own convention, then Prometheus's job.
func DefaultServiceLabels() []string { return []string{"service", "job"} }

// AlertSlack is what the alert receiver calls of Slack's Web API: what
// every signal does (a post found again by its metadata), and chat.update,
// which keeps a group's message current.
type AlertSlack interface {
	slackapi.SignalSlack
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
}

var _ AlertSlack = (*slack.Client)(nil)

// AlertsConfig is what the Alertmanager receiver needs.
type AlertsConfig struct {
	Store incident.Store
	// Slack posts triage signals; nil leaves alerts without an incident
	// unposted (logged once).
	Slack AlertSlack
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
	// QueueSize bounds the notifications waiting for Slack; beyond it a
	// request is answered 503 and Alertmanager sends it again. 0 means
	// DefaultAlertQueue.
	QueueSize int
	// Timeout bounds the Slack calls of one notification; 0 means
	// DefaultSignalTimeout.
	Timeout time.Duration
	// RetryAfter is the first wait before a notification whose Slack
	// work failed is tried again, doubling up to five minutes; 0 means
	// DefaultAlertRetry.
	RetryAfter time.Duration
}

// AlertReceiver serves POST /api/v1/alerts, Alertmanager's webhook.
//
// Alerts of a service with an open incident become observe entries in
// that incident: one entry per notification for what changed (alerts that
// started firing, alerts that resolved), never one per alert. The others
// are triage signals: one Slack message per Alertmanager group, listing
// its alerts with a "Declare incident" button, posted once and then kept
// current with chat.update as alerts join and resolve; resolutions are
// also replied in its thread.
//
// An alert is known by its fingerprint and start, whatever group it
// arrives in: after a group_by change, or through two routes that both
// reach Ooda, an alert already shown in a group's message is not shown in
// another, and an alert already recorded in an incident is not recorded
// again.
//
// Recording in an incident is local and done before answering. Slack is
// not: notifications wait in a bounded queue that Run works through, so
// Alertmanager never waits on Slack. Run is the work of one process (the
// leader): two replicas each posting from what they know would post a
// group twice. A replica whose Run is not running answers the alerts its
// triage channel needs with 503, after recording those of open
// incidents, and Alertmanager sends them again, to the leader in time.
type AlertReceiver struct {
	cfg     AlertsConfig
	metrics alertMetrics
	book    *alertBook

	queue chan groupNotice

	// pending counts notifications queued or being shown.
	pending atomic.Int64
	// running counts the Runs in progress: none on a replica that does
	// not lead.
	running atomic.Int32

	mu     sync.Mutex
	closed bool
	// seen holds the keys of notifications queued or shown by this
	// process, so Alertmanager's re-sends (every repeat_interval while a
	// group lasts, and its retries) cost nothing while one waits.
	seen map[string]time.Time

	// failed holds, by group, the newest notification whose Slack work
	// failed, until it succeeds: Alertmanager does not send a group
	// again when nothing changes in it, and never resends a resolution.
	// Run is its only user.
	failed map[string]groupNotice

	noChannel sync.Once
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
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultAlertRetry
	}
	a := &AlertReceiver{
		failed:  map[string]groupNotice{},
		cfg:     cfg,
		metrics: newAlertMetrics(cfg.Registerer),
		book:    newAlertBook(),
		queue:   make(chan groupNotice, cfg.QueueSize),
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
	// Queued alerts wait to be shown in their group's triage message.
	Queued int `json:"queued"`
	// Duplicates were recorded or shown before, in this group or another.
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

// Outcomes of the Slack work of a notification, the outcome label of
// ooda_alert_signals_total: one per group message it changed, or one
// saying why it changed none.
const (
	signalPosted   = "posted"         // a group's message
	signalUpdated  = "updated"        // a group's message, with chat.update
	signalFound    = "already_posted" // nothing new: the channel shows it already
	signalNoThread = "no_thread"      // resolutions of alerts no message shows
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
	case errors.Is(err, errAlertQueueFull), errors.Is(err, errAlertsClosed), errors.Is(err, errAlertsFollower):
		// Alertmanager takes a 5xx as recoverable: it retries, and a
		// notification that never got through is sent again at the next
		// group_interval. What this one recorded is recognised then.
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
	errAlertQueueFull = errors.New("too many alert notifications wait for Slack; Alertmanager will retry")
	errAlertsClosed   = errors.New("shutting down; Alertmanager will retry")
	errAlertsFollower = errors.New("another replica posts the alerts' triage messages; Alertmanager will retry")
)

// receive records msg's alerts: in open incidents now, the rest queued
// for the group's message. An error leaves some alerts unrecorded;
// Alertmanager sends the whole notification again, and what was recorded
// is recognised then.
func (a *AlertReceiver) receive(ctx context.Context, msg AlertmanagerWebhook) (AlertsReply, error) {
	reply := AlertsReply{OK: true}
	incs, err := a.cfg.Store.Incidents(ctx, false)
	if err != nil {
		return reply, fmt.Errorf("open incidents: %w", err)
	}
	now := a.cfg.Now().UTC()
	outcomes := make([]string, len(msg.Alerts))
	covered := map[uint64][]groupAlert{}
	byNumber := map[uint64]incident.Incident{}
	notice := groupNotice{group: groupHash(msg.GroupKey), present: map[string]bool{}, complete: msg.TruncatedAlerts == 0}
	for i, al := range msg.Alerts {
		ga := groupAlert{alert: al, service: a.serviceOf(al), id: alertID(al), index: i}
		notice.present[ga.id] = true
		open := activeOf(incs, ga.service)
		for _, inc := range open {
			covered[inc.Number] = append(covered[inc.Number], ga)
			byNumber[inc.Number] = inc
		}
		switch {
		case len(open) == 0:
			notice.alerts = append(notice.alerts, ga)
		case !ga.firing() && a.book.mayShowFiring(ga.id):
			// Its firing is in a group's message (or may be, for all
			// this process knows): the resolution is shown there too.
			notice.alerts = append(notice.alerts, ga)
		}
		if len(open) > 0 {
			outcomes[i] = alertDuplicate
		}
	}

	var errs []error
	recorded := false
	for _, n := range slices.Sorted(maps.Keys(covered)) {
		fresh, err := a.observe(ctx, byNumber[n], covered[n], now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, ga := range fresh {
			outcomes[ga.index], recorded = alertObserved, true
		}
	}
	if len(notice.alerts) > 0 {
		queued, err := a.enqueue(notice)
		if err != nil {
			errs = append(errs, err)
		}
		for i, ga := range notice.alerts {
			// An alert of an open incident was accounted for there; its
			// resolution only follows it into a message that may show it.
			if outcomes[ga.index] == "" && queued != nil {
				outcomes[ga.index] = queued[i]
			}
		}
	}
	if recorded && a.cfg.Committed != nil {
		a.cfg.Committed()
	}
	if err := errors.Join(errs...); err != nil {
		return reply, err
	}
	for i, outcome := range outcomes {
		a.metrics.alerts.WithLabelValues(msg.Alerts[i].Status, outcome).Inc()
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
	return reply, nil
}

// activeOf are the active incidents among incs declared for service. The
// comparison ignores case and surrounding space: people type service
// names into the declare form, machines write them into labels.
func activeOf(incs []incident.Incident, service string) []incident.Incident {
	service = strings.TrimSpace(service)
	if service == "" {
		return nil
	}
	var out []incident.Incident
	for _, inc := range incs {
		if inc.Status.Active() && strings.EqualFold(strings.TrimSpace(inc.Service), service) {
			out = append(out, inc)
		}
	}
	return out
}

// observe records, as one observe entry of inc, the alerts of a
// notification that inc has not recorded yet, in this group or another,
// and returns them. The entry carries their states, which is how the
// next notification knows what is new. An incident declared from a
// group's message starts from what the message showed: the declaration
// recorded it.
func (a *AlertReceiver) observe(ctx context.Context, inc incident.Incident, alerts []groupAlert, now time.Time) ([]groupAlert, error) {
	recorded, from, err := recordedAlerts(ctx, a.cfg.Store, inc.Number, a.cfg.Channel)
	if err != nil {
		return nil, err
	}
	if from != "" {
		states, known := a.book.statesShownAt(from)
		if !known && a.cfg.Slack != nil && a.cfg.Channel != "" {
			if err := a.readMessage(ctx, from); err != nil {
				return nil, err
			}
			states, _ = a.book.statesShownAt(from)
		}
		for _, s := range states {
			recorded[s] = true
		}
	}
	var fresh []groupAlert
	for _, ga := range alerts {
		if !recorded[ga.state()] {
			recorded[ga.state()] = true
			fresh = append(fresh, ga)
		}
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	states := make([]string, len(fresh))
	for i, ga := range fresh {
		states[i] = ga.state()
	}
	slices.Sort(states)
	key := "alerts:" + shortHash(strings.Join(states, " "))
	added, err := observeIn(ctx, a.cfg.Store, inc, groupEntryText(fresh), timeline.SourceAlert, key, now,
		map[string]string{attrAlerts: strings.Join(states, " ")})
	if err != nil || !added {
		return nil, err
	}
	return fresh, nil
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

// enqueue hands a notification's triage alerts to Run, unless every one
// of them is shown already or this process queued the same notification.
// It returns the outcome of each alert.
func (a *AlertReceiver) enqueue(n groupNotice) ([]string, error) {
	outcomes := make([]string, len(n.alerts))
	if a.cfg.Slack == nil || a.cfg.Channel == "" {
		a.noChannel.Do(func() {
			a.cfg.Logger.Info("no channel for alert triage signals: alerts without an open incident are not posted; set OODA_SLO_CHANNEL or OODA_ANNOUNCE_CHANNEL")
		})
		for i := range outcomes {
			outcomes[i] = alertUnposted
		}
		return outcomes, nil
	}
	a.book.touch(n.alerts, a.cfg.Now())
	news := 0
	for i, ga := range n.alerts {
		outcomes[i] = alertDuplicate
		if !a.book.known(ga) {
			outcomes[i] = alertQueued
			news++
		}
	}
	gone := a.book.vanished(n)
	if news == 0 && len(gone) == 0 {
		return outcomes, nil
	}
	n.key = n.noticeKey()
	if len(gone) > 0 {
		// The same alerts sent again after one of the group vanished
		// are news.
		n.key += ":gone:" + shortHash(strings.Join(gone, " "))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errAlertsClosed
	}
	if a.running.Load() == 0 {
		return nil, errAlertsFollower
	}
	if _, ok := a.seen[n.key]; ok {
		for i := range outcomes {
			outcomes[i] = alertDuplicate
		}
		return outcomes, nil
	}
	a.pending.Add(1)
	select {
	case a.queue <- n:
	default:
		a.pending.Add(-1)
		return nil, errAlertQueueFull
	}
	a.remember(n.key)
	return outcomes, nil
}

// seenRetention is how long a queued or shown notification's key, and a
// resolved group's message, are kept in memory; maxSeen bounds how many
// keys.
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

// forget drops key after its Slack work failed, so the next delivery
// queues it again.
func (a *AlertReceiver) forget(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.seen, key)
}

// Run shows queued notifications one at a time, until ctx ends: in order,
// and so that a notification sent twice finds the first one's message. A
// notification whose Slack work failed is tried again, with backoff,
// until Slack answers or a newer notification of its group replaces it:
// the webhook was answered already, and Alertmanager sends nothing more
// of a group that does not change. Notifications still queued or failed
// when ctx ends are dropped (and logged): Alertmanager sends a standing
// group again on its repeat interval, and a message that did land is not
// posted twice.
func (a *AlertReceiver) Run(ctx context.Context) error {
	a.running.Add(1)
	defer a.running.Add(-1)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	wait, armed := a.cfg.RetryAfter, false
	for {
		// A context that ended wins over a waiting notification: select
		// picks at random among ready cases.
		if ctx.Err() != nil {
			a.dropQueued()
			return nil
		}
		select {
		case <-ctx.Done():
			a.dropQueued()
			return nil
		case n := <-a.queue:
			// The group's newest notification replaces a failed one:
			// Alertmanager sends the whole group.
			delete(a.failed, n.group)
			if a.handle(ctx, n) && len(a.failed) > 0 {
				// Slack answers again: the failed ones need not wait.
				wait = a.cfg.RetryAfter
				retry.Reset(0)
				armed = true
			}
			a.pending.Add(-1)
		case <-retry.C:
			armed = false
			if a.retryFailed(ctx) {
				wait = a.cfg.RetryAfter
			} else {
				wait = min(2*wait, maxAlertRetry)
			}
		}
		if len(a.failed) > 0 && !armed {
			retry.Reset(wait)
			armed = true
		}
	}
}

// retryFailed makes one more attempt at each failed notification, and
// reports whether all of them succeeded.
func (a *AlertReceiver) retryFailed(ctx context.Context) bool {
	for _, group := range slices.Sorted(maps.Keys(a.failed)) {
		if ctx.Err() != nil {
			return false
		}
		n := a.failed[group]
		delete(a.failed, group)
		a.handle(ctx, n)
	}
	return len(a.failed) == 0
}

// idle reports whether no notification waits for Run or is being shown.
func (a *AlertReceiver) idle() bool { return a.pending.Load() == 0 }

// dropQueued counts and logs the notifications still queued or failed
// when Run ends.
func (a *AlertReceiver) dropQueued() {
	if n := len(a.queue) + len(a.failed); n > 0 {
		a.metrics.signals.WithLabelValues(signalDropped).Add(float64(n))
		a.cfg.Logger.Warn("alert notifications dropped at shutdown; Alertmanager sends a standing group again", "count", n)
	}
}

// handle makes one attempt at a notification's Slack work and reports
// whether it succeeded. A failed one is kept for Run to try again; its
// key is forgotten, so that Alertmanager's retry of it is queued (and
// replaces it) rather than taken for a duplicate.
func (a *AlertReceiver) handle(ctx context.Context, n groupNotice) bool {
	actx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	outcomes, err := a.show(actx, n)
	for _, o := range outcomes {
		a.metrics.signals.WithLabelValues(o).Inc()
	}
	if err == nil {
		return true
	}
	a.forget(n.key)
	a.failed[n.group] = n
	a.metrics.signals.WithLabelValues(signalFailed).Inc()
	a.cfg.Logger.WarnContext(ctx, "could not show alerts in their group's triage message; trying again",
		"group", n.group, "alerts", len(n.alerts), "err", resilience.Redact(err.Error()))
	return false
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

// groupEntryText is the observe entry the new alerts of one notification
// become in an incident: one alert as it always was, several as their
// group (blockkit.AlertGroupEntry).
func groupEntryText(fresh []groupAlert) string {
	if len(fresh) == 1 {
		return alertEntryText(fresh[0].alert, fresh[0].service)
	}
	g := blockkit.AlertGroup{}
	for _, ga := range fresh {
		g.Alerts = append(g.Alerts, ga.view())
	}
	return blockkit.AlertGroupEntry(g)
}

// alertEntryText is the observe entry one alert becomes in an incident.
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
			Help: "Alerts received from Alertmanager by status (firing, resolved) and outcome (observed in an incident, queued for its group's triage message, duplicate, unposted for want of a channel).",
		}, []string{"status", "outcome"}),
		signals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ooda_alert_signals_total",
			Help: "Alert group triage messages by outcome: posted, updated (chat.update), already_posted (nothing new), no_thread (resolutions no message shows), failed, dropped (at shutdown).",
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
