package slo

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes a report as a plain-text table, one SLO a line: its
// level, the burn rate of each alert window, the budget left over the
// period and how long it lasts at the current burn. "-" is no data.
func WriteTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var windows []time.Duration
	for _, res := range r.Results {
		if len(res.Windows) > 0 {
			for _, wb := range res.Windows[:len(res.Windows)-1] {
				windows = append(windows, wb.Window)
			}
			break
		}
	}
	head := []string{"SLO", "STATE"}
	for _, d := range windows {
		head = append(head, FormatWindow(d))
	}
	head = append(head, "BUDGET", "EXHAUSTS IN", "FILE")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, res := range r.Results {
		row := []string{res.SLO, string(res.Level)}
		for _, d := range windows {
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
	case r.Level == LevelError || !known(r.BudgetRemaining):
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
