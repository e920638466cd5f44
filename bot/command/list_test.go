package command

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
)

// worstIncidents are n incidents whose list lines are as long as they get:
// the longest title, every character of it escaped, long channel and user
// ids, a drafted post-mortem; numbers from n down to 1.
func worstIncidents(n int, open bool) []incident.Incident {
	incs := make([]incident.Incident, 0, n)
	for i := n; i >= 1; i-- {
		inc := incident.Incident{
			Number: uint64(i), ID: incident.ID(uint64(i)), Severity: 1 + i%4,
			Title:                 strings.Repeat("&", incident.MaxTitle),
			ChannelID:             "C0123456789ABCDEFGHIJ",
			PostmortemDraftFileID: "F0123456789",
		}
		inc.Roles.Commander = "U0123456789ABCDEFGHIJ"
		inc.Status = incident.StatusInvestigating
		if !open {
			inc.Status = incident.StatusResolved
			inc.ResolvedAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		}
		incs = append(incs, inc)
	}
	return incs
}

var listedRE = regexp.MustCompile(`(?m)^• INC-([0-9]+) `)

// TestListPagesStayWithinTheirBound: however long titles, ids and counts
// get, every page of a long list is within maxListText characters, every
// line within maxListLine with its channel and Commander intact, and the
// pages together show each incident once, in order, and say how many are
// left.
func TestListPagesStayWithinTheirBound(t *testing.T) {
	for _, tc := range []struct {
		name          string
		open, overdue int
		sev           int
	}{
		{"1,000 open and 9,000 overdue", 1000, 9000, 0},
		{"only overdue, filtered", 0, 40, 2},
		{"one page exactly", 10, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := incidentList{Open: worstIncidents(tc.open, true), Overdue: worstIncidents(tc.overdue, false), Severity: tc.sev}
			var seen []string
			total := tc.open + tc.overdue
			pages := (total + listPageSize - 1) / listPageSize
			for p := 1; p <= pages; p++ {
				l.Page = p
				text := l.Text()
				require.LessOrEqual(t, utf8.RuneCountInString(text), maxListText, "page %d:\n%s", p, text)
				for _, line := range strings.Split(text, "\n") {
					if strings.HasPrefix(line, "• ") {
						require.LessOrEqual(t, utf8.RuneCountInString(line), maxListLine, line)
						require.True(t, strings.HasSuffix(line, " <#C0123456789ABCDEFGHIJ>, Commander <@U0123456789ABCDEFGHIJ>"), line)
					}
				}
				for _, m := range listedRE.FindAllStringSubmatch(text, -1) {
					seen = append(seen, m[1])
				}
				shown := min(p*listPageSize, total)
				if shown == total {
					require.NotContains(t, text, "…and", "the last page")
					continue
				}
				left := []string{}
				if o := tc.open - shown; o > 0 {
					left = append(left, fmt.Sprintf("%d more open%s incident(s)", o, l.kind()))
				}
				if od := min(tc.overdue, total-shown); od > 0 {
					more := "more "
					if shown <= tc.open {
						more = ""
					}
					left = append(left, fmt.Sprintf("%d %soverdue%s post-mortem(s)", od, more, l.kind()))
				}
				require.Contains(t, text, "\n…and "+strings.Join(left, " and ")+".", "page %d", p)
				filter := ""
				if tc.sev != 0 {
					filter = " sev" + strconv.Itoa(tc.sev)
				}
				require.Contains(t, text, fmt.Sprintf("`/incident list%s page %d`", filter, p+1))
			}
			var want []string
			for _, inc := range append(append([]incident.Incident{}, l.Open...), l.Overdue...) {
				want = append(want, strconv.FormatUint(inc.Number, 10))
			}
			require.Equal(t, want, seen)

			l.Page = pages + 1
			past := l.Text()
			require.Contains(t, past, fmt.Sprintf("There is no page %d:", pages+1))
			require.LessOrEqual(t, utf8.RuneCountInString(past), maxListText)
		})
	}
}

// TestListText reads the list as people see it: short lists as before,
// the counts of a filtered list, a page past the end.
func TestListText(t *testing.T) {
	inc := func(n uint64, sev int, title string, active bool) incident.Incident {
		i := incident.Incident{Number: n, ID: incident.ID(n), Severity: sev, Title: title, Status: incident.StatusIdentified}
		if !active {
			i.Status = incident.StatusResolved
			i.ResolvedAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		}
		return i
	}
	tests := []struct {
		name string
		l    incidentList
		want string
	}{
		{"nothing", incidentList{Page: 1}, "No open incidents."},
		{"nothing of a severity", incidentList{Severity: 1, Page: 1}, "No open SEV1 incidents."},
		{"short", incidentList{Page: 1, Open: []incident.Incident{inc(2, 2, "Checkout <down>", true)}, Overdue: []incident.Incident{inc(1, 1, "DNS", false)}},
			"1 open incident(s):\n• INC-2 SEV2 “Checkout &lt;down&gt;” — identified\n" +
				"1 post-mortem(s) overdue:\n• INC-1 SEV1 “DNS” — resolved Mon 2 Mar, post-mortem due since " + roles.PostmortemDueAt(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)).Format("Mon 2 Jan 15:04") + " UTC\n" +
				"Publish one with `/incident postmortem publish INC-7 <url>`."},
		{"past the end", incidentList{Severity: 3, Page: 4, Open: []incident.Incident{inc(2, 3, "Search slow", true)}},
			"There is no page 4: 1 open SEV3 incident(s) make 1 page(s) of 15. `/incident list sev3 page 1` shows the last."},
		{"past the end of nothing", incidentList{Page: 2}, "There is no page 2: there are no open incidents and no overdue post-mortems."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.l.Text())
		})
	}
}
