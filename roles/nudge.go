package roles

import (
	"fmt"
	"time"
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
)

// Situation is what the nudge policy needs to know about an incident.
type Situation struct {
	Severity   int
	Active     bool // false once resolved or closed: nobody is nudged then
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
				Text: fmt.Sprintf("Nobody has been Commander for %s. Take it with `/incident role commander @you`.", roundMinutes(now.Sub(since))),
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
				Text: fmt.Sprintf("A stakeholder update is due: SEV%d incidents get one every %s, and the last was %s ago. Post it with `/incident update <text>`.", s.Severity, roundMinutes(cadence), roundMinutes(overdue)),
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
			Text: fmt.Sprintf("Nothing has been recorded for %s. If it is over, `/incident resolve`; if not, record where it stands with `/incident note <text>`.", roundMinutes(idle)),
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

// roundMinutes renders d as people say it: "7 min", "1 h 05 min".
func roundMinutes(d time.Duration) string {
	m := int(d / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %02d min", m/60, m%60)
}
