package web

import (
	"context"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// The people of the incident page's fixtures. Alice and Carol are known
// to the directory; Bob is not, and shows as his member ID.
const (
	pageViewer   = "U0PVIEWER01"
	pageAlice    = "U0PALICE001"
	pageBob      = "U0PBOB00001"
	pageCarol    = "U0PCAROL001"
	pageOutsider = "U0POUTSIDE1"
	pageTeam     = "T0TEAM00001"
	pageChannel  = "C0PCHAN0001"
)

// pageT0 is when the fixture's incident is declared; pageNow, when the
// page is asked for, ten days later.
var (
	pageT0  = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	pageNow = pageT0.Add(10 * 24 * time.Hour)
)

// pageDirectory knows Alice, Carol and the viewer.
type pageDirectory map[string]string

func (p pageDirectory) Name(id string) string { return p[id] }

func (p pageDirectory) Names(context.Context) func(string) string {
	return func(id string) string { return p[id] }
}

var pagePeople = pageDirectory{pageAlice: "Alice Liddell", pageCarol: "Carol <Comms>", pageViewer: "Vera Viewer"}

// pageKeys numbers the seeding commands' idempotency keys.
var pageKeys atomic.Uint64

// seeded is an incident committed through the incident's own commands,
// as the dispatcher commits them; each step is one command.
type seeded struct {
	tb testing.TB
	db *storage.DB
	n  uint64
}

// declare declares an incident by actor at at.
func declare(tb testing.TB, db *storage.DB, at time.Time, actor string, d incident.Declaration) *seeded {
	tb.Helper()
	m := pageMeta(at, actor)
	res, err := db.Declare(context.Background(), m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, d, m)
	})
	require.NoError(tb, err, "declare %q", d.Title)
	return &seeded{tb: tb, db: db, n: res.Incident.Number}
}

func pageMeta(at time.Time, actor string) incident.Meta {
	return incident.Meta{At: at, Actor: actor, Source: timeline.SourceCommand, Key: "page-" + strconv.FormatUint(pageKeys.Add(1), 10)}
}

// do commits one command by actor at at and returns what it recorded.
func (s *seeded) do(at time.Time, actor string, decide func(*incident.Incident, incident.Meta) (incident.Change, error)) incident.Result {
	s.tb.Helper()
	m := pageMeta(at, actor)
	if actor == incident.Bot {
		m.Source = timeline.SourceSystem
	}
	res, err := s.db.Apply(context.Background(), s.n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return decide(inc, m) })
	require.NoError(s.tb, err, "%s", incident.ID(s.n))
	return res
}

// entry records a loop entry and returns its number.
func (s *seeded) entry(at time.Time, actor string, phase timeline.Phase, text string) uint64 {
	s.tb.Helper()
	res := s.do(at, actor, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(phase, text, false, m)
	})
	return res.Events[0].Seq
}

// amend and strike correct entry seq, reading it first as the commands do.
func (s *seeded) amend(at time.Time, actor string, seq uint64, text string) {
	s.tb.Helper()
	e, err := s.db.Event(context.Background(), s.n, seq)
	require.NoError(s.tb, err)
	s.do(at, actor, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Amend(seq, &e, text, incident.When{}, m)
	})
}

func (s *seeded) strike(at time.Time, actor string, seq uint64, reason string) {
	s.tb.Helper()
	e, err := s.db.Event(context.Background(), s.n, seq)
	require.NoError(s.tb, err)
	s.do(at, actor, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Strike(seq, &e, reason, m)
	})
}

// message records a change of a channel message in the transcript.
func (s *seeded) message(c storage.MessageChange) {
	s.tb.Helper()
	_, err := s.db.RecordMessage(context.Background(), s.n, c)
	require.NoError(s.tb, err)
}

// capture records a message pinned by actor, as the Slack handler does.
func (s *seeded) capture(at time.Time, actor, ts, author, text string) {
	s.tb.Helper()
	s.do(at, actor, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		m.Source = timeline.SourcePin
		return inc.Record(timeline.KindMessageCaptured, timeline.PhaseObserve, text,
			map[string]string{timeline.AttrChannel: pageChannel, timeline.AttrTS: ts, timeline.AttrUser: author}, m)
	})
}

// slackTS is the Slack ts of a message posted at t.
func slackTS(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) + ".000100" }

// pageSite is the web UI over db with sign-in configured and its clock at
// now; session signs a person in.
type pageSite struct {
	site *Site
	h    http.Handler
	db   *storage.DB
	now  time.Time
}

