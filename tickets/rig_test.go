package tickets_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ooda-sre/ooda/bot/executor"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/tickets"
	"github.com/ooda-sre/ooda/timeline"
)

func TestMain(m *testing.M) {
	// No goroutine may outlive a test: not even the client's timeout
	// watcher of a failed GitHub call (see errorBodies).
	goleak.VerifyTestMain(m)
}

// The executor performs the ticket effects through a *tickets.Service.
var _ executor.Tickets = (*tickets.Service)(nil)

// People of the tests.
const (
	alice = "U0ALICE0001"
	bob   = "U0BOB000001"
)

// fakeTracker is an in-memory tickets.Tracker. Its faults are queued per
// method: each call takes the next one.
type fakeTracker struct {
	kind string

	mu          sync.Mutex
	tickets     []*fakeTicket
	calls       map[string]int
	faults      map[string][]fault
	statesIn    [][]string  // the ids of each States call
	statesSince []time.Time // the since of each States call
	truncate    []time.Time // States answers in part, read through these, in turn
}

type fakeTicket struct {
	project  string
	t        tickets.Ticket
	new      tickets.NewTicket
	comments []string
	how      string
}

// fault is what a call does instead of answering: fail before doing its
// work, or do it and then fail (a response lost after the request landed).
type fault struct {
	err   error
	after bool
}

func newFake(kind string) *fakeTracker {
	return &fakeTracker{kind: kind, calls: map[string]int{}, faults: map[string][]fault{}}
}

func (f *fakeTracker) fail(method string, err error) { f.queue(method, fault{err: err}) }
func (f *fakeTracker) loseAfter(method string, err error) {
	f.queue(method, fault{err: err, after: true})
}

func (f *fakeTracker) queue(method string, x fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[method] = append(f.faults[method], x)
}

// enter counts a call and returns its fault.
func (f *fakeTracker) enter(method string) (fault, bool) {
	f.calls[method]++
	q := f.faults[method]
	if len(q) == 0 {
		return fault{}, false
	}
	f.faults[method] = q[1:]
	return q[0], true
}

func (f *fakeTracker) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeTracker) all() []fakeTicket {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]fakeTicket, len(f.tickets))
	for i, t := range f.tickets {
		out[i] = *t
		out[i].comments = slices.Clone(t.comments)
	}
	return out
}

func (f *fakeTracker) find(project, id string) *fakeTicket {
	for _, t := range f.tickets {
		if t.project == project && t.t.ID == id {
			return t
		}
	}
	return nil
}

// setState changes a ticket as a person would in the tracker.
func (f *fakeTracker) setState(project, id, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.find(project, id).t.State = state
}

func (f *fakeTracker) Kind() string { return f.kind }

func (f *fakeTracker) Create(_ context.Context, project string, nt tickets.NewTicket) (tickets.Ticket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	x, faulty := f.enter("create")
	if faulty && !x.after {
		return tickets.Ticket{}, x.err
	}
	id := strconv.Itoa(len(f.tickets) + 1)
	if f.kind == tickets.KindJira {
		id = project + "-" + id
	}
	t := &fakeTicket{project: project, new: nt, t: tickets.Ticket{
		ID: id, URL: "https://tracker.example/" + project + "/" + id, State: tickets.StateOpen,
	}}
	f.tickets = append(f.tickets, t)
	if faulty {
		return tickets.Ticket{}, x.err
	}
	return t.t, nil
}

func (f *fakeTracker) Find(_ context.Context, project, key string, _ time.Time) (tickets.Ticket, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if x, faulty := f.enter("find"); faulty {
		return tickets.Ticket{}, false, x.err
	}
	for _, t := range f.tickets {
		if t.project == project && t.new.Key == key {
			return t.t, true, nil
		}
	}
	return tickets.Ticket{}, false, nil
}

func (f *fakeTracker) States(_ context.Context, project string, ids []string, since time.Time) (map[string]tickets.Ticket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if x, faulty := f.enter("states"); faulty {
		return nil, x.err
	}
	f.statesIn = append(f.statesIn, slices.Clone(ids))
	f.statesSince = append(f.statesSince, since)
	out := map[string]tickets.Ticket{}
	for _, id := range ids {
		if t := f.find(project, id); t != nil {
			out[id] = t.t
		}
	}
	if len(f.truncate) > 0 {
		through := f.truncate[0]
		f.truncate = f.truncate[1:]
		return out, &tickets.TruncatedError{Through: through}
	}
	return out, nil
}

func (f *fakeTracker) Comment(_ context.Context, project, id, comment string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	x, faulty := f.enter("comment")
	if faulty && !x.after {
		return x.err
	}
	f.find(project, id).comments = append(f.find(project, id).comments, comment)
	return x.err
}

func (f *fakeTracker) Close(_ context.Context, project, id, how string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	x, faulty := f.enter("close")
	if faulty && !x.after {
		return x.err
	}
	t := f.find(project, id)
	t.t.State, t.how = tickets.StateClosed, how
	return x.err
}

// sigHeader carries the fake's webhook signature: the secret itself.
const sigHeader = "X-Fake-Signature"

