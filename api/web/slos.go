package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/chart"
	"github.com/ooda-sre/ooda/slo"
)

// SLOSource is what the SLO page reads: the monitor's latest evaluation
// and the services' freezes, which answer at once whatever Prometheus is
// doing, and an SLO's charts, which query it. *prom.Monitor is one; the
// web UI names it only here, since package prom reaches the guard.
type SLOSource interface {
	Last() slo.Snapshot
	Freeze(ctx context.Context, service string) (slo.FreezeStatus, bool, error)
	// Charts are the SLO's charts at now: its error ratio over the last
	// hours and the last days against its thresholds, and its budget
	// left over the period.
	Charts(ctx context.Context, id string, now time.Time) ([]chart.Line, error)
}

// The bounds on the SLO page's charts.
const (
	// slosChartTimeout bounds the charts of one request, all SLOs
	// together: past it the page shows the latest evaluation without
	// them.
	slosChartTimeout = 5 * time.Second
	// slosChartTTL is how long an SLO's charts, or the failure to draw
	// them, are shown again: a page many people keep refreshing during
	// an incident asks Prometheus once a minute.
	slosChartTTL = time.Minute
)

// slosView is the SLO page's data.
type slosView struct {
	// Configured is false when no SLO source is wired.
	Configured bool
	// Evaluated is when the latest evaluation measured; zero before the
	// first.
	Evaluated time.Time
	Age       string
	// Down says Prometheus is not answering; empty when it is.
	Down     string
	Problems []string
	SLOs     []sloView
}

// sloView is one SLO's section.
type sloView struct {
	ID, Anchor, Service, Name, File string
	Objective                       string
	Level                           slo.Level
	LevelText                       string
	Err                             string
	Alerts                          []sloAlertView
	Budget                          string
	Exhausts                        string
	Freeze                          string
	Frozen                          bool
	Charts                          []template.HTML
	// ChartNote says why there are no charts.
	ChartNote string
}

// sloAlertView is one multiwindow alert: both of its windows' burn
// rates against its threshold.
type sloAlertView struct {
	Name, Level, Windows string
	Threshold            string
	Long, Short          string
	Firing               bool
}

// slosPage answers GET /slos: every SLO the monitor evaluates, with its
// level, the burn rate of each alert's windows, the budget left and its
// service's freeze, from the latest evaluation, and its charts from
// Prometheus. SLOs are not private: any signed-in person sees them all.
// When Prometheus is not answering the page says so and shows the latest
// evaluation, with its age, without charts.
func (s *Site) slosPage(w http.ResponseWriter, r *http.Request, v *Viewer) {
	view := slosView{}
	if s.cfg.SLOs == nil {
		s.render(w, r, http.StatusOK, "slos", layout{Title: "SLOs", Viewer: v, Page: view})
		return
	}
	view.Configured = true
	ctx := r.Context()
	now := s.cfg.Now()
	snap := s.cfg.SLOs.Last()
	view.Evaluated = snap.Report.At
	if !snap.Report.At.IsZero() {
		view.Age = humanDuration(snap.Age)
	}
	for _, p := range snap.Problems {
		view.Problems = append(view.Problems, p.Error())
	}
	freezes := map[string]slo.FreezeStatus{}
	for _, res := range snap.Report.Results {
		if _, ok := freezes[res.Service]; ok {
			continue
		}
		fs, ok, err := s.cfg.SLOs.Freeze(ctx, res.Service)
		if err != nil {
			s.cfg.Logger.WarnContext(ctx, "slo page: freeze unknown", "service", res.Service, "err", err)
		}
		if ok && err == nil {
			freezes[res.Service] = fs
		}
	}
	for _, res := range snap.Report.Results {
		view.SLOs = append(view.SLOs, sloSection(res, freezes))
	}

	var since time.Time
	if snap.Stale {
		// The latest evaluation failed: Prometheus is down, and the
		// charts would only wait for it to say so again. It has not
		// answered since the last evaluation it made possible.
		since = snap.Report.At
		if since.IsZero() {
			since = snap.FailedAt
		}
	} else {
		since = s.slosCharts(ctx, now, view.SLOs)
	}
	if !since.IsZero() {
		view.Down = "Prometheus is not answering (since " + clock(since) + ")"
		if view.Age != "" {
			view.Down += "; showing the last evaluation from " + view.Age + " ago."
		} else {
			view.Down += "; no evaluation has been made yet."
		}
		for i := range view.SLOs {
			if len(view.SLOs[i].Charts) == 0 && view.SLOs[i].ChartNote == "" {
				view.SLOs[i].ChartNote = "No charts while Prometheus is not answering."
			}
		}
	}
	s.render(w, r, http.StatusOK, "slos", layout{Title: "SLOs", Viewer: v, Page: view})
}

// slosCharts fills in the charts of every SLO, at once, within
// slosChartTimeout, from the cache when they were drawn within
// slosChartTTL. It returns when Prometheus was first seen not answering,
// or zero when it answered.
func (s *Site) slosCharts(ctx context.Context, now time.Time, slos []sloView) time.Time {
	ctx, cancel := context.WithTimeout(ctx, slosChartTimeout)
	defer cancel()
	var wg sync.WaitGroup
	entries := make([]*chartEntry, len(slos))
	for i := range slos {
		wg.Go(func() {
			entries[i] = s.sloCharts.get(ctx, slos[i].ID, now, s.drawSLOCharts)
		})
	}
	wg.Wait()
	var down time.Time
	for i, e := range entries {
		switch {
		case e == nil:
			// This request's time ran out waiting for another's drawing.
			down = firstOf(down, now)
		case e.err == nil:
			slos[i].Charts = e.charts
		case errors.Is(e.err, slo.ErrBadQuery):
			slos[i].ChartNote = "Prometheus refused the charts' query; correct the SLO's query in " + slos[i].File + "."
		case errors.Is(e.err, slo.ErrUnknownService):
			slos[i].ChartNote = "No charts: the SLO is no longer watched."
		default:
			down = firstOf(down, e.at)
		}
	}
	return down
}

