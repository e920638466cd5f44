package insights

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// The definitions of the figures, as the report carries them for a page
// or a spreadsheet to print beside the numbers. Each figure's doc comment
// says the same.
const (
	DefineRange = "Incidents in the range are those declared from 00:00 UTC on its first day to the end of its last day. " +
		"Incidents the reader may not see (private ones whose channel they are not in) are left out of every figure."
	DefineWeekly = "Incidents declared in each ISO week (Monday 00:00 UTC to the next Monday), by their severity now and by their service; " +
		"weeks without incidents are listed with zero. The first and last weeks count only the days in the range."
	DefineTimeToDeclare = "From the first signal (an alert, an SLO warning, an observation, backdated to when it was seen, or a captured message) " +
		"to the declaration, as the post-mortem's key times measure it. Incidents with no signal, or whose every signal was recorded after the declaration, are left out."
	DefineTimeToMitigate = "From the declaration to the first time the incident reached monitoring or was resolved, whichever came first. " +
		"Incidents that have done neither yet are left out."
	DefineTimeToResolve = "From the declaration to the resolution (the last one, when the incident was reopened). Incidents still open are left out."
	DefineTimeToPublish = "From the resolution to the publication of the post-mortem (`/incident postmortem publish`, which closes the incident). " +
		"Incidents whose post-mortem is not published yet are left out."
	DefinePercentile = "Median and 90th percentile by the nearest-rank method: with the n measured values sorted, the p-th percentile is the value at rank ⌈p/100 × n⌉, " +
		"so it is always a measured value (the median of an even count is the lower of the two middle ones)."
	DefinePostmortems = "Among incidents in the range: required counts those that owe a published post-mortem (SEV1 or SEV2, customer-impacting, or past the error-budget policy); " +
		"published counts those whose post-mortem is published (closed); overdue counts those resolved, owing one, not published, and past due now " +
		"(09:00 UTC on the first working day after the day of the resolution)."
	DefineActions = "Action items of incidents in the range. Open: neither done nor dropped. Overdue: open and past its due day, on today's date in its owner's time zone " +
		"(UTC when unknown or unowned). Done on time: done at or before the end of its due day in its owner's time zone; done late: after it; " +
		"done without a due day is counted apart. Won't do: dropped, with a reason."
	DefineLoad = "Hours each person held a role (Commander, Comms, Ops), from being named to handing it over, leaving it empty, or the incident's resolution " +
		"(now, while it is open; a reopened incident's holders hold again from the reopening), counted within the range, " +
		"over every incident the reader may see, those declared before the range included. Outside working hours are the hours not between 09:00 and 18:00, " +
		"Monday to Friday, in the person's Slack time zone (UTC when unknown), split exactly at midnight, 09:00 and 18:00 local time, daylight saving included."
)

// Input is what Compute reads. Compute performs no I/O: the caller reads
// the incidents and their events and applies the access rule through May.
type Input struct {
	// Incidents are the incidents to consider, in any order.
	Incidents []incident.Incident
	// Events holds each incident's log, in sequence order, by number. An
	// incident without one is left out of the figures that need its
	// events: time to declare, time to mitigate and responder load.
	Events map[uint64][]timeline.Event
	// From and To are the range, To exclusive. Callers choose the default
	// (the last 90 days).
	From, To time.Time
	// Now is when the report is computed: what is overdue, and where an
	// open incident's role holding ends.
	Now time.Time
	// Zone is a person's time zone; nil, or a nil answer, means UTC.
	Zone incident.Zones
	// May is the access rule for the reader; an incident it refuses is
	// left out of every figure. Nil admits every incident.
	May func(incident.Incident) bool
}

// Report is the insights over a range. Its JSON field names are a contract
// with the API, the web page and the CSV.
type Report struct {
	// From and To are the range, To exclusive; Now is when it was computed.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Now  time.Time `json:"now"`
	// Definition is DefineRange.
	Definition string `json:"definition"`
	// Incidents counts the incidents in the range the reader may see.
	Incidents   int         `json:"incidents"`
	Weekly      Weekly      `json:"weekly"`
	Durations   []Duration  `json:"durations"`
	Postmortems Postmortems `json:"postmortems"`
	Actions     Actions     `json:"actions"`
	Load        Load        `json:"load"`
}

