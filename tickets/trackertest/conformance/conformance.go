// Package conformance is the suite every tickets.Tracker runs against its
// fake from trackertest, in the manner of Alertmanager's notify/test: one
// table of the behaviour the outbox relies on, held against each tracker.
// It is imported by tests only; it must not import an adapter.
package conformance

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
	"github.com/ooda-sre/ooda/tickets/trackertest"
)

// Subject is one tracker against its fake, for Run.
type Subject struct {
	Fake trackertest.Fake
	// Project exists in Fake; Missing does not.
	Project string
	Missing string
	// New builds the tracker against Fake with token, calling through
	// client.
	New func(token string, client *http.Client) (tickets.Tracker, error)
}

// Run holds a tracker to the behaviour every tickets.Tracker owes the
// outbox, against its fake, with calls made through a real
// resilience.Guard whose waits return at once. start builds a fresh
// subject for each case.
func Run(t *testing.T, start func(t *testing.T) Subject) {
	t.Run("create then find by key", func(t *testing.T) {
		h := newHarness(t, start, time.Minute)
		created := h.attempt(t, "INC-3/12/create_ticket")
		require.NotEmpty(t, created.ID)
		require.NotEmpty(t, created.URL)
		require.Equal(t, tickets.StateOpen, created.State)

		found, ok, err := h.find(t, "INC-3/12/create_ticket")
		require.NoError(t, err)
		require.True(t, ok, "Find must find the ticket Create opened")
		require.Equal(t, created.ID, found.ID)
		require.Equal(t, created.URL, found.URL)

		all := h.s.Fake.Tickets()
		require.Len(t, all, 1)
		require.Contains(t, all[0].Body, tickets.Marker("INC-3/12/create_ticket"))
		require.Equal(t, "Restore the failover runbook", all[0].Title)
	})

	t.Run("find reports none", func(t *testing.T) {
		h := newHarness(t, start, time.Minute)
		_, ok, err := h.find(t, "INC-3/12/create_ticket")
		require.NoError(t, err)
		require.False(t, ok)

		h.attempt(t, "INC-3/12/create_ticket")
		_, ok, err = h.find(t, "INC-3/1/create_ticket")
		require.NoError(t, err)
		require.False(t, ok, "a key must not match another key it is a prefix of")
	})

	t.Run("three 500s then success: one ticket", func(t *testing.T) {
		h := newHarness(t, start, time.Minute)
		h.s.Fake.Fail(trackertest.EndpointCreate, http.StatusInternalServerError, 3)
		var last error
		for range 3 {
			_, last = h.tryAttempt(t, "INC-3/12/create_ticket")
			require.Error(t, last)
			require.Equal(t, resilience.ClassRetryable, resilience.Classify(last), "a 500 must be retryable: %v", last)
		}
		tk, err := h.tryAttempt(t, "INC-3/12/create_ticket")
		require.NoError(t, err)
		require.NotEmpty(t, tk.ID)
		require.Len(t, h.s.Fake.Tickets(), 1)
		require.Equal(t, 4, h.s.Fake.Calls(trackertest.EndpointCreate), "Create is not idempotent: the guard must not retry it")
	})

	t.Run("lost response: the next attempt finds the ticket", func(t *testing.T) {
		h := newHarness(t, start, time.Minute)
		h.s.Fake.LoseResponse(trackertest.EndpointCreate, 1)
		_, err := h.tryAttempt(t, "INC-3/12/create_ticket")
		require.Error(t, err)
		require.Len(t, h.s.Fake.Tickets(), 1, "the fake performs the create before dropping the answer")

		tk, err := h.tryAttempt(t, "INC-3/12/create_ticket")
		require.NoError(t, err)
		require.Equal(t, h.s.Fake.Tickets()[0].ID, tk.ID)
		require.Len(t, h.s.Fake.Tickets(), 1)
		require.Equal(t, 1, h.s.Fake.Calls(trackertest.EndpointCreate))
	})

	t.Run("rate limit carries Retry-After", func(t *testing.T) {
		h := newHarness(t, start, time.Minute)
		h.s.Fake.RateLimit(trackertest.EndpointCreate, 7*time.Second, 1)
		_, err := h.create(t, "INC-3/12/create_ticket")
		require.Error(t, err)
		require.Equal(t, resilience.ClassRateLimited, resilience.Classify(err), "%v", err)
		wait, ok := resilience.RetryAfter(err)
		require.True(t, ok, "the error must carry the wait: %v", err)
		require.Equal(t, 7*time.Second, wait)
		require.Empty(t, h.s.Fake.Tickets())
	})

	t.Run("bad token is permanent and never shown", func(t *testing.T) {
		const bad = "not-the-token-0123456789"
		h := newHarness(t, start, time.Minute, bad)
		_, err := h.create(t, "INC-3/12/create_ticket")
		require.Error(t, err)
		require.ErrorIs(t, err, resilience.ErrPermanent, "%v", err)
		require.Contains(t, err.Error(), "401")
		require.Contains(t, err.Error(), "refused:")
		require.NotContains(t, err.Error(), bad)
		require.NotContains(t, err.Error(), h.s.Fake.Token())
	})

	t.Run("missing project is permanent", func(t *testing.T) {
		h := newHarness(t, start, time.Minute)
		tk, err := h.tr.Create(t.Context(), h.s.Missing, newTicket("INC-3/12/create_ticket"))
		require.Error(t, err, "got %+v", tk)
		require.ErrorIs(t, err, resilience.ErrPermanent, "%v", err)
		require.Contains(t, err.Error(), "refused:")
		require.NotContains(t, err.Error(), h.s.Fake.Token())
	})

	t.Run("states in one request", func(t *testing.T) {
		h := newHarness(t, start, time.Minute)
		since := time.Now().Add(-time.Hour)
		a := h.attempt(t, "INC-3/1/create_ticket")
		b := h.attempt(t, "INC-3/2/create_ticket")
		c := h.attempt(t, "INC-3/3/create_ticket")
		require.NoError(t, h.s.Fake.CloseTicket(h.s.Project, b.ID))
		gone := missingID(c.ID)

		before := h.s.Fake.Calls(trackertest.EndpointList)
		var got map[string]tickets.Ticket
		err := h.g.Do(t.Context(), resilience.Op{Method: "states", Idempotent: true}, func(ctx context.Context) error {
			var err error
			got, err = h.tr.States(ctx, h.s.Project, []string{a.ID, b.ID, c.ID, gone}, since)
			return err
		})
		require.NoError(t, err)
		require.Equal(t, 1, h.s.Fake.Calls(trackertest.EndpointList)-before, "States makes one request")
		require.Len(t, got, 3, "an id the tracker does not have is left out: %v", got)
		require.Equal(t, tickets.StateOpen, got[a.ID].State)
		require.Equal(t, tickets.StateClosed, got[b.ID].State)
		require.Equal(t, tickets.StateOpen, got[c.ID].State)
		require.Equal(t, b.URL, got[b.ID].URL)
	})

	t.Run("comment and close", func(t *testing.T) {
		h := newHarness(t, start, time.Minute)
		tk := h.attempt(t, "INC-3/12/create_ticket")
		op := resilience.Op{Method: "comment"}
		require.NoError(t, h.g.Do(t.Context(), op, func(ctx context.Context) error {
			return h.tr.Comment(ctx, h.s.Project, tk.ID, "Closed from Ooda: the incident's action item is done.")
		}))
		for range 2 { // closing a closed ticket succeeds
			require.NoError(t, h.g.Do(t.Context(), resilience.Op{Method: "close", Idempotent: true}, func(ctx context.Context) error {
				return h.tr.Close(ctx, h.s.Project, tk.ID, tickets.CloseDone)
			}))
		}
		got := h.s.Fake.Tickets()[0]
		require.Equal(t, []string{"Closed from Ooda: the incident's action item is done."}, got.Comments)
		require.Equal(t, tickets.StateClosed, got.State)
	})

	t.Run("webhook", func(t *testing.T) {
		h := newHarness(t, start, time.Minute)
		tk := h.attempt(t, "INC-3/12/create_ticket")
		secret := []byte("s3cret-webhook")

		require.NoError(t, h.s.Fake.CloseTicket(h.s.Project, tk.ID))
		hdr, body, err := h.s.Fake.SignedWebhook(h.s.Project, tk.ID, secret)
		require.NoError(t, err)
		changes, err := h.tr.Webhook(hdr, body, secret)
		require.NoError(t, err)
		require.Equal(t, []tickets.Change{{Project: h.s.Project, ID: tk.ID, URL: tk.URL, State: tickets.StateClosed}}, changes)

		require.NoError(t, h.s.Fake.ReopenTicket(h.s.Project, tk.ID))
		hdr, body, err = h.s.Fake.SignedWebhook(h.s.Project, tk.ID, secret)
		require.NoError(t, err)
		changes, err = h.tr.Webhook(hdr, body, secret)
		require.NoError(t, err)
		require.Equal(t, []tickets.Change{{Project: h.s.Project, ID: tk.ID, URL: tk.URL, State: tickets.StateOpen}}, changes)

		wrong, wbody, err := h.s.Fake.SignedWebhook(h.s.Project, tk.ID, []byte("another-secret"))
		require.NoError(t, err)
		unsigned, ubody, err := h.s.Fake.SignedWebhook(h.s.Project, tk.ID, nil)
		require.NoError(t, err)
		for name, c := range map[string]struct {
			h      http.Header
			body   []byte
			secret []byte
		}{
			"wrong secret":               {wrong, wbody, secret},
			"unsigned":                   {unsigned, ubody, secret},
			"garbage body, wrong secret": {wrong, []byte("{{{ not json"), secret},
			"no secret configured":       {hdr, body, nil},
		} {
			t.Run(name, func(t *testing.T) {
				changes, err := h.tr.Webhook(c.h, c.body, c.secret)
				require.ErrorIs(t, err, tickets.ErrBadSignature)
				require.Empty(t, changes)
			})
		}
	})

	t.Run("hang: the attempt's timeout fires", func(t *testing.T) {
		h := newHarness(t, start, 200*time.Millisecond)
		h.s.Fake.Hang(trackertest.EndpointCreate, 1)
		_, err := h.create(t, "INC-3/12/create_ticket")
		require.Error(t, err)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NoError(t, t.Context().Err(), "the attempt's deadline, not the test's, ended the call")
		require.Empty(t, h.s.Fake.Tickets())
	})
}

