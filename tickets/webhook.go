package tickets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
)

var (
	// ErrUnknownWebhook is a delivery for a tracker that is not
	// configured, or has no webhook secret: the API answers 404.
	ErrUnknownWebhook = errors.New("no such webhook")
	// ErrBadPayload is a signed delivery whose body the tracker's adapter
	// could not read: the API answers 400.
	ErrBadPayload = errors.New("webhook payload not understood")
)

// Deliver verifies a webhook delivery for the tracker named tracker, then
// records the ticket changes it reports, as the poller would, each at the
// state the tracker gives it now (current). It returns
// an error wrapping ErrUnknownWebhook (answer 404), ErrBadSignature (401)
// or ErrBadPayload (400); nil for a delivery about a ticket Ooda does not
// follow, because trackers retry anything but a 2xx. Other errors are the
// store's (answer 500: the tracker retries).
//
// GitLab's deliveries name a project by its path: a route that names a
// GitLab project by numeric id is kept in step by polling alone, since a
// path and an id cannot be matched without asking GitLab. Route by path.
func (s *Service) Deliver(ctx context.Context, tracker string, h http.Header, body []byte) error {
	tr, ok := s.trackers[tracker]
	if !ok || len(tr.WebhookSecret) == 0 {
		return fmt.Errorf("tickets: webhook %q: %w", tracker, ErrUnknownWebhook)
	}
	changes, err := tr.Tracker.Webhook(h, body, tr.WebhookSecret)
	switch {
	case errors.Is(err, ErrBadSignature):
		return fmt.Errorf("tickets: webhook %s: %w", tracker, err)
	case err != nil:
		return fmt.Errorf("tickets: webhook %s: %w: %w", tracker, ErrBadPayload, err)
	case len(changes) == 0:
		return nil
	}
	incs, err := s.store.Incidents(ctx, true)
	if err != nil {
		return fmt.Errorf("tickets: webhook %s: list incidents: %w", tracker, err)
	}
	var errs []error
	for _, c := range changes {
		if c.State != StateOpen && c.State != StateClosed {
			continue
		}
		for _, inc := range incs {
			if a, ok := findAction(inc, tracker, c.Project, c.ID); ok {
				state := s.current(ctx, tr, a.Ticket.Project, c)
				if err := s.record(ctx, inc.Number, tracker, c.Project, c.ID, state); err != nil {
					errs = append(errs, err)
				}
				break
			}
		}
	}
	return errors.Join(errs...)
}

// The re-read of a delivered ticket: how far back it asks a tracker that
// lists changes (GitHub; a delivery is sent as its ticket changes, so the
// ticket is among the last hour's), and how long it may take, inside the
// tracker's own webhook request, which it gives up on after about 10 s.
const (
	rereadWindow  = time.Hour
	rereadTimeout = 3 * time.Second
)

// current is the ticket's state now, as its tracker answers: deliveries
// arrive out of order (a redelivery of an old close after a reopen), and
// the state a delivery carries is the one it was sent with. The re-read
// is one attempt, bounded by rereadTimeout; when it fails or does not
// find the ticket, the delivery's own state is taken (GitHub does not
// send a refused delivery again, so the delivery is not refused).
func (s *Service) current(ctx context.Context, tr Configured, project string, c Change) string {
	ctx, cancel := context.WithTimeout(ctx, rereadTimeout)
	defer cancel()
	var got map[string]Ticket
	err := tr.Guard.Do(ctx, resilience.Op{Method: "states"}, func(ctx context.Context) error {
		var err error
		got, err = tr.Tracker.States(ctx, project, []string{c.ID}, s.now().Add(-rereadWindow))
		var trunc *TruncatedError
		if errors.As(err, &trunc) {
			return nil
		}
		return err
	})
	if t, ok := got[c.ID]; err == nil && ok && (t.State == StateOpen || t.State == StateClosed) {
		return t.State
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "could not re-read a delivered ticket; taking the delivery's state",
			slog.String("tracker", tr.Name), slog.String("ticket", c.ID), slog.String("error", resilience.Redact(err.Error())))
	}
	return c.State
}

// findAction finds the item tracked by ticket id of project in tracker.
// Projects match in any case: GitHub's owner/repo and GitLab's paths are
// case-insensitive, and a webhook may spell them otherwise than the route.
func findAction(inc incident.Incident, tracker, project, id string) (incident.Action, bool) {
	if a, ok := inc.ActionByTicket(tracker, project, id); ok {
		return a, true
	}
	for _, a := range inc.Actions {
		if t := a.Ticket; t != nil && t.Tracker == tracker && t.ID == id && strings.EqualFold(t.Project, project) {
			return a, true
		}
	}
	return incident.Action{}, false
}