func newPageSite(tb testing.TB, db *storage.DB, now func() time.Time) *pageSite {
	tb.Helper()
	site, err := New(Config{
		Store: db, People: pagePeople, Now: now,
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
	})
	require.NoError(tb, err)
	tb.Cleanup(site.Close)
	mux := http.NewServeMux()
	site.Register(mux)
	return &pageSite{site: site, h: mux, db: db, now: now()}
}

// session stores a session for user, as sign-in does, and returns the
// cookie that names it.
func (p *pageSite) session(tb testing.TB, user string) *http.Cookie {
	tb.Helper()
	secret := "page-secret-of-" + user
	require.NoError(tb, p.db.SaveSession(context.Background(), storage.Session{
		ID: sessionID(secret), User: user, Team: pageTeam, Name: pagePeople[user],
		CreatedAt: p.now.Add(-time.Hour), ExpiresAt: p.now.Add(2 * time.Hour),
	}))
	return &http.Cookie{Name: sessionCookie, Value: secret}
}

func (p *pageSite) get(tb testing.TB, cookie *http.Cookie, path string) (int, string) {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://ooda.example.com"+path, nil)
	r.AddCookie(cookie)
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, r)
	body, err := io.ReadAll(w.Result().Body)
	require.NoError(tb, err)
	return w.Code, string(body)
}

// pageFixture is one incident of every kind of entry the page shows. It
// returns the incident and the numbers of its corrected entries.
type pageFixture struct {
	n                         uint64
	observe, amended, struck  uint64
	lastSeq                   uint64
	title, edited, deletedMsg string
}

func seedPageIncident(tb testing.TB, db *storage.DB) pageFixture {
	tb.Helper()
	at := func(min int) time.Time { return pageT0.Add(time.Duration(min) * time.Minute) }
	f := pageFixture{title: `Checkout <script>alert("t")</script> down`}
	s := declare(tb, db, pageT0, pageAlice, incident.Declaration{Title: f.title, Severity: 2, Service: "checkout"})
	f.n = s.n
	s.do(at(0).Add(20*time.Second), incident.Bot, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.ChannelCreated(pageChannel, m)
	})
	s.do(at(1), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AssignRole(roles.Comms, pageCarol, m)
	})
	f.observe = s.entry(at(1), pageBob, timeline.PhaseObserve, "Error rate at 12% <img src=x onerror=alert(1)>")
	s.do(at(2), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetImpact("Customers cannot pay", m)
	})
	s.entry(at(3), pageAlice, timeline.PhaseOrient, "The 10:00 deploy")
	// A message posted, pinned, then edited in the channel.
	s.message(storage.MessageChange{Op: storage.MessagePosted, TS: slackTS(at(4)), User: pageBob, Text: "db is slow", At: at(4)})
	s.capture(at(5), pageAlice, slackTS(at(4)), pageBob, "db is slow")
	f.edited = "db is very slow"
	s.message(storage.MessageChange{Op: storage.MessageEdited, TS: slackTS(at(4)), User: pageBob, Text: f.edited,
		EditTS: slackTS(at(7)), Previous: "db is slow", At: at(7)})
	// Another, pinned, then deleted.
	f.deletedMsg = "ignore the db"
	s.message(storage.MessageChange{Op: storage.MessagePosted, TS: slackTS(at(6)), User: pageBob, Text: f.deletedMsg, At: at(6)})
	s.capture(at(6), pageAlice, slackTS(at(6)), pageBob, f.deletedMsg)
	s.message(storage.MessageChange{Op: storage.MessageDeleted, TS: slackTS(at(6)), At: at(8)})
	// Half an hour without entries, then the rest.
	s.entry(at(40), pageAlice, timeline.PhaseDecide, "Roll back")
	s.entry(at(41), pageAlice, timeline.PhaseAct, "Rolled back to v41")
	f.amended = s.entry(at(42), pageAlice, timeline.PhaseNone, "first words")
	s.amend(at(43), pageAlice, f.amended, "better words")
	f.struck = s.entry(at(44), pageBob, timeline.PhaseObserve, "wrong graph")
	s.strike(at(45), pageAlice, f.struck, "that was staging")
	s.do(at(46), pageCarol, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.PostUpdate("We are rolling back <b>now</b>", m)
	})
	s.do(at(50), pageCarol, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.PostUpdate("Payments work again", m)
	})
	// Action items: one overdue, one done, one won't do, one with a ticket.
	for _, a := range []incident.NewAction{
		{Text: "Alert on payment errors", Owner: pageAlice, Priority: "P0", Due: "+1d"},
		{Text: "Canary deploys", Owner: pageCarol, Priority: "P1"},
		{Text: "Rewrite checkout", Priority: "P3"},
		{Text: "Runbook for rollbacks", Owner: pageBob, Due: "+30d"},
	} {
		s.do(at(51), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddActionItem(a, m)
		})
	}
	s.do(at(52), pageCarol, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(2, m)
	})
	s.do(at(53), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionWontDo(3, "too big <for now>", m)
	})
	// Tickets: item 1's opened in a tracker, item 5's pending.
	s.do(at(53), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.RequestTicket(1, m)
	})
	s.do(at(53), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.TicketCreated(1, inc.Actions[0].Ticket.Effect, incident.Ticket{
			Tracker: "github", Project: "acme/pay", ID: "7", URL: "https://github.example.com/acme/pay/issues/7", State: incident.TicketOpen,
		}, m)
	})
	s.do(at(53), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddActionItem(incident.NewAction{Text: "Load test checkout", Ticket: true}, m)
	})
	res := s.do(at(54), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetActionLink(4, "https://tickets.example.com/OPS-1", m)
	})
	f.lastSeq = res.Incident.LastSeq
	return f
}

