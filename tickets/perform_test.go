package tickets_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
)

// TestCreateExactlyOnce: whatever fails, and wherever, an item ends with
// one ticket, because every attempt finds by key before creating.
func TestCreateExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		faults  func(f *fakeTracker)
		retries int // attempts that defer before one completes
		creates int // Create calls in all
		// wait is what the deferred attempts ask the executor to wait:
		// the settle time after a create of unknown outcome, the
		// tracker's Retry-After, or nothing of its own (0).
		wait time.Duration
	}{
		{name: "first attempt", creates: 1},
		{name: "500 three times from Create, then 200", retries: 3, creates: 4, wait: tickets.SettleTime, faults: func(f *fakeTracker) {
			for range 3 {
				f.fail("create", &resilience.HTTPStatusError{Code: 500})
			}
		}},
		{name: "response lost after the ticket was created", retries: 1, creates: 1, wait: tickets.SettleTime, faults: func(f *fakeTracker) {
			f.loseAfter("create", io.ErrUnexpectedEOF)
		}},
		{name: "find fails on every attempt of the guard, then answers", retries: 1, creates: 1, faults: func(f *fakeTracker) {
			for range 3 { // the guard's three attempts
				f.fail("find", &resilience.HTTPStatusError{Code: 503})
			}
		}},
		{name: "rate limited", retries: 1, creates: 2, wait: 90 * time.Second, faults: func(f *fakeTracker) {
			f.fail("create", &resilience.RateLimitError{RetryAfter: 90e9})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{})
			gh := r.fake("github")
			if tc.faults != nil {
				tc.faults(gh)
			}
			n := r.declare("Checkout fails for EU cards", "search", false)
			id := r.addItem(n, "Alert on card declines", alice)
			for i := range tc.retries {
				err := r.attempt(r.pending(incident.EffectCreateTicket))
				require.Error(t, err, "attempt %d", i+1)
				require.NotErrorIs(t, err, resilience.ErrPermanent, "a failure that may pass defers the effect")
				wait, ok := r.svc.RetryAfter(err)
				assert.Equal(t, tc.wait, wait, "the wait the executor is asked for")
				assert.Equal(t, tc.wait != 0, ok)
				assert.Equal(t, "ticket pending", r.item(n, id).TicketLabel())
			}
			require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
			assert.Empty(t, r.pendings(incident.EffectCreateTicket))

			all := gh.all()
			require.Len(t, all, 1, "one ticket")
			assert.Equal(t, tc.creates, gh.count("create"))
			assert.Equal(t, "acme/ops", all[0].project)
			assert.Equal(t, "Alert on card declines", all[0].new.Title)
			assert.Equal(t, []string{"incident", "sev2", "P1"}, all[0].new.Labels)

			a := r.item(n, id)
			require.NotNil(t, a.Ticket)
			assert.Equal(t, incident.Ticket{
				State: incident.TicketOpen, Tracker: "github", Project: "acme/ops", ID: "1",
				URL: "https://tracker.example/acme/ops/1", Effect: a.Ticket.Effect,
			}, *a.Ticket)
			assert.Equal(t, "acme/ops#1 (open)", a.TicketLabel())
			assert.Equal(t, []string{"ticket_created open"}, r.ticketEvents(n), "recorded once")
		})
	}
}

// TestCreateFoundByKey: a ticket already carrying the effect's key (an
// attempt the process did not live to complete) is recorded, not created
// again.
func TestCreateFoundByKey(t *testing.T) {
	r := newRig(t, rigOptions{})
	gh := r.fake("github")
	n := r.declare("Checkout fails for EU cards", "search", false)
	id := r.addItem(n, "Alert on card declines", alice)
	pe := r.pending(incident.EffectCreateTicket)
	// The first process created the ticket and was killed before it
	// completed the effect: the outbox still holds it.
	_, err := r.svc.Perform(r.ctx, pe)
	require.NoError(t, err)
	require.Equal(t, 1, gh.count("create"))

	require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
	assert.Equal(t, 1, gh.count("create"), "found by key, not created again")
	assert.Len(t, gh.all(), 1)
	assert.Equal(t, "1", r.item(n, id).Ticket.ID)
	assert.Equal(t, []string{"ticket_created open"}, r.ticketEvents(n))
}

// TestCreateRoutes: a service's route wins over the default, in any case.
func TestCreateRoutes(t *testing.T) {
	r := newRig(t, rigOptions{})
	n := r.declare("Card declines", "CHECKOUT", false)
	id := r.addItem(n, "Alert on card declines", alice)
	require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
	assert.Empty(t, r.fake("github").all())
	j := r.fake("jira").all()
	require.Len(t, j, 1)
	assert.Equal(t, "PAY", j[0].project)
	assert.Contains(t, j[0].new.Body, "[INC-1|https://ooda.example/incidents/1]", "Jira wiki links")
	assert.Equal(t, "PAY-1 (open)", r.item(n, id).TicketLabel())
}