// Weekly is the incidents declared per ISO week (Monday 00:00 UTC), by
// severity now and by service, with weeks without incidents included
// (DefineWeekly).
type Weekly struct {
	Definition string `json:"definition"`
	// Severities are the severity labels in the order to show them
	// (SEV1–SEV4, then any other seen); Services the service labels,
	// sorted, "(none)" for incidents without a service.
	Severities []string `json:"severities"`
	Services   []string `json:"services"`
	Weeks      []Week   `json:"weeks"`
}

// NoService labels the incidents declared without a service.
const NoService = "(none)"

// Week is one ISO week's count. A label absent from a map counts zero.
type Week struct {
	// Start is the week's Monday, 00:00 UTC.
	Start time.Time `json:"start"`
	// ISOWeek names it as ISO 8601 does: 2026-W36.
	ISOWeek    string         `json:"iso_week"`
	Total      int            `json:"total"`
	BySeverity map[string]int `json:"by_severity"`
	ByService  map[string]int `json:"by_service"`
}

// The measures of Report.Durations, in the order the report lists them.
const (
	TimeToDeclare  = "time_to_declare"
	TimeToMitigate = "time_to_mitigate"
	TimeToResolve  = "time_to_resolve"
	TimeToPublish  = "time_to_publish"
)

// Duration is one measured stretch over the incidents in the range: how
// many incidents had it, and its median and 90th percentile by the
// nearest-rank method (DefinePercentile). The seconds are null and the
// texts empty when no incident had it.
type Duration struct {
	Name       string `json:"name"`
	Title      string `json:"title"`
	Definition string `json:"definition"`
	Count      int    `json:"count"`
	// MedianSeconds and P90Seconds are whole seconds (truncated).
	MedianSeconds *int64 `json:"median_seconds"`
	P90Seconds    *int64 `json:"p90_seconds"`
	// Median and P90 say them as people do: "9 min", "2 h 05 min", "3 d 04 h".
	Median string `json:"median,omitempty"`
	P90    string `json:"p90,omitempty"`
}

// Postmortems counts the post-mortems of incidents in the range
// (DefinePostmortems).
type Postmortems struct {
	Definition string `json:"definition"`
	Required   int    `json:"required"`
	Published  int    `json:"published"`
	Overdue    int    `json:"overdue"`
	// OverdueIncidents names the overdue ones (INC-7), oldest first.
	OverdueIncidents []string `json:"overdue_incidents"`
}

// Actions counts the action items of incidents in the range
// (DefineActions).
type Actions struct {
	Definition string `json:"definition"`
	Total      int    `json:"total"`
	Open       int    `json:"open"`
	Overdue    int    `json:"overdue"`
	Done       int    `json:"done"`
	DoneOnTime int    `json:"done_on_time"`
	DoneLate   int    `json:"done_late"`
	// DoneUndated counts items done that had no due day.
	DoneUndated int `json:"done_without_due"`
	WontDo      int `json:"wont_do"`
}

// Load is the hours people held roles within the range (DefineLoad).
type Load struct {
	Definition string `json:"definition"`
	// People are sorted by total hours, most first, then by member ID.
	People []PersonLoad `json:"people"`
}

// PersonLoad is one person's role hours. Hours are exact (seconds / 3600).
type PersonLoad struct {
	User string `json:"user"`
	// Zone is the IANA zone their working hours were read in: "UTC" when
	// unknown.
	Zone           string  `json:"zone"`
	CommanderHours float64 `json:"commander_hours"`
	CommsHours     float64 `json:"comms_hours"`
	OpsHours       float64 `json:"ops_hours"`
	Hours          float64 `json:"hours"`
	OutsideHours   float64 `json:"outside_hours"`
	// OutsideShare is OutsideHours / Hours, 0 to 1.
	OutsideShare float64 `json:"outside_share"`
}

