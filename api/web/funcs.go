package web

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/timeline"
)

// funcs are the functions every template may call. The first group is
// for any page; the pm* group renders a post-mortem draft in the site's
// own markup (postmortem.Doc.HTML is a standalone file with an inline
// style sheet, which the site's Content-Security-Policy forbids).
var funcs = template.FuncMap{
	"clean":    timeline.Clean,
	"duration": humanDuration,
	"day":      day,
	"clock":    clock,
	"iso":      iso,
	"plural":   plural,
	"prompt":   prompt,

	"pmTitle":          pmTitle,
	"pmSeverity":       pmSeverity,
	"pmChannel":        pmChannel,
	"pmImpactDuration": pmImpactDuration,
	"pmBudget":         pmBudget,
	"pmCredit":         pmCredit,
	"pmPriority":       pmPriority,
	"pmDue":            pmDue,
	"pmState":          pmState,
	"pmTimelineIntro":  pmTimelineIntro,
	"pmSection":        func(i int) string { return postmortem.Sections()[i] },
}

// humanDuration says how long something lasted the way people say it on
// a list: "under a minute", "45 min", "3 h", "2 h 14 min", "3 d 4 h".
// Past a day the minutes are noise.
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return strconv.Itoa(h) + " h"
		}
		return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
	}
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if hours == 0 {
		return strconv.Itoa(days) + " d"
	}
	return strconv.Itoa(days) + " d " + strconv.Itoa(hours) + " h"
}

// day is a date as a list shows it, in UTC: "Wed 2 Dec 2026".
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Mon 2 Jan 2006")
}

// clock is a moment to the minute, in UTC: "2026-12-02 14:05 UTC".
func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// iso is a moment for a <time datetime> attribute.
func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// plural counts things: "1 incident", "312 incidents".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// prompt renders Ooda's own guidance, escaped, with `…` as code.
func prompt(s string) template.HTML {
	var b strings.Builder
	for i, part := range strings.Split(s, "`") {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(part) + "</code>")
			continue
		}
		b.WriteString(template.HTMLEscapeString(part))
	}
	return template.HTML(b.String()) //nolint:gosec // every part is escaped above
}

// pmTitle is the draft's title: "Post-mortem: INC-7 — Checkout down".
func pmTitle(d *postmortem.Doc) string {
	var parts []string
	for _, p := range []string{d.Incident, timeline.Clean(d.Title)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "Post-mortem"
	}
	return "Post-mortem: " + strings.Join(parts, " — ")
}

// pmSeverity is the final severity, with the worst it reached when that
// was worse: "SEV2 (worst SEV1)"; "" when unknown.
func pmSeverity(s postmortem.Summary) string {
	if s.Severity == 0 {
		return ""
	}
	l := "SEV" + strconv.Itoa(s.Severity)
	if s.WorstSeverity != 0 && s.WorstSeverity < s.Severity {
		l += " (worst SEV" + strconv.Itoa(s.WorstSeverity) + ")"
	}
	return l
}

// pmChannel names the incident channel: "#inc-7-checkout (C123)"; "" when
// it was never created.
func pmChannel(s postmortem.Summary) string {
	switch {
	case s.ChannelID == "":
		return ""
	case s.ChannelName == "":
		return s.ChannelID
	}
	return "#" + s.ChannelName + " (" + s.ChannelID + ")"
}

// pmImpactDuration says how long customers were affected, or why that
// is not known.
func pmImpactDuration(im postmortem.Impact) string {
	switch {
	case !im.CustomerImpacting:
		return "none recorded"
	case !im.Duration.Known && !im.Start.IsZero():
		return "unknown: the incident has not reached monitoring or resolved since the impact was recorded"
	case !im.Duration.Known:
		return "unknown"
	}
	return im.Duration.String() + " (from the impact being recorded at " + clock(im.Start) + " to " + im.EndedBy + " at " + clock(im.End) + ")"
}

// pmBudget is the error budget the incident spent, or why it is unknown.
func pmBudget(b *postmortem.BudgetSpent) string {
	if b == nil {
		return "unknown: no SLO is known for this service"
	}
	return strconv.FormatFloat(b.Spent*100, 'f', 1, 64) + "% of the " + b.SLO + " error budget"
}

// pmCredit says what a quoted entry is, who made it and when: "orient
// entry by the Commander, 00:02 UTC".
func pmCredit(e postmortem.Entry, spansDays bool) string {
	layout := "15:04 UTC"
	if spansDays {
		layout = "2006-01-02 15:04 UTC"
	}
	at := e.At.UTC().Format(layout)
	switch e.Role {
	case "alert", "SLO", "Ooda":
		return e.Source + ", " + at
	case "responder":
		return e.Source + " by a responder, " + at
	case "Commander":
		return e.Source + " by the Commander, " + at
	}
	return e.Source + " by " + e.Role + ", " + at
}

// pmPriority is an action item's priority, "P2 (default)" when it was
// not given.
func pmPriority(it postmortem.ActionItem) string {
	if it.DefaultPriority {
		return it.Priority + " (default)"
	}
	return it.Priority
}

// pmDue is an action item's due day, or a dash.
func pmDue(it postmortem.ActionItem) string {
	if it.Due == "" {
		return "—"
	}
	return it.Due
}

// pmState is an action item's state: "open", "open, overdue", "done",
// "won't do: the reason".
func pmState(it postmortem.ActionItem) string {
	switch {
	case it.Status == incident.ActionWontDo:
		if it.Reason != "" {
			return "won't do: " + timeline.Clean(it.Reason)
		}
		return "won't do"
	case it.Status == incident.ActionOpen && it.Overdue:
		return "open, overdue"
	}
	return it.Status
}

// pmTimelineIntro says how to read the timeline table.
func pmTimelineIntro(tl postmortem.Timeline) string {
	s := "Times are UTC"
	if !tl.Start.IsZero() {
		s += "; T+ counts from the declaration at " + tl.Start.UTC().Format("2006-01-02 15:04")
	}
	return s + ". Each entry is attributed to the role that acted at that moment; silences longer than " +
		tl.Gap.String() + " are marked; Ooda's own bookkeeping is left out."
}
