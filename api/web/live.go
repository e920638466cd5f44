package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// Live updates. An incident page that is not closed opens
// GET /incidents/{n}/live, a stream of Server-Sent Events:
//
//	event: timeline   {"seq": S, "from_minute": K, "html": "<li …>"}
//	event: summary    {"seq": S, "html": "…"}   (and actions, updates)
//	event: closed     the incident closed: the stream ends
//	event: gone       the viewer may no longer see it: the stream ends
//
// each with the id of the last event it shows (S), which a reconnecting
// browser sends back as Last-Event-ID. A timeline event replaces the
// page's minutes from Unix minute K on (data-minute >= K) with its html;
// K is 0 to replace them all, and -1 when no minute changed (the seq
// moved on over entries the timeline does not show). The other events
// replace their section's content.
//
// The streams are fed by the store's change feed, not by the process that
// handled a command, so they follow commands committed on any replica:
// one goroutine per Site watches it while any stream is open (hub) and
// wakes the streams of the incident that changed; each stream re-reads
// what it shows.
//
// A session may hold maxStreamsPerSession streams and the site
// maxStreams; one more is refused with 429 or 503 and a Retry-After.

// Timings of a live stream.
const (
	// heartbeat keeps proxies from closing an idle stream.
	heartbeat = 20 * time.Second
	// writeWindow is how long one write may take; every write extends
	// the deadline, so the server's WriteTimeout never cuts a stream.
	writeWindow = 30 * time.Second
	// sessionRecheck is how often, at most, a change makes a stream ask
	// the store whether its session still stands; the heartbeat asks too.
	// A hundred viewers of a busy incident would otherwise read their
	// sessions at every entry.
	sessionRecheck = 5 * time.Second
	// watchBackoff is the wait before watching the change feed again
	// after it failed.
	watchBackoff = 2 * time.Second
	// transcriptRecheck is how often, at most, a stream re-reads its
	// captured messages when a change brought no event: every message in
	// the incident's channel wakes its streams, and only an edit of a
	// captured one changes what they show, which can wait this long.
	transcriptRecheck = 2 * time.Second
	// retryAfter is what a stream refused for being one too many asks
	// the client to wait, in seconds.
	retryAfter = "30"
)

// The caps on live streams: per session, so one browser (or one stolen
// cookie) cannot hold the site's streams, and per site, so the streams
// cannot take every goroutine and file descriptor the process has.
const (
	maxStreamsPerSession = 16
	maxStreams           = 2000
)

// Why a stream was refused before it opened.
var (
	errSessionStreams = errors.New("web: this session has too many live streams open")
	errSiteStreams    = errors.New("web: the site has too many live streams open")
)

// hub fans the store's change feed out to the live streams. Its zero
// value is ready; the Site owns one. One goroutine watches the feed while
// any stream is open: the first stream starts it, the last one to leave
// stops it and waits for it to return.
type hub struct {
	mu      sync.Mutex
	streams map[uint64]map[chan struct{}]struct{}
	count   int
	stop    context.CancelFunc // ends the watch; nil while none runs
	stopped chan struct{}      // closed when the watch has returned
	// sessions counts the open streams of each session.
	sessions map[string]int
	// backoff, recheck and transcriptWait override watchBackoff,
	// sessionRecheck and transcriptRecheck; perSession and total override
	// maxStreamsPerSession and maxStreams (tests).
	backoff, recheck, transcriptWait time.Duration
	perSession, total                int
}

