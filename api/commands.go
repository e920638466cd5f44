package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// CommandRequest is the body of POST /api/v1/commands: the same text a
// person types after /incident, and optionally the incident it is about.
type CommandRequest struct {
	Text     string `json:"text"`
	Incident string `json:"incident,omitempty"`
}

// CommandReply is the answer of POST /api/v1/commands: the reply a Slack
// user would have seen.
type CommandReply struct {
	OK       bool   `json:"ok"`
	Text     string `json:"text"`
	Incident string `json:"incident,omitempty"`
	// People names the people Text mentions (<@U0123ABCD>): member ID →
	// "Alice Chen (@alice)", for a client that shows the text outside
	// Slack.
	People map[string]string `json:"people,omitempty"`
}

// maxAPIBody bounds a command request; the grammar is far smaller.
const maxAPIBody = 64 << 10

// commands runs one /incident command from the API. The token's name is
// the actor, so the timeline says who acted even without Slack.
func (s *Server) commands(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if s.cfg.Dispatcher == nil {
		writeError(w, http.StatusServiceUnavailable, "commands are not enabled on this server")
		return
	}
	var req CommandRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil {
		// One object and nothing after it: a second object or stray
		// text means the client sent something other than it thinks.
		if extra := dec.Decode(&struct{}{}); !errors.Is(extra, io.EOF) {
			err = errTrailing
		}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, "the request is larger than 64 KiB")
		case errors.Is(err, errTrailing):
			writeError(w, http.StatusBadRequest, `the body must be one JSON object with nothing after it: {"text": "status INC-7 monitoring"}`)
		default:
			writeError(w, http.StatusBadRequest, `the body must be JSON: {"text": "status INC-7 monitoring"}`)
		}
		return
	}
	var n uint64
	if req.Incident != "" {
		var err error
		if n, err = incident.ParseID(req.Incident); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = randomKey()
	}
	if len(key) > 200 {
		writeError(w, http.StatusBadRequest, "Idempotency-Key is longer than 200 characters")
		return
	}
	tok := tokenOf(r.Context())
	if !tok.Has(ScopeWrite) && !command.ReadsOnly(req.Text) {
		writeError(w, http.StatusForbidden, missingScope(tok, ScopeWrite))
		return
	}
	reply := s.cfg.Dispatcher.Handle(r.Context(), command.Request{
		Text: req.Text, User: "api:" + tokenName(r.Context()), Incident: n, SeesPrivate: tok.Has(ScopePrivate),
		// The key is the client's, so it is scoped to its token: two
		// clients choosing the same key must not answer for each other.
		Source: timeline.SourceAPI, Key: "api:" + tokenName(r.Context()) + ":" + key, At: time.Now().UTC(),
		Fingerprint: fingerprint(req),
	})
	code := reply.Code
	text := reply.Text
	switch {
	case reply.OpenDeclareForm:
		code, text = http.StatusBadRequest, "declare needs a title: "+command.VerbUsage(command.VerbDeclare)
	case code == http.StatusBadRequest && command.IsUnknownVerb(req.Text):
		text += "\n\n" + command.HelpText()
	}
	writeJSON(w, code, CommandReply{OK: code == http.StatusOK, Text: text, Incident: reply.Incident, People: PeopleIn(text, namer(s.cfg.People))})
	// Timed as Slack's answers are: commands answered, refusals included.
	if s.cfg.AckHistogram != nil && reply.Code < http.StatusInternalServerError {
		s.cfg.AckHistogram.WithLabelValues(command.KindCommand, command.TransportAPI).Observe(time.Since(start).Seconds())
	}
}

// errTrailing is a body with more after its JSON object.
var errTrailing = errors.New("trailing data after the JSON object")

// fingerprint identifies what a command request asks, so a retry (same
// key, same request) is told from a reused key (same key, another
// request). Sixteen bytes of SHA-256 tell any two requests apart.
func fingerprint(req CommandRequest) string {
	h := sha256.New()
	h.Write([]byte(req.Incident))
	h.Write([]byte{0})
	h.Write([]byte(req.Text))
	return "sha256:" + hex.EncodeToString(h.Sum(nil)[:16])
}

func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
