package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// Request is one `/incident` command as any transport received it.
type Request struct {
	Text     string
	User     string // Slack user id, or "api:<token name>"
	Channel  string // the Slack channel it was typed in; empty from the API
	Incident uint64 // named by the API's "incident" field; 0 when not given
	Source   timeline.Source
	Key      string // idempotency key: a Slack trigger id, an API request id
	At       time.Time
	// SeesPrivate: the caller may see and act on every private incident
	// (an API token with the private scope). Everyone else sees a private
	// incident only as a member of its channel (incident.Admits).
	SeesPrivate bool
	// Fingerprint identifies the request's content when Key is a client's
	// own (an API Idempotency-Key); empty for Slack, whose retries are the
	// same request by construction.
	Fingerprint string
}

// meta is the domain's view of who asked, when and how.
func (req Request) meta() incident.Meta {
	return incident.Meta{At: req.At, Actor: req.User, Source: req.Source, Key: req.Key, Fingerprint: req.Fingerprint}
}

// reused reports whether res answers an earlier request that used the
// same idempotency key for something else: replaying that one's result
// would tell the client its new command ran when it did not.
func (req Request) reused(res incident.Result) (Reply, bool) {
	if !res.Duplicate || req.Fingerprint == "" || len(res.Events) == 0 {
		return Reply{}, false
	}
	first := incident.RequestOf(res.Events[0])
	if first == "" || first == req.Fingerprint {
		return Reply{}, false
	}
	return Reply{
		Code: http.StatusUnprocessableEntity,
		Text: "this Idempotency-Key was already used for a different request, which was recorded; send a new key with each new request, and the same key only to retry the same request",
	}, true
}

// admits applies the access rule to the caller: an incident it may not
// see does not exist for it.
func (req Request) admits(inc incident.Incident) bool {
	return req.SeesPrivate || inc.Admits(req.User)
}

// Reply is the answer to a command, the same whichever transport asked.
type Reply struct {
	Text     string
	Incident string // "INC-7" when the command concerned one
	// Code classifies the outcome as HTTP does: 200, 400 (usage), 404 (no
	// such incident), 409 (refused by the incident's state), 500.
	Code int
	// OpenDeclareForm asks a transport that can (Slack) to open the declare
	// form instead of replying.
	OpenDeclareForm bool
}

// SlackHealth tells replies whether Slack's API is reachable, so a command
// answered while it is not can say what waits.
type SlackHealth interface {
	// SlackDown returns when Slack became unreachable and how many effects
	// wait; ok is false while Slack answers.
	SlackDown() (since time.Time, queued int, down bool)
}

// Dispatcher runs parsed commands against the domain. Every transport
// calls it, so a command exists once.
type Dispatcher struct {
	Store  incident.Store
	Health SlackHealth // nil: Slack is assumed reachable
	// Committed is called after a command queued effects, to wake the
	// executor; nil does nothing.
	Committed func()
	Logger    *slog.Logger
	// SLO serves `/incident slo` from the latest SLO evaluation; nil
	// means no SLOs are configured.
	SLO SLOReader
	// OwnSLO measures Ooda's own SLO for `/incident slo`; nil leaves it
	// out.
	OwnSLO OwnSLOFunc
	// People resolves the people commands name by handle or display name
	// (@alice); nil: only member IDs are understood.
	People People
	// Zones tells each person's time zone, which decides when their
	// action items are overdue in `/incident actions`; nil: UTC.
	Zones incident.Zones
	// Search answers `/incident search` and `/incident similar`; nil: they
	// say search is not available.
	Search Searcher
	// Tickets says which incidents' action items get a ticket in a
	// tracker; nil: no tracker is configured.
	Tickets Tickets
}

// Handle parses and runs one command. It never returns an error: every
// outcome is a reply a person can read.
func (d *Dispatcher) Handle(ctx context.Context, req Request) Reply {
	cmd, err := ParseCommand(req.Text)
	if err != nil {
		return Reply{Text: err.Error(), Code: http.StatusBadRequest}
	}
	if req.Incident != 0 && cmd.Incident != 0 && req.Incident != cmd.Incident {
		return Reply{Code: http.StatusBadRequest, Text: fmt.Sprintf("the request names %s and the command names %s; name the incident once, in either place",
			incident.ID(req.Incident), incident.ID(cmd.Incident))}
	}
	if req.Incident != 0 && cmd.Incident == 0 {
		cmd.Incident = req.Incident
	}
	return d.Run(ctx, req, cmd)
}

// CommandTimeout bounds the store's work for one command: Slack gives up
// on an answer after 3 s, and a store that cannot answer by then (etcd
// without quorum) is told as such rather than left to time out.
const CommandTimeout = 2500 * time.Millisecond