// delivery is the fake's webhook body.
type delivery struct {
	Project string `json:"project"`
	ID      string `json:"id"`
	State   string `json:"state"`
}

func (f *fakeTracker) Webhook(h http.Header, body []byte, secret []byte) ([]tickets.Change, error) {
	if got := h.Get(sigHeader); got == "" || got != string(secret) {
		return nil, fmt.Errorf("fake: %w", tickets.ErrBadSignature)
	}
	var d delivery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("fake: read delivery: %w", err)
	}
	if d.ID == "" {
		return nil, nil // an event Ooda does not follow
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	url := ""
	if t := f.find(d.Project, d.ID); t != nil {
		url = t.t.URL
	}
	return []tickets.Change{{Project: d.Project, ID: d.ID, URL: url, State: d.State}}, nil
}

// signed is a delivery of ticket id's state, signed with secret.
func signed(t *testing.T, secret, project, id, state string) (http.Header, []byte) {
	t.Helper()
	b, err := json.Marshal(delivery{Project: project, ID: id, State: state})
	require.NoError(t, err)
	h := http.Header{}
	if secret != "" {
		h.Set(sigHeader, secret)
	}
	return h, b
}

// peopleFake is a fakeTracker that also looks people up by email.
type peopleFake struct {
	*fakeTracker
	byEmail map[string]string
}

func (p *peopleFake) AccountByEmail(_ context.Context, email string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if x, faulty := p.enter("account"); faulty {
		return "", x.err
	}
	return p.byEmail[email], nil
}

// rig is a store, a Service over fake trackers, and an executor's part
// played by hand: perform an effect, then complete, defer or fail it.
type rig struct {
	t        testing.TB
	ctx      context.Context
	db       *storage.DB
	svc      *tickets.Service
	trackers map[string]tickets.Tracker
	now      time.Time
	n        int
	notified atomic.Int32
	notifyCh chan struct{} // a value per Notify
}

// rigOptions change what newRig builds.
type rigOptions struct {
	config   tickets.Config
	trackers map[string]tickets.Tracker // by name; kinds from the config
	accounts *tickets.AccountMap
	email    map[string]string // Slack member → email
	// adapters build a tracker (a real adapter) over its guard's HTTP
	// client, by tracker name; secrets are webhook secrets by name.
	adapters map[string]func(g *resilience.Guard) tickets.Tracker
	secrets  map[string][]byte
	db       *storage.DB // nil: a new database
}

const (
	ghSecret = "gh-webhook-secret"
)

// defaultConfig routes everything to a GitHub tracker "github" (acme/ops)
// and the checkout service to a Jira tracker "jira" (PAY).
func defaultConfig() tickets.Config {
	return tickets.Config{
		Trackers: []tickets.TrackerConfig{
			{Name: "github", Kind: tickets.KindGitHub, TokenEnv: "GITHUB_TOKEN", WebhookSecretEnv: "GITHUB_WEBHOOK"},
			{Name: "jira", Kind: tickets.KindJira, URL: "https://acme.atlassian.net", Email: "ooda@acme.example", TokenEnv: "JIRA_TOKEN"},
		},
		Default:  &tickets.Route{Tracker: "github", Project: "acme/ops"},
		Services: map[string]tickets.Route{"Checkout": {Tracker: "jira", Project: "PAY"}},
	}
}

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	if o.config.Trackers == nil {
		o.config = defaultConfig()
	}
	require.NoError(t, o.config.Validate())
	if o.trackers == nil {
		o.trackers = map[string]tickets.Tracker{}
	}
	if o.db == nil {
		o.db = storagetest.Open(t)
	}
	r := &rig{t: t, ctx: t.Context(), db: o.db, trackers: o.trackers, notifyCh: make(chan struct{}, 100),
		now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	var configured []tickets.Configured
	for _, tc := range o.config.Trackers {
		g, err := resilience.New(resilience.DefaultPolicy(tc.Name),
			resilience.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }))
		require.NoError(t, err)
		tr, ok := o.trackers[tc.Name]
		switch {
		case o.adapters[tc.Name] != nil:
			tr = o.adapters[tc.Name](g)
			o.trackers[tc.Name] = tr
		case !ok:
			tr = newFake(tc.Kind)
			o.trackers[tc.Name] = tr
		}
		c := tickets.Configured{Name: tc.Name, Kind: tc.Kind, Tracker: tr, Guard: g, WebhookSecret: o.secrets[tc.Name]}
		if tc.Kind == tickets.KindGitHub && o.secrets == nil {
			c.WebhookSecret = []byte(ghSecret)
		}
		configured = append(configured, c)
	}
	svc, err := tickets.New(tickets.Options{
		Store:    r.db,
		Trackers: configured,
		Routes:   o.config.Routes(),
		Accounts: o.accounts,
		Email:    func(_ context.Context, u string) string { return o.email[u] },
		Name: func(_ context.Context, u string) string {
			return map[string]string{alice: "Alice Chen", bob: "Bob Li"}[u]
		},
		IncidentURL: func(n uint64) string { return "https://ooda.example/incidents/" + strconv.FormatUint(n, 10) },
		ChannelURL:  func(ch string) string { return "https://slack.example/archives/" + ch },
		Notify: func() {
			r.notified.Add(1)
			r.notifyCh <- struct{}{}
		},
		Now: func() time.Time { return r.now },
	})
	require.NoError(t, err)
	r.svc = svc
	return r
}

