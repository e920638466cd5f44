package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// within bounds every wait for the stream: a liveness margin, not a
// speed assertion.
const within = 10 * time.Second

// sseEvent is one event of a stream as EventSource reads it.
type sseEvent struct {
	ID, Name, Data string
}

// timeline decodes a timeline event's data.
func (e sseEvent) timeline(t *testing.T) timelineUpdate {
	t.Helper()
	require.Equal(t, "timeline", e.Name)
	var u timelineUpdate
	require.NoError(t, json.Unmarshal([]byte(e.Data), &u), e.Data)
	return u
}

// stream is a client of a live stream: its events arrive on events,
// which is closed when the server ends the stream.
type stream struct {
	resp   *http.Response
	events chan sseEvent
	done   chan struct{}
}

// openStream opens path on the server at base with cookie and extra
// headers; it fails the test unless the server answers 200.
func openStream(t *testing.T, base, path string, cookie *http.Cookie, header http.Header) *stream {
	t.Helper()
	resp := getStream(t, base, path, cookie, header)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &stream{resp: resp, events: make(chan sseEvent, 64), done: make(chan struct{})}
	go s.read()
	t.Cleanup(s.close)
	return s
}

func getStream(t *testing.T, base, path string, cookie *http.Cookie, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(t, err)
	req.AddCookie(cookie)
	for k, vs := range header {
		req.Header[k] = vs
	}
	// A transport of its own, whose connections go with the test.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	return resp
}

// read parses the stream as EventSource does, comments left out.
func (s *stream) read() {
	defer close(s.done)
	defer close(s.events)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Name != "" || ev.Data != "" {
				s.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			ev.ID = line[len("id: "):]
		case strings.HasPrefix(line, "event: "):
			ev.Name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.Data += line[len("data: "):]
		}
	}
}

// close hangs up and waits for the reader.
func (s *stream) close() {
	s.resp.Body.Close()
	for range s.events {
	}
	<-s.done
}

// next is the next event named name, skipping others; it fails the test
// when the stream ends or nothing comes within the margin.
func (s *stream) next(t *testing.T, name string) sseEvent {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			require.True(t, ok, "the stream ended before a %s event", name)
			if ev.Name == name {
				return ev
			}
		case <-deadline.C:
			require.FailNow(t, "no "+name+" event", "within %s", within)
		}
	}
}

// ends waits for the server to end the stream.
func (s *stream) ends(t *testing.T) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return
			}
		case <-deadline.C:
			require.FailNow(t, "the stream did not end", "within %s", within)
		}
	}
}

// liveServer is the site behind a real HTTP server with the timeouts
// ooda serve has (or tighter), closing the site when it shuts down, as
// the app does.
type liveServer struct {
	*pageSite
	url string
	srv *httptest.Server
}

func newLiveServer(t *testing.T, store Store, db *storage.DB, tune func(*http.Server)) *liveServer {
	t.Helper()
	return newLiveServerWith(t, store, db, tune, nil)
}

// newLiveServerWith is newLiveServer with edit changing the site's
// configuration before the site is built.
func newLiveServerWith(t *testing.T, store Store, db *storage.DB, tune func(*http.Server), edit func(*Config)) *liveServer {
	t.Helper()
	cfg := Config{
		Store: store, People: pagePeople,
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
	}
	if edit != nil {
		edit(&cfg)
	}
	site, err := New(cfg)
	require.NoError(t, err)
	mux := http.NewServeMux()
	site.Register(mux)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ReadTimeout = 10 * time.Second
	srv.Config.WriteTimeout = 30 * time.Second
	if tune != nil {
		tune(srv.Config)
	}
	srv.Config.RegisterOnShutdown(site.Close)
	srv.Start()
	t.Cleanup(func() {
		site.Close()
		srv.Close()
	})
	return &liveServer{pageSite: &pageSite{site: site, h: mux, db: db, now: time.Now()}, url: srv.URL, srv: srv}
}

func livePath(n uint64, since uint64) string {
	return "/incidents/" + strconv.FormatUint(n, 10) + "/live?since=" + strconv.FormatUint(since, 10)
}

// liveIncident is a small open incident, declared an hour ago.
func liveIncident(t *testing.T, db *storage.DB, d incident.Declaration) (*seeded, uint64) {
	t.Helper()
	t0 := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	s := declare(t, db, t0, pageAlice, d)
	seq := s.entry(t0.Add(time.Minute), pageAlice, timeline.PhaseObserve, "Error rate at 12%")
	return s, seq
}

