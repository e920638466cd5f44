package web

import (
	"context"
	"fmt"
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

// The people of the list's fixture. The viewer signs in; Alice declares
// most incidents and is known by name; Bob is not known to the directory.
const (
	listViewer = "U0VIEWER001"
	listAlice  = "U0ALICE0001"
	listBob    = "U0BOB000001"
	listCarol  = "U0CAROL0001"
)

// listNow is when the pages are asked for: a Wednesday, noon UTC.
var listNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// listPeople is a directory that knows some names.
type listPeople map[string]string

func (p listPeople) Name(id string) string { return p[id] }

func (p listPeople) Names(context.Context) func(string) string {
	return func(id string) string { return p[id] }
}

// listIncident says how to seed one incident.
type listIncident struct {
	title    string
	severity int
	service  string
	private  bool
	by       string // who declares it: a person, or "api:ci" for no Commander
	declared time.Time
	members  []string  // a private incident's channel members
	resolved time.Time // zero: still open
	closeURL string    // set: closed with its post-mortem published here
	impact   string
}

// listKeys numbers the seeding commands' idempotency keys across every
// store of a test binary.
var listKeys atomic.Uint64

// seedListIncident declares spec through the incident's commands, as the
// dispatcher would, and returns its number.
func seedListIncident(tb testing.TB, db *storage.DB, spec listIncident) uint64 {
	tb.Helper()
	ctx := context.Background()
	meta := func(at time.Time) incident.Meta {
		return incident.Meta{At: at, Actor: spec.by, Source: timeline.SourceCommand, Key: "seed-" + strconv.FormatUint(listKeys.Add(1), 10)}
	}
	m := meta(spec.declared)
	res, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: spec.title, Severity: spec.severity, Service: spec.service, Private: spec.private}, m)
	})
	require.NoError(tb, err, "declare %q", spec.title)
	n := res.Incident.Number
	apply := func(at time.Time, decide func(*incident.Incident, incident.Meta) (incident.Change, error)) {
		tb.Helper()
		m := meta(at)
		_, err := db.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return decide(inc, m) })
		require.NoError(tb, err, "%s: %q", incident.ID(n), spec.title)
	}
	if len(spec.members) > 0 {
		apply(spec.declared.Add(time.Second), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.MembersAdded(spec.members, m)
		})
	}
	if spec.impact != "" {
		apply(spec.declared.Add(2*time.Second), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetImpact(spec.impact, m)
		})
	}
	if spec.resolved.IsZero() {
		return n
	}
	apply(spec.resolved, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Resolve("rolled back", m)
	})
	if spec.closeURL != "" {
		apply(spec.resolved.Add(time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Close(spec.closeURL, m)
		})
	}
	return n
}

// listSite is the web UI over db with sign-in configured, its clock at
// now, serving through its own routes and middleware.
func listSite(tb testing.TB, db *storage.DB, now time.Time, people People) http.Handler {
	tb.Helper()
	site, err := New(Config{
		Store: db, People: people, Now: func() time.Time { return now },
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
	})
	require.NoError(tb, err)
	tb.Cleanup(site.Close)
	mux := http.NewServeMux()
	site.Register(mux)
	return mux
}

// listSession signs user in: a session stored as sign-in stores one, and
// the cookie that names it.
func listSession(tb testing.TB, db *storage.DB, user string, now time.Time) *http.Cookie {
	tb.Helper()
	secret := "secret-of-" + user
	require.NoError(tb, db.SaveSession(context.Background(), storage.Session{
		ID: sessionID(secret), User: user, Team: "T0TEAM00001", Name: "Viewer",
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour),
	}))
	return &http.Cookie{Name: sessionCookie, Value: secret}
}

// listGet asks h for path with cookie and returns the status and body.
func listGet(tb testing.TB, h http.Handler, cookie *http.Cookie, path string) (int, string, http.Header) {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://ooda.example.com"+path, nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body, err := io.ReadAll(w.Result().Body)
	require.NoError(tb, err)
	return w.Code, string(body), w.Result().Header
}

