package signals

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
)

// An alert group's triage message is the one place its state lives
// outside this process: its Slack metadata carries the group and the
// alerts it shows, firing and resolved. The receiver keeps what it showed
// in memory (alertBook) and reads the channel's metadata back whenever a
// notification brings something it does not know, so that a restarted
// process, or another replica, updates the message an earlier one posted
// instead of posting a second.

// Metadata fields of a group's message, beside its key.
const (
	metaGroup    = "group"    // groupHash of its Alertmanager group key
	metaFiring   = "firing"   // alertIDs of its firing alerts, space-separated
	metaResolved = "resolved" // alertIDs of its resolved alerts
)

// maxMarkedAlerts bounds the alerts a message's metadata lists (13 bytes
// each), firing ones first. Beyond it a group still has one message, but
// a restarted process no longer knows the rest are shown there.
const maxMarkedAlerts = 500

// groupHash names an Alertmanager group key in metadata; group keys are
// long, and carry the route's matchers.
func groupHash(groupKey string) string { return shortHash(groupKey) }

// alertID names one firing of one alert, whatever group it arrives in:
// its fingerprint (computed from its labels, as Alertmanager does, when
// the payload lacks it) and when it started. Hashed to 48 bits, which
// keeps a message's metadata small.
func alertID(al AlertmanagerAlert) string {
	fp := al.Fingerprint
	if fp == "" {
		fp = model.Fingerprint(model.LabelsToSignature(al.Labels)).String()
	}
	h := sha256.Sum256([]byte(fp + "\x00" + al.StartsAt.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h[:6])
}

// shortHash is 64 bits of s's SHA-256, in hex.
func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// groupAlert is one alert of a notification, with what the receiver made
// of it.
type groupAlert struct {
	alert   AlertmanagerAlert
	service string
	id      string // alertID
	index   int    // its place in the notification
}

func (ga groupAlert) firing() bool { return ga.alert.Status == AlertFiring }

// state names the alert's firing and its status: what an incident entry
// records.
func (ga groupAlert) state() string { return ga.id + ":" + ga.alert.Status }

// view is what a message shows of the alert.
func (ga groupAlert) view() blockkit.Alert {
	al := ga.alert
	return blockkit.Alert{
		Name: alertName(al), Summary: alertSummary(al), Span: alertSpan(al), Service: ga.service,
		Resolved: !ga.firing(), StartsAt: al.StartsAt, GeneratorURL: al.GeneratorURL, Labels: al.Labels,
	}
}

// groupNotice is the part of a notification that is for its group's
// triage message, waiting in the queue.
type groupNotice struct {
	group  string // groupHash
	alerts []groupAlert
	key    string // noticeKey, once queued
	// present are the alertIDs of every alert of the notification, those
	// of open incidents too; complete, that none was truncated. Alertmanager
	// sends the whole group: an alert its message shows firing that a
	// complete notification lacks has resolved unseen.
	present  map[string]bool
	complete bool
}

// noticeKey names the notification by its group and its alerts' states,
// so that the same notification sent again is recognised.
func (n groupNotice) noticeKey() string {
	states := make([]string, len(n.alerts))
	for i, ga := range n.alerts {
		states[i] = ga.state()
	}
	slices.Sort(states)
	return n.group + ":" + shortHash(strings.Join(states, " "))
}

// oldest is how far back the channel may hold a message showing one of
// the notice's alerts: it was posted after the alert started.
func (n groupNotice) oldest(now time.Time) time.Time {
	var t time.Time
	for _, ga := range n.alerts {
		s := ga.alert.StartsAt
		if s.IsZero() {
			return now.Add(-seenRetention)
		}
		if t.IsZero() || s.Before(t) {
			t = s
		}
	}
	return t.Add(-slackapi.HistorySkew)
}

// shownAlert is one alert of a group's message.
type shownAlert struct {
	// alert is zero (no labels) for an alert known only from the
	// message's metadata.
	alert    AlertmanagerAlert
	service  string
	resolved bool
}

// groupMessage is the triage message of an Alertmanager group.
type groupMessage struct {
	key   string // its metadata key
	group string // groupHash
	ts    string // "" until posted
	order []string
	shown map[string]*shownAlert // by alertID
	// changed is when this process last changed or read it: a resolved
	// message is forgotten seenRetention after.
	changed time.Time
}

func newGroupMessage(group string) *groupMessage {
	return &groupMessage{group: group, shown: map[string]*shownAlert{}}
}

// open reports whether some alert of the message still fires.
func (m *groupMessage) open() bool {
	for _, s := range m.shown {
		if !s.resolved {
			return true
		}
	}
	return false
}

func (m *groupMessage) clone() *groupMessage {
	c := *m
	c.order = slices.Clone(m.order)
	c.shown = make(map[string]*shownAlert, len(m.shown))
	for id, s := range m.shown {
		cp := *s
		c.shown[id] = &cp
	}
	return &c
}

// set shows ga in the message, as it is now.
func (m *groupMessage) set(ga groupAlert) {
	s, ok := m.shown[ga.id]
	if !ok {
		s = &shownAlert{}
		m.shown[ga.id] = s
		m.order = append(m.order, ga.id)
	}
	s.alert, s.service, s.resolved = ga.alert, ga.service, !ga.firing()
}

// fields are the message's metadata beside its key.
func (m *groupMessage) fields() map[string]any {
	var firing, resolved []string
	for _, id := range m.order {
		if m.shown[id].resolved {
			resolved = append(resolved, id)
		} else {
			firing = append(firing, id)
		}
	}
	firing = firing[:min(len(firing), maxMarkedAlerts)]
	resolved = resolved[:min(len(resolved), maxMarkedAlerts-len(firing))]
	return map[string]any{metaGroup: m.group, metaFiring: strings.Join(firing, " "), metaResolved: strings.Join(resolved, " ")}
}

// markedMessage reads a group's message from its metadata, or reports
// that m is not one.
func markedMessage(m slack.Message) (*groupMessage, bool) {
	p := m.Metadata.EventPayload
	if m.Metadata.EventType != slackapi.MetadataEventType || p == nil {
		return nil, false
	}
	key, _ := p["key"].(string)
	group, _ := p[metaGroup].(string)
	if key == "" || group == "" {
		return nil, false
	}
	gm := newGroupMessage(group)
	gm.key, gm.ts = key, m.Timestamp
	for field, resolved := range map[string]bool{metaFiring: false, metaResolved: true} {
		s, _ := p[field].(string)
		for _, id := range strings.Fields(s) {
			if _, ok := gm.shown[id]; !ok {
				gm.order = append(gm.order, id)
			}
			gm.shown[id] = &shownAlert{resolved: resolved}
		}
	}
	slices.Sort(gm.order) // only their number shows while they are unnamed
	return gm, true
}

// view is what the message shows: its alerts by name, those known only
// by their id counted.
func (m *groupMessage) view(open []incident.Incident) blockkit.AlertGroup {
	g := blockkit.AlertGroup{Open: open}
	for _, id := range m.order {
		s := m.shown[id]
		switch {
		case len(s.alert.Labels) > 0:
			ga := groupAlert{alert: s.alert, service: s.service, id: id}
			v := ga.view()
			v.Resolved = s.resolved
			g.Alerts = append(g.Alerts, v)
		case s.resolved:
			g.UnnamedResolved++
		default:
			g.UnnamedFiring++
		}
	}
	return g
}

// service is the service every named alert of the message names, or "".
func (m *groupMessage) service() string { return m.view(nil).Service() }

// alertBook is what this process knows of the group messages in the
// channel. Run is its only writer; the webhook reads it to answer what is
// known already.
type alertBook struct {
	mu       sync.Mutex
	messages map[string]*groupMessage // by key
	byAlert  map[string]*groupMessage // alertID → the message showing it
	openBy   map[string]*groupMessage // groupHash → its open message
	// unshown are the alerts the channel, read back since they started,
	// showed in no message, and when that was learnt: their resolutions
	// need not read it again.
	unshown map[string]time.Time
}

func newAlertBook() *alertBook {
	return &alertBook{
		messages: map[string]*groupMessage{}, byAlert: map[string]*groupMessage{}, openBy: map[string]*groupMessage{},
		unshown: map[string]time.Time{},
	}
}

// markUnshown records that no message shows the alerts ids, as the
// channel was just read back.
func (b *alertBook) markUnshown(ids []string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range ids {
		if b.byAlert[id] == nil {
			b.unshown[id] = now
		}
	}
	if len(b.unshown) > maxSeen {
		for id, at := range b.unshown {
			if now.Sub(at) > seenRetention {
				delete(b.unshown, id)
			}
		}
		if len(b.unshown) > maxSeen {
			clear(b.unshown)
		}
	}
}

// known reports whether the book accounts for ga: a firing alert shown in
// some message, a resolution shown as one.
func (b *alertBook) known(ga groupAlert) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.byAlert[ga.id]
	return m != nil && (ga.firing() || m.shown[ga.id].resolved)
}

