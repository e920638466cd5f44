package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
)

// TestClosedInTheTracker: a ticket closed in the tracker makes its item
// done, recorded once however many polls and deliveries tell it; reopened,
// the item is open again.
func TestClosedInTheTracker(t *testing.T) {
	r := newRig(t, rigOptions{})
	n, id := r.created()
	gh := r.fake("github")

	require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
	assert.Equal(t, []string{"ticket_created open"}, r.ticketEvents(n), "nothing changed")

	gh.setState("acme/ops", "1", tickets.StateClosed)
	require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
	require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
	h, body := signed(t, ghSecret, "acme/ops", "1", tickets.StateClosed)
	require.NoError(t, r.svc.Deliver(r.ctx, "github", h, body))
	h, body = signed(t, ghSecret, "ACME/Ops", "1", tickets.StateClosed) // spelled otherwise
	require.NoError(t, r.svc.Deliver(r.ctx, "github", h, body))

	a := r.item(n, id)
	assert.Equal(t, incident.ActionDone, a.Status)
	assert.True(t, a.ClosedByTicket)
	assert.Equal(t, incident.TicketClosed, a.Ticket.State)
	assert.Equal(t, []string{"ticket_created open", "ticket_state closed done"}, r.ticketEvents(n), "recorded once")
	assert.EqualValues(t, 1, r.notified.Load(), "the channel line is posted at once")
	assert.Empty(t, r.pendings(incident.EffectCloseTicket), "closed in the tracker: nothing to close back")

	// Still asked about (closed by its ticket, within the window), so a
	// reopen is heard.
	gh.setState("acme/ops", "1", tickets.StateOpen)
	require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
	assert.Equal(t, incident.ActionDone, r.item(n, id).Status,
		"read open moments after the close: more likely a search behind (Jira Cloud's) than a reopen")
	r.now = r.now.Add(tickets.CloseSettle)
	require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
	a = r.item(n, id)
	assert.Equal(t, incident.ActionOpen, a.Status)
	assert.Equal(t, incident.TicketOpen, a.Ticket.State)
	assert.Equal(t, []string{"ticket_created open", "ticket_state closed done", "ticket_state open reopen"}, r.ticketEvents(n))
}

// TestWebhookFirst: a delivery, then polls of the same close: once.
func TestWebhookFirst(t *testing.T) {
	r := newRig(t, rigOptions{})
	n, id := r.created()
	r.fake("github").setState("acme/ops", "1", tickets.StateClosed)
	h, body := signed(t, ghSecret, "acme/ops", "1", tickets.StateClosed)
	require.NoError(t, r.svc.Deliver(r.ctx, "github", h, body))
	require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
	assert.Equal(t, incident.ActionDone, r.item(n, id).Status)
	assert.Equal(t, []string{"ticket_created open", "ticket_state closed done"}, r.ticketEvents(n))
}

// TestPollAsksWhatMatters: open tickets, and closed ones that made their
// item done within the window; not those done by a person, nor those
// closed long ago; a hundred ids per States call.
func TestPollAsksWhatMatters(t *testing.T) {
	r := newRig(t, rigOptions{})
	gh := r.fake("github")
	n := r.declare("Checkout fails for EU cards", "search", false)
	for i := range tickets.BatchSize + 2 {
		r.addItem(n, fmt.Sprintf("Item %d", i+1), "")
	}
	for _, pe := range r.pendings(incident.EffectCreateTicket) {
		require.NoError(t, r.attempt(pe))
	}
	require.Len(t, gh.all(), tickets.BatchSize+2)
	// Item 1 done by a person in Ooda (its ticket closed from Ooda);
	// item 2 closed in the tracker, long ago.
	r.apply(n, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(1, m)
	})
	require.NoError(t, r.attempt(r.pending(incident.EffectCloseTicket)))
	gh.setState("acme/ops", "2", tickets.StateClosed)
	require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
	r.now = r.now.Add(tickets.ReopenWindow + time.Hour)

	gh.statesIn = nil
	require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
	require.Len(t, gh.statesIn, 1, "one batch: items 3 to 102")
	assert.Len(t, gh.statesIn[0], tickets.BatchSize)
	assert.NotContains(t, gh.statesIn[0], "1")
	assert.NotContains(t, gh.statesIn[0], "2")

	r.now = r.now.Add(-tickets.ReopenWindow)
	gh.statesIn = nil
	require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
	require.Len(t, gh.statesIn, 2, "101 tickets: two batches")
	assert.Len(t, gh.statesIn[0], tickets.BatchSize)
	assert.Len(t, gh.statesIn[1], 1)
}