// listRows are the incident numbers of the rows a list page shows, in
// order.
func listRows(body string) []uint64 {
	out := []uint64{}
	for _, m := range regexp.MustCompile(`<tr data-incident="(\d+)"`).FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

// listRow is the markup of incident n's row.
func listRowOf(t *testing.T, body string, n uint64) string {
	t.Helper()
	start := strings.Index(body, fmt.Sprintf(`<tr data-incident="%d"`, n))
	require.GreaterOrEqual(t, start, 0, "no row for %s in\n%s", incident.ID(n), body)
	end := strings.Index(body[start:], "</tr>")
	require.Greater(t, end, 0)
	return body[start : start+end]
}

// listFixture seeds the list's incidents: every post-mortem state, two
// private incidents (the viewer is a member of one), open ones declared
// out of number order.
type listFixture struct {
	published, overdue, notRequired, due uint64
	hidden, shared, vacant, running      uint64
	hostile                              uint64
	db                                   *storage.DB
	h                                    http.Handler
	cookie                               *http.Cookie
}

func newListFixture(t *testing.T) listFixture {
	t.Helper()
	db := storagetest.Open(t)
	f := listFixture{db: db}
	f.published = seedListIncident(t, db, listIncident{title: "Checkout down", severity: 2, service: "checkout", by: listAlice,
		declared: listNow.Add(-10 * 24 * time.Hour), resolved: listNow.Add(-10*24*time.Hour + 2*time.Hour + 14*time.Minute), closeURL: "https://wiki.example.com/pm/1"})
	f.overdue = seedListIncident(t, db, listIncident{title: "Payments slow", severity: 1, service: "payments", by: listBob,
		declared: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), resolved: time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC)})
	f.notRequired = seedListIncident(t, db, listIncident{title: "Search degraded", severity: 3, service: "search", by: listAlice,
		declared: listNow.Add(-24 * time.Hour), resolved: listNow.Add(-23 * time.Hour)})
	f.due = seedListIncident(t, db, listIncident{title: "Login errors", severity: 2, service: "auth", by: listAlice,
		declared: listNow.Add(-6 * time.Hour), resolved: listNow.Add(-time.Hour)})
	f.hidden = seedListIncident(t, db, listIncident{title: "Payroll leak", severity: 1, service: "payroll", private: true, by: listAlice,
		declared: listNow.Add(-10 * time.Minute), members: []string{listAlice, listCarol}})
	f.shared = seedListIncident(t, db, listIncident{title: "Secret rotation", severity: 2, service: "vault", private: true, by: listAlice,
		declared: listNow.Add(-5 * time.Hour), members: []string{listAlice, listViewer}})
	f.vacant = seedListIncident(t, db, listIncident{title: "Disk filling", severity: 4, service: "Checkout", by: "api:ci",
		declared: listNow.Add(-30 * time.Minute)})
	f.running = seedListIncident(t, db, listIncident{title: "Cache warmup", severity: 3, service: "cache", by: listCarol,
		declared: listNow.Add(-2*time.Hour - 14*time.Minute)})
	f.h = listSite(t, db, listNow, listPeople{listAlice: "Alice Chen", listCarol: "Carol Diaz"})
	f.cookie = listSession(t, db, listViewer, listNow)
	return f
}