// firstOf is the earlier of a and b, ignoring a zero one.
func firstOf(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// drawSLOCharts draws an SLO's charts as inline SVG. It is given its own
// deadline: a person who closes the page must not leave the others
// waiting on it an error.
func (s *Site) drawSLOCharts(id string, now time.Time) ([]template.HTML, error) {
	ctx, cancel := context.WithTimeout(context.Background(), slosChartTimeout)
	defer cancel()
	lines, err := s.cfg.SLOs.Charts(ctx, id, now)
	if err != nil {
		return nil, err
	}
	out := make([]template.HTML, 0, len(lines))
	for _, l := range lines {
		svg, err := l.SVG()
		if err != nil {
			return nil, fmt.Errorf("draw %s: %w", l.Title, err)
		}
		// The chart package writes SVG safe to inline: its text is
		// escaped, and it has no style, script or reference.
		out = append(out, template.HTML(svg)) //nolint:gosec // see above
	}
	return out, nil
}

// chartCache keeps each SLO's drawn charts for slosChartTTL. Requests
// that arrive while an SLO's charts are being drawn wait for that drawing
// rather than start their own.
type chartCache struct {
	mu      sync.Mutex
	entries map[string]*chartEntry
}

// chartEntry is one SLO's charts, or the error drawing them; ready is
// closed once they are in.
type chartEntry struct {
	ready  chan struct{}
	at     time.Time
	charts []template.HTML
	err    error
}

// get returns id's entry, drawing it with draw when there is none fresh;
// nil when ctx ends first.
func (c *chartCache) get(ctx context.Context, id string, now time.Time, draw func(string, time.Time) ([]template.HTML, error)) *chartEntry {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*chartEntry{}
	}
	e, ok := c.entries[id]
	fresh := ok && (!e.done() || (now.Sub(e.at) < slosChartTTL && !now.Before(e.at)))
	if !fresh {
		e = &chartEntry{ready: make(chan struct{}), at: now}
		c.entries[id] = e
		c.mu.Unlock()
		e.charts, e.err = draw(id, now)
		close(e.ready)
		return e
	}
	c.mu.Unlock()
	select {
	case <-e.ready:
		return e
	case <-ctx.Done():
		return nil
	}
}

func (e *chartEntry) done() bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// sloSection is one result as its section shows it.
func sloSection(r slo.Result, freezes map[string]slo.FreezeStatus) sloView {
	v := sloView{
		ID: r.SLO, Anchor: "slo-" + anchorSafe(r.SLO), Service: r.Service, Name: r.Name, File: r.File,
		Objective: strconv.FormatFloat(r.Objective, 'f', -1, 64) + "%",
		Level:     r.Level, LevelText: levelText(r.Level),
		Budget: percentOrDash(r.BudgetRemaining),
	}
	if r.Err != nil {
		v.Err = r.Err.Error()
	}
	if r.Exhausts {
		v.Exhausts = humanDuration(r.ExhaustsIn)
	}
	if fs, ok := freezes[r.Service]; ok {
		v.Frozen = fs.Frozen
		switch {
		case fs.Frozen && fs.Since != nil:
			v.Freeze = "Deploys frozen since " + clock(*fs.Since)
		case fs.Frozen:
			v.Freeze = "Deploys frozen"
		default:
			v.Freeze = "Not frozen"
		}
	} else {
		v.Freeze = "Unknown"
	}
	if r.Level.Failed() || r.Period == 0 {
		return v
	}
	for _, a := range slo.DefaultWindows(r.Period).Alerts() {
		long, _ := r.Window(a.Window.Long)
		short, _ := r.Window(a.Window.Short)
		v.Alerts = append(v.Alerts, sloAlertView{
			Name: a.Name, Level: string(a.Level),
			Windows:   slo.FormatWindow(a.Window.Long) + " / " + slo.FormatWindow(a.Window.Short),
			Threshold: burnText(a.Threshold),
			Long:      burnText(long.Burn), Short: burnText(short.Burn),
			Firing: long.Burn > a.Threshold && short.Burn > a.Threshold,
		})
	}
	return v
}

// levelText says what a level means to a reader.
func levelText(l slo.Level) string {
	switch l {
	case slo.LevelOK:
		return "OK"
	case slo.LevelTicket:
		return "Ticket: burning too fast for the period"
	case slo.LevelPage:
		return "Page: burning fast"
	case slo.LevelNoData:
		return "No data"
	case slo.LevelLowTraffic:
		return "Too little traffic to judge"
	case slo.LevelError:
		return "Not measured: Prometheus failed"
	case slo.LevelConfigError:
		return "Not measured: the SLO's query is wrong"
	}
	return string(l)
}

// burnText writes a burn rate, "—" when unknown.
func burnText(b float64) string {
	if math.IsNaN(b) || math.IsInf(b, 0) {
		return "—"
	}
	return strconv.FormatFloat(b, 'f', 1, 64) + "×"
}

// percentOrDash writes a share as a percentage, "—" when unknown.
func percentOrDash(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

// anchorSafe makes an SLO id usable as a fragment: letters, digits and
// dashes.
func anchorSafe(id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(id) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}