// Compute reads in into a Report. It is pure and deterministic.
func Compute(in Input) Report {
	from, to := in.From.UTC(), in.To.UTC()
	r := Report{
		From: from, To: to, Now: in.Now.UTC(), Definition: DefineRange,
		Postmortems: Postmortems{Definition: DefinePostmortems, OverdueIncidents: []string{}},
		Actions:     Actions{Definition: DefineActions},
	}
	zones := remember(in.Zone)
	// Pointers into in.Incidents: an Incident is a large value, and
	// copying it dominated the time over ten thousand of them.
	var visible, inRange []*incident.Incident
	for i := range in.Incidents {
		inc := &in.Incidents[i]
		if in.May != nil && !in.May(*inc) {
			continue
		}
		visible = append(visible, inc)
		if !inc.DeclaredAt.Before(from) && inc.DeclaredAt.Before(to) {
			inRange = append(inRange, inc)
		}
	}
	slices.SortFunc(inRange, func(a, b *incident.Incident) int {
		if c := a.DeclaredAt.Compare(b.DeclaredAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Number, b.Number)
	})
	r.Incidents = len(inRange)
	r.Weekly = weekly(inRange, from, to)
	r.Durations = durations(inRange, in.Events)
	for _, inc := range inRange {
		r.Postmortems.add(inc, in.Now)
		r.Actions.add(inc, in.Now, zones)
	}
	r.Load = load(visible, in.Events, from, to, in.Now, zones)
	return r
}

// weekStart is the Monday 00:00 UTC of t's ISO week.
func weekStart(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	back := (int(d.Weekday()) + 6) % 7 // days since Monday
	return d.AddDate(0, 0, -back)
}

// SeverityLabel is how a severity heads a column: SEV2.
func SeverityLabel(sev int) string { return "SEV" + strconv.Itoa(sev) }

func weekly(incs []*incident.Incident, from, to time.Time) Weekly {
	w := Weekly{Definition: DefineWeekly, Severities: []string{}, Services: []string{}, Weeks: []Week{}}
	if !from.Before(to) {
		return w
	}
	index := map[time.Time]int{}
	for s := weekStart(from); s.Before(to); s = s.AddDate(0, 0, 7) {
		y, n := s.ISOWeek()
		index[s] = len(w.Weeks)
		w.Weeks = append(w.Weeks, Week{Start: s, ISOWeek: fmt.Sprintf("%04d-W%02d", y, n), BySeverity: map[string]int{}, ByService: map[string]int{}})
	}
	sevs := map[int]bool{1: true, 2: true, 3: true, 4: true}
	services := map[string]bool{}
	for _, inc := range incs {
		wk := &w.Weeks[index[weekStart(inc.DeclaredAt)]]
		svc := inc.Service
		if svc == "" {
			svc = NoService
		}
		wk.Total++
		wk.BySeverity[SeverityLabel(inc.Severity)]++
		wk.ByService[svc]++
		sevs[inc.Severity] = true
		services[svc] = true
	}
	for _, s := range slices.Sorted(maps.Keys(sevs)) {
		w.Severities = append(w.Severities, SeverityLabel(s))
	}
	w.Services = slices.Sorted(maps.Keys(services))
	return w
}

func durations(incs []*incident.Incident, events map[uint64][]timeline.Event) []Duration {
	var declare, mitigate, resolve, publish []time.Duration
	for _, inc := range incs {
		if evs, ok := events[inc.Number]; ok {
			if d, ok := timeToDeclare(inc, evs); ok {
				declare = append(declare, d)
			}
			if d, ok := timeToMitigate(inc, evs); ok {
				mitigate = append(mitigate, d)
			}
		}
		if !inc.ResolvedAt.IsZero() && !inc.ResolvedAt.Before(inc.DeclaredAt) {
			resolve = append(resolve, inc.ResolvedAt.Sub(inc.DeclaredAt))
			if inc.Status == incident.StatusClosed && !inc.ClosedAt.Before(inc.ResolvedAt) {
				publish = append(publish, inc.ClosedAt.Sub(inc.ResolvedAt))
			}
		}
	}
	return []Duration{
		summarize(TimeToDeclare, "Time to declare", DefineTimeToDeclare, declare),
		summarize(TimeToMitigate, "Time to mitigate", DefineTimeToMitigate, mitigate),
		summarize(TimeToResolve, "Time to resolve", DefineTimeToResolve, resolve),
		summarize(TimeToPublish, "Time to publish the post-mortem", DefineTimeToPublish, publish),
	}
}