// TestListPage: the incidents page shows, open first, each incident the
// signed-in person may see and no other: not a private incident whose
// channel they are not in, which no count includes either. Each row
// says its severity, status, Commander by name, duration and
// post-mortem state.
func TestListPage(t *testing.T) {
	f := newListFixture(t)
	code, body, hd := listGet(t, f.h, f.cookie, "/")
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, ContentSecurityPolicy, hd.Get("Content-Security-Policy"))

	require.Equal(t, []uint64{f.vacant, f.running, f.shared, f.due, f.notRequired, f.overdue, f.published}, listRows(body),
		"open incidents first, newest first; then the others, most recently declared first")
	require.Contains(t, body, "Showing 1–7 of 7 incidents")
	require.NotContains(t, body, "Payroll leak")
	require.NotContains(t, body, fmt.Sprintf(`href="/incidents/%d"`, f.hidden))
	require.Contains(t, body, `<form id="filters" role="search"`)
	require.Contains(t, body, `<table id="incidents"`)
	for _, id := range []string{"filter-status", "filter-severity", "filter-service", "filter-from", "filter-to"} {
		require.Contains(t, body, `<label for="`+id+`">`, "every control is labelled")
	}
	require.NotContains(t, body, "style=", "the policy forbids inline styles")
	require.NotContains(t, body, "<script>", "the policy forbids inline scripts")

	tests := []struct {
		name string
		n    uint64
		want []string
	}{
		{"published, by name", f.published, []string{"SEV2", "status-closed", "Alice Chen", "2 h 14 min",
			`<a class="pm pm-published" href="https://wiki.example.com/pm/1" rel="noreferrer">published</a>`, `href="/incidents/1"`, "INC-1", "Checkout down"}},
		{"overdue, Commander unknown by name", f.overdue, []string{"SEV1", listBob, "3 h", `<span class="pm pm-overdue">overdue</span>`}},
		{"not required", f.notRequired, []string{"SEV3", "1 h", "not required"}},
		{"due", f.due, []string{"status-resolved", "5 h", "due Thu 3 Dec"}},
		{"private, shared with the viewer", f.shared, []string{`<span class="badge private"`, "Secret rotation", "5 h", "so far"}},
		{"no Commander", f.vacant, []string{`<span class="vacant">—</span>`, "30 min", "Checkout"}},
		{"running", f.running, []string{"Carol Diaz", "2 h 14 min", "so far", "status-investigating"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := listRowOf(t, body, tt.n)
			for _, w := range tt.want {
				require.Contains(t, row, w)
			}
			if tt.n != f.shared {
				require.NotContains(t, row, "badge private")
			}
		})
	}
	t.Run("open post-mortem is a dash", func(t *testing.T) {
		require.Regexp(t, `data-label="Post-mortem">—\s*</td>`, listRowOf(t, body, f.running))
	})
	t.Run("a member of the private incident sees it", func(t *testing.T) {
		carol := listSession(t, f.db, listCarol, listNow)
		code, body, _ := listGet(t, f.h, carol, "/")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, listRows(body), f.hidden)
		require.NotContains(t, listRows(body), f.shared)
		require.Contains(t, body, "Showing 1–7 of 7 incidents")
	})
	t.Run("signed out is sent to sign in", func(t *testing.T) {
		code, _, hd := listGet(t, f.h, nil, "/?severity=2")
		require.Equal(t, http.StatusSeeOther, code)
		require.Equal(t, "/signin?next=%2F%3Fseverity%3D2", hd.Get("Location"))
	})
}

// TestListFilters: each filter, and filters together, narrow the list to
// what the viewer may see; the count follows.
func TestListFilters(t *testing.T) {
	f := newListFixture(t)
	tests := []struct {
		query string
		want  []uint64
	}{
		{"status=open", []uint64{f.vacant, f.running, f.shared}},
		{"status=any", []uint64{f.vacant, f.running, f.shared, f.due, f.notRequired, f.overdue, f.published}},
		{"status=resolved", []uint64{f.due, f.notRequired, f.overdue}},
		{"status=closed", []uint64{f.published}},
		{"status=investigating", []uint64{f.vacant, f.running, f.shared}},
		{"status=triage", []uint64{}},
		{"severity=2", []uint64{f.shared, f.due, f.published}},
		{"severity=SEV1", []uint64{f.overdue}},
		{"service=checkout", []uint64{f.vacant, f.published}},
		{"service=+CHECKOUT+", []uint64{f.vacant, f.published}},
		{"service=payroll", []uint64{}},
		{"from=2026-12-02&to=2026-12-02", []uint64{f.vacant, f.running, f.shared, f.due}},
		{"from=2026-11-29&to=2026-12-01", []uint64{f.notRequired, f.overdue}},
		{"from=2026-12-01", []uint64{f.vacant, f.running, f.shared, f.due, f.notRequired}},
		{"to=2026-11-29", []uint64{f.overdue, f.published}},
		{"status=open&severity=4&service=checkout", []uint64{f.vacant}},
		{"status=&severity=&service=&from=&to=", []uint64{f.vacant, f.running, f.shared, f.due, f.notRequired, f.overdue, f.published}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, body, _ := listGet(t, f.h, f.cookie, "/?"+tt.query)
			require.Equal(t, http.StatusOK, code, body)
			require.Equal(t, tt.want, listRows(body))
			if len(tt.want) == 0 {
				require.Contains(t, body, "No incidents match these filters.")
				return
			}
			require.Contains(t, body, fmt.Sprintf("Showing 1–%d of %s", len(tt.want), plural(len(tt.want), "incident", "incidents")))
		})
	}
	t.Run("the form shows the filters", func(t *testing.T) {
		_, body, _ := listGet(t, f.h, f.cookie, "/?status=resolved&severity=2&service=auth&from=2026-12-01&to=2026-12-02")
		require.Contains(t, body, `<option value="resolved" selected>`)
		require.Contains(t, body, `<option value="2" selected>SEV2</option>`)
		require.Contains(t, body, `id="filter-service" name="service" type="text" value="auth"`)
		require.Contains(t, body, `value="2026-12-01"`)
		require.Contains(t, body, `value="2026-12-02"`)
	})
}

