package app_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/api/web/webtest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/insights"
	"github.com/ooda-sre/ooda/roles"
)

// webCarolUser is Carol, of the bot's workspace, who is in neither of the
// seeded private incidents: she may see exactly the public incidents.
func webCarolUser() webtest.User {
	return webtest.User{ID: webCarol, Team: webTeam, Name: "Carol Danvers", Email: "carol@example.com"}
}

// pageInsights is what the insights page shows, read from its data
// attributes as they are written (numbers as text, parsed in Go).
type pageInsights struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Incidents string `json:"incidents"`
	Now       string `json:"now"`
	// Severities and Services are the weekly tables' columns, in order.
	Severities []string `json:"severities"`
	Services   []string `json:"services"`
	Weeks      []struct {
		Week       string            `json:"week"`
		Start      string            `json:"start"`
		Total      string            `json:"total"`
		BySeverity map[string]string `json:"bySeverity"`
		// ServiceWeek and ServiceTotal are the service table's row.
		ServiceWeek  string            `json:"serviceWeek"`
		ServiceTotal string            `json:"serviceTotal"`
		ByService    map[string]string `json:"byService"`
	} `json:"weeks"`
	Durations []struct {
		Name   string `json:"name"`
		Count  string `json:"count"`
		Median string `json:"median"`
		P90    string `json:"p90"`
	} `json:"durations"`
	Postmortems map[string]string `json:"postmortems"`
	Overdue     []string          `json:"overdue"`
	Actions     map[string]string `json:"actions"`
	Load        []struct {
		User      string `json:"user"`
		Commander string `json:"commander"`
		Comms     string `json:"comms"`
		Ops       string `json:"ops"`
		Hours     string `json:"hours"`
		Outside   string `json:"outside"`
		Share     string `json:"share"`
	} `json:"load"`
	// Charts counts the inline SVG charts by figure id.
	Charts map[string]int `json:"charts"`
}

// readInsightsJS reads the insights page into a pageInsights.
const readInsightsJS = `(() => {
	const root = document.querySelector("#insights");
	const all = (sel, from) => [...(from || document).querySelectorAll(sel)];
	const cells = (row, attr) => Object.fromEntries(all("td[data-" + attr + "]", row).map(td => [td.getAttribute("data-" + attr), td.dataset.count]));
	const sevRows = all("#weekly-severity tbody tr[data-week]"), svcRows = all("#weekly-service tbody tr[data-week]");
	const figures = sel => Object.fromEntries(all(sel + " tr[data-figure]").map(tr => [tr.dataset.figure, tr.dataset.count]));
	return {
		from: root.dataset.from, to: root.dataset.to, incidents: root.dataset.incidents, now: root.dataset.now,
		severities: sevRows.length ? all("td[data-severity]", sevRows[0]).map(td => td.dataset.severity) : [],
		services: svcRows.length ? all("td[data-service]", svcRows[0]).map(td => td.dataset.service) : [],
		weeks: sevRows.map((tr, i) => ({
			week: tr.dataset.week, start: tr.dataset.start, total: tr.dataset.total, bySeverity: cells(tr, "severity"),
			serviceWeek: svcRows[i]?.dataset.week || "", serviceTotal: svcRows[i]?.dataset.total || "",
			byService: svcRows[i] ? cells(svcRows[i], "service") : {},
		})),
		durations: all("#durations tr[data-measure]").map(tr => ({
			name: tr.dataset.measure, count: tr.dataset.count, median: tr.dataset.medianSeconds, p90: tr.dataset.p90Seconds,
		})),
		postmortems: figures("#postmortem-figures"),
		overdue: all("#overdue-postmortems a[data-incident]").map(a => a.textContent.trim()),
		actions: figures("#action-figures"),
		load: all("#load tr[data-user]").map(tr => ({
			user: tr.dataset.user, commander: tr.dataset.commanderHours, comms: tr.dataset.commsHours, ops: tr.dataset.opsHours,
			hours: tr.dataset.hours, outside: tr.dataset.outsideHours, share: tr.dataset.outsideShare,
		})),
		charts: Object.fromEntries(all("figure.chart[id]").map(f => [f.id, all('svg[role="img"]', f).length])),
	};
})()`