// follow registers a stream of incident n for session. changed receives
// a token whenever the incident may have changed (coalesced: it holds one
// at most). leave unregisters it; the last stream's leave stops the watch
// and waits for it. A session with its cap of streams open is refused
// with errSessionStreams, and any when the site has its cap open with
// errSiteStreams.
func (s *Site) follow(n uint64, session string) (changed <-chan struct{}, leave func(), err error) {
	h := &s.hub
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.count >= cmp.Or(h.total, maxStreams) {
		h.mu.Unlock()
		return nil, nil, errSiteStreams
	}
	if h.sessions[session] >= cmp.Or(h.perSession, maxStreamsPerSession) {
		h.mu.Unlock()
		return nil, nil, errSessionStreams
	}
	if h.streams == nil {
		h.streams = map[uint64]map[chan struct{}]struct{}{}
		h.sessions = map[string]int{}
	}
	h.sessions[session]++
	set := h.streams[n]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		h.streams[n] = set
	}
	set[ch] = struct{}{}
	h.count++
	if h.stop == nil {
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		h.stop, h.stopped = cancel, stopped
		go s.watch(ctx, stopped)
	}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		set := h.streams[n]
		delete(set, ch)
		if len(set) == 0 {
			delete(h.streams, n)
		}
		if h.sessions[session]--; h.sessions[session] <= 0 {
			delete(h.sessions, session)
		}
		h.count--
		var stop context.CancelFunc
		var stopped chan struct{}
		if h.count == 0 {
			stop, stopped = h.stop, h.stopped
			h.stop, h.stopped = nil, nil
		}
		h.mu.Unlock()
		if stop != nil {
			stop()
			<-stopped
		}
	}, nil
}

