package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/chart"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/insights"
	"github.com/ooda-sre/ooda/timeline"
)

// insightsTTL is how long a computed report is shown again to the same
// person for the same range. Reading the event logs of every incident in
// a range is most of a report's time (BenchmarkInsightsPage), and the
// figures are about weeks and months, so a minute's lag is not worth a
// second's wait; the page says when its figures were computed.
const insightsTTL = time.Minute

// insightsCacheSize bounds the reports kept: one per person and range
// asked for within insightsTTL, the oldest dropped first.
const insightsCacheSize = 128

// insightsResult is a computed report with its charts, which take as
// long to draw as the rest of the page to render.
type insightsResult struct {
	insights.Report
	SeverityChart, ServiceChart template.HTML
}

// insightsCache keeps computed reports for insightsTTL. It is keyed by
// the reader as well as the range, because the access rule gives each
// reader their own set of incidents; nothing but time invalidates it.
type insightsCache struct {
	mu      sync.Mutex
	reports map[insightsKey]insightsResult
}

type insightsKey struct {
	user     string
	from, to time.Time
}

// get is the report for k computed within insightsTTL before now.
func (c *insightsCache) get(k insightsKey, now time.Time) (insightsResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.reports[k]
	if !ok || now.Sub(r.Now) >= insightsTTL || now.Before(r.Now) {
		return insightsResult{}, false
	}
	return r, true
}

// put keeps r for k, dropping the reports that expired and, when still
// full, the oldest.
func (c *insightsCache) put(k insightsKey, r insightsResult, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reports == nil {
		c.reports = map[insightsKey]insightsResult{}
	}
	for key, old := range c.reports {
		if now.Sub(old.Now) >= insightsTTL {
			delete(c.reports, key)
		}
	}
	for len(c.reports) >= insightsCacheSize {
		var oldest insightsKey
		first := true
		for key, old := range c.reports {
			if first || old.Now.Before(c.reports[oldest].Now) {
				oldest, first = key, false
			}
		}
		delete(c.reports, oldest)
	}
	c.reports[k] = r
}

// insightsReport is the report over [from, to) for user at now: computed
// within the last insightsTTL, or now. The snapshots come from the
// site's index; the event logs are read only for the incidents user may
// see whose logs the range needs (declared in it, or holding roles in
// it), as GET /api/v1/insights reads them.
func (s *Site) insightsReport(ctx context.Context, user string, from, to, now time.Time) (insightsResult, error) {
	key := insightsKey{user: user, from: from, to: to}
	if r, ok := s.insights.get(key, now); ok {
		return r, nil
	}
	incs, err := s.index.incidents(ctx)
	if err != nil {
		return insightsResult{}, err
	}
	may := func(inc incident.Incident) bool { return inc.Admits(user) }
	events := map[uint64][]timeline.Event{}
	for i := range incs {
		inc := &incs[i]
		// The access rule first: an incident user may not see is neither
		// read nor counted.
		if !inc.Admits(user) || !insights.NeedsEvents(*inc, from, to) {
			continue
		}
		evs, err := s.cfg.Store.Events(ctx, inc.Number, 1)
		if err != nil {
			return insightsResult{}, fmt.Errorf("insights: events of %s: %w", inc.ID, err)
		}
		events[inc.Number] = evs
	}
	// The index's slice is shared and read-only; Compute only reads it,
	// and May leaves out what user may not see.
	r := insightsResult{Report: insights.Compute(insights.Input{Incidents: incs, Events: events, From: from, To: to, Now: now, Zone: s.cfg.Zones, May: may})}
	if r.SeverityChart, r.ServiceChart, err = weeklyCharts(r.Report); err != nil {
		return insightsResult{}, err
	}
	s.insights.put(key, r, now)
	return r, nil
}

// insightsView is the insights page's data.
type insightsView struct {
	// FromInput and ToInput are what the date inputs show: the range
	// shown, or on a problem the days typed that parse.
	FromInput, ToInput string
	// Problem is the sentence about a range that cannot be read; the page
	// then shows no figures.
	Problem string

	Report  insights.Report
	FromDay string // the first day counted
	ToDay   string // the last day counted
	// CSV is the download address of each table, by table name.
	CSV map[string]string

	SeverityChart, ServiceChart template.HTML
	Weeks                       []insightsWeek
	Durations                   []insightsDuration
	// Overdue are the post-mortems overdue, linked.
	Overdue []insightsIncident
	Load    []insightsPerson
}