// testInsights: the insights page's figures are those of GET
// /api/v1/insights for the same days and the same incidents, its charts
// are inline SVG, and the access rule applies to it.
//
// Which incidents: the page counts those its viewer may see, the API
// those its token may see. Carol is in neither seeded private incident,
// so she may see exactly the public ones, as may a token without the
// private scope: her page and the "reader" token's answer are over the
// same incidents, and every figure must be equal. (Alice is in one
// private incident: her page counts it, which no token's answer does
// alone; her count is checked against both tokens' instead.)
//
// When: the responder load of a role still held grows with the clock,
// and the page and the API each read their own. The API is asked just
// before the page is computed and just after, so each of the page's
// hours lies between the two answers' (and the page says it was computed
// between them); everything else must be equal to both answers, which
// must be equal to each other.
func (r *webRig) testInsights(t *testing.T, browser context.Context) {
	ctx := t.Context()
	for _, n := range []uint64{r.privateMine, r.privateOther} {
		inc, err := r.db.Incident(ctx, n)
		require.NoError(t, err)
		require.False(t, inc.Admits(webCarol), "Carol is not in %s: she sees the public incidents only", inc.ID)
	}

	tb := newTab(t, browser, r)
	tb.signInAs(webCarolUser())
	// The days: the default range, ending today (UTC). Asked for by name,
	// so the page and the API cannot disagree about them at midnight.
	now := time.Now().UTC()
	days := url.Values{
		"from": {now.AddDate(0, 0, -(insights.DefaultDays - 1)).Format(time.DateOnly)},
		"to":   {now.Format(time.DateOnly)},
	}.Encode()

	var before, after api.InsightsAnswer
	r.apiGet(t, r.readToken, "/api/v1/insights?"+days, &before)
	mark := tb.mark()
	require.Equal(t, int64(http.StatusOK), tb.open("/insights?"+days))
	tb.screenshot("", webWidths[0])
	page := eval[pageInsights](tb, readInsightsJS)
	r.apiGet(t, r.readToken, "/api/v1/insights?"+days, &after)
	require.Empty(t, tb.problemsSince(mark), "errors in the browser on the insights page")

	// The answers differ in their clock and the hours of roles still
	// held, and in nothing else.
	stable := func(a api.InsightsAnswer) api.InsightsAnswer {
		a.Now, a.Load.People = time.Time{}, nil
		return a
	}
	require.Equal(t, stable(before), stable(after), "nothing but the clock moved between the two answers")
	rep := before.Report
	require.Equal(t, 3, rep.Incidents, "the reader sees the three public incidents")

	// The range, its count and when it was computed.
	require.Equal(t, rep.From.Format(time.DateOnly), page.From, "the first day")
	require.Equal(t, rep.To.AddDate(0, 0, -1).Format(time.DateOnly), page.To, "the last day")
	require.Equal(t, strconv.Itoa(rep.Incidents), page.Incidents, "incidents in the range")
	pageNow, err := time.Parse(time.RFC3339, page.Now)
	require.NoError(t, err, "data-now %q", page.Now)
	require.False(t, pageNow.Before(before.Now.Truncate(time.Second)) || pageNow.After(after.Now),
		"the page was computed (%s) between the two answers (%s, %s): a cached report would not be comparable", pageNow, before.Now, after.Now)

	// Incidents per week, by severity and by service.
	require.Equal(t, rep.Weekly.Severities, page.Severities, "the severity columns")
	require.Equal(t, rep.Weekly.Services, page.Services, "the service columns")
	require.Len(t, page.Weeks, len(rep.Weekly.Weeks), "one row per week")
	sum := 0
	for i, w := range rep.Weekly.Weeks {
		got := page.Weeks[i]
		require.Equal(t, w.ISOWeek, got.Week, "week %d", i)
		require.Equal(t, w.Start.Format(time.DateOnly), got.Start, w.ISOWeek)
		require.Equal(t, strconv.Itoa(w.Total), got.Total, "%s total", w.ISOWeek)
		require.Equal(t, w.ISOWeek, got.ServiceWeek, "the service table's row %d", i)
		require.Equal(t, strconv.Itoa(w.Total), got.ServiceTotal, "%s total (services)", w.ISOWeek)
		require.Equal(t, counts(rep.Weekly.Severities, w.BySeverity), got.BySeverity, "%s by severity", w.ISOWeek)
		require.Equal(t, counts(rep.Weekly.Services, w.ByService), got.ByService, "%s by service", w.ISOWeek)
		sum += w.Total
	}
	require.Equal(t, rep.Incidents, sum, "the weeks count every incident once")

	// Durations.
	require.Len(t, page.Durations, len(rep.Durations), "one row per measure")
	measured := 0
	for i, d := range rep.Durations {
		got := page.Durations[i]
		require.Equal(t, d.Name, got.Name, "measure %d", i)
		require.Equal(t, strconv.Itoa(d.Count), got.Count, "%s count", d.Name)
		require.Equal(t, seconds(d.MedianSeconds), got.Median, "%s median (s)", d.Name)
		require.Equal(t, seconds(d.P90Seconds), got.P90, "%s 90th percentile (s)", d.Name)
		measured += d.Count
	}
	require.Positive(t, measured, "some duration was measured: the comparison is not of empty rows only")

	// Post-mortems and action items.
	pm := rep.Postmortems
	require.Equal(t, map[string]string{
		"postmortems_required": strconv.Itoa(pm.Required), "postmortems_published": strconv.Itoa(pm.Published),
		"postmortems_overdue": strconv.Itoa(pm.Overdue),
	}, page.Postmortems, "the post-mortem figures")
	require.Equal(t, pm.OverdueIncidents, orEmpty(page.Overdue), "the overdue post-mortems named")
	ac := rep.Actions
	require.Equal(t, map[string]string{
		"actions_total": strconv.Itoa(ac.Total), "actions_open": strconv.Itoa(ac.Open), "actions_overdue": strconv.Itoa(ac.Overdue),
		"actions_done": strconv.Itoa(ac.Done), "actions_done_on_time": strconv.Itoa(ac.DoneOnTime), "actions_done_late": strconv.Itoa(ac.DoneLate),
		"actions_done_without_due": strconv.Itoa(ac.DoneUndated), "actions_wont_do": strconv.Itoa(ac.WontDo),
	}, page.Actions, "the action item figures")
	require.Equal(t, 2, ac.Total, "the two public incidents' action items")

	// Responder load: the same people, each of whose hours lies between
	// the two answers'.
	people := func(ps []insights.PersonLoad) map[string]insights.PersonLoad {
		m := map[string]insights.PersonLoad{}
		for _, p := range ps {
			m[p.User] = p
		}
		return m
	}
	lo, hi := people(before.Load.People), people(after.Load.People)
	require.Len(t, page.Load, len(lo), "one row per person who held a role")
	require.NotEmpty(t, page.Load, "people held roles")
	prev := -1.0
	for _, row := range page.Load {
		a, ok := lo[row.User]
		require.True(t, ok, "%s holds a role in the API's answer", row.User)
		b, ok := hi[row.User]
		require.True(t, ok, "%s holds a role in the later answer", row.User)
		between := func(what, got string, x, y float64) float64 {
			t.Helper()
			v, err := strconv.ParseFloat(got, 64)
			require.NoError(t, err, "%s of %s: %q", what, row.User, got)
			require.True(t, x <= v && v <= y, "%s of %s: the page's %v is not between the API's %v and %v", what, row.User, v, x, y)
			return v
		}
		between("commander hours", row.Commander, a.CommanderHours, b.CommanderHours)
		between("comms hours", row.Comms, a.CommsHours, b.CommsHours)
		between("ops hours", row.Ops, a.OpsHours, b.OpsHours)
		hours := between("hours", row.Hours, a.Hours, b.Hours)
		outside := between("hours outside working hours", row.Outside, a.OutsideHours, b.OutsideHours)
		share, err := strconv.ParseFloat(row.Share, 64)
		require.NoError(t, err)
		// The share is outside/hours of the page's own clock, which
		// neither answer had: it is checked against the page's hours.
		require.InDelta(t, outside/hours, share, 1e-9, "the share outside working hours of %s", row.User)
		if prev >= 0 {
			require.LessOrEqual(t, hours, prev, "the load is listed most hours first")
		}
		prev = hours
	}
	r.requireHeldRoles(t, lo, hi)

	// The charts: inline SVG, an image with a name.
	require.Equal(t, map[string]int{"weekly-severity-chart": 1, "weekly-service-chart": 1}, page.Charts, "the weekly charts")
	require.Equal(t, 1, tb.count(`header nav a[href="/insights"][aria-current="page"]`), "the nav marks the page")

	// Alice's page counts her private incident too, not Bob's: one more
	// than the reader's answer, one fewer than the auditor's.
	alice := newTab(t, browser, r)
	alice.signIn()
	require.Equal(t, int64(http.StatusOK), alice.open("/insights?"+days))
	var all api.InsightsAnswer
	r.apiGet(t, r.privateToken, "/api/v1/insights?"+days, &all)
	require.Equal(t, rep.Incidents+2, all.Incidents, "the auditor sees both private incidents")
	require.Equal(t, strconv.Itoa(rep.Incidents+1), eval[string](alice, `document.querySelector("#insights").dataset.incidents`),
		"Alice's page counts the public incidents and her private one")
	require.NotContains(t, alice.text("main"), incident.ID(r.privateOther), "nothing names Bob's private incident")

	// Carol's page on a phone.
	tb.width(390)
	tb.screenshot("", 390)
	require.LessOrEqual(t, eval[int](tb, `document.documentElement.scrollWidth`), 390, "fits a phone without scrolling sideways")
	require.Empty(t, tb.problemsSince(mark), "errors in the browser on the insights page")
}

