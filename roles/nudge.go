package roles

import (
	"fmt"
	"time"

	"github.com/ooda-sre/ooda/timeline"
)

// CommanderGrace is how long an active incident may go without a Commander
// before Ooda asks for one.
const CommanderGrace = 5 * time.Minute

// UpdateCadence is how often Comms owes stakeholders an update at a
// severity; zero means no cadence (SEV4 updates are at Comms' discretion).
func UpdateCadence(severity int) time.Duration {
	switch severity {
	case 1:
		return 15 * time.Minute
	case 2:
		return 30 * time.Minute
	case 3:
		return 60 * time.Minute
	}
	return 0
}

// CheckInCadence is how often the Commander is asked to turn the OODA loop
// once more (what do we see, what do we think, what do we do next) at a
// severity; zero means no check-ins. It is slower than the update cadence:
// the loop turns on its own while people work, the check-in catches a loop
// that has stalled.
func CheckInCadence(severity int) time.Duration {
	switch severity {
	case 1:
		return 30 * time.Minute
	case 2:
		return time.Hour
	case 3:
		return 2 * time.Hour
	}
	return 0
}

// StaleAfter is how long an active incident may go without anyone
// recording anything before Ooda asks whether it is still going on.
const StaleAfter = 24 * time.Hour

// NudgeKind names a reminder.
type NudgeKind string

// The nudges the policy can ask for.
const (
	NudgeCommanderMissing  NudgeKind = "commander_missing"
	NudgeUpdateDue         NudgeKind = "update_due"
	NudgeCommanderHoldsOps NudgeKind = "commander_holds_ops"
	NudgeCheckIn           NudgeKind = "check_in"
	NudgeStale             NudgeKind = "stale"
	NudgePostmortemDue     NudgeKind = "postmortem_due"
)

// Situation is what the nudge policy needs to know about an incident.
type Situation struct {
	Severity int
	// Active is false once resolved or closed: nobody is nudged then,
	// except about a post-mortem that is due.
	Active     bool
	DeclaredAt time.Time
	Holders    Holders
	// CommanderVacantSince is when the Commander role became empty; zero
	// when it is held.
	CommanderVacantSince time.Time
	// LastUpdateAt is the last stakeholder update; zero when none was posted.
	LastUpdateAt time.Time
	// LastActivityAt is the last thing a person recorded; zero means the
	// declaration.
	LastActivityAt time.Time
	// ResolvedAt is when the incident was resolved. It is zero while the
	// incident is active and once it is closed, that is once its
	// post-mortem is published.
	ResolvedAt time.Time
	// CustomerImpacting makes the post-mortem mandatory whatever the
	// severity.
	CustomerImpacting bool
	// PostmortemDrafted is true once Ooda has uploaded a draft into the
	// incident channel, so a reminder points at it rather than asking for
	// one.
	PostmortemDrafted bool
	// BudgetBreached is true when the incident alone spent more of an SLO's
	// error budget than the error-budget policy allows without a
	// post-mortem.
	BudgetBreached bool
}

// Nudge is one reminder the policy asks for. Key is deterministic, so a
// nudge that is asked for on every tick is sent once.
type Nudge struct {
	Kind NudgeKind
	Role Role
	User string // who to nudge; empty means the incident channel
	Key  string
	Text string
}

// Nudges returns the reminders due at now. It is a pure function: callers
// run it on every tick and deduplicate by Key.
func Nudges(s Situation, now time.Time) []Nudge {
	if !s.Active {
		if n, ok := postmortemDue(s, now); ok {
			return []Nudge{n}
		}
		return nil
	}
	var out []Nudge
	if s.Holders.Commander == "" {
		since := s.CommanderVacantSince
		if since.IsZero() {
			since = s.DeclaredAt
		}
		if now.Sub(since) >= CommanderGrace {
			out = append(out, Nudge{
				Kind: NudgeCommanderMissing,
				Role: Commander,
				Key:  fmt.Sprintf("%s/%d", NudgeCommanderMissing, since.Unix()),
				Text: fmt.Sprintf("Nobody has been Commander for %s. Take it with `/incident role commander @you`.", timeline.Minutes(now.Sub(since))),
			})
		}
	}
	if cadence := UpdateCadence(s.Severity); cadence > 0 {
		last := s.LastUpdateAt
		if last.IsZero() {
			last = s.DeclaredAt
		}
		if overdue := now.Sub(last); overdue >= cadence {
			// One nudge per missed interval, not one per tick.
			n := int64(overdue / cadence)
			out = append(out, Nudge{
				Kind: NudgeUpdateDue,
				Role: Comms,
				User: s.Holders.Comms,
				Key:  fmt.Sprintf("%s/%d/%d", NudgeUpdateDue, last.Unix(), n),
				Text: fmt.Sprintf("A stakeholder update is due: SEV%d incidents get one every %s, and the last was %s ago. Post it with `/incident update <text>`.", s.Severity, timeline.Minutes(cadence), timeline.Minutes(overdue)),
			})
		}
	}
	if cadence := CheckInCadence(s.Severity); cadence > 0 && s.Holders.Commander != "" {
		if since := now.Sub(s.DeclaredAt); since >= cadence {
			n := int64(since / cadence)
			out = append(out, Nudge{
				Kind: NudgeCheckIn,
				Role: Commander,
				User: s.Holders.Commander,
				Key:  fmt.Sprintf("%s/%d", NudgeCheckIn, n),
				Text: "OODA check-in: what are we seeing now (`observe`), what do we think it means (`orient`), what have we decided (`decide`), what are we doing (`act`)?",
			})
		}
	}
	last := s.LastActivityAt
	if last.IsZero() {
		last = s.DeclaredAt
	}
	if idle := now.Sub(last); idle >= StaleAfter {
		out = append(out, Nudge{
			Kind: NudgeStale,
			Role: Commander,
			User: s.Holders.Commander,
			Key:  fmt.Sprintf("%s/%d", NudgeStale, last.Unix()),
			Text: fmt.Sprintf("Nothing has been recorded for %s. If it is over, `/incident resolve`; if not, record where it stands with `/incident note <text>`.", timeline.Minutes(idle)),
		})
	}
	if c := s.Holders.Commander; c != "" && c == s.Holders.Ops {
		out = append(out, Nudge{
			Kind: NudgeCommanderHoldsOps,
			Role: Commander,
			User: c,
			Key:  fmt.Sprintf("%s/%s", NudgeCommanderHoldsOps, c),
			Text: "The Commander is also Ops. Hands on keyboards and the big picture pull against each other; hand Ops to someone with `/incident role ops @user` when you can.",
		})
	}
	return out
}