// TestLiveNewEntry: an entry committed straight to the store, as another
// replica commits it, reaches an open stream, and only its minute is
// sent.
func TestLiveNewEntry(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	ls := newLiveServer(t, db, db, nil)
	st := openStream(t, ls.url, livePath(s.n, seq), ls.session(t, pageViewer), nil)

	at := time.Now().UTC()
	added := s.entry(at, pageAlice, timeline.PhaseOrient, "The <10:00> deploy")
	ev := st.next(t, "timeline")
	u := ev.timeline(t)
	require.Equal(t, strconv.FormatUint(added, 10), ev.ID)
	require.Equal(t, added, u.Seq)
	require.Equal(t, unixMinute(at), u.From, "only the new entry's minute is replaced")
	require.Contains(t, u.HTML, `data-seq="`+strconv.FormatUint(added, 10)+`"`)
	require.Contains(t, u.HTML, "The &lt;10:00&gt; deploy")
	require.NotContains(t, u.HTML, "Error rate", "the minutes before it are not sent again")

	// A stakeholder update changes the updates section too.
	s.do(time.Now(), pageCarol, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.PostUpdate("Rolling back", m)
	})
	up := st.next(t, "updates")
	require.Contains(t, up.Data, "Rolling back")
}

// TestLiveCorrection: a correction rewrites an entry anywhere in the
// timeline, so the client's timeline is replaced whole.
func TestLiveCorrection(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	ls := newLiveServer(t, db, db, nil)
	st := openStream(t, ls.url, livePath(s.n, seq), ls.session(t, pageViewer), nil)

	s.amend(time.Now(), pageAlice, seq, "Error rate at 14%")
	u := st.next(t, "timeline").timeline(t)
	require.Equal(t, int64(0), u.From, "a full replace")
	require.Contains(t, u.HTML, "Error rate at 14%")
	require.Contains(t, u.HTML, `<span class="mark amended">amended</span>`)
	require.Contains(t, u.HTML, "Declared SEV2", "every minute is sent")
}

// TestLiveCatchUp: a client whose page is behind gets the update at once,
// and a reconnecting EventSource's Last-Event-ID wins over since.
func TestLiveCatchUp(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	ls := newLiveServer(t, db, db, nil)
	cookie := ls.session(t, pageViewer)

	behind := openStream(t, ls.url, livePath(s.n, 1), cookie, nil)
	u := behind.next(t, "timeline").timeline(t)
	require.Equal(t, seq, u.Seq)
	require.Equal(t, int64(0), u.From)
	require.Contains(t, u.HTML, "Error rate at 12%")
	require.Contains(t, behind.next(t, "summary").Data, "Checkout down")

	later := s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Rolled back")
	// The page said seq; the browser has seen later since.
	current := openStream(t, ls.url, livePath(s.n, 1), cookie, http.Header{"Last-Event-ID": {strconv.FormatUint(later, 10)}})
	next := s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Scaled up")
	u = current.next(t, "timeline").timeline(t)
	require.Equal(t, next, u.Seq, "nothing was sent for what the client had")
	require.NotEqual(t, int64(0), u.From)
}

// TestLiveAccess: the stream of a private incident the viewer may not
// see answers 404 like an unknown number; a member who leaves its
// channel gets gone, and the stream ends.
func TestLiveAccess(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Payroll leak", Severity: 1, Private: true})
	s.do(time.Now(), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MembersAdded([]string{pageAlice, pageViewer}, m)
	})
	ls := newLiveServer(t, db, db, nil)

	outsider := ls.session(t, pageOutsider)
	hidden := getStream(t, ls.url, livePath(s.n, seq), outsider, nil)
	hiddenBody, _ := io.ReadAll(hidden.Body)
	hidden.Body.Close()
	unknown := getStream(t, ls.url, livePath(s.n+1, seq), outsider, nil)
	unknownBody, _ := io.ReadAll(unknown.Body)
	unknown.Body.Close()
	require.Equal(t, http.StatusNotFound, hidden.StatusCode)
	require.Equal(t, http.StatusNotFound, unknown.StatusCode)
	require.Equal(t, strings.ReplaceAll(string(unknownBody), incident.ID(s.n+1), incident.ID(s.n)), string(hiddenBody))
	require.NotContains(t, string(hiddenBody), "Payroll")

	st := openStream(t, ls.url, livePath(s.n, 0), ls.session(t, pageViewer), nil)
	st.next(t, "timeline")
	s.do(time.Now(), pageBob, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MemberLeft(pageViewer, m)
	})
	gone := st.next(t, "gone")
	require.Equal(t, goneData, gone.Data, "gone tells nothing of the incident")
	st.ends(t)
}