// TestPollGoesOnPastAFailingTracker: one tracker down, the others still
// heard; the failure is returned, redacted.
func TestPollGoesOnPastAFailingTracker(t *testing.T) {
	r := newRig(t, rigOptions{})
	pub := r.declare("Search slow", "search", false)
	pay := r.declare("Card declines", "checkout", false)
	r.addItem(pub, "Tune the index", "")
	r.addItem(pay, "Alert on declines", "")
	for _, pe := range r.pendings(incident.EffectCreateTicket) {
		require.NoError(t, r.attempt(pe))
	}
	for range 3 {
		r.fake("github").fail("states", fmt.Errorf("dial https://api.github.example/?access_token=sekrit: %w", &resilience.HTTPStatusError{Code: 502}))
	}
	r.fake("jira").setState("PAY", "PAY-1", tickets.StateClosed)
	err := r.svc.Poller().PollOnce(r.ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "poll github acme/ops")
	assert.NotContains(t, err.Error(), "sekrit")
	assert.Equal(t, incident.ActionDone, r.item(pay, 1).Status, "jira heard though github failed")
	assert.Equal(t, incident.ActionOpen, r.item(pub, 1).Status)
}

// TestPollerRun polls at once and stops with its context.
func TestPollerRun(t *testing.T) {
	r := newRig(t, rigOptions{})
	n, id := r.created()
	r.fake("github").setState("acme/ops", "1", tickets.StateClosed)
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan error, 1)
	go func() { done <- r.svc.Poller().Run(ctx) }()
	select {
	case <-r.notifyCh:
	case <-time.After(time.Minute):
		t.Fatal("the poller recorded nothing within a minute")
	}
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, incident.ActionDone, r.item(n, id).Status)
}