// insightsWeek is one row of the weekly tables.
type insightsWeek struct {
	insights.Week
	Label      string // "7 Sep"
	Severities []insightsCount
	Services   []insightsCount
}

// insightsCount is one cell of a weekly table.
type insightsCount struct {
	Name  string
	Count int
}

// insightsDuration is one measure, its definition without the
// percentile's, which the section prints once.
type insightsDuration struct {
	insights.Duration
	Meaning string
}

// insightsIncident links an incident the figures name.
type insightsIncident struct {
	ID     string
	Number uint64
}

// insightsPerson is one person's row of the responder load.
type insightsPerson struct {
	insights.PersonLoad
	Name string // their name, or their member ID when it is unknown
}

// insightsPage answers GET /insights[?from=YYYY-MM-DD][&to=YYYY-MM-DD]:
// the insights over the UTC days from..to (insights.DefaultDays ending
// today by default) over the incidents the viewer may see, as charts and
// tables with each figure's definition beside it.
func (s *Site) insightsPage(w http.ResponseWriter, r *http.Request, v *Viewer) {
	q := r.URL.Query()
	fromS, toS := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	now := s.cfg.Now().UTC()
	from, to, err := insights.ParseRange(fromS, toS, now)
	if err != nil {
		view := insightsView{Problem: err.Error(), FromInput: dayInput(fromS), ToInput: dayInput(toS)}
		s.render(w, r, http.StatusBadRequest, "insights", layout{Title: "Insights", Viewer: v, Page: view})
		return
	}
	rep, err := s.insightsReport(r.Context(), v.User, from, to, now)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "insights", layout{Title: "Insights", Viewer: v, Page: s.insightsView(rep)})
}

// dayInput is v when a date input can show it, else "".
func dayInput(v string) string {
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return ""
	}
	return v
}

// insightsView lays rep out for the page.
func (s *Site) insightsView(res insightsResult) insightsView {
	rep := res.Report
	last := rep.To.AddDate(0, 0, -1)
	view := insightsView{
		Report: rep, FromDay: rep.From.Format(time.DateOnly), ToDay: last.Format(time.DateOnly),
		CSV: map[string]string{}, SeverityChart: res.SeverityChart, ServiceChart: res.ServiceChart,
	}
	view.FromInput, view.ToInput = view.FromDay, view.ToDay
	for _, t := range insights.Tables {
		view.CSV[t] = "/insights.csv?" + url.Values{"table": {t}, "from": {view.FromDay}, "to": {view.ToDay}}.Encode()
	}

	for _, week := range rep.Weekly.Weeks {
		row := insightsWeek{Week: week, Label: week.Start.Format("2 Jan")}
		for _, sev := range rep.Weekly.Severities {
			row.Severities = append(row.Severities, insightsCount{sev, week.BySeverity[sev]})
		}
		for _, svc := range rep.Weekly.Services {
			row.Services = append(row.Services, insightsCount{svc, week.ByService[svc]})
		}
		view.Weeks = append(view.Weeks, row)
	}
	for _, d := range rep.Durations {
		view.Durations = append(view.Durations, insightsDuration{Duration: d, Meaning: strings.TrimSuffix(d.Definition, " "+insights.DefinePercentile)})
	}
	for _, id := range rep.Postmortems.OverdueIncidents {
		n, err := incident.ParseID(id)
		if err != nil {
			continue // Compute names incidents by incident.ID
		}
		view.Overdue = append(view.Overdue, insightsIncident{ID: id, Number: n})
	}
	for _, p := range rep.Load.People {
		view.Load = append(view.Load, insightsPerson{PersonLoad: p, Name: s.nameOf(p.User)})
	}
	return view
}

// weeklyCharts draws the weeks by severity and by service.
func weeklyCharts(rep insights.Report) (bySeverity, byService template.HTML, err error) {
	wk := rep.Weekly
	labels := make([]string, len(wk.Weeks))
	// Every week is a bar, but a label under every one of a year's weeks
	// would overlap: label about sixteen of them; the table names all.
	every := max(1, (len(wk.Weeks)+15)/16)
	for i, week := range wk.Weeks {
		if i%every == 0 {
			labels[i] = week.Start.Format("2 Jan")
		}
	}
	bySeverity, err = weeklyChart("Incidents per week by severity", rep, labels, wk.Severities, func(w insights.Week, k string) int { return w.BySeverity[k] })
	if err != nil {
		return "", "", err
	}
	byService, err = weeklyChart("Incidents per week by service", rep, labels, wk.Services, func(w insights.Week, k string) int { return w.ByService[k] })
	return bySeverity, byService, err
}

