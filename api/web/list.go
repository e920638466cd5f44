package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
)

// listPageSize is how many incidents a page of the list shows.
const listPageSize = 25

// dateLayout is how the date filters are written, as <input type=date>
// sends them.
const dateLayout = time.DateOnly

// listStatuses are the statuses the status filter offers, in the order
// an incident moves through them.
func listStatuses() []incident.Status {
	return []incident.Status{
		incident.StatusTriage, incident.StatusInvestigating, incident.StatusIdentified,
		incident.StatusMonitoring, incident.StatusResolved, incident.StatusClosed,
	}
}

// listQuery is the list's filters and page, as the form sent them and as
// the form shows them again.
type listQuery struct {
	Status   string // "" (any), "open" or an incident.Status
	Severity string // "" (any) or "1" to "4"
	Service  string
	From, To string // days as typed, 2026-12-02
	// FromInput and ToInput are the days the date inputs show: only days
	// that parse, since a browser drops (and complains of) any other.
	FromInput, ToInput string
	Page               int // from 1

	severity int
	from, to time.Time // to is the day after To: the range is [from, to)
}

// parseListQuery reads the list's parameters; each it cannot read gets a
// sentence saying what to write instead. Empty parameters, which the
// form sends for "any", are no filter.
func parseListQuery(q url.Values) (listQuery, []string) {
	var l listQuery
	var problems []string
	l.Status = strings.ToLower(strings.TrimSpace(q.Get("status")))
	switch {
	case l.Status == "" || l.Status == "any":
		l.Status = ""
	case l.Status == "open" || slices.Contains(listStatuses(), incident.Status(l.Status)):
	default:
		problems = append(problems, fmt.Sprintf("Status %q is not one Ooda knows: choose any, open, or one of %s.", q.Get("status"), statusWords()))
	}
	sev := strings.ToLower(strings.TrimSpace(q.Get("severity")))
	switch n, err := strconv.Atoi(strings.TrimPrefix(sev, "sev")); {
	case sev == "" || sev == "any":
	case err == nil && n >= 1 && n <= 4:
		l.severity, l.Severity = n, strconv.Itoa(n)
	default:
		problems = append(problems, fmt.Sprintf("Severity %q does not exist: choose any, or SEV1 (worst) to SEV4, as severity=2.", q.Get("severity")))
	}
	l.Service = strings.TrimSpace(q.Get("service"))
	readDay := func(name, label string) (string, time.Time) {
		v := strings.TrimSpace(q.Get(name))
		if v == "" {
			return "", time.Time{}
		}
		t, err := time.Parse(dateLayout, v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q is not a date: write it year-month-day, as %s=2026-12-02, or leave it empty.", label, v, name))
			return v, time.Time{}
		}
		return v, t
	}
	l.From, l.from = readDay("from", "From")
	l.To, l.to = readDay("to", "To")
	if !l.from.IsZero() {
		l.FromInput = l.From
	}
	if !l.to.IsZero() {
		l.ToInput = l.To
	}
	if !l.to.IsZero() {
		l.to = l.to.AddDate(0, 0, 1)
	}
	if !l.from.IsZero() && !l.to.IsZero() && !l.from.Before(l.to) {
		problems = append(problems, fmt.Sprintf("The dates are the wrong way round: to (%s) is before from (%s). Put the earlier day in from, or leave one empty.", l.To, l.From))
	}
	l.Page = 1
	if v := strings.TrimSpace(q.Get("page")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problems = append(problems, fmt.Sprintf("Page %q is not a page: pages are numbered from 1, as page=2.", v))
		} else {
			l.Page = n
		}
	}
	return l, problems
}

