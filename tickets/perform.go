package tickets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/timeline"
)

// FindWindow is how long before its effect was queued a ticket may have
// been created and still be found by its key: clocks differ, and the
// tracker's creation time is its own.
const FindWindow = time.Hour

// accountTTL is how long an answer of AccountByEmail is kept, "nobody"
// included: people rarely change their tracker account, and a lookup per
// ticket would spend the tracker's rate limit.
const accountTTL = time.Hour

// Configured is one tracker as the app built it from TrackerConfig and
// Credentials.
type Configured struct {
	Name    string
	Kind    string
	Tracker Tracker
	// Guard is the tracker's own: its breaker, bulkhead and metrics say
	// nothing about Slack or the other trackers.
	Guard *resilience.Guard
	// WebhookSecret verifies its webhook deliveries; nil means it has no
	// webhook.
	WebhookSecret []byte
}

// Options is what New builds a Service from.
type Options struct {
	Store    incident.Store
	Trackers []Configured
	Routes   Routes
	Accounts *AccountMap // nil maps nobody through a file
	// Email and Name look a Slack member up (the directory); nil, or ""
	// from them, means unknown.
	Email func(ctx context.Context, slackUserID string) string
	Name  func(ctx context.Context, slackUserID string) string
	// IncidentURL is incident n's page and ChannelURL a Slack channel's;
	// nil, or "" from them, leaves the link out of tickets.
	IncidentURL func(n uint64) string
	ChannelURL  func(channelID string) string
	// Notify is called after a poll or a webhook recorded a change that
	// queued effects (the executor's Notify), so the channel hears of it
	// now rather than at the executor's next pass. nil calls nothing.
	Notify func()
	// PollInterval is how often the Poller asks; 0 means
	// DefaultPollInterval.
	PollInterval time.Duration
	Now          func() time.Time // nil means time.Now
	Logger       *slog.Logger     // nil logs nothing
}

// Service performs the ticket effects of the outbox (it is the executor's
// Tickets), learns of changes in the trackers by webhook (Deliver) and by
// polling (Poller), and records them on the items.
type Service struct {
	store    incident.Store
	trackers map[string]Configured
	order    []string // tracker names in configured order
	routes   Routes
	accounts *AccountMap
	email    func(context.Context, string) string
	name     func(context.Context, string) string
	incURL   func(uint64) string
	chanURL  func(string) string
	notify   func()
	every    time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu    sync.Mutex
	cache map[string]cachedAccount // tracker name + "\x00" + lower-case email
}

type cachedAccount struct {
	account string
	at      time.Time
}

// New validates o and builds its Service.
func New(o Options) (*Service, error) {
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("tickets: new: no store"))
	}
	s := &Service{
		store:    o.Store,
		trackers: make(map[string]Configured, len(o.Trackers)),
		routes:   o.Routes,
		accounts: o.Accounts,
		email:    o.Email,
		name:     o.Name,
		incURL:   o.IncidentURL,
		chanURL:  o.ChannelURL,
		notify:   o.Notify,
		every:    o.PollInterval,
		now:      o.Now,
		log:      o.Logger,
		cache:    map[string]cachedAccount{},
	}
	for _, t := range o.Trackers {
		switch {
		case t.Name == "":
			errs = append(errs, errors.New("tickets: new: a tracker has no name"))
			continue
		case t.Tracker == nil || t.Guard == nil:
			errs = append(errs, fmt.Errorf("tickets: new: tracker %s needs its Tracker and its Guard", t.Name))
			continue
		}
		if _, dup := s.trackers[t.Name]; dup {
			errs = append(errs, fmt.Errorf("tickets: new: two trackers are named %s", t.Name))
			continue
		}
		if t.Kind == "" {
			t.Kind = t.Tracker.Kind()
		}
		s.trackers[t.Name] = t
		s.order = append(s.order, t.Name)
	}
	if s.every == 0 {
		s.every = DefaultPollInterval
	}
	if s.every < 0 {
		errs = append(errs, fmt.Errorf("tickets: new: poll interval %v is negative", s.every))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With(slog.String("component", "tickets"))
	if s.email == nil {
		s.email = func(context.Context, string) string { return "" }
	}
	if s.name == nil {
		s.name = func(context.Context, string) string { return "" }
	}
	if s.incURL == nil {
		s.incURL = func(uint64) string { return "" }
	}
	if s.chanURL == nil {
		s.chanURL = func(string) string { return "" }
	}
	if s.notify == nil {
		s.notify = func() {}
	}
	return s, nil
}