// entryHTML is the markup of the entry numbered seq, up to the next
// entry or minute.
func entryHTML(t *testing.T, body string, seq uint64) string {
	t.Helper()
	marker := `data-seq="` + strconv.FormatUint(seq, 10) + `"`
	own := strings.Index(body, marker)
	require.GreaterOrEqual(t, own, 0, "entry %d is not on the page", seq)
	start := strings.LastIndex(body[:own], "<li")
	rest := body[own+len(marker):]
	end := len(rest)
	for _, next := range []string{`data-seq="`, `<li class="minute"`, `<li class="silence"`} {
		if i := strings.Index(rest, next); i >= 0 && i < end {
			end = i
		}
	}
	return body[start : own+len(marker)+end]
}

func TestIncidentPage(t *testing.T) {
	db := storagetest.Open(t)
	f := seedPageIncident(t, db)
	p := newPageSite(t, db, func() time.Time { return pageNow })
	code, body := p.get(t, p.session(t, pageViewer), "/incidents/"+strconv.FormatUint(f.n, 10))
	require.Equal(t, http.StatusOK, code, body)

	section := func(id string) string {
		t.Helper()
		i := strings.Index(body, `<section id="`+id+`"`)
		require.GreaterOrEqual(t, i, 0, "no section %s", id)
		j := strings.Index(body[i:], "</section>")
		require.Greater(t, j, 0)
		return body[i : i+j]
	}
	tests := []struct {
		name string
		in   func() string
		has  []string
		not  []string
	}{
		{"the header names the incident, its state and its roles by name", func() string { return section("summary") }, []string{
			`<h1 id="incident-title"><span class="incident-id">INC-1</span> Checkout &lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; down</h1>`,
			`<span class="badge status status-investigating">Investigating</span>`,
			`<span class="badge sev sev2">SEV2</span>`,
			`<dt>Commander</dt><dd class="role">Alice Liddell</dd>`,
			`<dt>Comms</dt><dd class="role">Carol &lt;Comms&gt;</dd>`,
			`<dt>Ops</dt><dd class="role"><span class="vacant">vacant</span></dd>`,
			`<time datetime="2026-12-02T10:00:00Z">2026-12-02 10:00 UTC</time> by Alice Liddell`,
			`<dd class="duration">10 d so far</dd>`,
			`href="https://app.slack.com/client/T0TEAM00001/C0PCHAN0001"`,
			`<a href="/incidents/1/postmortem">Post-mortem draft</a>`,
			`<p class="impact">Customers cannot pay</p>`,
		}, []string{`class="badge private"`, "Published post-mortem", "<script>"}},
		{"the timeline shows the phases, people by name and the numbers to correct by", func() string { return section("timeline-section") }, []string{
			`<ol id="timeline" class="timeline" data-incident="1" data-seq="` + strconv.FormatUint(f.lastSeq, 10) + `">`,
			`<li class="minute" data-minute="` + strconv.FormatInt(pageT0.Unix()/60+1, 10) + `">`,
			`<span class="phase">observe</span>`, `<span class="phase">orient</span>`,
			`<span class="phase">decide</span>`, `<span class="phase">act</span>`,
			`<span class="actor">U0PBOB00001</span>`, `<span class="actor">Alice Liddell</span>`,
			`Error rate at 12% &lt;img src=x onerror=alert(1)&gt;`,
			`<span class="num">#` + strconv.FormatUint(f.observe, 10) + `</span>`,
			`Carol &lt;Comms&gt; is Comms`,
		}, []string{"<img", "created", "joined", "Invited"}},
		{"a silence is marked before the minute after it", func() string { return section("timeline-section") }, []string{
			`<li class="silence" data-minute="` + strconv.FormatInt(pageT0.Unix()/60+40, 10) + `">· · · 34 min without entries · · ·</li>`,
		}, nil},
		{"the action items show their states", func() string { return section("actions") }, []string{
			`<li class="action state-overdue" id="action-1">`, `<span class="badge state state-overdue">overdue</span>`,
			`<li class="action state-done" id="action-2">`, `Closed by Carol &lt;Comms&gt;`,
			`<li class="action state-wontdo" id="action-3">`, `<span class="badge state state-wontdo">won&#39;t do</span>`,
			`Won't do: too big &lt;for now&gt;`, `Owner: <span class="vacant">nobody yet</span>`,
			`<a href="https://tickets.example.com/OPS-1" rel="noopener noreferrer">Ticket</a>`,
			`Priority: P0`, `Owner: Alice Liddell`, `Due: 2026-12-03`,
			`<span class="ticket ticket-open"><a href="https://github.example.com/acme/pay/issues/7" rel="noopener noreferrer">acme/pay#7</a> (open)</span>`,
			`<span class="ticket ticket-pending">Ticket pending</span>`,
		}, nil},
		{"the stakeholder updates, the latest first", func() string { return section("updates") }, []string{
			"We are rolling back &lt;b&gt;now&lt;/b&gt;", "Payments work again", "· Carol &lt;Comms&gt;",
		}, []string{"<b>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in()
			for _, h := range tt.has {
				require.Contains(t, got, h)
			}
			for _, n := range tt.not {
				require.NotContains(t, got, n)
			}
		})
	}

	t.Run("updates are newest first", func(t *testing.T) {
		u := section("updates")
		require.Less(t, strings.Index(u, "Payments work again"), strings.Index(u, "We are rolling back"))
	})
	t.Run("a struck entry is crossed out with who struck it and why", func(t *testing.T) {
		e := entryHTML(t, body, f.struck)
		require.Contains(t, e, `class="entry phase-observe struck"`)
		require.Contains(t, e, `<del class="text">wrong graph</del>`)
		require.Contains(t, e, `struck by Alice Liddell: that was staging`)
		require.NotContains(t, e, `class="num"`, "a struck entry is not corrected again")
	})
	t.Run("an amended entry says so and keeps its earlier text", func(t *testing.T) {
		e := entryHTML(t, body, f.amended)
		require.Contains(t, e, `class="entry phase-none"`)
		require.Contains(t, e, `<span class="text">Note: better words</span>`)
		require.Contains(t, e, `<span class="mark amended">amended</span>`)
		require.Regexp(t, `<details class="earlier"><summary>Earlier text</summary><ol><li>first words <span class="until">\(until <time[^>]*>2026-12-02 10:43 UTC</time>, amended by Alice Liddell\)`, e)
	})
	t.Run("a captured message edited since shows its text now and before", func(t *testing.T) {
		i := strings.Index(body, "Pinned: "+f.edited)
		require.GreaterOrEqual(t, i, 0, "the message as it reads now")
		e := body[i:]
		e = e[:strings.Index(e, "</li>\n")]
		require.Contains(t, e, `<span class="mark edited">edited <time datetime="2026-12-02T10:07:00Z">10:07 UTC</time></span>`)
		require.Contains(t, e, `<li>db is slow <span class="until">`)
	})
	t.Run("a captured message deleted since says so", func(t *testing.T) {
		i := strings.Index(body, "Pinned: "+f.deletedMsg)
		require.GreaterOrEqual(t, i, 0)
		e := body[i:]
		e = e[:strings.Index(e, "</li>\n")]
		require.Contains(t, e, `<span class="mark deleted">deleted <time datetime="2026-12-02T10:08:00Z">10:08 UTC</time></span>`)
	})
	t.Run("headings go down one level at a time", func(t *testing.T) {
		levels := regexp.MustCompile(`<h([1-6])[ >]`).FindAllStringSubmatch(body, -1)
		require.NotEmpty(t, levels)
		require.Equal(t, "1", levels[0][1])
		prev := 1
		for _, l := range levels {
			n, _ := strconv.Atoi(l[1])
			require.LessOrEqual(t, n, prev+1, "a heading skips a level")
			prev = n
		}
		require.Equal(t, 1, strings.Count(body, "<h1"))
	})
	t.Run("an open incident's page loads the live script", func(t *testing.T) {
		require.Contains(t, body, `<script src="/static/live.js" defer></script>`)
		require.NotContains(t, body, "<script>", "no inline script")
		require.NotContains(t, body, "style=", "no inline style")
	})
}

