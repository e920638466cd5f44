package executor

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
)

// fakeTickets is the executor's Tickets with scripted answers: each
// Perform takes the next error (nil: the ticket is opened).
type fakeTickets struct {
	mu     sync.Mutex
	errs   []error
	seen   []incident.Pending // what each Perform was given
	nextAt []time.Time        // the outbox entry's NextAt while Perform ran
	db     incident.Outbox
	settle time.Duration
}

func (f *fakeTickets) Perform(ctx context.Context, pe incident.Pending) (incident.Decider, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, pe)
	ps, err := f.db.Pending(ctx, 1000)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.OutboxSeq == pe.OutboxSeq {
			f.nextAt = append(f.nextAt, p.NextAt)
		}
	}
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		if err != nil {
			return nil, err
		}
	}
	id := pe.Effect.Params[incident.ParamAction]
	key := pe.Effect.Key
	m := incident.Meta{At: time.Now(), Actor: incident.Bot, Source: "system", Key: key + ":created"}
	return func(inc *incident.Incident) (incident.Change, error) {
		return inc.TicketCreated(atoi(id), key, incident.Ticket{Tracker: "gh", Project: "acme/ops", ID: "1", URL: "https://gh.example/acme/ops/issues/1", State: incident.TicketOpen}, m)
	}, nil
}

func (f *fakeTickets) Failed(pe incident.Pending, err error, m incident.Meta) incident.Decider {
	return func(inc *incident.Incident) (incident.Change, error) {
		return inc.TicketFailed(atoi(pe.Effect.Params[incident.ParamAction]), pe.Effect.Key, err.Error(), m)
	}
}

// errSettle stands for a create of unknown outcome: wait a minute.
var errSettle = errors.New("create timed out")

func (f *fakeTickets) RetryAfter(err error) (time.Duration, bool) {
	if errors.Is(err, errSettle) {
		return time.Minute, true
	}
	return 0, false
}

func (f *fakeTickets) Settle(context.Context, incident.Pending) time.Duration { return f.settle }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// withTickets gives the harness's executor Tickets t.
func (h *harness) withTickets(t *fakeTickets) {
	h.t.Helper()
	t.db = h.db
	e, err := New(Config{
		Store: h.db, Outbox: h.db, Slack: h.api, Guard: h.guard, AnnounceChannel: h.announce,
		Now: h.clock.Now, Registerer: nil, Backoff: Backoff{Rand: func() float64 { return 0.5 }},
		Tickets: t,
	})
	require.NoError(h.t, err)
	h.exec = e
}

// TestTicketsHaveALaneOfTheirOwn: a tracker that fails holds back the
// incident's tickets, never its Slack effects; each attempt is marked in
// the outbox with the settle time before it is made, so a process killed
// mid-call does not retry at once; the wait a failure asks for is kept.
func TestTicketsHaveALaneOfTheirOwn(t *testing.T) {
	h := newHarness(t)
	tk := &fakeTickets{settle: 2 * time.Minute, errs: []error{errSettle, errSettle}}
	h.withTickets(tk)
	inc := h.declare("Checkout down", false)
	h.apply(inc.Number, alice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddActionItem(incident.NewAction{Text: "alert on pool saturation", Ticket: true}, m)
	})
	h.note(inc.Number, "after the item")

	start := h.clock.Now()
	h.drain()
	got, err := h.db.Incident(h.ctx, inc.Number)
	require.NoError(t, err)
	require.NotEmpty(t, got.ChannelID, "the channel is made while the ticket waits")
	require.Len(t, tk.seen, 1)
	require.Equal(t, []time.Time{start.Add(2*time.Minute + ticketBudget)}, tk.nextAt, "marked with the settle time and the attempt's budget before it was sent")
	_, queued, down := h.exec.SlackDown()
	require.False(t, down, "a tracker's failure says nothing about Slack")
	require.Zero(t, queued, "the waiting ticket is not Slack's backlog")

	ps, err := h.db.Pending(h.ctx, 100)
	require.NoError(t, err)
	require.Len(t, ps, 1, "only the ticket waits")
	require.Equal(t, incident.EffectCreateTicket, ps[0].Effect.Kind)
	require.Equal(t, start.Add(time.Minute), ps[0].NextAt, "the wait the failure asked for")

	h.drain()
	require.Len(t, tk.seen, 1, "not due yet")
	h.clock.Advance(time.Minute)
	h.drain()
	require.Len(t, tk.seen, 2)
	h.clock.Advance(time.Minute)
	h.drain()
	require.Len(t, tk.seen, 3)
	h.drain() // the line telling the ticket
	ps, err = h.db.Pending(h.ctx, 100)
	require.NoError(t, err)
	require.Empty(t, ps)
	got, err = h.db.Incident(h.ctx, inc.Number)
	require.NoError(t, err)
	require.Equal(t, incident.TicketOpen, got.Actions[0].Ticket.State)
	require.Zero(t, got.FailedEffects)
}

// TestTicketFailsForGood: a permanent failure is recorded by Tickets on
// the item, and the lane goes on.
func TestTicketFailsForGood(t *testing.T) {
	h := newHarness(t)
	tk := &fakeTickets{errs: []error{resilience.Permanent(errors.New("GitHub refused (404): no repository acme/ops"))}}
	h.withTickets(tk)
	inc := h.declare("Checkout down", false)
	h.apply(inc.Number, alice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddActionItem(incident.NewAction{Text: "alert on pool saturation", Ticket: true}, m)
	})
	h.drain()
	h.drain()
	got, err := h.db.Incident(h.ctx, inc.Number)
	require.NoError(t, err)
	require.Equal(t, incident.TicketFailed, got.Actions[0].Ticket.State)
	require.Contains(t, got.Actions[0].Ticket.Error, "no repository acme/ops")
	require.Zero(t, got.FailedEffects, "not a Slack failure")
}