// TestLiveClosed: the incident closing sends closed and ends the stream.
func TestLiveClosed(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Search slow", Severity: 3})
	ls := newLiveServer(t, db, db, nil)
	st := openStream(t, ls.url, livePath(s.n, seq), ls.session(t, pageViewer), nil)
	s.do(time.Now(), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Resolve("cache warmed", m)
	})
	require.Contains(t, st.next(t, "summary").Data, "Resolved")
	s.do(time.Now(), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Close("https://wiki.example.com/pm/1", m)
	})
	st.next(t, "closed")
	st.ends(t)
}

// TestLiveShutdown: closing the site, which http.Server.Shutdown does
// through RegisterOnShutdown, ends the streams at once, so Shutdown does
// not wait on them.
func TestLiveShutdown(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	site, err := New(Config{Store: db, People: pagePeople, PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret"})
	require.NoError(t, err)
	mux := http.NewServeMux()
	site.Register(mux)
	hs := &http.Server{Handler: mux, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	hs.RegisterOnShutdown(site.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	p := &pageSite{site: site, h: mux, db: db, now: time.Now()}

	var streams []*stream
	for range 3 {
		streams = append(streams, openStream(t, "http://"+ln.Addr().String(), livePath(s.n, seq), p.session(t, pageViewer), nil))
	}
	// Every stream is in its loop once it has an entry.
	s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Rolled back")
	for _, st := range streams {
		st.next(t, "timeline")
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	require.NoError(t, hs.Shutdown(ctx), "shutdown did not wait on the streams")
	for _, st := range streams {
		st.ends(t)
	}
	require.ErrorIs(t, <-served, http.ErrServerClosed)
}

// TestLiveOutlivesWriteTimeout: every write extends its deadline, so a
// stream older than the server's WriteTimeout (and ReadTimeout) still
// delivers.
func TestLiveOutlivesWriteTimeout(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	ls := newLiveServer(t, db, db, func(hs *http.Server) {
		hs.WriteTimeout = 200 * time.Millisecond
		hs.ReadTimeout = 200 * time.Millisecond
	})
	st := openStream(t, ls.url, livePath(s.n, seq), ls.session(t, pageViewer), nil)
	time.Sleep(time.Second) // past both timeouts
	added := s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Rolled back")
	require.Equal(t, added, st.next(t, "timeline").timeline(t).Seq)
}

// failingWatch is a store whose change feed fails its first watches.
type failingWatch struct {
	Store
	failures atomic.Int32
	watches  atomic.Int32
}

func (f *failingWatch) WatchIncidents(ctx context.Context, changed func(uint64)) error {
	f.watches.Add(1)
	if f.failures.Add(-1) >= 0 {
		return errors.New("etcd: no leader")
	}
	return f.Store.WatchIncidents(ctx, changed)
}

// TestLiveWatchFails: when the change feed fails, the hub watches again
// after a pause and the streams, which stayed open, re-read.
func TestLiveWatchFails(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	store := &failingWatch{Store: db}
	store.failures.Store(2)
	ls := newLiveServer(t, store, db, nil)
	ls.site.hub.backoff = 20 * time.Millisecond
	st := openStream(t, ls.url, livePath(s.n, seq), ls.session(t, pageViewer), nil)
	added := s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Rolled back")
	require.Equal(t, added, st.next(t, "timeline").timeline(t).Seq)
	require.GreaterOrEqual(t, store.watches.Load(), int32(3))
}

// TestLiveOneWatch: however many streams are open, the site watches the
// change feed once, and stops when the last stream leaves.
func TestLiveOneWatch(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	store := &failingWatch{Store: db}
	ls := newLiveServer(t, store, db, nil)
	cookie := ls.session(t, pageViewer)
	var streams []*stream
	for range 5 {
		streams = append(streams, openStream(t, ls.url, livePath(s.n, seq), cookie, nil))
	}
	s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Rolled back")
	for _, st := range streams {
		st.next(t, "timeline")
	}
	require.Equal(t, int32(1), store.watches.Load())
	for _, st := range streams {
		st.close()
	}
	require.Eventually(t, func() bool {
		ls.site.hub.mu.Lock()
		defer ls.site.hub.mu.Unlock()
		return ls.site.hub.stop == nil && ls.site.hub.count == 0
	}, within, 10*time.Millisecond, "the watch stops with the last stream")
}

// TestLiveMessageEdited: a captured message edited in the channel changes
// the timeline without a new event; the stream, woken by the transcript's
// change, sends the timeline again.
func TestLiveMessageEdited(t *testing.T) {
	db := storagetest.Open(t)
	s, _ := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	s.do(time.Now(), incident.Bot, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.ChannelCreated(pageChannel, m)
	})
	posted := time.Now().Add(-time.Minute).Truncate(time.Second)
	s.message(storage.MessageChange{Op: storage.MessagePosted, TS: slackTS(posted), User: pageBob, Text: "db is slow", At: posted})
	s.capture(time.Now(), pageAlice, slackTS(posted), pageBob, "db is slow")
	inc, err := db.Incident(context.Background(), s.n)
	require.NoError(t, err)
	ls := newLiveServer(t, db, db, nil)
	st := openStream(t, ls.url, livePath(s.n, inc.LastSeq), ls.session(t, pageViewer), nil)

	s.message(storage.MessageChange{Op: storage.MessageEdited, TS: slackTS(posted), User: pageBob, Text: "db is very slow",
		EditTS: slackTS(time.Now()), Previous: "db is slow", At: time.Now()})
	u := st.next(t, "timeline").timeline(t)
	require.Equal(t, inc.LastSeq, u.Seq, "no event was added")
	require.Equal(t, int64(0), u.From)
	require.Contains(t, u.HTML, "Pinned: db is very slow")
	require.Contains(t, u.HTML, `<span class="mark edited">`)
}

// TestLiveSessionRevoked: a session revoked (or signed out) ends its
// streams with gone.
func TestLiveSessionRevoked(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	ls := newLiveServer(t, db, db, nil)
	ls.site.hub.recheck = time.Nanosecond
	cookie := ls.session(t, pageViewer)
	st := openStream(t, ls.url, livePath(s.n, seq), cookie, nil)
	_, err := db.DeleteSessions(context.Background(), pageViewer)
	require.NoError(t, err)
	s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Rolled back")
	require.Equal(t, goneData, st.next(t, "gone").Data)
	st.ends(t)
}

// liveDirectory is a People that knows whether members are active, safe
// to change while the server reads it.
type liveDirectory struct {
	mu          sync.Mutex
	deactivated map[string]bool
}

func (d *liveDirectory) Name(id string) string                     { return pagePeople.Name(id) }
func (d *liveDirectory) Names(context.Context) func(string) string { return d.Name }
func (d *liveDirectory) Person(id string) (people.Person, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return people.Person{ID: id, RealName: pagePeople.Name(id), Deleted: d.deactivated[id]}, true
}

func (d *liveDirectory) deactivate(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deactivated[id] = true
}

// TestLiveMemberDeactivated: a member deactivated in Slack while their
// stream is open gets gone, as their next page would send them to sign
// in: the stream checks its session by the pages' rule.
func TestLiveMemberDeactivated(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	dir := &liveDirectory{deactivated: map[string]bool{}}
	ls := newLiveServerWith(t, db, db, nil, func(c *Config) { c.People = dir })
	ls.site.hub.recheck = time.Nanosecond
	st := openStream(t, ls.url, livePath(s.n, seq), ls.session(t, pageViewer), nil)
	dir.deactivate(pageViewer)
	s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Rolled back")
	require.Equal(t, goneData, st.next(t, "gone").Data)
	st.ends(t)
}

// sessionFails is a store whose session reads fail once told to.
type sessionFails struct {
	Store
	fail atomic.Bool
}

func (f *sessionFails) Session(ctx context.Context, id string) (storage.Session, bool, error) {
	if f.fail.Load() {
		return storage.Session{}, false, errors.New("etcd: no leader")
	}
	return f.Store.Session(ctx, id)
}

// TestLiveSessionCheckFails: a stream whose session cannot be checked
// ends (fail closed) rather than go on unchecked; the browser reconnects
// and is asked again.
func TestLiveSessionCheckFails(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	store := &sessionFails{Store: db}
	ls := newLiveServer(t, store, db, nil)
	ls.site.hub.recheck = time.Nanosecond
	st := openStream(t, ls.url, livePath(s.n, seq), ls.session(t, pageViewer), nil)
	store.fail.Store(true)
	s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Rolled back")
	for ev := range st.events {
		require.NotEqual(t, "timeline", ev.Name, "nothing is sent on an unchecked session")
	}
	st.ends(t)
}

// TestLiveCaps: a session may hold so many streams, and the site so many
// in all; one more is refused with 429 (the session's) or 503 (the
// site's) and a Retry-After, and a stream that ends frees its place.
func TestLiveCaps(t *testing.T) {
	db := storagetest.Open(t)
	s, seq := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	ls := newLiveServer(t, db, db, nil)
	ls.site.hub.perSession, ls.site.hub.total = 2, 3
	viewer, carol, alice := ls.session(t, pageViewer), ls.session(t, pageCarol), ls.session(t, pageAlice)
	path := livePath(s.n, seq)

	first := openStream(t, ls.url, path, viewer, nil)
	openStream(t, ls.url, path, viewer, nil)
	refused := getStream(t, ls.url, path, viewer, nil)
	body, _ := io.ReadAll(refused.Body)
	refused.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, refused.StatusCode)
	require.Equal(t, retryAfter, refused.Header.Get("Retry-After"))
	require.Contains(t, string(body), "Too many live pages")

	openStream(t, ls.url, path, carol, nil)
	refused = getStream(t, ls.url, path, alice, nil)
	body, _ = io.ReadAll(refused.Body)
	refused.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, refused.StatusCode, "the site's cap holds whoever asks")
	require.Equal(t, retryAfter, refused.Header.Get("Retry-After"))
	require.Contains(t, string(body), "as many live pages as it can")

	first.close()
	require.Eventually(t, func() bool {
		ls.site.hub.mu.Lock()
		defer ls.site.hub.mu.Unlock()
		return ls.site.hub.count == 2
	}, within, 10*time.Millisecond)
	openStream(t, ls.url, path, viewer, nil)
}

// transcriptCounter counts a store's event reads and its reads of single
// transcript messages.
type transcriptCounter struct {
	*storage.DB
	events, messages atomic.Int32
}

func (c *transcriptCounter) Events(ctx context.Context, n uint64, from uint64) ([]timeline.Event, error) {
	c.events.Add(1)
	return c.DB.Events(ctx, n, from)
}

func (c *transcriptCounter) TranscriptMessageAt(ctx context.Context, n uint64, ts string) (storage.TranscriptMessage, bool, error) {
	c.messages.Add(1)
	return c.DB.TranscriptMessageAt(ctx, n, ts)
}

// TestLiveChatterReadsNoTranscript: a plain message in the incident's
// channel wakes the streams, but one that changed nothing they show does
// not make them re-read their captured messages at once; a new event
// does.
func TestLiveChatterReadsNoTranscript(t *testing.T) {
	db := storagetest.Open(t)
	s, _ := liveIncident(t, db, incident.Declaration{Title: "Checkout down", Severity: 2})
	s.do(time.Now(), incident.Bot, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.ChannelCreated(pageChannel, m)
	})
	posted := time.Now().Add(-time.Minute).Truncate(time.Second)
	s.message(storage.MessageChange{Op: storage.MessagePosted, TS: slackTS(posted), User: pageBob, Text: "db is slow", At: posted})
	s.capture(time.Now(), pageAlice, slackTS(posted), pageBob, "db is slow")
	inc, err := db.Incident(context.Background(), s.n)
	require.NoError(t, err)
	store := &transcriptCounter{DB: db}
	ls := newLiveServer(t, store, db, nil)
	ls.site.hub.transcriptWait = time.Hour
	st := openStream(t, ls.url, livePath(s.n, inc.LastSeq), ls.session(t, pageViewer), nil)
	// Once a stream has sent an entry it is in its loop, every wake before
	// it handled.
	s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Rolled back")
	st.next(t, "timeline")
	messages := store.messages.Load()

	for i := range 3 {
		events := store.events.Load()
		at := time.Now().Add(time.Duration(i) * time.Second)
		s.message(storage.MessageChange{Op: storage.MessagePosted, TS: slackTS(at.Add(time.Hour)), User: pageBob, Text: "any news?", At: at})
		require.Eventually(t, func() bool { return store.events.Load() > events }, within, time.Millisecond, "the message woke the stream")
	}
	s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Scaled up")
	st.next(t, "timeline")
	require.Equal(t, messages+1, store.messages.Load(), "the captured message is read for the entry, not for the chatter")
}
