package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// Commands runs the /incident commands people type into an incident
// page's command box. The app adapts the dispatcher Slack and the API
// share (bot/command), which this package may not import, so a command
// exists once whichever way it arrives.
type Commands interface {
	// Run runs one command and never fails: every outcome is a reply a
	// person can read.
	Run(ctx context.Context, c CommandRequest) CommandReply
}

// CommandRequest is one command typed into the box.
type CommandRequest struct {
	// Text is what follows /incident: "observe p99 is back under 300 ms".
	Text string
	// User is the signed-in person's Slack member ID: the command's actor,
	// and whom the access rule is applied to.
	User string
	// Incident is the page's incident, which the command is about unless
	// it names another (status INC-9 monitoring).
	Incident uint64
	// Key is the idempotency key: one per page render, session and text,
	// so a double submit or a browser's resubmit records once.
	Key string
	At  time.Time
}

// CommandReply is the answer to a command, as the dispatcher gives it.
type CommandReply struct {
	// Text is in Slack's mrkdwn; the page shows it as plain text.
	Text string
	// Incident is the one the command concerned ("INC-7"), if any.
	Incident string
	// Code classifies the outcome as HTTP does: 200, 400 (usage), 404,
	// 409 (refused by the incident's state), 500, 503.
	Code int
}

const (
	// maxCommandBody bounds the form: the command's text and the key.
	maxCommandBody = 16 << 10
	// maxCommandText is bot/command.MaxCommandText, which this package
	// may not import: the dispatcher reads no more.
	maxCommandText = 8000
)

// formKeyRE is the form's own key as commandBox makes it; anything else
// in the key field was not made here.
var formKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// commandData is the command box: <form id="command">. The page shows it
// only to a person it admits, while the incident is not closed and
// Commands is configured.
type commandData struct {
	Action string // where the form posts: /incidents/7/commands
	ID     string // INC-7
	// Key is this render's idempotency key.
	Key string
	// Text is what was typed, kept when the command was refused so it can
	// be fixed; empty after a command ran.
	Text  string
	Reply *replyData
}

// replyData is the reply to the command just run, as plain text in parts.
type replyData struct {
	OK    bool
	Parts []replyPart
}

// replyPart is a run of the reply's text; Code parts were `quoted` as
// code in Slack's markup: the commands to type.
type replyPart struct {
	Text string
	Code bool
}

// commandBox is the box of inc's page, with what was typed and the reply
// to it, or nil when the page shows none.
func (s *Site) commandBox(inc incident.Incident, text string, reply *replyData) *commandData {
	if s.cfg.Commands == nil || inc.Status == incident.StatusClosed {
		return nil
	}
	return &commandData{
		Action: "/incidents/" + strconv.FormatUint(inc.Number, 10) + "/commands",
		ID:     inc.ID,
		Key:    newFormKey(),
		Text:   text,
		Reply:  reply,
	}
}

// newFormKey is a form's idempotency key: 16 random bytes.
func newFormKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// commandKey is the key the dispatcher gets for text sent from a form
// with formKey in session: "web:<session>:<form key>:<text digest>". The
// session keeps one person's keys apart from another's; the digest makes
// a form resubmitted with other words (back, edit, submit) a new command
// rather than a replay of the first one's reply. None of it holds '#' or
// '@', which the store's keys give meaning to.
func commandKey(session, formKey, text string) string {
	sum := sha256.Sum256([]byte(text))
	return "web:" + session[:min(len(session), 16)] + ":" + formKey + ":" + hex.EncodeToString(sum[:8])
}

// runCommand is POST /incidents/{n}/commands: it runs the command typed
// into n's box as the signed-in person and shows n's page with the reply
// (or, for a command about another incident, such as a declare, that
// incident's page). The page is rendered, not redirected to, so a reply
// of any length shows; reloading resubmits the same key, which records
// nothing twice.
func (s *Site) runCommand(w http.ResponseWriter, r *http.Request, v *Viewer) {
	n, ok := s.incidentNumber(w, r, v)
	if !ok {
		return
	}
	if s.cfg.Commands == nil {
		s.fail(w, r, v, http.StatusNotFound, "This site runs no commands",
			"Type the command in Slack, after /incident, in the incident's channel.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCommandBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(w, r, v, http.StatusRequestEntityTooLarge, "That command is too long",
				"A command is at most "+strconv.Itoa(maxCommandText)+" characters; go back and shorten it.")
			return
		}
		s.fail(w, r, v, http.StatusBadRequest, "That form could not be read", "Go back, reload the page and type the command again.")
		return
	}
	inc, err := s.cfg.Store.Incident(r.Context(), n)
	switch {
	case errors.Is(err, incident.ErrNotFound) || (err == nil && !inc.Admits(v.User)):
		s.notFound(w, r, v, n)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	case inc.Status == incident.StatusClosed:
		s.fail(w, r, v, http.StatusConflict, inc.ID+" is closed",
			"Its post-mortem is published and its record is final, so its page runs no more commands. "+
				"Run commands about another incident from that incident's page.")
		return
	}
	text := commandText(r.PostFormValue("text"))
	formKey := r.PostFormValue("key")
	var refusal string
	switch {
	case text == "":
		refusal = "Type a command, such as `observe p99 is back under 300 ms`; `help` lists them."
	case len(text) > maxCommandText:
		refusal = "The command is " + strconv.Itoa(len(text)) + " characters; keep it under " + strconv.Itoa(maxCommandText) + "."
	case !formKeyRE.MatchString(formKey):
		refusal = "This form was out of date, so the command did not run. Run it again."
	}
	if refusal != "" {
		s.commandPage(w, r, v, n, http.StatusBadRequest, text, &replyData{Parts: s.replyParts(refusal)})
		return
	}
	reply := s.cfg.Commands.Run(r.Context(), CommandRequest{
		Text: text, User: v.User, Incident: n, Key: commandKey(v.Session, formKey, text), At: s.cfg.Now().UTC(),
	})
	ok = reply.Code == http.StatusOK
	if other, err := incident.ParseID(reply.Incident); ok && err == nil && other != n {
		// A declare, or a command about another incident: its page
		// shows what it did. The path is built from a number, so it
		// leads nowhere but the site.
		http.Redirect(w, r, "/incidents/"+strconv.FormatUint(other, 10), http.StatusSeeOther)
		return
	}
	status := reply.Code
	if status < 200 || status > 599 {
		status = http.StatusInternalServerError
	}
	if ok {
		text = "" // ran: the box is ready for the next one
	}
	s.commandPage(w, r, v, n, status, text, &replyData{OK: ok, Parts: s.replyParts(reply.Text)})
}

