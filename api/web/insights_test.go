package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/insights"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// insightsFixture is the list's fixture with more history for the
// insights: a handover, a mitigation and action items.
func insightsFixture(t *testing.T) listFixture {
	t.Helper()
	f := newListFixture(t)
	ctx := context.Background()
	apply := func(n uint64, at time.Time, decide func(*incident.Incident, incident.Meta) (incident.Change, error)) {
		t.Helper()
		m := incident.Meta{At: at, Actor: listAlice, Source: timeline.SourceCommand, Key: "insights-" + strconv.FormatUint(listKeys.Add(1), 10)}
		_, err := f.db.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return decide(inc, m) })
		require.NoError(t, err)
	}
	apply(f.running, listNow.Add(-2*time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AssignRole(roles.Ops, listBob, m)
	})
	apply(f.running, listNow.Add(-time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetStatus(incident.StatusMonitoring, m)
	})
	apply(f.running, listNow.Add(-50*time.Minute), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddAction("Warm the cache before the deploy", listCarol, "", m)
	})
	apply(f.running, listNow.Add(-40*time.Minute), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddAction("Alert on a cold cache", listBob, "", m)
	})
	apply(f.running, listNow.Add(-30*time.Minute), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(1, m)
	})
	apply(f.shared, listNow.Add(-4*time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddAction("Rotate the secret again", listViewer, "", m)
	})
	return f
}

// insightsExpected is what insights.Compute says over db for user ("" for
// everyone) over the default range at now.
func insightsExpected(t *testing.T, db *storage.DB, user string, now time.Time) insights.Report {
	t.Helper()
	ctx := context.Background()
	from, to, err := insights.ParseRange("", "", now)
	require.NoError(t, err)
	all, err := db.Incidents(ctx, true)
	require.NoError(t, err)
	in := insights.Input{Incidents: all, Events: map[uint64][]timeline.Event{}, From: from, To: to, Now: now}
	for _, inc := range all {
		evs, err := db.Events(ctx, inc.Number, 1)
		require.NoError(t, err)
		in.Events[inc.Number] = evs
	}
	if user != "" {
		in.May = func(inc incident.Incident) bool { return inc.Admits(user) }
	}
	return insights.Compute(in)
}

// pageFigures are the raw figures the page carries in data attributes.
type pageFigures struct {
	incidents int
	weeks     map[string]int    // ISO week → total
	durations map[string]string // measure → "count median p90"
	figures   map[string]int    // postmortems_required … actions_wont_do
	load      map[string]string // user → hours
}

func readFigures(t *testing.T, body string) pageFigures {
	t.Helper()
	var p pageFigures
	m := regexp.MustCompile(`<div id="insights"[^>]* data-incidents="(\d+)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "the page carries its incident count:\n%s", body)
	p.incidents, _ = strconv.Atoi(m[1])

	weekly := section(t, body, `<table id="weekly-severity"`, "</table>")
	p.weeks = map[string]int{}
	for _, m := range regexp.MustCompile(`<tr data-week="([^"]+)" data-start="[^"]+" data-total="(\d+)"`).FindAllStringSubmatch(weekly, -1) {
		p.weeks[m[1]], _ = strconv.Atoi(m[2])
	}
	p.durations = map[string]string{}
	for _, m := range regexp.MustCompile(`<tr data-measure="([a-z_]+)" data-count="(\d+)" data-median-seconds="(\d*)" data-p90-seconds="(\d*)"`).FindAllStringSubmatch(body, -1) {
		p.durations[m[1]] = m[2] + " " + m[3] + " " + m[4]
	}
	p.figures = map[string]int{}
	for _, m := range regexp.MustCompile(`<tr data-figure="([a-z_]+)" data-count="(\d+)"`).FindAllStringSubmatch(body, -1) {
		p.figures[m[1]], _ = strconv.Atoi(m[2])
	}
	p.load = map[string]string{}
	for _, m := range regexp.MustCompile(`<tr data-user="([^"]+)"[^>]* data-hours="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		p.load[m[1]] = m[2]
	}
	return p
}