// statusWords lists the statuses as the status filter's sentence names
// them: "triage, investigating, … or closed".
func statusWords() string {
	statuses := listStatuses()
	words := make([]string, len(statuses))
	for i, s := range statuses {
		words[i] = string(s)
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// filtered reports whether any filter is set.
func (l listQuery) filtered() bool {
	return l.Status != "" || l.Severity != "" || l.Service != "" || l.From != "" || l.To != ""
}

// matches reports whether inc passes the filters.
func (l listQuery) matches(inc *incident.Incident) bool {
	switch {
	case l.Status == "open" && !inc.Status.Active(),
		l.Status != "" && l.Status != "open" && string(inc.Status) != l.Status,
		l.severity != 0 && inc.Severity != l.severity,
		l.Service != "" && !strings.EqualFold(inc.Service, l.Service),
		!l.from.IsZero() && inc.DeclaredAt.Before(l.from),
		!l.to.IsZero() && !inc.DeclaredAt.Before(l.to):
		return false
	}
	return true
}

// url is the list's address with these filters, at page.
func (l listQuery) url(page int) string {
	v := url.Values{}
	for _, p := range [][2]string{{"status", l.Status}, {"severity", l.Severity}, {"service", l.Service}, {"from", l.From}, {"to", l.To}} {
		if p[1] != "" {
			v.Set(p[0], p[1])
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// option is one choice of a <select>.
type option struct {
	Value, Label string
	Selected     bool
}

// listView is the incidents page's data.
type listView struct {
	Query      listQuery
	Statuses   []option
	Severities []option
	// Problems are the sentences about parameters the page could not
	// read; the page then lists nothing.
	Problems []string
	Filtered bool

	Rows []listRow
	// Total counts the incidents the viewer may see that match, on every
	// page; First and Last number the ones this page shows, from 1.
	Total, First, Last int
	Page, Pages        int
	Prev, Next         string // the neighbouring pages' addresses; "" for none
	// LastURL is the last page's address, offered for a page past it.
	LastURL string
}

// listRow is one incident of the list.
type listRow struct {
	Number   uint64
	ID       string
	Title    string
	Severity int
	Status   incident.Status
	Service  string
	Private  bool
	Open     bool
	Declared time.Time
	// Commander is the Commander's name, their member ID when the name is
	// unknown, "" when nobody holds the role.
	Commander string
	Duration  time.Duration
	// Postmortem is the post-mortem's state: "published", "overdue",
	// "due Mon 7 Dec", "not required", or "" while the incident is open;
	// PostmortemClass names it for the style sheet, PostmortemURL is
	// where a published one is.
	Postmortem      string
	PostmortemClass string
	PostmortemURL   string
}

// listPage answers GET /: the incidents the viewer may see, open ones
// first, filtered and paged.
func (s *Site) listPage(w http.ResponseWriter, r *http.Request, v *Viewer) {
	q, problems := parseListQuery(r.URL.Query())
	view := listView{Query: q, Statuses: statusOptions(q.Status), Severities: severityOptions(q.Severity), Problems: problems, Filtered: q.filtered()}
	if len(problems) > 0 {
		s.render(w, r, http.StatusBadRequest, "list", layout{Title: "Incidents", Viewer: v, Page: view})
		return
	}
	incs, err := s.index.incidents(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	shown := make([]*incident.Incident, 0, len(incs))
	for i := range incs {
		inc := &incs[i]
		// A private incident the viewer may not see is neither listed
		// nor counted: it does not exist for them.
		if inc.Admits(v.User) && q.matches(inc) {
			shown = append(shown, inc)
		}
	}
	slices.SortStableFunc(shown, listOrder)

	view.Total, view.Page = len(shown), q.Page
	view.Pages = max(1, (len(shown)+listPageSize-1)/listPageSize)
	if q.Page > view.Pages {
		view.Problems = []string{fmt.Sprintf("There is no page %d: %s make %s of %d.",
			q.Page, plural(len(shown), "incident", "incidents"), plural(view.Pages, "page", "pages"), listPageSize)}
		view.LastURL = q.url(view.Pages)
		s.render(w, r, http.StatusBadRequest, "list", layout{Title: "Incidents", Viewer: v, Page: view})
		return
	}
	from := (q.Page - 1) * listPageSize
	to := min(from+listPageSize, len(shown))
	now := s.cfg.Now()
	view.Rows = make([]listRow, 0, to-from)
	for _, inc := range shown[from:to] {
		view.Rows = append(view.Rows, s.listRow(inc, now))
	}
	if to > from {
		view.First, view.Last = from+1, to
	}
	if q.Page > 1 {
		view.Prev = q.url(q.Page - 1)
	}
	if q.Page < view.Pages {
		view.Next = q.url(q.Page + 1)
	}
	s.render(w, r, http.StatusOK, "list", layout{Title: "Incidents", Viewer: v, Page: view})
}

// listOrder puts open incidents first, then the others; within each,
// the most recently declared first, the higher number first on a tie.
func listOrder(a, b *incident.Incident) int {
	if ao, bo := a.Status.Active(), b.Status.Active(); ao != bo {
		if ao {
			return -1
		}
		return 1
	}
	if c := b.DeclaredAt.Compare(a.DeclaredAt); c != 0 {
		return c
	}
	return cmp.Compare(b.Number, a.Number)
}

// listRow describes inc as the list shows it at now.
func (s *Site) listRow(inc *incident.Incident, now time.Time) listRow {
	row := listRow{
		Number: inc.Number, ID: inc.ID, Title: inc.Title, Severity: inc.Severity, Status: inc.Status,
		Service: inc.Service, Private: inc.Private, Open: inc.Status.Active(), Declared: inc.DeclaredAt,
		Commander: s.nameOf(inc.Roles.Commander),
	}
	end := now
	switch {
	case row.Open:
	case !inc.ResolvedAt.IsZero():
		end = inc.ResolvedAt
	case !inc.ClosedAt.IsZero():
		end = inc.ClosedAt
	}
	row.Duration = max(end.Sub(inc.DeclaredAt), 0)
	row.Postmortem, row.PostmortemClass, row.PostmortemURL = postmortemState(inc, now)
	return row
}

// postmortemState is where inc's post-mortem stands at now, as the list
// words it, the class the style sheet knows it by, and the address of a
// published one.
func postmortemState(inc *incident.Incident, now time.Time) (state, class, link string) {
	switch {
	case inc.Status.Active():
		return "", "none", ""
	case inc.Status == incident.StatusClosed && (inc.PostmortemURL != "" || inc.PostmortemRequired()):
		// Closing an incident records that its post-mortem is published,
		// with its address when one was given.
		// Only a web address is linked, as the incident page does: a
		// snapshot from before the check, or a restored one, may hold
		// javascript: or another scheme.
		if !incident.IsWebLink(inc.PostmortemURL) {
			return "published", "published", ""
		}
		return "published", "published", inc.PostmortemURL
	case !inc.PostmortemRequired():
		return "not required", "not-required", ""
	case roles.PostmortemOverdue(inc.Situation(), now):
		return "overdue", "overdue", ""
	}
	return "due " + roles.PostmortemDueAt(inc.ResolvedAt).Format("Mon 2 Jan"), "due", ""
}

// nameOf is how a member ID is shown: the person's name when it is known,
// else the ID; "" stays "".
func (s *Site) nameOf(id string) string {
	if id == "" || s.cfg.People == nil {
		return id
	}
	if n := s.cfg.People.Name(id); n != "" {
		return n
	}
	return id
}

func statusOptions(selected string) []option {
	out := []option{{Value: "", Label: "Any"}, {Value: "open", Label: "Open"}}
	for _, st := range listStatuses() {
		out = append(out, option{Value: string(st), Label: strings.ToUpper(string(st[:1])) + string(st[1:])})
	}
	for i := range out {
		out[i].Selected = out[i].Value == selected
	}
	return out
}

func severityOptions(selected string) []option {
	out := []option{{Value: "", Label: "Any"}}
	for n := 1; n <= 4; n++ {
		out = append(out, option{Value: strconv.Itoa(n), Label: "SEV" + strconv.Itoa(n)})
	}
	for i := range out {
		out[i].Selected = out[i].Value == selected
	}
	return out
}