// watch follows the store's change feed until ctx ends, watching again
// after a pause when it fails; the streams stay open meanwhile and re-read
// once it is back.
func (s *Site) watch(ctx context.Context, stopped chan<- struct{}) {
	defer close(stopped)
	backoff := s.hub.backoff
	if backoff <= 0 {
		backoff = watchBackoff
	}
	for {
		err := s.cfg.Store.WatchIncidents(ctx, s.hub.wake)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("the change feed ended")
		}
		s.cfg.Logger.WarnContext(ctx, "web: live updates lost the store's change feed; watching it again", "err", err, "after", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// wake tells the streams of incident n that it changed. It never blocks:
// a stream that has a token already will re-read everything anyway. The
// feed's first call, wake(0), says it listens: every stream re-reads
// then, so a change committed while the watch was being set up (just
// after a stream's first read, or while the feed was down) is not missed.
func (h *hub) wake(n uint64) {
	if n == 0 {
		h.wakeAll()
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.streams[n] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// wakeAll tells every stream to re-read.
func (h *hub) wakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.streams {
		for ch := range set {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// live serves an incident's stream of updates to a signed-in viewer.
func (s *Site) live(w http.ResponseWriter, r *http.Request, v *Viewer) {
	n, err := incident.ParseID(r.PathValue("n"))
	if err != nil {
		http.Error(w, "That is not an incident number: an incident's stream is at /incidents/7/live for INC-7.", http.StatusBadRequest)
		return
	}
	select {
	case <-s.done:
		http.Error(w, "Ooda is shutting down; reload the page in a moment.", http.StatusServiceUnavailable)
		return
	default:
	}
	ctx := r.Context()
	// Registered before the first read: a change committed after it wakes
	// the stream, so none falls between the read and the watch.
	changed, leave, err := s.follow(n, v.Session)
	switch {
	case errors.Is(err, errSessionStreams):
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "Too many live pages are open in this browser; close some and reload this one.", http.StatusTooManyRequests)
		return
	case err != nil:
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "Ooda is serving as many live pages as it can; reload this one in a minute.", http.StatusServiceUnavailable)
		return
	}
	defer leave()
	st, err := s.readIncident(ctx, n, v.User)
	switch {
	case errors.Is(err, errUnseen):
		text, next := notFoundText(n)
		http.Error(w, text+". "+next, http.StatusNotFound)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	out := &sse{w: w, rc: rc}

	ls := &liveStream{site: s, viewer: v, state: st, checked: time.Now(), messagesRead: time.Now()}
	since := clientSeq(r)
	if since == st.seq() {
		ls.baseline()
	} else {
		ls.full, ls.dirty = true, allSections
	}
	w.WriteHeader(http.StatusOK)
	// The headers go out at once: EventSource reports the stream open
	// when they arrive, whether or not there is anything to send yet.
	if err := out.comment("live"); err != nil {
		return
	}
	if err := ls.send(out); err != nil {
		return
	}
	if ls.ended {
		return
	}

	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	// due fires when captured messages a change did not re-read are to
	// be read (refresh); nil while none are.
	var due <-chan time.Time
	var dueTimer *time.Timer
	defer func() {
		if dueTimer != nil {
			dueTimer.Stop()
		}
	}()
	update := func() bool {
		if err := ls.refresh(ctx); err != nil {
			if ctx.Err() == nil {
				s.cfg.Logger.ErrorContext(ctx, "web: live update failed", "incident", incident.ID(n), "err", err)
			}
			return false
		}
		if err := ls.send(out); err != nil || ls.ended {
			return false
		}
		if ls.messagesDue && due == nil {
			dueTimer = time.NewTimer(max(s.transcriptWait()-time.Since(ls.messagesRead), 0))
			due = dueTimer.C
		}
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-tick.C:
			live, err := s.sessionLive(ctx, v)
			if err != nil {
				if ctx.Err() == nil {
					s.cfg.Logger.WarnContext(ctx, "web: live stream ended: its session could not be checked", "incident", incident.ID(n), "err", err)
				}
				return
			}
			if !live {
				_ = out.event("gone", 0, goneData)
				_ = out.flush()
				return
			}
			if err := out.comment("keep-alive"); err != nil {
				return
			}
		case <-changed:
			if !update() {
				return
			}
		case <-due:
			due, dueTimer = nil, nil
			if ls.messagesDue && !update() {
				return
			}
		}
	}
}

// clientSeq is the last event the client shows: the Last-Event-ID of a
// reconnecting EventSource, else the since the page's script passed.
func clientSeq(r *http.Request) uint64 {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("since")
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// sessionLive reports whether v's session still stands, by the rule
// pages apply (sessionViewer): signing out, a revocation, its expiry, the
// member's deactivation in Slack or a change of workspace end the streams
// it opened too. An error (the store or the workspace cannot be read)
// is returned: the stream ends rather than outlive a session unchecked,
// and the browser's reconnection asks again.
func (s *Site) sessionLive(ctx context.Context, v *Viewer) (bool, error) {
	cur, err := s.sessionViewer(ctx, v.Session)
	if err != nil {
		return false, fmt.Errorf("check the session: %w", err)
	}
	return cur != nil && cur.User == v.User && cur.Team == v.Team, nil
}

// transcriptWait is transcriptRecheck or the test's override.
func (s *Site) transcriptWait() time.Duration {
	return cmp.Or(s.hub.transcriptWait, transcriptRecheck)
}

// goneData is what gone and closed carry: nothing the viewer may not see.
const goneData = "{}"

// liveStream is one viewer's stream of one incident: what it read last
// and what the client shows.
type liveStream struct {
	site   *Site
	viewer *Viewer
	state  incidentState

	// full: the client's timeline must be replaced whole; from: its
	// minutes from this Unix minute on (0: none); moved: the seq moved on
	// without a minute to replace.
	full  bool
	from  int64
	moved bool
	// dirty are the sections new events changed.
	dirty sections
	// checked is when the session was last found standing.
	checked time.Time
	// messagesRead is when the captured messages were last read;
	// messagesDue: a change since may have edited one, and they are to be
	// read again once transcriptWait has passed since.
	messagesRead time.Time
	messagesDue  bool
	// messages are the captured messages as last rendered: an edit in the
	// channel changes the timeline without a new event.
	messages map[string]string
	// gone: the viewer may no longer see the incident; ended: the last
	// event was sent.
	gone, ended bool
}

// sections is a set of the page's sections besides the timeline.
type sections uint8

const (
	sectionSummary sections = 1 << iota
	sectionActions
	sectionUpdates
	allSections = sectionSummary | sectionActions | sectionUpdates
)

// sectionsOf says which sections an event changes: the header shows the
// incident's state, roles, impact and channel; the action items and the
// updates their own events.
func sectionsOf(k timeline.Kind) sections {
	switch k {
	case timeline.KindDeclared, timeline.KindRoleAssigned, timeline.KindStatusChanged, timeline.KindSeverityChanged,
		timeline.KindImpactSet, timeline.KindResolved, timeline.KindReopened, timeline.KindClosed, timeline.KindChannelCreated:
		return sectionSummary
	case timeline.KindActionAdded, timeline.KindActionUpdated:
		return sectionActions
	case timeline.KindUpdatePosted:
		return sectionUpdates
	}
	return 0
}

// baseline records what a client that is up to date shows, so only what
// changes from here is sent.
func (ls *liveStream) baseline() {
	ls.messages = messageVersions(ls.state)
}

// refresh re-reads the incident after a change: the events since the
// last one read (folded into the incident), the access rule, the
// captured messages.
func (ls *liveStream) refresh(ctx context.Context) error {
	s, st := ls.site, &ls.state
	n := st.inc.Number
	recheck := s.hub.recheck
	if recheck <= 0 {
		recheck = sessionRecheck
	}
	if time.Since(ls.checked) >= recheck {
		live, err := s.sessionLive(ctx, ls.viewer)
		if err != nil {
			return err
		}
		if !live {
			ls.gone = true
			return nil
		}
		ls.checked = time.Now()
	}
	events, err := s.cfg.Store.Events(ctx, n, st.seq()+1)
	if err != nil {
		return fmt.Errorf("read %s's events: %w", incident.ID(n), err)
	}
	if len(events) > 0 {
		st.add(events)
		if !st.inc.Admits(ls.viewer.User) {
			ls.gone = true
			return nil
		}
		ls.note(events)
	}
	// A change that brought no event was a message in the channel or a
	// snapshot rewritten without one: only an edit of a captured message
	// changes what the stream shows, and the feed does not say which
	// message changed. The captured messages are read again at most every
	// transcriptWait, so a busy channel does not make every stream read
	// them at every message; an edit shows within that wait.
	if st.messages != nil && len(events) == 0 && time.Since(ls.messagesRead) < s.transcriptWait() {
		ls.messagesDue = true
		return nil
	}
	if err := s.readMessages(ctx, st); err != nil {
		return err
	}
	ls.messagesRead, ls.messagesDue = time.Now(), false
	if v := messageVersions(*st); !sameVersions(v, ls.messages) {
		ls.full = true
		ls.messages = v
	}
	return nil
}

// note works out which minutes new events change. Build puts an entry
// where it happened, so a new entry changes its own minute and every one
// after it (order, silences), whether it lands at the end or, dated when
// something was seen, before minutes already shown; the minutes before
// it stay as they are. A correction rewrites an entry that may be
// anywhere: the client's timeline is replaced whole.
func (ls *liveStream) note(events []timeline.Event) {
	ls.moved = true
	for i := range events {
		e := &events[i]
		ls.dirty |= sectionsOf(e.Kind)
		switch {
		case ls.full:
		case e.Kind == timeline.KindEntryAmended, e.Kind == timeline.KindEntryStruck:
			ls.full = true
		case !e.Bookkeeping():
			if k := unixMinute(e.At); ls.from == 0 || k < ls.from {
				ls.from = k
			}
		}
	}
}

// send writes what changed since the client's last update, then closed
// or gone when the stream ends, in one write.
func (ls *liveStream) send(out *sse) error {
	if err := ls.queue(out); err != nil {
		return err
	}
	return out.flush()
}

// queue queues send's events.
func (ls *liveStream) queue(out *sse) error {
	if ls.gone {
		ls.ended = true
		return out.event("gone", 0, goneData)
	}
	st := &ls.state
	seq := st.seq()
	if ls.full || ls.from != 0 || ls.moved {
		nm := ls.site.names()
		view := buildTimeline(*st)
		from := int64(-1)
		var html string
		switch {
		case ls.full:
			from = 0
		case ls.from != 0:
			from = ls.from
		}
		if from >= 0 {
			html = string(minutesHTML(timelineView(*st, view, from, nm).Minutes))
		}
		if err := out.event("timeline", seq, timelineUpdate{Seq: seq, From: from, HTML: html}); err != nil {
			return err
		}
		if ls.full {
			ls.messages = messageVersions(*st)
		}
		ls.full, ls.from, ls.moved = false, 0, false
	}
	if ls.dirty != 0 {
		if err := ls.sendSections(out, seq); err != nil {
			return err
		}
		ls.dirty = 0
	}
	if st.inc.Status == incident.StatusClosed {
		ls.ended = true
		return out.event("closed", seq, goneData)
	}
	return nil
}

// sendSections re-renders the sections new events changed and sends
// each as an event of its own name.
func (ls *liveStream) sendSections(out *sse, seq uint64) error {
	s, st := ls.site, &ls.state
	now := s.cfg.Now()
	nm := s.names()
	for _, p := range [...]struct {
		section sections
		name    string
		data    func() any
	}{
		{sectionSummary, "summary", func() any { return s.summaryView(st.inc, ls.viewer, now, nm) }},
		{sectionActions, "actions", func() any { return s.actionsView(st.inc, now, nm) }},
		{sectionUpdates, "updates", func() any { return updatesView(st.events, nm) }},
	} {
		if ls.dirty&p.section == 0 {
			continue
		}
		html, err := s.renderPart(p.name, p.data())
		if err != nil {
			return err
		}
		if err := out.event(p.name, seq, sectionUpdate{Seq: seq, HTML: html}); err != nil {
			return err
		}
	}
	return nil
}

// timelineUpdate is a timeline event's data.
type timelineUpdate struct {
	Seq  uint64 `json:"seq"`
	From int64  `json:"from_minute"`
	HTML string `json:"html"`
}

// sectionUpdate is a summary, actions or updates event's data.
type sectionUpdate struct {
	Seq  uint64 `json:"seq"`
	HTML string `json:"html"`
}

// renderPart renders one of the incident page's parts on its own.
func (s *Site) renderPart(name string, data any) (string, error) {
	t, ok := s.pages["incident"]
	if !ok {
		return "", errors.New("no incident template")
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}

// messageVersions says which version of each captured message the state
// holds: its edits and whether it was deleted.
func messageVersions(st incidentState) map[string]string {
	if len(st.messages) == 0 {
		return nil
	}
	out := make(map[string]string, len(st.messages))
	for ts, m := range st.messages {
		out[ts] = strconv.Itoa(len(m.Edits)) + "/" + strconv.FormatBool(m.Deleted) + "/" + m.Text
	}
	return out
}

func sameVersions(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// sse writes Server-Sent Events: the events of one update are queued
// and written together, with a fresh write deadline, and flushed at once.
type sse struct {
	w   io.Writer
	rc  *http.ResponseController
	buf []byte
}

// flush writes what is queued.
func (o *sse) flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	// A writer without deadlines (a test's recorder) has nothing to reset.
	_ = o.rc.SetWriteDeadline(time.Now().Add(writeWindow))
	_, err := o.w.Write(o.buf)
	o.buf = o.buf[:0]
	if err != nil {
		return err
	}
	return o.rc.Flush()
}

// event queues one event; id 0 gives it none.
func (o *sse) event(name string, id uint64, data any) error {
	b := o.buf
	if id != 0 {
		b = append(b, "id: "...)
		b = strconv.AppendUint(b, id, 10)
		b = append(b, '\n')
	}
	b = append(b, "event: "...)
	b = append(b, name...)
	b = append(b, "\ndata: "...)
	switch d := data.(type) {
	case string:
		b = append(b, d...)
	default:
		j, err := json.Marshal(d)
		if err != nil {
			return err
		}
		b = append(b, j...)
	}
	o.buf = append(b, "\n\n"...)
	return nil
}

// comment writes a comment line, which EventSource ignores, with what
// is queued.
func (o *sse) comment(text string) error {
	o.buf = append(o.buf, ": "+text+"\n\n"...)
	return o.flush()
}