// Run executes an already parsed command (the declare form arrives parsed).
func (d *Dispatcher) Run(ctx context.Context, req Request, cmd Command) Reply {
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	if req.At.IsZero() {
		req.At = time.Now().UTC()
	}
	if reply, refused := d.resolvePeople(&cmd); refused {
		return reply
	}
	switch cmd.Verb {
	case VerbHelp:
		return Reply{Text: HelpTopic(cmd.Topic), Code: http.StatusOK}
	case VerbList:
		return d.list(ctx, req, cmd)
	case VerbActions:
		return d.actions(ctx, req, cmd)
	case VerbSLO:
		return d.sloReply(cmd.Service)
	case VerbSearch:
		return d.search(req, cmd)
	case VerbDeclare:
		if cmd.Title == "" {
			return Reply{OpenDeclareForm: true, Code: http.StatusOK, Text: "An incident needs a title: " + VerbUsage(VerbDeclare)}
		}
		return d.declare(ctx, req, cmd)
	}
	n, reply, ok := d.target(ctx, req, cmd)
	if !ok {
		return reply
	}
	switch cmd.Verb {
	case VerbRoles:
		return d.read(ctx, req, n, func(inc incident.Incident, _ []timeline.Event) string { return RolesText(inc) }, false)
	case VerbTimeline:
		return d.read(ctx, req, n, func(inc incident.Incident, evs []timeline.Event) string { return TimelineText(inc, evs) }, true)
	case VerbAmend, VerbStrike:
		return d.correct(ctx, req, n, cmd)
	case VerbSimilar:
		return d.similar(ctx, req, n)
	}
	meta := req.meta()
	res, err := d.Store.Apply(ctx, n, req.Key, func(inc *incident.Incident) (incident.Change, error) {
		// Decided on the state the change applies to: membership may
		// have changed since target looked.
		if !req.admits(*inc) {
			return incident.Change{}, incident.NotFound(n)
		}
		return decide(inc, cmd, meta, d.Tickets)
	})
	if err != nil {
		return d.Failed(ctx, n, err)
	}
	if reply, bad := req.reused(res); bad {
		return reply
	}
	return d.committed(res, changeText(res, cmd))
}

// decide maps a parsed command onto its domain command.
func decide(inc *incident.Incident, cmd Command, m incident.Meta, tickets Tickets) (incident.Change, error) {
	switch cmd.Verb {
	case VerbRole:
		return inc.AssignRole(cmd.Role, cmd.User, m)
	case VerbTake:
		// An "I'll take it" button offers an empty role. Someone quicker
		// took it: taking it over is a handover, which deserves the
		// command. The clicker already holding it is a double click.
		switch holder := inc.Roles.Get(cmd.Role); holder {
		case "":
			return inc.AssignRole(cmd.Role, cmd.User, m)
		case cmd.User:
			return incident.Change{}, nil
		default:
			return incident.Change{}, incident.Refused(fmt.Sprintf("<@%s> took %s of %s first. To take it over, `/incident role %s @you`.",
				holder, cmd.Role.Title(), inc.ID, cmd.Role))
		}
	case VerbStatus:
		return inc.SetStatus(cmd.Status, m)
	case VerbSev:
		return inc.SetSeverity(cmd.Severity, m)
	case VerbImpact:
		return inc.SetImpact(cmd.Text, m)
	case VerbObserve, VerbOrient, VerbDecide, VerbAct, VerbNote:
		return inc.AddEntryAt(cmd.Phase, cmd.Text, cmd.Cause, cmd.At, m)
	case VerbAction:
		return decideAction(inc, cmd, m, tickets)
	case VerbUpdate:
		return inc.PostUpdate(cmd.Text, m)
	case VerbResolve:
		return inc.Resolve(cmd.Text, m)
	case VerbReopen:
		return inc.Reopen(m)
	case VerbPostmortem:
		return inc.DraftPostmortem(m)
	case VerbPublish:
		return inc.Close(cmd.Text, m)
	}
	return incident.Change{}, &UsageError{Msg: fmt.Sprintf("%q is not an /incident command; type `/incident help` for the list", cmd.Verb)}
}