// TestIncidentPageAsTimelineBuildsIt: the page shows the entries
// /incident timeline shows, in its order, bookkeeping left out.
func TestIncidentPageAsTimelineBuildsIt(t *testing.T) {
	db := storagetest.Open(t)
	f := seedPageIncident(t, db)
	p := newPageSite(t, db, func() time.Time { return pageNow })
	_, body := p.get(t, p.session(t, pageViewer), "/incidents/1")
	events, err := db.Events(context.Background(), f.n, 1)
	require.NoError(t, err)
	inc, err := db.Incident(context.Background(), f.n)
	require.NoError(t, err)
	view := timeline.Build(events, inc.DeclaredAt, timeline.Options{IncludeStruck: true})
	var want []string
	for _, m := range view.Minutes {
		for _, e := range m.Events {
			want = append(want, strconv.FormatUint(e.Seq, 10))
		}
	}
	var got []string
	for _, m := range regexp.MustCompile(`<li class="entry[^"]*" data-seq="([0-9]+)">`).FindAllStringSubmatch(body, -1) {
		got = append(got, m[1])
	}
	require.Equal(t, want, got)
}

func TestIncidentPageClosed(t *testing.T) {
	db := storagetest.Open(t)
	s := declare(t, db, pageT0, pageAlice, incident.Declaration{Title: "Search slow", Severity: 3})
	s.entry(pageT0.Add(time.Minute), pageAlice, timeline.PhaseObserve, "p99 at 4 s")
	s.do(pageT0.Add(time.Hour), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Resolve("cache warmed", m)
	})
	s.do(pageT0.Add(2*time.Hour), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Close("https://wiki.example.com/pm/1", m)
	})
	p := newPageSite(t, db, func() time.Time { return pageNow })
	code, body := p.get(t, p.session(t, pageViewer), "/incidents/INC-1")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `<a href="https://wiki.example.com/pm/1" rel="noopener noreferrer">Published post-mortem</a>`)
	require.Contains(t, body, `<dd class="duration">1 h</dd>`)
	require.Contains(t, body, `<p class="resolution">cache warmed</p>`)
	require.NotContains(t, body, "live.js", "a closed incident no longer changes")
	require.NotContains(t, body, "Open the incident channel", "no channel was made")
}