// TestCreateFailsForGood: a permanent refusal fails the ticket, says why
// on the item and in the timeline, and asks nothing more of the tracker.
func TestCreateFailsForGood(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config func(c *tickets.Config)
		fault  func(f *fakeTracker)
		reason string
	}{
		{
			name: "refused by the tracker",
			fault: func(f *fakeTracker) {
				f.fail("create", resilience.Permanent(errors.New("GitHub refused (403): the token may not create issues in acme/ops")))
			},
			reason: "GitHub refused (403): the token may not create issues in acme/ops",
		},
		{
			name:   "404 on find",
			fault:  func(f *fakeTracker) { f.fail("find", &resilience.HTTPStatusError{Code: 404}) },
			reason: "find the ticket in github acme/ops",
		},
		{
			name:   "not routed",
			config: func(c *tickets.Config) { c.Default = nil },
			reason: "no tracker route for service search and no default route; add one under tickets: in the config",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			if tc.config != nil {
				tc.config(&c)
			}
			r := newRig(t, rigOptions{config: c})
			gh := r.fake("github")
			if tc.fault != nil {
				tc.fault(gh)
			}
			n := r.declare("Checkout fails for EU cards", "search", false)
			id := r.addItem(n, "Alert on card declines", alice)
			err := r.attempt(r.pending(incident.EffectCreateTicket))
			require.ErrorIs(t, err, resilience.ErrPermanent)
			assert.Empty(t, r.pendings(incident.EffectCreateTicket))
			assert.Empty(t, gh.all())

			a := r.item(n, id)
			require.NotNil(t, a.Ticket)
			assert.Equal(t, incident.TicketFailed, a.Ticket.State)
			assert.Contains(t, a.Ticket.Error, tc.reason)
			evs := r.ticketEvents(n)
			require.Len(t, evs, 1)
			assert.Equal(t, "ticket_failed", evs[0], "the failure is in the timeline")
		})
	}
}

// TestCreateNothingToDo: an effect whose item no longer waits for it does
// nothing and asks nothing.
func TestCreateNothingToDo(t *testing.T) {
	r := newRig(t, rigOptions{})
	n, id := r.created()
	gh := r.fake("github")
	// A replayed effect, as if completed twice.
	pe := incident.Pending{Effect: incident.Effect{
		Key: r.item(n, id).Ticket.Effect, Kind: incident.EffectCreateTicket, Incident: n,
		Params: map[string]string{incident.ParamAction: "1"},
	}}
	decide, err := r.svc.Perform(r.ctx, pe)
	require.NoError(t, err)
	assert.Nil(t, decide)
	assert.Equal(t, 1, gh.count("find"))
}