// mayShowFiring reports whether a message may show alert id firing: one
// does, or the book does not know the alert (a restarted process, whose
// book the channel fills again).
func (b *alertBook) mayShowFiring(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.byAlert[id]
	if m == nil {
		_, unshown := b.unshown[id]
		return !unshown
	}
	return !m.shown[id].resolved
}

// statesShownAt are the alert states the message posted at ts shows: a
// resolved alert's firing and its resolution. It reports false when the
// book does not know that message.
func (b *alertBook) statesShownAt(ts string) ([]string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	known := false
	for _, m := range b.messages {
		if m.ts != ts {
			continue
		}
		known = true
		for id, s := range m.shown {
			out = append(out, id+":"+AlertFiring)
			if s.resolved {
				out = append(out, id+":"+AlertResolved)
			}
		}
	}
	return out, known
}

// unknown reports whether n brings anything the book does not account for.
func (b *alertBook) unknown(n groupNotice) bool {
	for _, ga := range n.alerts {
		if !b.known(ga) {
			return true
		}
	}
	return false
}

// vanished are the alerts the group's open message shows firing that n,
// a complete notification of the group, lacks.
func (b *alertBook) vanished(n groupNotice) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.vanishedLocked(n)
}

// vanishedLocked is vanished; b.mu is held.
func (b *alertBook) vanishedLocked(n groupNotice) []string {
	m := b.openBy[n.group]
	if !n.complete || m == nil {
		return nil
	}
	var out []string
	for _, id := range m.order {
		if !m.shown[id].resolved && !n.present[id] {
			out = append(out, id)
		}
	}
	return out
}