// TestListBadParameters: a parameter the page cannot read answers 400
// with the form and a sentence saying what to write instead, never 500.
func TestListBadParameters(t *testing.T) {
	f := newListFixture(t)
	tests := []struct {
		query, want string
	}{
		{"severity=9", `Severity &#34;9&#34; does not exist: choose any, or SEV1 (worst) to SEV4, as severity=2.`},
		{"severity=sev0", `Severity &#34;sev0&#34; does not exist`},
		{"status=burning", `Status &#34;burning&#34; is not one Ooda knows: choose any, open, or one of triage, investigating, identified, monitoring, resolved or closed.`},
		{"page=0", `Page &#34;0&#34; is not a page: pages are numbered from 1, as page=2.`},
		{"page=two", `Page &#34;two&#34; is not a page`},
		{"from=notadate", `From &#34;notadate&#34; is not a date: write it year-month-day, as from=2026-12-02, or leave it empty.`},
		{"to=2026-13-01", `To &#34;2026-13-01&#34; is not a date`},
		{"from=2026-12-02&to=2026-12-01", `The dates are the wrong way round: to (2026-12-01) is before from (2026-12-02).`},
		{"page=2", `There is no page 2: 7 incidents make 1 page of 25.`},
		{"severity=9&page=0", `Page &#34;0&#34; is not a page`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, body, _ := listGet(t, f.h, f.cookie, "/?"+tt.query)
			require.Equal(t, http.StatusBadRequest, code, body)
			require.Contains(t, body, `<div id="problems" class="problem" role="alert">`)
			require.Contains(t, body, tt.want)
			require.Contains(t, body, `<form id="filters" role="search"`, "the form stays, to correct")
			require.Empty(t, listRows(body))
		})
	}
}

// TestListPaging: 25 incidents a page, links to the neighbouring pages
// keep the filters, and the hidden private incident is in no count.
func TestListPaging(t *testing.T) {
	db := storagetest.Open(t)
	for i := range 60 {
		seedListIncident(t, db, listIncident{title: "Flaky " + strconv.Itoa(i), severity: 1 + i%2, by: listAlice,
			declared: listNow.Add(-time.Duration(60-i) * time.Hour), resolved: listNow.Add(-time.Duration(60-i)*time.Hour + time.Minute)})
	}
	seedListIncident(t, db, listIncident{title: "Secret", severity: 1, private: true, by: listAlice, declared: listNow.Add(-time.Hour),
		resolved: listNow.Add(-time.Minute), members: []string{listAlice}})
	h := listSite(t, db, listNow, nil)
	cookie := listSession(t, db, listViewer, listNow)

	newest := func(from, count int) []uint64 { // incidents 60, 59, …: the newest first
		out := []uint64{}
		for n := 60 - from; n > 60-from-count; n-- {
			out = append(out, uint64(n))
		}
		return out
	}
	tests := []struct {
		query      string
		rows       []uint64
		showing    string
		prev, next string
	}{
		{"", newest(0, 25), "Showing 1–25 of 60 incidents", "", "/?page=2"},
		{"?page=2", newest(25, 25), "Showing 26–50 of 60 incidents", "/", "/?page=3"},
		{"?page=3", newest(50, 10), "Showing 51–60 of 60 incidents", "/?page=2", ""},
		{"?severity=1&page=2", []uint64{9, 7, 5, 3, 1}, "Showing 26–30 of 30 incidents that match", "/?severity=1", ""},
		{"?severity=2&status=resolved", nil, "Showing 1–25 of 30 incidents that match", "", "/?page=2&amp;severity=2&amp;status=resolved"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, body, _ := listGet(t, h, cookie, "/"+strings.TrimPrefix(tt.query, "/"))
			require.Equal(t, http.StatusOK, code, body)
			if tt.rows != nil {
				require.Equal(t, tt.rows, listRows(body))
			}
			require.Contains(t, body, tt.showing)
			require.Contains(t, body, `<nav aria-label="Pages"`)
			if tt.prev != "" {
				require.Contains(t, body, `<a href="`+tt.prev+`" rel="prev">`)
			} else {
				require.NotContains(t, body, `rel="prev"`)
			}
			if tt.next != "" {
				require.Contains(t, body, `<a href="`+tt.next+`" rel="next">`)
			} else {
				require.NotContains(t, body, `rel="next"`)
			}
		})
	}
	t.Run("one page has no page links", func(t *testing.T) {
		_, body, _ := listGet(t, h, cookie, "/?from=2026-12-02")
		require.NotContains(t, body, `aria-label="Pages"`)
	})
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "under a minute"},
		{59 * time.Second, "under a minute"},
		{45 * time.Minute, "45 min"},
		{2*time.Hour + 14*time.Minute, "2 h 14 min"},
		{23*time.Hour + 59*time.Minute, "23 h 59 min"},
		{3 * time.Hour, "3 h"},
		{24 * time.Hour, "1 d"},
		{3*24*time.Hour + 4*time.Hour + 59*time.Minute, "3 d 4 h"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, humanDuration(tt.d))
		})
	}
}