// commandsPage is GET /incidents/{n}/commands: the address a reply was
// rendered at, reloaded or bookmarked, or where sign-in brings back a
// person whose session ended before they ran a command. It leads to the
// incident's page.
func (s *Site) commandsPage(w http.ResponseWriter, r *http.Request, v *Viewer) {
	n, ok := s.incidentNumber(w, r, v)
	if !ok {
		return
	}
	http.Redirect(w, r, "/incidents/"+strconv.FormatUint(n, 10)+"#command", http.StatusSeeOther)
}

// commandText is what was typed, without the /incident a hand used to
// Slack may put first.
func commandText(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "/incident"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		s = strings.TrimSpace(rest)
	}
	return s
}

// commandPage renders n's page at status with text in the box and reply
// under it: the incident page as incidentPage renders it, read after the
// command.
func (s *Site) commandPage(w http.ResponseWriter, r *http.Request, v *Viewer, n uint64, status int, text string, reply *replyData) {
	st, err := s.readIncident(r.Context(), n, v.User)
	switch {
	case errors.Is(err, errUnseen):
		// The command took the viewer out of the incident.
		s.notFound(w, r, v, n)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	pg := s.incidentView(st, v, s.cfg.Now())
	pg.Command = s.commandBox(st.inc, text, reply)
	if pg.Command == nil && reply != nil {
		// The command closed the incident: its reply still shows, in a
		// box that takes no more.
		pg.Command = &commandData{ID: st.inc.ID, Reply: reply}
	}
	s.render(w, r, status, "incident", layout{
		Title:  st.inc.ID + " " + timeline.Clean(st.inc.Title),
		Viewer: v,
		Script: st.inc.Status != incident.StatusClosed,
		Page:   pg,
	})
}

// slackMarkup is Slack's <…> markup in a reply: a mention, a channel, a
// special mention (<!here>) or a link, each with an optional label.
var slackMarkup = regexp.MustCompile(`<([@#!]?)([^<>|\s]+)(?:\|([^<>]*))?>`)

// codeSpan is a code block or an inline code span of mrkdwn.
var codeSpan = regexp.MustCompile("```\n?([\\s\\S]*?)```|`([^`\n]+)`")

// emphasis is mrkdwn's *bold* and _italic_ around words, which plain
// text shows without the marks.
var emphasis = regexp.MustCompile(`(^|[\s(“"'])([*_])([^*_\s](?:[^*_\n]*[^*_\s])?)([*_])([\s.,;:!?)”"']|$)`)

// replyParts turns a reply in Slack's mrkdwn into plain text the page
// escapes: mentions become names, channels #name, links their label,
// `code` a code part; emphasis marks go, and Slack's escapes are undone
// (so what a person typed reads as typed).
func (s *Site) replyParts(text string) []replyPart {
	nm := s.names()
	text = slackMarkup.ReplaceAllStringFunc(text, func(m string) string {
		g := slackMarkup.FindStringSubmatch(m)
		sigil, target, label := g[1], g[2], g[3]
		switch sigil {
		case "@":
			if n := nm.name(target); n != target || label == "" {
				return n
			}
			return "@" + strings.TrimPrefix(label, "@")
		case "#":
			if label != "" {
				return "#" + label
			}
			return "#" + target
		case "!":
			if label != "" {
				return label
			}
			return "@" + target
		}
		if label != "" {
			return label
		}
		return target
	})
	text = strings.ReplaceAll(text, ":warning:", "⚠")
	var parts []replyPart
	prose := func(s string) {
		if s == "" {
			return
		}
		s = unemphasize(s)
		parts = append(parts, replyPart{Text: unescapeMrkdwn(s)})
	}
	for {
		loc := codeSpan.FindStringSubmatchIndex(text)
		if loc == nil {
			prose(text)
			break
		}
		prose(text[:loc[0]])
		code := ""
		if loc[2] >= 0 {
			code = text[loc[2]:loc[3]]
		} else {
			code = text[loc[4]:loc[5]]
		}
		parts = append(parts, replyPart{Text: unescapeMrkdwn(code), Code: true})
		text = text[loc[1]:]
	}
	return parts
}

// unemphasize drops the marks of *bold* and _italic_ words. Matches
// that share a space (*a* *b*) take a second pass.
func unemphasize(s string) string {
	for range 3 {
		out := emphasis.ReplaceAllStringFunc(s, func(m string) string {
			g := emphasis.FindStringSubmatch(m)
			if g[2] != g[4] {
				return m
			}
			return g[1] + g[3] + g[5]
		})
		if out == s {
			break
		}
		s = out
	}
	return s
}

// unescapeMrkdwn undoes the escapes of Slack's three control characters,
// and replaces any other control character (timeline.Clean).
func unescapeMrkdwn(s string) string {
	return timeline.Clean(mrkdwnUnescaper.Replace(s))
}

var mrkdwnUnescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