// put records m as Slack now shows it.
func (b *alertBook) put(m *groupMessage, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m.changed = now
	b.messages[m.key] = m
	b.prune(now)
	b.reindex()
}

// drop forgets the message keyed key (it is gone from the channel).
func (b *alertBook) drop(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.messages, key)
	b.reindex()
}

// merge adds what the channel's metadata says of its group messages: a
// message this process did not know, alerts it did not know a message
// shows, resolutions another process showed.
func (b *alertBook) merge(found []*groupMessage, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range found {
		m, ok := b.messages[f.key]
		if !ok {
			f.changed = now
			b.messages[f.key] = f
			continue
		}
		m.ts = f.ts
		for _, id := range f.order {
			s, ok := m.shown[id]
			if !ok {
				m.order = append(m.order, id)
				m.shown[id] = f.shown[id]
				continue
			}
			s.resolved = s.resolved || f.shown[id].resolved
		}
	}
	b.prune(now)
	b.reindex()
}

// staleRetention is how long a message no notification touched is kept
// in memory, open or not. Alertmanager sends a standing group again every
// repeat_interval (4 h by default), which touches it; one untouched for
// this long is one whose alerts Alertmanager forgot without resolving.
// The channel keeps it for a later read-back.
const staleRetention = 7 * 24 * time.Hour

// touch records that a notification brought alerts the book shows, which
// keeps their messages from going stale.
func (b *alertBook) touch(alerts []groupAlert, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ga := range alerts {
		if m := b.byAlert[ga.id]; m != nil {
			m.changed = now
		}
	}
}

// prune forgets messages whose every alert resolved more than
// seenRetention ago, and any untouched for staleRetention; b.mu is held.
func (b *alertBook) prune(now time.Time) {
	for k, m := range b.messages {
		if !m.open() && now.Sub(m.changed) > seenRetention || now.Sub(m.changed) > staleRetention {
			delete(b.messages, k)
		}
	}
}

// reindex rebuilds the lookups from the messages, the newest message of
// a group being its open one; b.mu is held.
func (b *alertBook) reindex() {
	clear(b.byAlert)
	clear(b.openBy)
	msgs := slices.SortedFunc(maps.Values(b.messages), func(x, y *groupMessage) int { return cmp.Compare(x.ts, y.ts) })
	for _, m := range msgs {
		for id, s := range m.shown {
			// A firing shown in two messages (posted before Ooda kept one
			// per group) is looked up where it still fires.
			if prev := b.byAlert[id]; prev == nil || prev.shown[id].resolved || !s.resolved {
				b.byAlert[id] = m
			}
		}
		if m.open() {
			b.openBy[m.group] = m
		}
	}
}