// TestPostmortemState: where a post-mortem stands, for each kind of
// incident the list shows.
func TestPostmortemState(t *testing.T) {
	resolved := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC) // a Friday: due Monday 09:00
	tests := []struct {
		name       string
		inc        incident.Incident
		now        time.Time
		state, cls string
	}{
		{"open", incident.Incident{Status: incident.StatusInvestigating, Severity: 1}, resolved, "", "none"},
		{"not required", incident.Incident{Status: incident.StatusResolved, Severity: 3, ResolvedAt: resolved}, resolved, "not required", "not-required"},
		{"customer-impacting SEV4 is due", incident.Incident{Status: incident.StatusResolved, Severity: 4, CustomerImpacting: true, ResolvedAt: resolved}, resolved, "due Mon 7 Dec", "due"},
		{"due until the hour", incident.Incident{Status: incident.StatusResolved, Severity: 2, ResolvedAt: resolved}, time.Date(2026, 12, 7, 8, 59, 0, 0, time.UTC), "due Mon 7 Dec", "due"},
		{"overdue from the hour", incident.Incident{Status: incident.StatusResolved, Severity: 2, ResolvedAt: resolved}, roles.PostmortemDueAt(resolved), "overdue", "overdue"},
		{"published", incident.Incident{Status: incident.StatusClosed, Severity: 1, ResolvedAt: resolved, PostmortemURL: "https://wiki/pm"}, resolved, "published", "published"},
		{"closed without a link", incident.Incident{Status: incident.StatusClosed, Severity: 1, ResolvedAt: resolved}, resolved, "published", "published"},
		{"closed SEV3 with a link", incident.Incident{Status: incident.StatusClosed, Severity: 3, ResolvedAt: resolved, PostmortemURL: "https://wiki/pm"}, resolved, "published", "published"},
		{"closed SEV3 without one", incident.Incident{Status: incident.StatusClosed, Severity: 3, ResolvedAt: resolved}, resolved, "not required", "not-required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, cls, _ := postmortemState(&tt.inc, tt.now)
			require.Equal(t, tt.state, state)
			require.Equal(t, tt.cls, cls)
		})
	}

	// Only a web address is linked, as the incident page links it.
	for _, tt := range []struct{ url, link string }{
		{"https://wiki.example.com/pm/1", "https://wiki.example.com/pm/1"},
		{"javascript:alert(1)", ""},
		{"data:text/html,<script>alert(1)</script>", ""},
		{"//evil.example/pm", ""},
		{"https://user:pw@wiki.example.com/pm", ""},
		{"wiki.example.com/pm", ""},
	} {
		inc := incident.Incident{Status: incident.StatusClosed, Severity: 1, ResolvedAt: resolved, PostmortemURL: tt.url}
		state, _, link := postmortemState(&inc, resolved)
		require.Equal(t, "published", state, tt.url)
		require.Equal(t, tt.link, link, tt.url)
	}
}

// TestStyleSheet: the site's style sheet is served from the binary, and
// holds what the pages rely on: tables that become cards on a phone,
// visible focus, every severity's badge.
func TestStyleSheet(t *testing.T) {
	db := storagetest.Open(t)
	h := listSite(t, db, listNow, nil)
	code, css, hd := listGet(t, h, nil, "/static/ooda.css")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "text/css; charset=utf-8", hd.Get("Content-Type"))
	for _, want := range []string{
		"@media (max-width: 700px)", "content: attr(data-label)", ":focus-visible",
		".badge.sev1", ".badge.sev2", ".badge.sev3", ".badge.sev4", ".badge.private",
		"#filters", "#findings", "table.cards",
	} {
		require.Contains(t, css, want)
	}
	require.NotContains(t, css, "url(", "nothing is loaded from elsewhere")
	require.NotContains(t, css, "@import")
}