// section is body from the first start to the end after it.
func section(t *testing.T, body, start, end string) string {
	t.Helper()
	i := strings.Index(body, start)
	require.GreaterOrEqual(t, i, 0, "no %s in\n%s", start, body)
	j := strings.Index(body[i:], end)
	require.Greater(t, j, 0)
	return body[i : i+j]
}

// figuresOf is what the page should carry for rep.
func figuresOf(rep insights.Report) pageFigures {
	p := pageFigures{incidents: rep.Incidents, weeks: map[string]int{}, durations: map[string]string{}, figures: map[string]int{}, load: map[string]string{}}
	for _, w := range rep.Weekly.Weeks {
		p.weeks[w.ISOWeek] = w.Total
	}
	sec := func(s *int64) string {
		if s == nil {
			return ""
		}
		return strconv.FormatInt(*s, 10)
	}
	for _, d := range rep.Durations {
		p.durations[d.Name] = fmt.Sprintf("%d %s %s", d.Count, sec(d.MedianSeconds), sec(d.P90Seconds))
	}
	pm, a := rep.Postmortems, rep.Actions
	for name, n := range map[string]int{
		"postmortems_required": pm.Required, "postmortems_published": pm.Published, "postmortems_overdue": pm.Overdue,
		"actions_total": a.Total, "actions_open": a.Open, "actions_overdue": a.Overdue, "actions_done": a.Done,
		"actions_done_on_time": a.DoneOnTime, "actions_done_late": a.DoneLate, "actions_done_without_due": a.DoneUndated, "actions_wont_do": a.WontDo,
	} {
		p.figures[name] = n
	}
	for _, l := range rep.Load.People {
		p.load[l.User] = strconv.FormatFloat(l.Hours, 'g', -1, 64)
	}
	return p
}