// TestClose: done in Ooda comments on the ticket and closes it; a ticket
// already closed is recorded without a comment; an item reopened since is
// left alone.
func TestClose(t *testing.T) {
	done := func(r *rig, n uint64, id int) {
		r.apply(n, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			m.Actor = bob
			return inc.MarkActionDone(id, m)
		})
	}
	t.Run("done", func(t *testing.T) {
		r := newRig(t, rigOptions{})
		n, id := r.created()
		done(r, n, id)
		require.NoError(t, r.attempt(r.pending(incident.EffectCloseTicket)))
		tk := r.fake("github").all()[0]
		assert.Equal(t, tickets.StateClosed, tk.t.State)
		assert.Equal(t, tickets.CloseDone, tk.how)
		assert.Equal(t, []string{"Marked done in Ooda by Bob Li in INC-1."}, tk.comments)
		assert.Equal(t, incident.TicketClosed, r.item(n, id).Ticket.State)
		assert.Equal(t, incident.ActionDone, r.item(n, id).Status)
	})
	t.Run("won't do, private", func(t *testing.T) {
		r := newRig(t, rigOptions{})
		n := r.declare("Payroll data exposed", "search", true)
		id := r.addItem(n, "Rotate the keys", alice)
		require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
		r.apply(n, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.MarkActionWontDo(id, "superseded by the vault migration", m)
		})
		require.NoError(t, r.attempt(r.pending(incident.EffectCloseTicket)))
		tk := r.fake("github").all()[0]
		assert.Equal(t, tickets.CloseWontDo, tk.how)
		assert.Equal(t, []string{"Marked won't do in Ooda by Alice Chen in INC-1."}, tk.comments)
		assert.NotContains(t, tk.comments[0], "Payroll")
		assert.NotContains(t, tk.comments[0], "vault", "a private incident's reason stays in its channel")
	})
	t.Run("closed already: no comment", func(t *testing.T) {
		r := newRig(t, rigOptions{})
		n, id := r.created()
		done(r, n, id)
		// An earlier attempt closed it and lost the answer.
		r.fake("github").setState("acme/ops", "1", tickets.StateClosed)
		require.NoError(t, r.attempt(r.pending(incident.EffectCloseTicket)))
		assert.Empty(t, r.fake("github").all()[0].comments)
		assert.Equal(t, 0, r.fake("github").count("close"))
		assert.Equal(t, incident.TicketClosed, r.item(n, id).Ticket.State)
	})
	t.Run("close fails, then passes: one comment when the comment failed", func(t *testing.T) {
		r := newRig(t, rigOptions{})
		n, id := r.created()
		done(r, n, id)
		r.fake("github").fail("comment", &resilience.HTTPStatusError{Code: 502})
		require.Error(t, r.attempt(r.pending(incident.EffectCloseTicket)))
		require.NoError(t, r.attempt(r.pending(incident.EffectCloseTicket)))
		assert.Len(t, r.fake("github").all()[0].comments, 1)
		assert.Equal(t, incident.TicketClosed, r.item(n, id).Ticket.State)
	})
	t.Run("reopened since", func(t *testing.T) {
		r := newRig(t, rigOptions{})
		n, id := r.created()
		done(r, n, id)
		r.apply(n, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.ReopenAction(id, m) })
		require.NoError(t, r.attempt(r.pending(incident.EffectCloseTicket)))
		assert.Equal(t, tickets.StateOpen, r.fake("github").all()[0].t.State)
		assert.Equal(t, 0, r.fake("github").count("comment"))
	})
	t.Run("fails for good", func(t *testing.T) {
		r := newRig(t, rigOptions{})
		n, id := r.created()
		done(r, n, id)
		r.fake("github").fail("comment", resilience.Permanent(errors.New("GitHub refused (403): the token may not comment")))
		require.ErrorIs(t, r.attempt(r.pending(incident.EffectCloseTicket)), resilience.ErrPermanent)
		evs := r.ticketEvents(n)
		require.NotEmpty(t, evs)
		assert.Equal(t, "ticket_close_failed", evs[len(evs)-1], "told on the item, in the timeline people read")
		a := r.item(n, id)
		assert.Equal(t, incident.TicketOpen, a.Ticket.State)
		assert.Contains(t, a.Ticket.Error, "GitHub refused (403): the token may not comment")
		assert.Contains(t, a.TicketLabel(), "acme/ops#1 (open; close failed: ")
	})
}

// TestRetryAfter reads the wait a rate-limited tracker asked for through
// the guard's error.
func TestRetryAfter(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.fake("github").fail("create", &resilience.RateLimitError{RetryAfter: 90e9})
	n := r.declare("Checkout fails for EU cards", "search", false)
	r.addItem(n, "Alert on card declines", alice)
	err := r.attempt(r.pending(incident.EffectCreateTicket))
	require.Error(t, err)
	d, ok := r.svc.RetryAfter(err)
	require.True(t, ok)
	assert.Equal(t, 90e9, float64(d))
}

// TestRetriedRequestFindsTheFailedOnesTicket: a create that landed with
// its answer lost, then a failure for good on the next attempt (the token
// lost its access); once that is fixed, `/incident action ticket N`
// finds the first request's ticket instead of opening a second.
func TestRetriedRequestFindsTheFailedOnesTicket(t *testing.T) {
	r := newRig(t, rigOptions{})
	gh := r.fake("github")
	n := r.declare("Checkout fails for EU cards", "search", false)
	id := r.addItem(n, "Alert on card declines", alice)
	gh.loseAfter("create", io.ErrUnexpectedEOF)
	require.Error(t, r.attempt(r.pending(incident.EffectCreateTicket)))
	gh.fail("find", resilience.Permanent(errors.New("GitHub refused (403): the token may not read acme/ops")))
	require.ErrorIs(t, r.attempt(r.pending(incident.EffectCreateTicket)), resilience.ErrPermanent)
	require.Equal(t, incident.TicketFailed, r.item(n, id).Ticket.State)
	require.Len(t, gh.all(), 1, "the first create landed")

	r.apply(n, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.RequestTicket(id, m)
	})
	require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
	require.Len(t, gh.all(), 1, "found by the failed request's key, not opened again")
	require.Equal(t, 1, gh.count("create"))
	require.Equal(t, incident.TicketOpen, r.item(n, id).Ticket.State)
}