func (r *rig) fake(name string) *fakeTracker {
	switch f := r.trackers[name].(type) {
	case *fakeTracker:
		return f
	case *peopleFake:
		return f.fakeTracker
	}
	r.t.Fatalf("tracker %s is not a fake", name)
	return nil
}

func (r *rig) meta() incident.Meta {
	r.n++
	return incident.Meta{At: r.now, Actor: alice, Source: timeline.SourceCommand, Key: "cmd-" + strconv.Itoa(r.n)}
}

// declare declares an incident of service with an impact.
func (r *rig) declare(title, service string, private bool) uint64 {
	r.t.Helper()
	m := r.meta()
	res, err := r.db.Declare(r.ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: title, Severity: 2, Private: private, Service: service}, m)
	})
	require.NoError(r.t, err)
	n := res.Incident.Number
	r.apply(n, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetImpact("EU cards declined at checkout", m)
	})
	return n
}

func (r *rig) apply(n uint64, cmd func(inc *incident.Incident, m incident.Meta) (incident.Change, error)) incident.Result {
	r.t.Helper()
	m := r.meta()
	res, err := r.db.Apply(r.ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return cmd(inc, m) })
	require.NoError(r.t, err)
	return res
}

// addItem adds an item that asks for a ticket and returns its number.
func (r *rig) addItem(n uint64, text, owner string) int {
	r.t.Helper()
	res := r.apply(n, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddActionItem(incident.NewAction{Text: text, Owner: owner, Priority: "P1", Ticket: true}, m)
	})
	return len(res.Incident.Actions)
}

// pending returns the one pending effect of kind.
func (r *rig) pending(kind incident.EffectKind) incident.Pending {
	r.t.Helper()
	ps := r.pendings(kind)
	require.Len(r.t, ps, 1, "pending %s effects", kind)
	return ps[0]
}

func (r *rig) pendings(kind incident.EffectKind) []incident.Pending {
	r.t.Helper()
	all, err := r.db.Pending(r.ctx, 0)
	require.NoError(r.t, err)
	var out []incident.Pending
	for _, p := range all {
		if p.Effect.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}

// attempt is one executor attempt at pe: it completes the effect,
// fails it for good (permanent error) or defers it, as the executor does,
// and returns Perform's error.
func (r *rig) attempt(pe incident.Pending) error {
	r.t.Helper()
	decide, err := r.svc.Perform(r.ctx, pe)
	switch {
	case err == nil:
		_, cerr := r.db.Complete(r.ctx, pe.OutboxSeq, incident.Outcome{At: r.now, Key: pe.Effect.Key, Decide: decide})
		require.NoError(r.t, cerr)
	case errors.Is(err, resilience.ErrPermanent):
		m := incident.Meta{At: r.now, Actor: incident.Bot, Source: timeline.SourceSystem, Key: pe.Effect.Key}
		_, cerr := r.db.Complete(r.ctx, pe.OutboxSeq, incident.Outcome{
			Failed: true, Error: err.Error(), At: r.now, Key: pe.Effect.Key, Decide: r.svc.Failed(pe, err, m),
		})
		require.NoError(r.t, cerr)
	default:
		require.NoError(r.t, r.db.Defer(r.ctx, pe.OutboxSeq, incident.Retry{Attempts: pe.Attempts + 1, NextAt: r.now, Error: err.Error()}))
	}
	return err
}

func (r *rig) item(n uint64, id int) incident.Action {
	r.t.Helper()
	inc, err := r.db.Incident(r.ctx, n)
	require.NoError(r.t, err)
	a, ok := inc.Action(id)
	require.True(r.t, ok)
	return a
}

// ticketEvents lists incident n's ticket events as "change state status".
func (r *rig) ticketEvents(n uint64) []string {
	r.t.Helper()
	evs, err := r.db.Events(r.ctx, n, 0)
	require.NoError(r.t, err)
	var out []string
	for _, e := range evs {
		switch {
		case e.Kind == timeline.KindActionUpdated && strings.HasPrefix(e.Attr(timeline.AttrChange), "ticket"):
			out = append(out, strings.TrimSpace(e.Attr(timeline.AttrChange)+" "+e.Attr(timeline.AttrState)+" "+e.Attr(timeline.AttrStatus)))
		case e.Kind == timeline.KindEffectFailed:
			out = append(out, "effect_failed "+e.Text)
		}
	}
	return out
}

// created declares an incident with one item and performs its
// create_ticket effect: the ticket is open in tracker "github".
func (r *rig) created() (uint64, int) {
	r.t.Helper()
	n := r.declare("Checkout fails for EU cards", "search", false)
	id := r.addItem(n, "Alert on card declines", alice)
	require.NoError(r.t, r.attempt(r.pending(incident.EffectCreateTicket)))
	require.Equal(r.t, incident.TicketOpen, r.item(n, id).Ticket.State)
	return n, id
}