// timeToDeclare measures from the first signal to the declaration the way
// the post-mortem's key times do: over the timeline as people read it
// (corrections applied, struck entries and bookkeeping left out), the
// earliest signal, when it is not after the declaration.
func timeToDeclare(inc *incident.Incident, events []timeline.Event) (time.Duration, bool) {
	if inc.DeclaredAt.IsZero() {
		return 0, false
	}
	corrected, _ := timeline.Correct(events, false)
	var first time.Time
	for i := range corrected {
		e := &corrected[i]
		if e.Bookkeeping() || !isSignal(e) {
			continue
		}
		if first.IsZero() || e.At.Before(first) {
			first = e.At
		}
	}
	if first.IsZero() || first.After(inc.DeclaredAt) {
		return 0, false
	}
	return inc.DeclaredAt.Sub(first), true
}

// isSignal reports whether e tells of the problem before or as people
// noticed it: an observation, an alert or SLO warning, a captured
// message. It is the post-mortem's rule (postmortem's isSignal), which a
// test holds this copy to.
func isSignal(e *timeline.Event) bool {
	switch {
	case e.Source == timeline.SourceAlert, e.Source == timeline.SourceSLO:
		return true
	case e.Kind == timeline.KindMessageCaptured:
		return true
	case e.Kind == timeline.KindLoopEntry && e.Phase == timeline.PhaseObserve:
		return true
	}
	return false
}

// timeToMitigate measures from the declaration to the first monitoring
// status or resolution, whichever came first.
func timeToMitigate(inc *incident.Incident, events []timeline.Event) (time.Duration, bool) {
	if inc.DeclaredAt.IsZero() {
		return 0, false
	}
	for i := range events {
		e := &events[i]
		mitigated := e.Kind == timeline.KindResolved ||
			(e.Kind == timeline.KindStatusChanged && e.Attr(timeline.AttrStatus) == string(incident.StatusMonitoring))
		if mitigated && !e.At.Before(inc.DeclaredAt) {
			return e.At.Sub(inc.DeclaredAt), true
		}
	}
	return 0, false
}

func (p *Postmortems) add(inc *incident.Incident, now time.Time) {
	if inc.PostmortemRequired() {
		p.Required++
	}
	if inc.Status == incident.StatusClosed {
		p.Published++
	}
	if roles.PostmortemOverdue(inc.Situation(), now) {
		p.Overdue++
		p.OverdueIncidents = append(p.OverdueIncidents, inc.ID)
	}
}

func (a *Actions) add(inc *incident.Incident, now time.Time, zones incident.Zones) {
	for i := range inc.Actions {
		it := &inc.Actions[i]
		a.Total++
		loc := zones.Of(it.Owner)
		switch it.Status {
		case incident.ActionOpen:
			a.Open++
			if it.Overdue(incident.Day(now, loc)) {
				a.Overdue++
			}
		case incident.ActionWontDo:
			a.WontDo++
		case incident.ActionDone:
			a.Done++
			switch {
			case it.Due == "":
				a.DoneUndated++
			case doneBy(*it, loc):
				a.DoneOnTime++
			default:
				a.DoneLate++
			}
		}
	}
}

// doneBy reports whether a was closed before the end of its due day in
// loc. A due day that does not parse counts as on time: nothing says it
// was late.
func doneBy(a incident.Action, loc *time.Location) bool {
	d, err := time.ParseInLocation(incident.DayLayout, a.Due, loc)
	if err != nil {
		return true
	}
	end := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
	return a.ClosedAt.Before(end)
}

// remember asks z once per person: a directory lookup and a zone load
// are not free, and one report asks about the same people many times.
func remember(z incident.Zones) incident.Zones {
	if z == nil {
		return nil
	}
	seen := map[string]*time.Location{}
	return func(user string) *time.Location {
		loc, ok := seen[user]
		if !ok {
			loc = z(user)
			seen[user] = loc
		}
		return loc
	}
}