// TestInsightsPage: the page's figures are insights.Compute's over the
// incidents the viewer may see, and GET /api/v1/insights's for a token
// with the private scope when the viewer may see everything.
func TestInsightsPage(t *testing.T) {
	f := insightsFixture(t)

	t.Run("the viewer's figures are Compute's under the access rule", func(t *testing.T) {
		code, body, hd := listGet(t, f.h, f.cookie, "/insights")
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, ContentSecurityPolicy, hd.Get("Content-Security-Policy"))
		want := insightsExpected(t, f.db, listViewer, listNow)
		require.Equal(t, figuresOf(want), readFigures(t, body))
		require.Len(t, want.Weekly.Weeks, 14, "90 days from Thursday 4 Sep to Wednesday 2 Dec touch 14 ISO weeks")
		require.Equal(t, 7, want.Incidents, "the private incident the viewer is not in is left out")
		require.Equal(t, 3, want.Actions.Total)
		require.Equal(t, 1, want.Postmortems.Overdue)
		require.NotEmpty(t, want.Load.People)

		require.Contains(t, body, `data-from="2026-09-04" data-to="2026-12-02"`, "the last 90 days, today included")
		require.Contains(t, body, `<input id="insights-from" name="from" type="date" value="2026-09-04">`)
		require.Contains(t, body, "Figures as of <time datetime=\"2026-12-02T12:00:00Z\">12:00 UTC</time>")
		require.Contains(t, body, fmt.Sprintf(`<a href="/incidents/%d" data-incident="%d">%s</a>`, f.overdue, f.overdue, incident.ID(f.overdue)),
			"an overdue post-mortem links its incident")
		require.Contains(t, body, "<th scope=\"row\">Carol Diaz</th>", "the load names people by name")
		require.Contains(t, body, "<th scope=\"row\">"+listBob+"</th>", "and by member ID when the name is unknown")
		for _, def := range []string{insights.DefineRange, insights.DefineWeekly, insights.DefinePercentile, insights.DefineTimeToResolve,
			insights.DefinePostmortems, insights.DefineActions, insights.DefineLoad} {
			require.Contains(t, body, template.HTMLEscapeString(def), "every definition is printed")
		}
		require.NotContains(t, body, "payroll", "a service only a hidden incident has is no column")
		require.NotContains(t, body, "Payroll leak")
	})

	t.Run("a member of every incident sees the API's private-scope answer", func(t *testing.T) {
		alice := listSession(t, f.db, listAlice, listNow) // in both private channels
		code, body, _ := listGet(t, f.h, alice, "/insights")
		require.Equal(t, http.StatusOK, code, body)
		all := insightsExpected(t, f.db, "", listNow)
		require.Equal(t, 8, all.Incidents)
		got := readFigures(t, body)
		require.Equal(t, figuresOf(all), got)

		srv, err := api.NewServer(api.ServerConfig{
			Store: f.db, Now: func() time.Time { return listNow },
			APITokens: map[string]api.Token{"token-with-private-00000": {Name: "security", Scopes: []api.Scope{api.ScopeRead, api.ScopePrivate}}},
		})
		require.NoError(t, err)
		r := httptest.NewRequest(http.MethodGet, "/api/v1/insights", nil)
		r.Header.Set("Authorization", "Bearer token-with-private-00000")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var answer api.InsightsAnswer
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &answer))
		fromAPI := figuresOf(answer.Report)
		require.Equal(t, fromAPI.weeks, got.weeks, "weekly totals")
		require.Equal(t, fromAPI.durations, got.durations, "durations")
		require.Equal(t, fromAPI, got, "every figure")
		require.Contains(t, body, "payroll", "the member sees the private incident's service")
	})

	t.Run("charts are inline SVG with no inline style", func(t *testing.T) {
		_, body, _ := listGet(t, f.h, f.cookie, "/insights")
		for _, id := range []string{"weekly-severity-chart", "weekly-service-chart"} {
			fig := section(t, body, `<figure id="`+id+`"`, "</figure>")
			require.Contains(t, fig, `<svg xmlns="http://www.w3.org/2000/svg"`)
			require.Contains(t, fig, `role="img"`)
			require.Contains(t, fig, "<title>")
		}
		require.Contains(t, section(t, body, `<figure id="weekly-severity-chart"`, "</figure>"), "Incidents per week by severity")
		// font-style= is a presentation attribute, which the policy allows.
		require.False(t, regexp.MustCompile(`\sstyle=`).MatchString(body), "the policy forbids inline styles")
		require.False(t, strings.Contains(body, "<style"), "the policy forbids style elements")
		require.False(t, strings.Contains(body, "<script>"), "the policy forbids inline scripts")
	})

	t.Run("accessible structure", func(t *testing.T) {
		_, body, _ := listGet(t, f.h, f.cookie, "/insights")
		require.Equal(t, 1, strings.Count(body, "<h1"), "one h1")
		for _, s := range []string{"weekly", "durations", "postmortems", "actions", "load"} {
			sec := section(t, body, `<section id="insights-`+s+`" aria-labelledby="insights-`+s+`-h">`, "</section>")
			require.Contains(t, sec, `<h2 id="insights-`+s+`-h">`, "section %s has its heading", s)
			require.Contains(t, sec, `<p class="definition">`, "section %s has its definition", s)
			require.Contains(t, sec, `<a class="csv" href="/insights.csv?`, "section %s offers its CSV", s)
		}
		for _, id := range []string{"insights-from", "insights-to"} {
			require.Contains(t, body, `<label for="`+id+`">`, "every input is labelled")
		}
		for _, table := range []string{"weekly-severity", "weekly-service", "durations", "postmortem-figures", "action-figures", "load"} {
			tb := section(t, body, `<table id="`+table+`"`, "</table>")
			require.Contains(t, tb, "<caption", "table %s has a caption", table)
			require.Contains(t, tb, `<th scope="col">`, "table %s has column headers", table)
			require.Contains(t, tb, `<th scope="row">`, "table %s has row headers", table)
		}
		require.Contains(t, body, `<nav aria-label="Site" class="site-nav">`)
		require.Contains(t, body, `<a href="/insights" aria-current="page">Insights</a>`)
	})

	t.Run("a range of its own", func(t *testing.T) {
		code, body, _ := listGet(t, f.h, f.cookie, "/insights?from=2026-11-30&to=2026-12-02")
		require.Equal(t, http.StatusOK, code, body)
		// Declared from Monday 30 Nov: due (1 Dec), notRequired (1 Dec),
		// shared, vacant, running (2 Dec), and the overdue one (29 Nov) not.
		require.Contains(t, body, `data-from="2026-11-30" data-to="2026-12-02" data-incidents="5"`)
		require.Contains(t, body, `href="/insights.csv?from=2026-11-30&amp;table=weekly&amp;to=2026-12-02"`)
	})
}