// Perform makes one attempt at a ticket effect. An error marked
// resilience.Permanent fails it for good (Failed then records why); any
// other defers it, and the next attempt starts over, finding first.
func (s *Service) Perform(ctx context.Context, pe incident.Pending) (incident.Decider, error) {
	switch pe.Effect.Kind {
	case incident.EffectCreateTicket:
		return s.create(ctx, pe)
	case incident.EffectCloseTicket:
		return s.close(ctx, pe)
	}
	return nil, resilience.Permanent(fmt.Errorf("tickets: %s is not a ticket effect", pe.Effect.Kind))
}

// item reads the incident and the item a ticket effect names. ok is false
// when there is nothing left to do for it.
func (s *Service) item(ctx context.Context, pe incident.Pending) (inc incident.Incident, a incident.Action, ok bool, err error) {
	id, err := strconv.Atoi(pe.Effect.Params[incident.ParamAction])
	if err != nil {
		return inc, a, false, resilience.Permanent(fmt.Errorf("tickets: effect %s names no action item", pe.Effect.Key))
	}
	inc, err = s.store.Incident(ctx, pe.Effect.Incident)
	if err != nil {
		if errors.Is(err, incident.ErrNotFound) {
			return inc, a, false, nil
		}
		return inc, a, false, fmt.Errorf("tickets: read %s: %w", incident.ID(pe.Effect.Incident), err)
	}
	a, ok = inc.Action(id)
	return inc, a, ok, nil
}

