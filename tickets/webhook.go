package tickets

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ooda-sre/ooda/incident"
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
// records the ticket changes it reports, as the poller would. It returns
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
			if _, ok := findAction(inc, tracker, c.Project, c.ID); ok {
				if err := s.record(ctx, inc.Number, tracker, c.Project, c.ID, c.State); err != nil {
					errs = append(errs, err)
				}
				break
			}
		}
	}
	return errors.Join(errs...)
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