// groupChange is what a notification changes in one group message.
type groupChange struct {
	prev     *groupMessage // nil for a message to post
	next     *groupMessage
	resolved []string // alertIDs that resolved, for the thread reply
}

// plan works out what n changes: its new firing alerts join its group's
// open message (a new one when it has none), its resolutions change the
// message that shows their firing, whatever group that is. Alerts shown
// already change nothing. The book itself is not changed (but for what
// an alert known only by id says about itself): put records a change once
// Slack shows it.
func (b *alertBook) plan(n groupNotice) []*groupChange {
	b.mu.Lock()
	defer b.mu.Unlock()
	var changes []*groupChange
	byKey := map[string]*groupChange{}
	change := func(m *groupMessage) *groupChange {
		if c, ok := byKey[m.key]; ok {
			return c
		}
		c := &groupChange{prev: m, next: m.clone()}
		byKey[m.key] = c
		changes = append(changes, c)
		return c
	}
	var own *groupChange
	var added []string
	for _, ga := range n.alerts {
		m := b.byAlert[ga.id]
		switch {
		case m == nil && ga.firing():
			if own == nil {
				if open := b.openBy[n.group]; open != nil {
					own = change(open)
				} else {
					own = &groupChange{next: newGroupMessage(n.group)}
					changes = append(changes, own)
				}
			}
			own.next.set(ga)
			added = append(added, ga.id)
		case m == nil:
			// The resolution of an alert no message shows.
		case ga.firing():
			// Shown already; what it says may be new to this process.
			if len(m.shown[ga.id].alert.Labels) == 0 {
				m.shown[ga.id].alert, m.shown[ga.id].service = ga.alert, ga.service
			}
			if c, ok := byKey[m.key]; ok && len(c.next.shown[ga.id].alert.Labels) == 0 {
				c.next.shown[ga.id].alert, c.next.shown[ga.id].service = ga.alert, ga.service
			}
		case !m.shown[ga.id].resolved:
			c := change(m)
			c.next.set(ga)
			c.resolved = append(c.resolved, ga.id)
		}
	}
	if gone := b.vanishedLocked(n); len(gone) > 0 {
		c := change(b.openBy[n.group])
		for _, id := range gone {
			s := c.next.shown[id]
			s.resolved = true
			if len(s.alert.Labels) > 0 {
				s.alert.Status = AlertResolved
			}
			c.resolved = append(c.resolved, id)
		}
	}
	if own != nil && own.prev == nil {
		// The same new alerts make the same key: a post whose answer
		// was lost is found by it.
		own.next.key = "alertgroup:" + n.group + ":" + slices.Min(added)
	}
	return changes
}

// show does a notification's Slack work: it reads the channel's group
// messages back when the notification brings something this process does
// not know of, then posts or updates each message it changes. It returns
// an outcome per message changed, or why none was.
func (a *AlertReceiver) show(ctx context.Context, n groupNotice) ([]string, error) {
	now := a.cfg.Now()
	if a.book.unknown(n) {
		if err := a.refresh(ctx, n.oldest(now)); err != nil {
			return nil, err
		}
		var resolved []string
		for _, ga := range n.alerts {
			if !ga.firing() {
				resolved = append(resolved, ga.id)
			}
		}
		a.book.markUnshown(resolved, now)
	}
	changes := a.book.plan(n)
	if len(changes) == 0 {
		for _, ga := range n.alerts {
			if ga.firing() {
				return []string{signalFound}, nil
			}
		}
		return []string{signalNoThread}, nil
	}
	var outcomes []string
	for _, c := range changes {
		outcome, err := a.apply(ctx, c, n.oldest(now))
		if err != nil {
			return outcomes, err
		}
		a.book.put(c.next, now)
		outcomes = append(outcomes, outcome)
	}
	return outcomes, nil
}