// TestIncidentPageNotFound: a private incident the viewer may not see is
// answered exactly as a number nobody declared.
func TestIncidentPageNotFound(t *testing.T) {
	db := storagetest.Open(t)
	s := declare(t, db, pageT0, pageAlice, incident.Declaration{Title: "Payroll leak", Severity: 1, Private: true})
	s.do(pageT0.Add(time.Second), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MembersAdded([]string{pageAlice, pageViewer}, m)
	})
	p := newPageSite(t, db, func() time.Time { return pageNow })

	code, member := p.get(t, p.session(t, pageViewer), "/incidents/1")
	require.Equal(t, http.StatusOK, code, "a member sees it")
	require.Contains(t, member, `<span class="badge private">Private</span>`)

	outsider := p.session(t, pageOutsider)
	code, hidden := p.get(t, outsider, "/incidents/1")
	require.Equal(t, http.StatusNotFound, code)
	code, unknown := p.get(t, outsider, "/incidents/2")
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, strings.ReplaceAll(unknown, "INC-2", "INC-1"), hidden, "a hidden incident reads as one that does not exist")
	require.NotContains(t, hidden, "Payroll")

	code, body := p.get(t, outsider, "/incidents/seven")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "/incidents/7")
}

// TestEscape: the timeline's writer escapes as html/template does.
func TestEscape(t *testing.T) {
	for _, s := range []string{
		"", "plain", `<script>alert("x")</script>`, "Tom & Jerry's", "a\x00b", "é ✓ <b>", "&amp;", `"'<>&`,
	} {
		var b strings.Builder
		escape(&b, s)
		require.Equal(t, template.HTMLEscapeString(s), b.String(), "%q", s)
	}
}