// requireHeldRoles checks that the load's hours grew between the two
// answers only for people holding a role in an open public incident: the
// rest are final, and so equal.
func (r *webRig) requireHeldRoles(t *testing.T, before, after map[string]insights.PersonLoad) {
	t.Helper()
	holding := map[string]bool{}
	for _, n := range []uint64{r.open, r.minor, r.resolved} {
		inc, err := r.db.Incident(t.Context(), n)
		require.NoError(t, err)
		if !inc.ResolvedAt.IsZero() {
			continue
		}
		for _, role := range []roles.Role{roles.Commander, roles.Comms, roles.Ops} {
			if u := inc.Roles.Get(role); u != "" {
				holding[u] = true
			}
		}
	}
	for user, b := range before {
		a := after[user]
		require.Equal(t, b.Zone, a.Zone, "the time zone of %s", user)
		if !holding[user] {
			require.Equal(t, b, a, "%s holds no role now: their load is final", user)
		}
	}
}

// counts is a weekly row's counts of each column as the page writes
// them: a column the week's map leaves out counts zero.
func counts(columns []string, by map[string]int) map[string]string {
	out := map[string]string{}
	for _, c := range columns {
		out[c] = strconv.Itoa(by[c])
	}
	return out
}

// seconds is a duration's seconds as the page writes them: "" for none.
func seconds(s *int64) string {
	if s == nil {
		return ""
	}
	return strconv.FormatInt(*s, 10)
}

// orEmpty is ss, or an empty slice for nil, as the report names none.
func orEmpty(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return slices.Clone(ss)
}
