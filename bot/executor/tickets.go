package executor

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
)

// ticketBudget bounds one attempt at a ticket effect that has a settle
// time: its looks for the key, the owner's account, the create.
const ticketBudget = 2 * time.Minute

// errNoTracker fails a ticket effect when no tracker is configured: the
// item says so, and `/incident action ticket N` asks again once one is.
var errNoTracker = resilience.Permanent(errors.New("no tracker is configured; configure one, then ask again with /incident action ticket N"))

// ticket performs a ticket effect through Tickets.
func (e *Executor) ticket(ctx context.Context, pe incident.Pending) (result, error) {
	if e.cfg.Tickets == nil {
		return result{}, errNoTracker
	}
	decide, err := e.cfg.Tickets.Perform(ctx, pe)
	if err != nil {
		return result{}, err
	}
	return result{decide: decide}, nil
}

// ticketFailed records a ticket effect's failure for good.
func (e *Executor) ticketFailed(pe incident.Pending, err error, m incident.Meta) incident.Decider {
	if e.cfg.Tickets != nil {
		return e.cfg.Tickets.Failed(pe, err, m)
	}
	id, _ := strconv.Atoi(pe.Effect.Params[incident.ParamAction])
	return func(inc *incident.Incident) (incident.Change, error) {
		if pe.Effect.Kind != incident.EffectCreateTicket {
			return incident.Change{}, nil
		}
		return inc.TicketFailed(id, pe.Effect.Key, "no tracker is configured", m)
	}
}

// retryAfter is the wait a rate-limited err of fx's dependency asked for.
func (e *Executor) retryAfter(fx incident.Effect, err error) (time.Duration, bool) {
	if isTicket(fx.Kind) {
		if e.cfg.Tickets == nil {
			return 0, false
		}
		return e.cfg.Tickets.RetryAfter(err)
	}
	return e.cfg.Guard.RetryAfter(err)
}

// settle is the wait to write into pe's outbox entry before attempting it
// (Tickets.Settle); 0 for Slack's effects, which reconcile by metadata.
func (e *Executor) settle(ctx context.Context, pe incident.Pending) time.Duration {
	if e.cfg.Tickets == nil || !isTicket(pe.Effect.Kind) {
		return 0
	}
	return e.cfg.Tickets.Settle(ctx, pe)
}
