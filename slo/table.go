package slo

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes a report as a plain-text table, one SLO a line: its
// level, the burn rate of each alert window, the budget left over the
// period and how long it lasts at the current burn. "-" is no data. SLOs
// measured over different windows (periods of their own) get a table
// each, headed by their period.
func WriteTable(w io.Writer, r Report) error {
	groups := tableGroups(r.Results)
	for i, g := range groups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if len(groups) > 1 {
			fmt.Fprintf(w, "period %s:\n", FormatWindow(g.period))
		}
		if err := writeGroup(w, g); err != nil {
			return err
		}
	}
	return nil
}

// tableGroup is the results measured over the same windows.
type tableGroup struct {
	period  time.Duration
	windows []time.Duration // the alert windows, the period left out
	results []Result
}

// tableGroups sorts results by their windows, in order of first
// appearance. A result without windows (its evaluation failed) joins the
// first group.
func tableGroups(results []Result) []*tableGroup {
	var groups []*tableGroup
	var orphans []Result
	for _, res := range results {
		if len(res.Windows) == 0 {
			orphans = append(orphans, res)
			continue
		}
		ws := make([]time.Duration, 0, len(res.Windows)-1)
		for _, wb := range res.Windows[:len(res.Windows)-1] {
			ws = append(ws, wb.Window)
		}
		var g *tableGroup
		for _, c := range groups {
			if slices.Equal(c.windows, ws) && c.period == res.Windows[len(res.Windows)-1].Window {
				g = c
				break
			}
		}
		if g == nil {
			g = &tableGroup{period: res.Windows[len(res.Windows)-1].Window, windows: ws}
			groups = append(groups, g)
		}
		g.results = append(g.results, res)
	}
	if len(groups) == 0 {
		groups = append(groups, &tableGroup{})
	}
	groups[0].results = append(groups[0].results, orphans...)
	return groups
}

func writeGroup(w io.Writer, g *tableGroup) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"SLO", "STATE"}
	for _, d := range g.windows {
		head = append(head, FormatWindow(d))
	}
	head = append(head, "BUDGET", "EXHAUSTS IN", "FILE")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, res := range g.results {
		row := []string{res.SLO, string(res.Level)}
		for _, d := range g.windows {
			wb, _ := res.Window(d)
			row = append(row, FormatBurn(wb.Burn))
		}
		row = append(row, FormatBudget(res.BudgetRemaining), formatExhaustion(res), res.File)
		if res.Err != nil {
			row = append(row, res.Err.Error())
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// FormatBurn writes a burn rate as "15×", or "-" for no data.
func FormatBurn(b float64) string {
	if !known(b) {
		return "-"
	}
	switch {
	case b >= 100:
		return strconv.FormatFloat(math.Round(b), 'f', 0, 64) + "×"
	case b >= 10:
		return strconv.FormatFloat(b, 'f', 1, 64) + "×"
	}
	return strconv.FormatFloat(b, 'f', 2, 64) + "×"
}

// FormatBudget writes a remaining budget as a percentage, or "-".
func FormatBudget(b float64) string {
	if !known(b) {
		return "-"
	}
	return strconv.FormatFloat(b*100, 'f', 1, 64) + "%"
}

func formatExhaustion(r Result) string {
	switch {
	case r.Level.Failed() || !known(r.BudgetRemaining):
		return "-"
	case r.Exhausted():
		return "spent"
	case !r.Exhausts:
		return "never"
	}
	return FormatDuration(r.ExhaustsIn)
}

// FormatDuration writes a duration the way people say it, to two units at
// most: 1d5h, 2h30m, 45m, 40s.
func FormatDuration(d time.Duration) string {
	switch {
	case d >= Day:
		days := d / Day
		h := (d % Day).Round(time.Hour) / time.Hour
		if h == 24 {
			days, h = days+1, 0
		}
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	case d >= time.Hour:
		s := strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		return s
	case d >= time.Minute:
		return strings.TrimSuffix(d.Round(time.Second).String(), "0s")
	}
	return d.Round(time.Second).String()
}