// TestInsightsPageBadRange: a range the page cannot read is a 400 with
// the API's sentence, the form kept.
func TestInsightsPageBadRange(t *testing.T) {
	f := newListFixture(t)
	tests := []struct {
		name, query, sentence string
		from, to              string // the inputs' values
	}{
		{"from not a day", "from=2026-13-01&to=2026-12-01", `from "2026-13-01" is not a day; write it as 2026-09-03 (the first day counted, in UTC)`, "", "2026-12-01"},
		{"to not a day", "to=yesterday", `to "yesterday" is not a day; write it as 2026-12-02 (the last day counted, in UTC)`, "", ""},
		{"wrong way round", "from=2026-12-01&to=2026-11-01", "from 2026-12-01 is after to 2026-11-01; give the earlier day as from", "2026-12-01", "2026-11-01"},
		{"too long", "from=2020-01-01&to=2026-12-01", "2020-01-01 to 2026-12-01 is 2527 days; ask for at most three years (1096 days) at a time", "2020-01-01", "2026-12-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := listGet(t, f.h, f.cookie, "/insights?"+tt.query)
			require.Equal(t, http.StatusBadRequest, code)
			require.Contains(t, body, `<div id="problems" class="problem" role="alert">`)
			require.Contains(t, body, template.HTMLEscapeString(tt.sentence))
			require.Contains(t, body, `<input id="insights-from" name="from" type="date" value="`+tt.from+`">`)
			require.Contains(t, body, `<input id="insights-to" name="to" type="date" value="`+tt.to+`">`)
			require.NotContains(t, body, `<div id="insights"`)

			_, _, err := insights.ParseRange(queryValue(tt.query, "from"), queryValue(tt.query, "to"), listNow)
			require.EqualError(t, err, tt.sentence, "the API's sentence")
		})
	}
}

