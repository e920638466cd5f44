package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ooda-sre/ooda/incident"
)

// ActionRemindHour is the hour of a working day, in the owner's zone,
// from which they are reminded of their overdue items: at the start of
// their day, not at midnight.
const ActionRemindHour = 9

// ActionReminders reminds people of the action items they own that are
// overdue: one direct message a person on each of their working days
// (Monday to Friday in their own time zone) while any is, naming every
// such item of every incident they may see. Nothing is sent for a done or
// dropped item, nor on a weekend. The reminder is recorded on the
// incident of the person's most overdue item, closed or not: follow-up
// work outlives its incident.
type ActionReminders struct {
	Store     incident.Store
	Committed func() // wakes the executor; nil does nothing
	// Zones tells each person's time zone (their Slack profile's); nil,
	// or an unknown person, is UTC.
	Zones incident.Zones
}

// ActionsKey is the idempotency key of user's reminder on day (theirs):
// whichever incident records it, a person is reminded once a day.
func ActionsKey(user, day string) string { return "remind-actions:" + user + ":" + day }

// Tick reminds, at now, every owner of an overdue item whose working day
// has started, once per day of theirs; it returns how many reminders it
// queued. Run it as often as you like: the reminder's key makes a second
// one the same day a duplicate.
//
// An item is the owner's to hear about only when they may see its
// incident: a private incident whose channel they are not in does not
// exist for them, so it is neither named nor counted.
func (r *ActionReminders) Tick(ctx context.Context, now time.Time) (int, error) {
	incs, err := r.Store.Incidents(ctx, true)
	if err != nil {
		return 0, fmt.Errorf("action reminders: %w", err)
	}
	// Overdue items, most overdue first; each owner's then grouped by
	// incident in that order, for the message.
	byOwner := map[string][]incident.ActionItem{}
	var owners []string
	for _, it := range incident.ActionItems(incs, incident.ActionFilter{Overdue: true}, now, r.Zones) {
		owner := it.Action.Owner
		if !incident.IsPerson(owner) || !it.Incident.Admits(owner) {
			continue
		}
		local := now.In(r.Zones.Of(owner))
		if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday || local.Hour() < ActionRemindHour {
			continue
		}
		if _, ok := byOwner[owner]; !ok {
			owners = append(owners, owner)
		}
		byOwner[owner] = append(byOwner[owner], it)
	}
	sent := 0
	var errs []error
	for _, owner := range owners {
		refs := groupByIncident(byOwner[owner])
		day := incident.Day(now, r.Zones.Of(owner))
		queued, err := remind(ctx, r.Store, refs[0].Incident, ActionsKey(owner, day), now,
			func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
				return inc.RemindActions(owner, day, refs, m)
			})
		if err != nil {
			errs = append(errs, fmt.Errorf("remind %s of their action items: %w", owner, err))
			continue
		}
		if queued {
			sent++
		}
	}
	if sent > 0 && r.Committed != nil {
		r.Committed()
	}
	return sent, errors.Join(errs...)
}

// groupByIncident orders one owner's items incident by incident, each
// incident where its most overdue item came, keeping the order within.
func groupByIncident(items []incident.ActionItem) []incident.ActionRef {
	var order []uint64
	for _, it := range items {
		if !slices.Contains(order, it.Incident.Number) {
			order = append(order, it.Incident.Number)
		}
	}
	refs := make([]incident.ActionRef, 0, len(items))
	for _, n := range order {
		for _, it := range items {
			if it.Incident.Number == n {
				refs = append(refs, incident.ActionRef{Incident: n, Action: it.Action.ID})
			}
		}
	}
	return refs
}
