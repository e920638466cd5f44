package insights_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/insights"
)

func TestCSV(t *testing.T) {
	r := insights.Compute(as(seeded(t), reader))
	tests := []struct {
		table string
		want  [][]string
	}{
		{insights.TableWeekly, [][]string{
			{"week_start", "iso_week", "total", "SEV1", "SEV2", "SEV3", "SEV4", "service:checkout", "service:search"},
			{"2026-08-31", "2026-W36", "1", "0", "1", "0", "0", "1", "0"},
			{"2026-09-07", "2026-W37", "1", "0", "0", "1", "0", "0", "1"},
			{"2026-09-14", "2026-W38", "1", "1", "0", "0", "0", "1", "0"},
			{"2026-09-21", "2026-W39", "0", "0", "0", "0", "0", "0", "0"},
			{"2026-09-28", "2026-W40", "0", "0", "0", "0", "0", "0", "0"},
		}},
		{insights.TableDurations, [][]string{
			{"measure", "title", "count", "median_seconds", "p90_seconds", "median", "p90"},
			{"time_to_declare", "Time to declare", "2", "600", "3600", "10 min", "1 h 00 min"},
			{"time_to_mitigate", "Time to mitigate", "2", "1800", "7200", "30 min", "2 h 00 min"},
			{"time_to_resolve", "Time to resolve", "2", "3600", "7200", "1 h 00 min", "2 h 00 min"},
			{"time_to_publish", "Time to publish the post-mortem", "1", "172800", "172800", "2 d 00 h", "2 d 00 h"},
		}},
		{insights.TableLoad, [][]string{
			{"user", "zone", "commander_hours", "comms_hours", "ops_hours", "total_hours", "outside_hours", "outside_share"},
			// INC-1, 10:00–11:00 on a Tuesday; INC-3 is open, held by nobody.
			{alice, "UTC", "1.00", "0.00", "0.00", "1.00", "0.00", "0.000"},
		}},
		{insights.TableActions, [][]string{
			{"figure", "count"},
			{"postmortems_required", "3"}, {"postmortems_published", "1"}, {"postmortems_overdue", "1"},
			{"actions_total", "7"}, {"actions_open", "2"}, {"actions_overdue", "1"},
			{"actions_done", "4"}, {"actions_done_on_time", "2"}, {"actions_done_late", "1"},
			{"actions_done_without_due", "1"}, {"actions_wont_do", "1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			b, err := insights.CSV(r, tt.table)
			require.NoError(t, err)
			rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
			require.NoError(t, err)
			require.Equal(t, tt.want, rows)
		})
	}
	_, err := insights.CSV(r, "people")
	require.ErrorIs(t, err, insights.ErrNoTable)
	require.ErrorContains(t, err, "weekly, durations, load, actions")
}