func (d *Dispatcher) declare(ctx context.Context, req Request, cmd Command) Reply {
	meta := req.meta()
	decl := incident.Declaration{Title: cmd.Title, Severity: cmd.Severity, Private: cmd.Private, Service: cmd.Service, Description: cmd.Text, Commander: cmd.Commander}
	res, err := d.Store.Declare(ctx, req.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, decl, meta)
	})
	if err != nil {
		return d.Failed(ctx, 0, err)
	}
	if reply, bad := req.reused(res); bad {
		return reply
	}
	inc := res.Incident
	var b strings.Builder
	fmt.Fprintf(&b, "%s declared: SEV%d %s", inc.ID, inc.Severity, mrkdwn.Quote(inc.Title))
	if inc.Service != "" {
		fmt.Fprintf(&b, " (service %s)", mrkdwn.Escape(inc.Service))
	}
	b.WriteString(".")
	if inc.Roles.Commander != "" {
		fmt.Fprintf(&b, " <@%s> is Commander.", inc.Roles.Commander)
	} else {
		fmt.Fprintf(&b, " Nobody is Commander yet: `/incident role %s commander @alice` names one.", inc.ID)
	}
	if inc.Private {
		b.WriteString(" It is private: it stays out of the announcement channel.")
	}
	return d.committed(res, b.String())
}

// target finds the incident a command is about: named in the command or
// the request, else the one whose channel the command was typed in.
func (d *Dispatcher) target(ctx context.Context, req Request, cmd Command) (uint64, Reply, bool) {
	// Whether the caller may see it is decided where the incident is
	// read: in read, and inside Apply's transaction.
	if cmd.Incident != 0 {
		return cmd.Incident, Reply{}, true
	}
	if req.Channel != "" {
		n, err := d.Store.IncidentByChannel(ctx, req.Channel)
		if err == nil {
			return n, Reply{}, true
		}
		if !errors.Is(err, incident.ErrNotFound) {
			return 0, d.Failed(ctx, 0, err), false
		}
	}
	return 0, Reply{Code: http.StatusBadRequest, Text: fmt.Sprintf(
		"Which incident? Run this in the incident's channel, or name it: `/incident %s INC-7 …` (`/incident list` shows the open ones).", cmd.Verb)}, false
}

func (d *Dispatcher) read(ctx context.Context, req Request, n uint64, render func(incident.Incident, []timeline.Event) string, events bool) Reply {
	if !events {
		inc, err := d.Store.Incident(ctx, n)
		if err == nil && !req.admits(inc) {
			err = incident.NotFound(n)
		}
		if err != nil {
			return d.Failed(ctx, n, err)
		}
		return Reply{Text: render(inc, nil), Incident: inc.ID, Code: http.StatusOK}
	}
	// The state is the fold of the events read, so both are of one moment.
	evs, err := d.Store.Events(ctx, n, 1)
	if err != nil {
		return d.Failed(ctx, n, err)
	}
	inc := incident.Replay(evs)
	if !req.admits(inc) {
		return d.Failed(ctx, n, incident.NotFound(n))
	}
	return Reply{Text: render(inc, evs), Incident: inc.ID, Code: http.StatusOK}
}

// list shows a page of the open incidents and, after them, the resolved
// ones whose post-mortem is overdue at now: those are not done either.
// The store answers with every incident; a year of them is a few
// thousand snapshots, read once per command.
func (d *Dispatcher) list(ctx context.Context, req Request, cmd Command) Reply {
	now := req.At
	incs, err := d.Store.Incidents(ctx, true)
	if err != nil {
		return d.Failed(ctx, 0, err)
	}
	l := incidentList{Severity: cmd.Severity, Page: max(cmd.Page, 1)}
	for _, inc := range incs {
		switch {
		case !req.admits(inc):
			// Not listed, not counted: it does not exist for the caller.
		case cmd.Severity != 0 && inc.Severity != cmd.Severity:
		case inc.Status.Active():
			l.Open = append(l.Open, inc)
		case roles.PostmortemOverdue(inc.Situation(), now):
			l.Overdue = append(l.Overdue, inc)
		}
	}
	return Reply{Text: l.Text(), Code: http.StatusOK}
}

// committed builds the reply to a command that was stored, says what waits
// while Slack is unreachable, and wakes the executor.
func (d *Dispatcher) committed(res incident.Result, text string) Reply {
	if len(res.Effects) > 0 && !res.Duplicate && d.Committed != nil {
		d.Committed()
	}
	if d.Health != nil && len(res.Effects) > 0 {
		since, queued, down := d.Health.SlackDown()
		switch {
		case down && recordsUpdate(res):
			// Its confirmation would say "posted": nothing was.
			text = fmt.Sprintf("%s: update recorded and queued, not posted: Slack's API is unreachable (since %s, %d Slack actions queued). "+
				"It will be posted when Slack answers again, with the time you wrote it and the incident's state at that time.",
				res.Incident.ID, mrkdwn.Clock(since), queued)
		case down:
			what := "Slack will be updated"
			if res.Incident.ChannelID == "" {
				what = "the channel will be created"
			}
			text = fmt.Sprintf("%s recorded; %s when Slack's API answers again (unreachable since %s UTC, %d updates queued).\n%s",
				res.Incident.ID, what, since.UTC().Format("15:04"), queued, text)
		}
	}
	if n := res.Incident.FailedEffects; n > 0 {
		text += fmt.Sprintf("\n:warning: %d Slack action(s) for %s failed for good; `/incident timeline` shows which.", n, res.Incident.ID)
	}
	return Reply{Text: text, Incident: res.Incident.ID, Code: http.StatusOK}
}

