package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/insights"
	"github.com/ooda-sre/ooda/timeline"
)

// InsightsAnswer is the JSON answer of GET /api/v1/insights: the report,
// and the names of the people its responder load lists.
type InsightsAnswer struct {
	insights.Report
	// People names the member IDs of Load.People, as GET
	// /api/v1/actions names its owners; an id left out has no known name.
	People map[string]string `json:"people,omitempty"`
}

// The range GET /api/v1/insights takes: DefaultInsightsDays days ending
// today when none is given, at most MaxInsightsDays (three years).
const (
	DefaultInsightsDays = insights.DefaultDays
	MaxInsightsDays     = insights.MaxDays
)

// insightsHandler answers GET /api/v1/insights[?from=YYYY-MM-DD][&to=YYYY-MM-DD]
// [&format=json|csv][&table=weekly|durations|load|actions]: the insights
// over the UTC days from..to, to included (DefaultInsightsDays ending
// today by default), as JSON, or one table as CSV (insights.CSV). The
// access rule is applied before anything is computed: an incident the
// token may not see is in no figure.
//
// It reads every incident's snapshot and the event logs of those that
// matter to the range (declared in it, or still held in it): one read of
// the store per log, which is most of the answer's time (BenchmarkInsightsAPI).
func (s *Server) insightsHandler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := time.Now
	if s.cfg.Now != nil {
		now = s.cfg.Now
	}
	at := now().UTC()
	from, to, err := insights.ParseRange(q.Get("from"), q.Get("to"), at)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	format, table := q.Get("format"), q.Get("table")
	switch {
	case format != "" && format != "json" && format != "csv":
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format %q does not exist; use json (the default) or csv", format))
		return
	case format == "csv" && table == "":
		writeError(w, http.StatusBadRequest, "a CSV holds one table: add table="+strings.Join(insights.Tables[:], ", table="))
		return
	case format != "csv" && table != "":
		writeError(w, http.StatusBadRequest, "table is for a CSV download: add format=csv, or leave table out for the whole report in JSON")
		return
	}
	if format == "csv" && !insights.IsTable(table) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("table %q does not exist; use %s", table, strings.Join(insights.Tables[:], ", ")))
		return
	}
	all, err := s.cfg.Store.Incidents(r.Context(), true)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	in := insights.Input{From: from, To: to, Now: at, Zone: s.cfg.Zones, Events: map[uint64][]timeline.Event{}}
	for _, inc := range all {
		// The access rule first: a private incident the token may not
		// see is neither read nor counted.
		if !admits(r.Context(), inc) {
			continue
		}
		in.Incidents = append(in.Incidents, inc)
		if !insights.NeedsEvents(inc, from, to) {
			continue
		}
		events, err := s.cfg.Store.Events(r.Context(), inc.Number, 1)
		if err != nil {
			s.internal(w, r, fmt.Errorf("insights: events of %s: %w", inc.ID, err))
			return
		}
		in.Events[inc.Number] = events
	}
	in.May = func(inc incident.Incident) bool { return admits(r.Context(), inc) }
	report := insights.Compute(in)
	if format == "csv" {
		b, err := insights.CSV(report, table)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ooda-insights-%s-%s-%s.csv"`,
			table, from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly)))
		_, _ = w.Write(b) // the client went away; nothing to do
		return
	}
	out := InsightsAnswer{Report: report}
	if name := namer(s.cfg.People); name != nil {
		for _, p := range report.Load.People {
			if n := name(p.User); n != "" {
				if out.People == nil {
					out.People = map[string]string{}
				}
				out.People[p.User] = n
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