func queryValue(q, key string) string {
	for _, kv := range strings.Split(q, "&") {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// TestInsightsCSV: each table downloads as insights.CSV writes it, under
// the same access rule, as an attachment.
func TestInsightsCSV(t *testing.T) {
	f := insightsFixture(t)
	want := insightsExpected(t, f.db, listViewer, listNow)
	heads := map[string]string{
		insights.TableWeekly:    "week_start,iso_week,total,SEV1,SEV2,SEV3,SEV4,service:Checkout,service:auth,service:cache,service:checkout,service:payments,service:search,service:vault",
		insights.TableDurations: "measure,title,count,median_seconds,p90_seconds,median,p90",
		insights.TableLoad:      "user,zone,commander_hours,comms_hours,ops_hours,total_hours,outside_hours,outside_share",
		insights.TableActions:   "figure,count",
	}
	for _, table := range insights.Tables {
		t.Run(table, func(t *testing.T) {
			code, body, hd := listGet(t, f.h, f.cookie, "/insights.csv?table="+table+"&from=2026-09-04&to=2026-12-02")
			require.Equal(t, http.StatusOK, code, body)
			require.Equal(t, "text/csv; charset=utf-8", hd.Get("Content-Type"))
			require.Equal(t, `attachment; filename="ooda-insights-`+table+`-2026-09-04-2026-12-02.csv"`, hd.Get("Content-Disposition"))
			first, _, _ := strings.Cut(body, "\n")
			require.Equal(t, heads[table], first)
			b, err := insights.CSV(want, table)
			require.NoError(t, err)
			require.Equal(t, string(b), body)
			require.NotContains(t, body, "payroll")
		})
	}
	t.Run("the page links each", func(t *testing.T) {
		_, body, _ := listGet(t, f.h, f.cookie, "/insights")
		for _, table := range insights.Tables {
			require.Contains(t, body, `href="/insights.csv?from=2026-09-04&amp;table=`+table+`&amp;to=2026-12-02"`)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		code, body, _ := listGet(t, f.h, f.cookie, "/insights.csv?table=people")
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, body, template.HTMLEscapeString(`table "people" does not exist; use weekly, durations, load, actions.`))
		code, body, _ = listGet(t, f.h, f.cookie, "/insights.csv?table=weekly&from=2026-12-03&to=2026-12-01")
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, body, "from 2026-12-03 is after to 2026-12-01; give the earlier day as from")
		code, _, hd := listGet(t, f.h, nil, "/insights.csv?table=weekly")
		require.Equal(t, http.StatusSeeOther, code, "signed out: to sign-in")
		require.NotContains(t, hd.Get("Content-Type"), "csv")
	})
}

// TestInsightsCache: a report is shown again to the same person for the
// same range for a minute, then computed again; another person gets
// their own.
func TestInsightsCache(t *testing.T) {
	db := storagetest.Open(t)
	var clock atomic.Int64
	clock.Store(listNow.UnixNano())
	site, err := New(Config{
		Store: db, Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() },
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
	})
	require.NoError(t, err)
	t.Cleanup(site.Close)
	mux := http.NewServeMux()
	site.Register(mux)
	cookie := listSession(t, db, listViewer, listNow.Add(time.Hour))
	count := func(c *http.Cookie) string {
		t.Helper()
		code, body, _ := listGet(t, mux, c, "/insights")
		require.Equal(t, http.StatusOK, code, body)
		return regexp.MustCompile(`data-incidents="(\d+)"`).FindStringSubmatch(body)[1]
	}
	seedListIncident(t, db, listIncident{title: "One", severity: 2, by: listAlice, declared: listNow.Add(-time.Hour)})
	require.Equal(t, "1", count(cookie))
	seedListIncident(t, db, listIncident{title: "Two", severity: 2, by: listAlice, declared: listNow.Add(-time.Hour)})
	clock.Add(int64(59 * time.Second))
	require.Equal(t, "1", count(cookie), "within the minute: the same figures")
	other := listSession(t, db, listCarol, listNow.Add(time.Hour))
	require.Equal(t, "2", count(other), "another person's report is their own")
	clock.Add(int64(2 * time.Second))
	require.Equal(t, "2", count(cookie), "after the minute: computed again")
}

// BenchmarkInsightsPage renders the insights page over 2,000 incidents
// declared over the last 90 days (every 20th open, every 10th private and
// the viewer a member of none), as a signed-in person asks for it:
// computed reads the event log of each incident in the range (the cache
// emptied before each), cached shows the report computed within the
// minute.
func BenchmarkInsightsPage(b *testing.B) {
	const n = 2_000
	db := storagetest.Open(b)
	ctx := context.Background()
	start := listNow.Add(-89 * 24 * time.Hour)
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range jobs {
				errs <- seedBenchIncident(ctx, db, i, start.Add(time.Duration(i)*time.Hour))
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(b, err)
	}
	site, err := New(Config{
		Store: db, People: listPeople{listAlice: "Alice Chen"}, Now: func() time.Time { return listNow },
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
	})
	require.NoError(b, err)
	b.Cleanup(site.Close)
	mux := http.NewServeMux()
	site.Register(mux)
	cookie := listSession(b, db, listViewer, listNow)
	get := func() string {
		r := httptest.NewRequest(http.MethodGet, "https://ooda.example.com/insights", nil)
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		body, _ := io.ReadAll(w.Result().Body)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, body)
		}
		return string(body)
	}
	require.Contains(b, get(), `data-incidents="1800"`, "the viewer sees the public 1,800")
	b.Run("computed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			site.insights.mu.Lock()
			site.insights.reports = nil
			site.insights.mu.Unlock()
			get()
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get()
		}
	})
}