// recordsUpdate reports whether the command recorded a stakeholder update.
func recordsUpdate(res incident.Result) bool {
	for _, e := range res.Events {
		if e.Kind == timeline.KindUpdatePosted {
			return true
		}
	}
	return false
}

// Failed turns an error into a reply: the user's sentence for refusals, a
// generic one (and a log line) for anything else.
func (d *Dispatcher) Failed(ctx context.Context, n uint64, err error) Reply {
	id := ""
	if n != 0 {
		id = incident.ID(n)
	}
	var ue *incident.UserError
	var usage *UsageError
	switch {
	case errors.As(err, &usage):
		return Reply{Text: usage.Msg, Incident: id, Code: http.StatusBadRequest}
	case errors.Is(err, incident.ErrNotFound):
		if !errors.As(err, &ue) {
			ue = &incident.UserError{Msg: incident.NotFound(n).Error()}
		}
		return Reply{Text: ue.Msg, Incident: id, Code: http.StatusNotFound}
	case errors.Is(err, incident.ErrRefused) && errors.As(err, &ue):
		return Reply{Text: ue.Msg, Incident: id, Code: http.StatusConflict}
	case errors.Is(err, incident.ErrInvalid) && errors.As(err, &ue):
		return Reply{Text: ue.Msg, Incident: id, Code: http.StatusBadRequest}
	case errors.Is(err, incident.ErrUnavailable):
		if d.Logger != nil {
			d.Logger.WarnContext(ctx, "command not recorded: the store is unreachable", "incident", id, "err", err)
		}
		return Reply{Text: "Not recorded: Ooda's store is unreachable; try again in a minute.", Incident: id, Code: http.StatusServiceUnavailable}
	}
	if d.Logger != nil {
		d.Logger.ErrorContext(ctx, "command failed", "incident", id, "err", err)
	}
	return Reply{Text: "Ooda could not record that (an internal error, logged). Nothing was changed; try again.", Incident: id, Code: http.StatusInternalServerError}
}

// changeText is the confirmation of a committed command.
func changeText(res incident.Result, cmd Command) string {
	inc := res.Incident
	switch cmd.Verb {
	case VerbRole, VerbTake:
		return fmt.Sprintf("%s: <@%s> is %s.", inc.ID, cmd.User, cmd.Role.Title())
	case VerbStatus:
		return fmt.Sprintf("%s is %s.", inc.ID, inc.Status)
	case VerbSev:
		return fmt.Sprintf("%s is SEV%d.", inc.ID, inc.Severity)
	case VerbImpact:
		return fmt.Sprintf("%s is customer-impacting: %s", inc.ID, mrkdwn.Escape(inc.Impact))
	case VerbAction:
		return actionText(res)
	case VerbObserve, VerbOrient, VerbDecide, VerbAct, VerbNote:
		return entryText(res, cmd)
	case VerbUpdate:
		return fmt.Sprintf("%s: update posted.", inc.ID)
	case VerbResolve:
		return fmt.Sprintf("%s is resolved after %s.", inc.ID, mrkdwn.Duration(inc.ResolvedAt.Sub(inc.DeclaredAt)))
	case VerbReopen:
		return fmt.Sprintf("%s is open again (investigating).", inc.ID)
	case VerbPostmortem:
		text := fmt.Sprintf("%s: writing the post-mortem draft from the timeline; the Markdown file will appear in the incident channel and be bookmarked there.", inc.ID)
		if inc.Status.Active() {
			text += fmt.Sprintf(" %s is still %s: the draft covers it so far.", inc.ID, inc.Status)
		} else {
			text += " When the final version is published, record it with `/incident postmortem publish <url>`; that closes the incident."
		}
		return text
	case VerbPublish:
		return fmt.Sprintf("%s is closed; its post-mortem is published at %s.", inc.ID, mrkdwn.Escape(inc.PostmortemURL))
	}
	return fmt.Sprintf("%s: recorded (%s).", inc.ID, cmd.Verb)
}