// create finds the ticket the effect opened on an earlier attempt, and
// opens it only when there is none: a lost response, a timeout after the
// request landed or a kill between create and completion therefore end
// with one ticket.
func (s *Service) create(ctx context.Context, pe incident.Pending) (incident.Decider, error) {
	inc, a, ok, err := s.item(ctx, pe)
	if err != nil || !ok {
		return nil, err
	}
	key := pe.Effect.Key
	if a.Ticket == nil || a.Ticket.Effect != key || a.Ticket.State != incident.TicketPending {
		return nil, nil // a later request replaced it, or it is recorded
	}
	route, err := s.routes.Route(inc.Service)
	if err != nil {
		return nil, resilience.Permanent(err)
	}
	tr, ok := s.trackers[route.Tracker]
	if !ok {
		return nil, resilience.Permanent(fmt.Errorf("the route names tracker %s, which is not configured; add it under tickets: trackers:", route.Tracker))
	}
	where := tr.Name + " " + route.Project

	var found Ticket
	// The key of this effect, then the keys of the requests this one
	// retries (a create that landed before its request failed for good
	// would otherwise be opened a second time).
	looks := []struct {
		key   string
		since time.Time
	}{{key, pe.QueuedAt.Add(-FindWindow)}}
	for _, prev := range incident.PreviousKeys(pe.Effect) {
		looks = append(looks, struct {
			key   string
			since time.Time
		}{prev, a.CreatedAt.Add(-FindWindow)})
	}
	for _, l := range looks {
		err = tr.Guard.Do(ctx, resilience.Op{Method: "find", Idempotent: true}, func(ctx context.Context) error {
			var err error
			found, ok, err = tr.Tracker.Find(ctx, route.Project, l.key, l.since)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("find the ticket in %s: %w", where, err)
		}
		if ok {
			break
		}
	}
	if !ok {
		nt, err := s.render(ctx, tr, inc, a, key)
		if err != nil {
			return nil, err
		}
		// Not idempotent: the guard does not retry it. A failure defers
		// the effect, and the next attempt finds before creating.
		err = tr.Guard.Do(ctx, resilience.Op{Method: "create"}, func(ctx context.Context) error {
			var err error
			found, err = tr.Tracker.Create(ctx, route.Project, nt)
			return err
		})
		if err != nil {
			err = fmt.Errorf("create the ticket in %s: %w", where, err)
			if c := resilience.Classify(err); c == resilience.ClassRetryable {
				// The tracker may still make the ticket after the client
				// gave up on it (or Jira Cloud's search may not show it
				// yet): the next attempt must find it, so it waits.
				return nil, &settleError{err: err, wait: settleTime(tr.Kind)}
			}
			return nil, err
		}
	}
	state := incident.TicketOpen
	if found.State == StateClosed {
		state = incident.TicketClosed
	}
	t := incident.Ticket{Tracker: tr.Name, Project: route.Project, ID: found.ID, URL: found.URL, State: state}
	m := s.meta(key + ":created")
	id := a.ID
	return func(inc *incident.Incident) (incident.Change, error) {
		return inc.TicketCreated(id, key, t, m)
	}, nil
}

// render builds the ticket of item a, with its owner's account.
func (s *Service) render(ctx context.Context, tr Configured, inc incident.Incident, a incident.Action, key string) (NewTicket, error) {
	p := Page{Key: key, Kind: tr.Kind, IncidentURL: s.incURL(inc.Number)}
	if inc.ChannelID != "" {
		p.ChannelURL = s.chanURL(inc.ChannelID)
	}
	if a.Owner != "" {
		p.OwnerName = s.name(ctx, a.Owner)
		acc, err := s.account(ctx, tr, a.Owner)
		if err != nil {
			return NewTicket{}, err
		}
		p.Assignee = acc
	}
	return Render(inc, a, p), nil
}

// account finds the tracker account of Slack member owner: in the
// accounts file, then, when the tracker can look people up and the
// directory knows their email, by email (cached for accountTTL, "nobody"
// included). A lookup the tracker refuses for good leaves the ticket
// unassigned (the body names the owner); one that may pass later defers
// the effect.
func (s *Service) account(ctx context.Context, tr Configured, owner string) (string, error) {
	email := s.email(ctx, owner)
	if acc := s.accounts.Lookup(tr.Kind, owner, email); acc != "" {
		return acc, nil
	}
	lookup, ok := tr.Tracker.(Accounts)
	if !ok || email == "" {
		return "", nil
	}
	ck := tr.Name + "\x00" + strings.ToLower(email)
	now := s.now()
	s.mu.Lock()
	c, hit := s.cache[ck]
	s.mu.Unlock()
	if hit && now.Sub(c.at) < accountTTL {
		return c.account, nil
	}
	var acc string
	err := tr.Guard.Do(ctx, resilience.Op{Method: "account_by_email", Idempotent: true}, func(ctx context.Context) error {
		var err error
		acc, err = lookup.AccountByEmail(ctx, email)
		return err
	})
	switch {
	case errors.Is(err, resilience.ErrPermanent):
		s.log.LogAttrs(ctx, slog.LevelWarn, "tracker account lookup refused; the ticket names the owner instead",
			slog.String("tracker", tr.Name), slog.String("error", resilience.Redact(err.Error())))
		return "", nil
	case err != nil:
		return "", fmt.Errorf("look the owner up in %s: %w", tr.Name, err)
	}
	s.mu.Lock()
	for k, v := range s.cache {
		if now.Sub(v.at) >= accountTTL {
			delete(s.cache, k)
		}
	}
	s.cache[ck] = cachedAccount{account: acc, at: now}
	s.mu.Unlock()
	return acc, nil
}

// close comments on the item's open ticket and closes it. It asks the
// ticket's state first and, when a person or an earlier attempt closed it
// already, records that without commenting: only a failure between the
// comment and the close leaves a second comment on the next attempt.
func (s *Service) close(ctx context.Context, pe incident.Pending) (incident.Decider, error) {
	inc, a, ok, err := s.item(ctx, pe)
	if err != nil || !ok {
		return nil, err
	}
	how := pe.Effect.Params[incident.ParamHow]
	t := a.Ticket
	switch {
	case t == nil || t.State != incident.TicketOpen:
		return nil, nil
	case how == CloseDone && a.Status != incident.ActionDone, how == CloseWontDo && a.Status != incident.ActionWontDo:
		return nil, nil // reopened since: leave the ticket open
	case how != CloseDone && how != CloseWontDo:
		return nil, resilience.Permanent(fmt.Errorf("tickets: effect %s closes as %q, not done or wontdo", pe.Effect.Key, how))
	}
	tr, ok := s.trackers[t.Tracker]
	if !ok {
		s.log.LogAttrs(ctx, slog.LevelWarn, "ticket's tracker is no longer configured; not closing it",
			slog.String("effect", pe.Effect.Key), slog.String("tracker", t.Tracker))
		return nil, nil
	}
	where := t.Name()

	// A ticket not in the answer (or in a listing cut short) is closed
	// all the same: closing a closed one is harmless, a comment twice is
	// not, so the read spares the comment when it can.
	got, _, err := states(ctx, tr, t.Project, []string{t.ID}, pe.QueuedAt.Add(-FindWindow))
	if err != nil {
		return nil, fmt.Errorf("read the state of %s: %w", where, err)
	}
	if cur, ok := got[t.ID]; !ok || cur.State != StateClosed {
		comment := s.closeComment(ctx, inc, a, how)
		err = tr.Guard.Do(ctx, resilience.Op{Method: "comment"}, func(ctx context.Context) error {
			return tr.Tracker.Comment(ctx, t.Project, t.ID, comment)
		})
		if err != nil {
			return nil, fmt.Errorf("comment on %s: %w", where, err)
		}
		err = tr.Guard.Do(ctx, resilience.Op{Method: "close", Idempotent: true}, func(ctx context.Context) error {
			return tr.Tracker.Close(ctx, t.Project, t.ID, how)
		})
		if err != nil {
			return nil, fmt.Errorf("close %s: %w", where, err)
		}
	}
	m := s.meta(pe.Effect.Key + ":closed")
	id := a.ID
	return func(inc *incident.Incident) (incident.Change, error) {
		return inc.TicketChanged(id, incident.TicketClosed, m)
	}, nil
}

// closeComment says who closed the item in Ooda, and why when it will not
// be done. It never names the incident's title: the incident may be
// private.
func (s *Service) closeComment(ctx context.Context, inc incident.Incident, a incident.Action, how string) string {
	who := a.ClosedBy
	if incident.IsPerson(who) {
		if n := s.name(ctx, who); n != "" {
			who = n
		}
	}
	if who == "" {
		who = "someone"
	}
	if how == CloseWontDo {
		if inc.Private {
			// The reason is a person's words in a private channel.
			return fmt.Sprintf("Marked won't do in Ooda by %s in %s.", who, inc.ID)
		}
		return fmt.Sprintf("Marked won't do in Ooda by %s in %s: %s", who, inc.ID, oneLine(a.Reason))
	}
	return fmt.Sprintf("Marked done in Ooda by %s in %s.", who, inc.ID)
}

// Failed records, with the completion of pe, that it failed for good with
// err: on the item (its ticket failed, and why) for a create, in the
// timeline for a close.
func (s *Service) Failed(pe incident.Pending, err error, m incident.Meta) incident.Decider {
	id, _ := strconv.Atoi(pe.Effect.Params[incident.ParamAction])
	reason := resilience.Redact(err.Error()) // the domain bounds it
	key := pe.Effect.Key
	switch pe.Effect.Kind {
	case incident.EffectCreateTicket:
		return func(inc *incident.Incident) (incident.Change, error) {
			return inc.TicketFailed(id, key, reason, m)
		}
	case incident.EffectCloseTicket:
		return func(inc *incident.Incident) (incident.Change, error) {
			return inc.TicketCloseFailed(id, reason, m)
		}
	}
	return func(*incident.Incident) (incident.Change, error) { return incident.Change{}, nil }
}

// RetryAfter is the wait a rate-limited err asked for (the guard's error
// carries its tracker's classifier), or the settle time after a create
// whose outcome is unknown.
func (s *Service) RetryAfter(err error) (time.Duration, bool) {
	var se *settleError
	if errors.As(err, &se) {
		return se.wait, true
	}
	return resilience.RetryAfter(err)
}

// Settle is how long after an attempt at pe whose outcome is unknown the
// next may start: the settle time of the tracker its create goes to; 0
// for a close (closing a closed ticket is harmless) or an effect with no
// route (it fails without calling anyone).
func (s *Service) Settle(ctx context.Context, pe incident.Pending) time.Duration {
	if pe.Effect.Kind != incident.EffectCreateTicket {
		return 0
	}
	inc, err := s.store.Incident(ctx, pe.Effect.Incident)
	if err != nil {
		return SettleTime
	}
	route, err := s.routes.Route(inc.Service)
	if err != nil {
		return 0
	}
	tr, ok := s.trackers[route.Tracker]
	if !ok {
		return 0
	}
	return settleTime(tr.Kind)
}

// settleError is a create that failed in a way that leaves its outcome
// unknown (a timeout, a lost response, a 5xx): the tracker may yet make
// the ticket, so the next attempt, which looks for it before creating,
// waits until it would see it.
type settleError struct {
	err  error
	wait time.Duration
}

func (e *settleError) Error() string { return e.err.Error() }
func (e *settleError) Unwrap() error { return e.err }

// The settle times: how long after an unknown create the next attempt
// looks for its ticket. GitHub's and GitLab's lists, and Jira Data
// Center's search, show a ticket once its create has been answered;
// Jira Cloud's search index lags by up to minutes (Data Center waits as
// long: the tracker's kind does not say its flavor).
const (
	SettleTime          = 2 * time.Minute
	SettleTimeJiraCloud = 5 * time.Minute
)

func settleTime(kind string) time.Duration {
	if kind == KindJira {
		return SettleTimeJiraCloud
	}
	return SettleTime
}

// meta is how Ooda signs what it records about tickets.
func (s *Service) meta(key string) incident.Meta {
	return incident.Meta{At: s.now(), Actor: incident.Bot, Source: timeline.SourceSystem, Key: key}
}
