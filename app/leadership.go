package app

import "context"

// Leadership decides when this process may run the work that must run in
// exactly one place: the effects executor, the scheduler (reminders,
// dedupe expiry, the SLO monitor and the budget bookkeeping) and the
// executor's catch-up. With the embedded bbolt store only one process can
// open the database, so Always grants it at once and for good; with
// several replicas an election grants it to one of them.
type Leadership interface {
	// Lead blocks until this process may run the gated work, or ctx ends.
	// The context it returns is cancelled as soon as that right is lost
	// (or ctx ends): the work must stop then, and Lead may be called
	// again to campaign anew.
	Lead(ctx context.Context) (context.Context, error)
}

// Always is the Leadership of a process that is alone: it leads at once
// and until its context ends.
type Always struct{}

// Lead returns ctx itself.
func (Always) Lead(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ctx, nil
}

var _ Leadership = Always{}
