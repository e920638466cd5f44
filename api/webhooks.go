package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/ooda-sre/ooda/tickets"
)

// TicketWebhooks takes the webhook deliveries of the configured trackers
// (a *tickets.Webhooks): it verifies each against its tracker's secret
// before reading it, then records the ticket changes it reports.
type TicketWebhooks interface {
	Deliver(ctx context.Context, tracker string, h http.Header, body []byte) error
}

// maxWebhookBody bounds a delivery. GitHub's issue events are a few
// kilobytes; its documented cap is 25 MB, for pushes Ooda never asks for.
const maxWebhookBody = 1 << 20

// webhook answers POST /api/v1/webhooks/{tracker}. It takes no bearer
// token: the tracker signs the delivery (GitHub's X-Hub-Signature-256,
// GitLab's X-Gitlab-Token, Jira's X-Hub-Signature), and nothing is read
// before the signature is checked. Trackers retry a delivery that gets no
// 2xx, so a store that cannot commit answers 503 and the change arrives
// again; one about a ticket Ooda does not track is 200.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	tracker := r.PathValue("tracker")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "the delivery is larger than 1 MiB; Ooda follows issue events only: subscribe this webhook to issues, not pushes")
			return
		}
		writeError(w, http.StatusBadRequest, "the delivery could not be read")
		return
	}
	err = s.cfg.Webhooks.Deliver(r.Context(), tracker, r.Header, body)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case errors.Is(err, tickets.ErrUnknownWebhook):
		writeError(w, http.StatusNotFound, "no tracker named "+quoteName(tracker)+" takes webhooks here: name one configured under tickets.trackers with a webhook secret")
	case errors.Is(err, tickets.ErrBadSignature):
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "webhook refused: signature missing or invalid", slog.String("tracker", tracker))
		writeError(w, http.StatusUnauthorized, "the delivery is not signed with this tracker's webhook secret")
	case errors.Is(err, tickets.ErrBadPayload):
		writeError(w, http.StatusBadRequest, "the delivery is not an event Ooda can read: "+err.Error())
	default:
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "webhook delivery not recorded; the tracker will send it again",
			slog.String("tracker", tracker), slog.String("error", err.Error()))
		writeError(w, http.StatusServiceUnavailable, "the change could not be recorded now; the tracker sends it again")
	}
}

// quoteName quotes a path segment for a sentence, cut short.
func quoteName(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return "\"" + s + "\""
}
