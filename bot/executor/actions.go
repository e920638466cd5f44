package executor

import (
	"context"
	"errors"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/incident"
)

// actionsDue writes a person's overdue-items reminder (an actions_due
// direct message) from the items as they are when it is sent: those the
// reminder names that are still open, still the person's, still overdue
// on the reminder's day, and of an incident the person may see (a
// private incident is named only to its members). left is false when
// none is: the reminder is then not sent.
func (e *Executor) actionsDue(ctx context.Context, fx incident.Effect) (msg blockkit.Message, left bool, err error) {
	user, day := fx.Target, fx.Params[incident.ParamDay]
	var groups []blockkit.DueGroup
	read := map[uint64]*incident.Incident{}
	for _, ref := range incident.ParseActionRefs(fx.Params[incident.ParamItems]) {
		inc, ok := read[ref.Incident]
		if !ok {
			got, err := e.cfg.Store.Incident(ctx, ref.Incident)
			switch {
			case errors.Is(err, incident.ErrNotFound):
			case err != nil:
				return blockkit.Message{}, false, storeErr("read incident", err)
			default:
				inc = &got
			}
			read[ref.Incident] = inc
		}
		if inc == nil || !inc.Admits(user) {
			continue
		}
		a, ok := inc.Action(ref.Action)
		if !ok || a.Owner != user || !a.Overdue(day) {
			continue
		}
		if n := len(groups); n > 0 && groups[n-1].Incident.Number == inc.Number {
			groups[n-1].Items = append(groups[n-1].Items, a)
		} else {
			groups = append(groups, blockkit.DueGroup{Incident: *inc, Items: []incident.Action{a}})
		}
	}
	if len(groups) == 0 {
		return blockkit.Message{}, false, nil
	}
	return blockkit.ActionsDue(day, groups), true, nil
}