// harness is one case's subject, tracker and guard.
type harness struct {
	s  Subject
	tr tickets.Tracker
	g  *resilience.Guard
}

func newHarness(t *testing.T, start func(t *testing.T) Subject, timeout time.Duration, token ...string) *harness {
	t.Helper()
	s := start(t)
	p := resilience.DefaultPolicy("tracker")
	p.Timeout = timeout
	p.MaxAttempts = 4
	g, err := resilience.New(p, resilience.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }))
	require.NoError(t, err)
	t.Cleanup(g.HTTPClient().CloseIdleConnections)
	tok := s.Fake.Token()
	if len(token) > 0 {
		tok = token[0]
	}
	tr, err := s.New(tok, g.HTTPClient())
	require.NoError(t, err)
	return &harness{s: s, tr: tr, g: g}
}

func newTicket(key string) tickets.NewTicket {
	return tickets.NewTicket{
		Key:    key,
		Title:  "Restore the failover runbook",
		Body:   "Action item from INC-3.",
		Labels: []string{"incident", "ooda"},
	}
}

// create calls Create once through the guard, as its own operation.
func (h *harness) create(t *testing.T, key string) (tickets.Ticket, error) {
	var tk tickets.Ticket
	err := h.g.Do(t.Context(), resilience.Op{Method: "create"}, func(ctx context.Context) error {
		var err error
		tk, err = h.tr.Create(ctx, h.s.Project, newTicket(key))
		return err
	})
	return tk, err
}

func (h *harness) find(t *testing.T, key string) (tickets.Ticket, bool, error) {
	var (
		tk tickets.Ticket
		ok bool
	)
	err := h.g.Do(t.Context(), resilience.Op{Method: "find", Idempotent: true}, func(ctx context.Context) error {
		var err error
		tk, ok, err = h.tr.Find(ctx, h.s.Project, key, time.Now().Add(-time.Hour))
		return err
	})
	return tk, ok, err
}

// tryAttempt is one outbox attempt: Find, then Create when nothing was
// found.
func (h *harness) tryAttempt(t *testing.T, key string) (tickets.Ticket, error) {
	tk, ok, err := h.find(t, key)
	if err != nil || ok {
		return tk, err
	}
	return h.create(t, key)
}

func (h *harness) attempt(t *testing.T, key string) tickets.Ticket {
	t.Helper()
	tk, err := h.tryAttempt(t, key)
	require.NoError(t, err)
	return tk
}

// missingID is an id in the same form as id that no tracker has yet.
func missingID(id string) string {
	if i := strings.LastIndex(id, "-"); i >= 0 {
		return id[:i+1] + "999"
	}
	return "999"
}