// TestDeliverRefuses: deliveries the API must refuse, and those it must
// accept without doing anything.
func TestDeliverRefuses(t *testing.T) {
	r := newRig(t, rigOptions{})
	n, id := r.created()
	for _, tc := range []struct {
		name    string
		tracker string
		secret  string
		body    []byte
		want    error
	}{
		{name: "unknown tracker", tracker: "gitea", secret: ghSecret, want: tickets.ErrUnknownWebhook},
		{name: "tracker without a secret", tracker: "jira", secret: ghSecret, want: tickets.ErrUnknownWebhook},
		{name: "missing signature", tracker: "github", want: tickets.ErrBadSignature},
		{name: "invalid signature", tracker: "github", secret: "not-the-secret", want: tickets.ErrBadSignature},
		{name: "bad JSON", tracker: "github", secret: ghSecret, body: []byte("{"), want: tickets.ErrBadPayload},
		{name: "an event Ooda does not follow", tracker: "github", secret: ghSecret, body: []byte(`{}`)},
		{name: "a ticket Ooda does not track", tracker: "github", secret: ghSecret, body: []byte(`{"project":"acme/ops","id":"99","state":"closed"}`)},
		{name: "another project's ticket of that number", tracker: "github", secret: ghSecret, body: []byte(`{"project":"acme/web","id":"1","state":"closed"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, body := signed(t, tc.secret, "acme/ops", "1", tickets.StateClosed)
			if tc.body != nil {
				body = tc.body
			}
			err := r.svc.Deliver(r.ctx, tc.tracker, h, body)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
			assert.Equal(t, incident.ActionOpen, r.item(n, id).Status)
		})
	}
}

// TestPollAsksForWhatChangedSinceTheLastPoll: the first poll of a project
// asks from its oldest ticket; the next ones from the last successful
// poll (PollOverlap before it), and after a failure from the last that
// succeeded.
func TestPollAsksForWhatChangedSinceTheLastPoll(t *testing.T) {
	r := newRig(t, rigOptions{})
	n, id := r.created()
	gh := r.fake("github")
	created := r.item(n, id).CreatedAt
	poller := r.svc.Poller()

	first := r.now
	require.NoError(t, poller.PollOnce(r.ctx))
	r.now = r.now.Add(time.Hour)
	require.NoError(t, poller.PollOnce(r.ctx))
	gh.fail("states", errors.New("connection reset"))
	gh.fail("states", errors.New("connection reset"))
	gh.fail("states", errors.New("connection reset"))
	r.now = r.now.Add(time.Hour)
	require.Error(t, poller.PollOnce(r.ctx))
	r.now = r.now.Add(time.Hour)
	require.NoError(t, poller.PollOnce(r.ctx))

	gh.mu.Lock()
	defer gh.mu.Unlock()
	require.Equal(t, []time.Time{
		created,
		created, // the last poll, less the overlap, is before the ticket
		first.Add(time.Hour - tickets.PollOverlap),
	}, gh.statesSince, "the failed poll is not a poll to ask from")
}

// TestPollReadsATruncatedListingAPollAtATime: a tracker that stopped
// listing early (more changed than it reads in one poll) gives what it
// read, which is recorded, and the next poll asks from where it stopped,
// never skipping past it.
func TestPollReadsATruncatedListingAPollAtATime(t *testing.T) {
	r := newRig(t, rigOptions{})
	n, id := r.created()
	other := r.addItem(n, "Page on card declines", alice)
	require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
	gh := r.fake("github")
	poller := r.svc.Poller()
	gh.setState("acme/ops", "1", tickets.StateClosed)
	through := r.now.Add(30 * time.Minute)
	gh.mu.Lock()
	gh.truncate = []time.Time{through}
	gh.mu.Unlock()

	r.now = r.now.Add(time.Hour)
	require.NoError(t, poller.PollOnce(r.ctx), "a partial answer is an answer")
	assert.Equal(t, incident.ActionDone, r.item(n, id).Status, "what it read is recorded")
	assert.Equal(t, incident.ActionOpen, r.item(n, other).Status)
	assert.Equal(t, 1, gh.count("states"), "not retried by the guard")
	r.now = r.now.Add(time.Hour)
	require.NoError(t, poller.PollOnce(r.ctx))
	gh.mu.Lock()
	defer gh.mu.Unlock()
	require.Len(t, gh.statesSince, 2)
	assert.Equal(t, through.Add(-time.Minute), gh.statesSince[1], "the next poll asks from where the last stopped (a minute before), not from the last poll")
}

// TestStaleDeliveryIsReadAgain: a delivery carries the state it was sent
// with; a close redelivered after the ticket was reopened must not do the
// item again. The ticket is read again on delivery; when that read fails,
// the delivery's state is taken (GitHub does not resend a refused one).
func TestStaleDeliveryIsReadAgain(t *testing.T) {
	r := newRig(t, rigOptions{})
	n, id := r.created()
	gh := r.fake("github")
	gh.setState("acme/ops", "1", tickets.StateClosed)
	closed, body := signed(t, ghSecret, "acme/ops", "1", tickets.StateClosed)
	require.NoError(t, r.svc.Deliver(r.ctx, "github", closed, body))
	require.Equal(t, incident.ActionDone, r.item(n, id).Status)

	gh.setState("acme/ops", "1", tickets.StateOpen)
	h, reopened := signed(t, ghSecret, "acme/ops", "1", tickets.StateOpen)
	require.NoError(t, r.svc.Deliver(r.ctx, "github", h, reopened))
	require.Equal(t, incident.ActionOpen, r.item(n, id).Status)

	require.NoError(t, r.svc.Deliver(r.ctx, "github", closed, body), "the old close, redelivered")
	require.Equal(t, incident.ActionOpen, r.item(n, id).Status, "read again: it is open")

	// The tracker cannot be read: the delivery is believed.
	gh.setState("acme/ops", "1", tickets.StateClosed)
	gh.fail("states", errors.New("connection reset")) // one attempt: the tracker's request is waiting
	require.NoError(t, r.svc.Deliver(r.ctx, "github", closed, body))
	require.Equal(t, incident.ActionDone, r.item(n, id).Status)
}
