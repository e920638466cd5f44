package executor

import (
	"cmp"
	"context"
	"slices"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/incident"
)

// actionsDue writes a person's overdue-items reminder (an actions_due
// direct message) from the items as they are when it is sent: every item
// still open, the person's, and overdue on the reminder's day, of an
// incident the person may see (a private incident is named only to its
// members). The effect names no items: it is kept in one incident's
// outbox, which must not carry another (possibly private) incident's
// numbers. left is false when there is none: the reminder is then not
// sent.
func (e *Executor) actionsDue(ctx context.Context, fx incident.Effect) (msg blockkit.Message, left bool, err error) {
	user, day := fx.Target, fx.Params[incident.ParamDay]
	incs, err := e.cfg.Store.Incidents(ctx, true)
	if err != nil {
		return blockkit.Message{}, false, storeErr("read incidents", err)
	}
	var groups []blockkit.DueGroup
	for _, inc := range incs {
		if !inc.Admits(user) {
			continue
		}
		var items []incident.Action
		for _, a := range inc.Actions {
			if a.Owner == user && a.Overdue(day) {
				items = append(items, a)
			}
		}
		if len(items) == 0 {
			continue
		}
		slices.SortStableFunc(items, func(x, y incident.Action) int { return cmp.Compare(x.Due, y.Due) })
		groups = append(groups, blockkit.DueGroup{Incident: inc, Items: items})
	}
	if len(groups) == 0 {
		return blockkit.Message{}, false, nil
	}
	// The most overdue first, as the reminder job ordered them.
	slices.SortStableFunc(groups, func(x, y blockkit.DueGroup) int {
		return cmp.Or(cmp.Compare(x.Items[0].Due, y.Items[0].Due), cmp.Compare(x.Incident.Number, y.Incident.Number))
	})
	return blockkit.ActionsDue(day, groups), true, nil
}
