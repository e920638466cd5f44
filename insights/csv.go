package insights

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The tables a report is downloaded as, one CSV each, with a header row:
//
//   - weekly: week_start, iso_week, total, one column per severity
//     (SEV1…), one per service (service:checkout, service:(none));
//   - durations: measure, title, count, median_seconds, p90_seconds,
//     median, p90 (the last four empty when count is 0);
//   - load: user, zone, commander_hours, comms_hours, ops_hours,
//     total_hours, outside_hours, outside_share (hours to 2 decimals,
//     the share to 3);
//   - actions: figure, count: the post-mortem and action item figures.
const (
	TableWeekly    = "weekly"
	TableDurations = "durations"
	TableLoad      = "load"
	TableActions   = "actions"
)

// Tables lists the tables CSV writes, in the order a page offers them.
var Tables = [...]string{TableWeekly, TableDurations, TableLoad, TableActions}

// IsTable reports whether CSV writes table.
func IsTable(table string) bool { return slices.Contains(Tables[:], table) }

// ErrNoTable is CSV's refusal of a table it does not write.
var ErrNoTable = errors.New("no such table")

// CSV writes one table of r (Tables) as CSV with a header row. Every text
// a person typed (a service name) is in a header prefixed with
// "service:", so no cell starts with a character a spreadsheet would
// run as a formula.
func CSV(r Report, table string) ([]byte, error) {
	var rows [][]string
	switch table {
	case TableWeekly:
		rows = weeklyRows(r.Weekly)
	case TableDurations:
		rows = [][]string{{"measure", "title", "count", "median_seconds", "p90_seconds", "median", "p90"}}
		for _, d := range r.Durations {
			rows = append(rows, []string{d.Name, d.Title, strconv.Itoa(d.Count), seconds(d.MedianSeconds), seconds(d.P90Seconds), d.Median, d.P90})
		}
	case TableLoad:
		rows = [][]string{{"user", "zone", "commander_hours", "comms_hours", "ops_hours", "total_hours", "outside_hours", "outside_share"}}
		for _, p := range r.Load.People {
			rows = append(rows, []string{p.User, p.Zone, fixed(p.CommanderHours, 2), fixed(p.CommsHours, 2), fixed(p.OpsHours, 2),
				fixed(p.Hours, 2), fixed(p.OutsideHours, 2), fixed(p.OutsideShare, 3)})
		}
	case TableActions:
		pm, a := r.Postmortems, r.Actions
		rows = [][]string{{"figure", "count"}}
		for _, f := range []struct {
			name string
			n    int
		}{
			{"postmortems_required", pm.Required}, {"postmortems_published", pm.Published}, {"postmortems_overdue", pm.Overdue},
			{"actions_total", a.Total}, {"actions_open", a.Open}, {"actions_overdue", a.Overdue},
			{"actions_done", a.Done}, {"actions_done_on_time", a.DoneOnTime}, {"actions_done_late", a.DoneLate},
			{"actions_done_without_due", a.DoneUndated}, {"actions_wont_do", a.WontDo},
		} {
			rows = append(rows, []string{f.name, strconv.Itoa(f.n)})
		}
	default:
		return nil, fmt.Errorf("%w %q; the tables are %s", ErrNoTable, table, strings.Join(Tables[:], ", "))
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll(rows) // a bytes.Buffer does not fail
	return b.Bytes(), nil
}

func weeklyRows(w Weekly) [][]string {
	head := []string{"week_start", "iso_week", "total"}
	head = append(head, w.Severities...)
	for _, s := range w.Services {
		head = append(head, "service:"+s)
	}
	rows := [][]string{head}
	for _, wk := range w.Weeks {
		row := []string{wk.Start.Format(time.DateOnly), wk.ISOWeek, strconv.Itoa(wk.Total)}
		for _, s := range w.Severities {
			row = append(row, strconv.Itoa(wk.BySeverity[s]))
		}
		for _, s := range w.Services {
			row = append(row, strconv.Itoa(wk.ByService[s]))
		}
		rows = append(rows, row)
	}
	return rows
}

func seconds(s *int64) string {
	if s == nil {
		return ""
	}
	return strconv.FormatInt(*s, 10)
}

func fixed(f float64, places int) string { return strconv.FormatFloat(f, 'f', places, 64) }