// weeklyChart is the stacked bars of the weeks by keys (severities or
// services), as inline SVG. Its description sums the range up and points
// to the table, which lists every week.
func weeklyChart(title string, rep insights.Report, labels, keys []string, count func(insights.Week, string) int) (template.HTML, error) {
	c := chart.Bars{Title: title, YLabel: "Incidents", Labels: labels}
	for _, k := range keys {
		st := chart.Stack{Name: k, Values: make([]float64, len(rep.Weekly.Weeks))}
		for i, w := range rep.Weekly.Weeks {
			st.Values[i] = float64(count(w, k))
		}
		c.Stacks = append(c.Stacks, st)
	}
	busiest := -1
	weeks := rep.Weekly.Weeks
	for i, w := range weeks {
		if busiest < 0 || w.Total > weeks[busiest].Total {
			busiest = i
		}
	}
	c.Desc = fmt.Sprintf("%s from %s to %s: %s in %s.", title, rep.From.Format(time.DateOnly), rep.To.AddDate(0, 0, -1).Format(time.DateOnly),
		plural(rep.Incidents, "incident", "incidents"), plural(len(weeks), "week", "weeks"))
	if busiest >= 0 && weeks[busiest].Total > 0 {
		b := weeks[busiest]
		c.Desc += fmt.Sprintf(" The busiest week began %s, with %d.", b.Start.Format("Mon 2 Jan 2006"), b.Total)
	}
	c.Desc += " The table below lists every week."
	svg, err := c.SVG()
	if err != nil {
		return "", fmt.Errorf("insights chart %q: %w", title, err)
	}
	// The chart package writes the SVG for inlining: no style, script or
	// external reference, and every text of ours escaped.
	return template.HTML(svg), nil //nolint:gosec // see above
}

// insightsCSV answers GET /insights.csv?table=…[&from=…][&to=…]: one
// table of the page's report as a CSV download (insights.CSV), under the
// same access rule, so the page can offer downloads without the API's
// bearer token.
func (s *Site) insightsCSV(w http.ResponseWriter, r *http.Request, v *Viewer) {
	q := r.URL.Query()
	now := s.cfg.Now().UTC()
	from, to, err := insights.ParseRange(strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to")), now)
	if err != nil {
		s.fail(w, r, v, http.StatusBadRequest, "The insights cannot be downloaded as asked", err.Error()+".")
		return
	}
	table := q.Get("table")
	if !insights.IsTable(table) {
		next := fmt.Sprintf("table %q does not exist; use %s.", table, strings.Join(insights.Tables[:], ", "))
		if table == "" {
			next = "A CSV holds one table: add table=" + strings.Join(insights.Tables[:], ", table=") + "."
		}
		s.fail(w, r, v, http.StatusBadRequest, "The insights cannot be downloaded as asked", next)
		return
	}
	rep, err := s.insightsReport(r.Context(), v.User, from, to, now)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	b, err := insights.CSV(rep.Report, table)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ooda-insights-%s-%s-%s.csv"`,
		table, from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly)))
	_, _ = w.Write(b) // the client went away; nothing to do
}

// Raw writes f for a data attribute as JSON would: the shortest text
// that reads back as the same float64, so a browser test can compare the
// page with GET /api/v1/insights.
func (insightsView) Raw(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Seconds is a duration's seconds for a data attribute, "" for none.
func (insightsView) Seconds(s *int64) string {
	if s == nil {
		return ""
	}
	return strconv.FormatInt(*s, 10)
}

// Hours is hours as the load table shows them: "12.5".
func (insightsView) Hours(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// Percent is a share from 0 to 1 as a whole percent: "37%".
func (insightsView) Percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 0, 64) + "%" }

// Percentile is how the medians and 90th percentiles are taken.
func (insightsView) Percentile() string { return insights.DefinePercentile }

// AsOf is when the figures were computed, to the minute: "14:05 UTC".
func (v insightsView) AsOf() string { return v.Report.Now.UTC().Format("15:04 UTC") }