// PostmortemRequired reports whether an incident owes a published
// post-mortem: every customer-impacting incident does, and so does every
// SEV1 and SEV2, customers or not.
func PostmortemRequired(severity int, customerImpacting bool) bool {
	return customerImpacting || severity == 1 || severity == 2
}

// PostmortemRequired reports whether the incident owes a published
// post-mortem: by its severity or impact, or because it alone spent more
// of an error budget than the error-budget policy allows without one.
func (s Situation) PostmortemRequired() bool {
	return PostmortemRequired(s.Severity, s.CustomerImpacting) || s.BudgetBreached
}

// PostmortemReminderHour is the hour of the day (UTC) from which a
// post-mortem reminder is sent: working hours across Europe and the
// Americas' morning, rather than a ping at midnight.
const PostmortemReminderHour = 9

// PostmortemDueAt is when the post-mortem of an incident resolved at
// resolvedAt falls due: PostmortemReminderHour UTC on the first working day
// (Monday to Friday, UTC) after the day it was resolved. The day of the
// resolution itself is left to the people who just fought the incident.
func PostmortemDueAt(resolvedAt time.Time) time.Time {
	r := resolvedAt.UTC()
	day := time.Date(r.Year(), r.Month(), r.Day(), PostmortemReminderHour, 0, 0, 0, time.UTC)
	for {
		day = day.AddDate(0, 0, 1)
		if workingDay(day) {
			return day
		}
	}
}

// PostmortemOverdue reports whether the incident owes a post-mortem that
// is past due at now and not yet published.
func PostmortemOverdue(s Situation, now time.Time) bool {
	if s.Active || s.ResolvedAt.IsZero() || !s.PostmortemRequired() {
		return false
	}
	return !now.Before(PostmortemDueAt(s.ResolvedAt))
}

// postmortemDue is the reminder about an overdue post-mortem: once a
// working day, from PostmortemReminderHour UTC, addressed to the
// Commander, until the post-mortem is published (and ResolvedAt cleared).
// Its key is the day, so however often it is asked for it is sent once a
// day.
func postmortemDue(s Situation, now time.Time) (Nudge, bool) {
	now = now.UTC()
	if !PostmortemOverdue(s, now) || !workingDay(now) || now.Hour() < PostmortemReminderHour {
		return Nudge{}, false
	}
	why := fmt.Sprintf("SEV%d incidents get one", s.Severity)
	switch {
	case s.CustomerImpacting:
		why = "customer-impacting incidents get one"
	case !PostmortemRequired(s.Severity, s.CustomerImpacting) && s.BudgetBreached:
		why = "this incident alone spent more of an error budget than the error-budget policy allows without one"
	}
	days := workingDaysBetween(s.ResolvedAt, now)
	text := fmt.Sprintf("The post-mortem is due: %s, and this one was resolved on %s (%s).",
		why, s.ResolvedAt.UTC().Format("Mon 2 Jan"), plural(days, "working day ago", "working days ago"))
	if s.PostmortemDrafted {
		text += " The draft is bookmarked in this channel: edit it where your team publishes post-mortems, then record the link with `/incident postmortem publish <url>`."
	} else {
		text += " Start from the draft `/incident postmortem` writes from the timeline, then record where it is published with `/incident postmortem publish <url>`."
	}
	return Nudge{
		Kind: NudgePostmortemDue,
		Role: Commander,
		User: s.Holders.Commander,
		Key:  fmt.Sprintf("%s/%s", NudgePostmortemDue, now.Format(time.DateOnly)),
		Text: text,
	}, true
}

// workingDay reports whether t falls on Monday to Friday, UTC. Public
// holidays differ by team and country; they are not Ooda's to know.
func workingDay(t time.Time) bool {
	switch t.UTC().Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return true
}

// workingDaysBetween counts the working days after from's day up to and
// including to's day: 1 when to is the working day after from.
func workingDaysBetween(from, to time.Time) int {
	from, to = from.UTC(), to.UTC()
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	end := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	n := 0
	for d := start.AddDate(0, 0, 1); !d.After(end); d = d.AddDate(0, 0, 1) {
		if workingDay(d) {
			n++
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