// refresh reads the group messages of the channel since oldest into the
// book.
func (a *AlertReceiver) refresh(ctx context.Context, oldest time.Time) error {
	var found []*groupMessage
	err := a.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.history", Idempotent: true}, func(ctx context.Context) error {
		found = found[:0]
		_, err := slackapi.ScanHistory(ctx, a.cfg.Slack, a.cfg.Channel, oldest, true, func(m slack.Message) bool {
			if gm, ok := markedMessage(m); ok {
				found = append(found, gm)
			}
			return false
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("read alert group messages: %w", err)
	}
	a.book.merge(found, a.cfg.Now())
	return nil
}

// readMessage reads the group message posted at ts back from the
// channel into the book: an incident declared from it starts from what
// it showed, which a restarted process, or a replica that did not post
// it, knows only from its metadata.
func (a *AlertReceiver) readMessage(ctx context.Context, ts string) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	var found []*groupMessage
	err := a.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.history", Idempotent: true}, func(ctx context.Context) error {
		resp, err := a.cfg.Slack.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: a.cfg.Channel, Latest: ts, Oldest: ts, Inclusive: true, Limit: 1, IncludeAllMetadata: true,
		})
		if err != nil {
			return err
		}
		found = found[:0]
		for _, m := range resp.Messages {
			if gm, ok := markedMessage(m); ok && gm.ts == ts {
				found = append(found, gm)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the alert group message the incident was declared from: %w", err)
	}
	a.book.merge(found, a.cfg.Now())
	return nil
}

// apply shows one change in Slack: a new message is posted (once, by its
// key); resolutions are replied in the message's thread (once, by theirs),
// then the message is updated.
func (a *AlertReceiver) apply(ctx context.Context, c *groupChange, oldest time.Time) (string, error) {
	m := c.next
	open, err := a.publicIncidentsOf(ctx, m.service())
	if err != nil {
		return "", err
	}
	view := m.view(open)
	msg := blockkit.AlertGroupSignal(view)
	mark := slackapi.Mark(m.key, m.fields())
	if c.prev == nil {
		ts, posted, err := slackapi.PostOnceMarked(ctx, a.cfg.Guard, a.cfg.Slack, a.cfg.Channel, mark, oldest, msg.Text, msg.Blocks, "")
		if err != nil {
			return "", fmt.Errorf("post alert group message: %w", err)
		}
		m.ts = ts
		if posted {
			return signalPosted, nil
		}
		// An earlier attempt posted it; bring it up to date.
		if err := a.update(ctx, m, msg, mark); err != nil {
			return "", err
		}
		return signalFound, nil
	}
	if len(c.resolved) > 0 {
		var resolved []blockkit.Alert
		for _, id := range c.resolved {
			s := m.shown[id]
			v := groupAlert{alert: s.alert, service: s.service, id: id}.view()
			resolved = append(resolved, v)
		}
		slices.Sort(c.resolved)
		reply := blockkit.AlertGroupResolved(view, resolved)
		key := m.key + ":resolved:" + shortHash(strings.Join(c.resolved, " "))
		if _, _, err := slackapi.PostOnce(ctx, a.cfg.Guard, a.cfg.Slack, a.cfg.Channel, key, time.Time{}, reply.Text, reply.Blocks, m.ts); err != nil {
			return "", fmt.Errorf("reply resolved alerts: %w", err)
		}
	}
	if err := a.update(ctx, m, msg, mark); err != nil {
		return "", err
	}
	return signalUpdated, nil
}

// update replaces the group's message, metadata included. chat.update
// is idempotent: a retry after a lost answer writes the same message.
func (a *AlertReceiver) update(ctx context.Context, m *groupMessage, msg blockkit.Message, mark slack.SlackMetadata) error {
	err := a.cfg.Guard.Do(ctx, resilience.Op{Method: "chat.update", Idempotent: true}, func(ctx context.Context) error {
		_, _, _, err := a.cfg.Slack.UpdateMessageContext(ctx, a.cfg.Channel, m.ts,
			slack.MsgOptionText(msg.Text, false), slack.MsgOptionBlocks(msg.Blocks...), slack.MsgOptionMetadata(mark))
		return err
	})
	if slackapi.ErrorCode(err) == "message_not_found" {
		// Someone deleted it: the group's next notification posts anew.
		a.book.drop(m.key)
	}
	if err != nil {
		return fmt.Errorf("update alert group message: %w", err)
	}
	return nil
}

// publicIncidentsOf are the open incidents of service that the triage
// channel may name: a private incident stays out of it.
func (a *AlertReceiver) publicIncidentsOf(ctx context.Context, service string) ([]incident.Incident, error) {
	open, err := openIncidentsOf(ctx, a.cfg.Store, service)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(open, func(inc incident.Incident) bool { return inc.Private }), nil
}
