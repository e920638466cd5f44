package directory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/resilience"
)

// Store keeps the people the directory learns; storage.Store is one.
type Store interface {
	SavePeople(ctx context.Context, ps []people.Person) error
	People(ctx context.Context) ([]people.Person, error)
}

// SlackUsers is the part of slack-go's *slack.Client the directory calls.
type SlackUsers interface {
	GetUsersPaginated(options ...slack.GetUsersOption) slack.UserPagination
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
}

var _ SlackUsers = (*slack.Client)(nil)

// Defaults of Config.
const (
	DefaultReload   = 5 * time.Minute
	DefaultPageSize = 200
	DefaultQueue    = 256
	DefaultMissTTL  = 10 * time.Minute
)

// lookupBatch bounds the unknown ids Run looks up in one go, and
// lookupTimeout the time it gives them: a Slack outage costs the worker
// that long at most, then the breaker fails the next batch fast.
const (
	lookupBatch   = 50
	lookupTimeout = 30 * time.Second
)

// Config is what a Directory needs.
type Config struct {
	// Store keeps the people: it is read at start-up and by Reload, and
	// every refresh and lookup is saved to it before it is served.
	Store Store
	// Slack describes the workspace's people; nil leaves the directory
	// with what the store holds (Slack is not configured).
	Slack SlackUsers
	// Guard protects every Slack call; required with Slack.
	Guard *resilience.Guard
	// Now stamps when Slack described a person; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Reload is how often Run reads the store again, for what another
	// replica's refresh saved; 0 means DefaultReload.
	Reload time.Duration
	// PageSize is users.list's page size; 0 means DefaultPageSize (Slack
	// recommends no more than 200).
	PageSize int
	// Queue is how many unknown ids may wait for Run to look them up; 0
	// means DefaultQueue. Ids asked for while it is full are asked for
	// again the next time they are shown.
	Queue int
	// MissTTL is how long an id Slack could not describe (unknown to it,
	// or Slack unreachable) is not asked for again; 0 means
	// DefaultMissTTL.
	MissTTL time.Duration
}

// Directory is the workspace's people as Ooda serves them: read from the
// store at start-up, refreshed from Slack's users.list (Refresh, which
// the app schedules hourly and at start-up), and completed one unknown id
// at a time with users.info (Name queues it, Run looks it up). Every
// Slack call goes through the guard. What a command needs (Find, Name) is
// answered from memory and never waits on Slack or the store, so a
// command's acknowledgement costs a map lookup.
type Directory struct {
	cfg Config
	cur atomic.Pointer[people.Directory]

	mu    sync.Mutex // serializes changes to cur
	queue chan string

	askedMu sync.Mutex
	asked   map[string]asked // ids queued for Run, or that Slack could not describe
}

// asked is when an id was queued for a lookup, or, missed, when Slack
// last could not describe it.
type asked struct {
	at     time.Time
	missed bool
}

// New checks cfg and returns a directory holding nobody; Load (or Run)
// fills it from the store. It starts nothing.
func New(cfg Config) (*Directory, error) {
	if cfg.Store == nil {
		return nil, errors.New("directory: needs a store")
	}
	if cfg.Slack != nil && cfg.Guard == nil {
		return nil, errors.New("directory: Slack calls need a guard")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Reload = cmp.Or(cfg.Reload, DefaultReload)
	cfg.PageSize = cmp.Or(cfg.PageSize, DefaultPageSize)
	cfg.Queue = cmp.Or(cfg.Queue, DefaultQueue)
	cfg.MissTTL = cmp.Or(cfg.MissTTL, DefaultMissTTL)
	d := &Directory{cfg: cfg, queue: make(chan string, cfg.Queue), asked: map[string]asked{}}
	d.cur.Store(people.NewDirectory(nil))
	return d, nil
}

// Current is the directory as it is now. It never changes; a later
// refresh replaces it.
func (d *Directory) Current() *people.Directory { return d.cur.Load() }

// Find resolves a name typed after @, from memory.
func (d *Directory) Find(name string) people.Match { return d.Current().Find(name) }

// Len is how many people the directory knows.
func (d *Directory) Len() int { return d.Current().Len() }

// Person is what the directory knows of the member ID id, from memory:
// the web UI asks it whether a signed-in person was deactivated since.
func (d *Directory) Person(id string) (people.Person, bool) { return d.Current().Person(id) }

// Name is how the member ID id is shown, from memory; "" when it is not
// known yet, and then it is queued for Run to look up, so it is known the
// next time. It never waits.
func (d *Directory) Name(id string) string {
	if n := d.Current().Name(id); n != "" {
		return n
	}
	if d.cfg.Slack != nil && d.shouldAsk(id, false) {
		select {
		case d.queue <- id:
		default:
			d.forget(id) // full: asked for again next time
		}
	}
	return ""
}

// Names returns a name function for a document drafted now (a
// post-mortem): a known id from memory, an unknown one looked up with
// users.info within ctx, once. With Slack unreachable the breaker makes
// the lookups fail fast, and the ids stay ids. ctx bounds every lookup the
// function makes: use it only while ctx lives.
func (d *Directory) Names(ctx context.Context) func(id string) string {
	return func(id string) string {
		if n := d.Current().Name(id); n != "" {
			return n
		}
		if d.cfg.Slack == nil || ctx.Err() != nil || !d.shouldAsk(id, true) {
			return ""
		}
		if err := d.Lookup(ctx, id); err != nil {
			d.cfg.Logger.DebugContext(ctx, "directory: lookup failed", "user", id, "err", err)
		}
		return d.Current().Name(id)
	}
}

// Load reads the store into memory. People already in memory stay unless
// the store describes them more recently.
func (d *Directory) Load(ctx context.Context) error {
	ps, err := d.cfg.Store.People(ctx)
	if err != nil {
		return fmt.Errorf("directory: read people: %w", err)
	}
	d.merge(ps)
	return nil
}

// Refresh reads the whole workspace from users.list, a page at a time,
// saving each page as it comes, and serves what it saved; it returns how
// many people Slack listed. A failure, or ctx ending (the job's timeout),
// loses only the pages not yet read: a page read is saved even when ctx
// ends while it is being saved.
func (d *Directory) Refresh(ctx context.Context) (int, error) {
	if d.cfg.Slack == nil {
		return 0, nil
	}
	var saved []people.Person
	var errs []error
	p := d.cfg.Slack.GetUsersPaginated(slack.GetUsersOptionLimit(d.cfg.PageSize))
	// The first page has no cursor; the last one answers none.
	for first := true; first || p.Cursor != ""; first = false {
		err := d.cfg.Guard.Do(ctx, resilience.Op{Method: "users.list", Idempotent: true}, func(ctx context.Context) error {
			next, err := p.Next(ctx)
			if err != nil {
				return err
			}
			p = next
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("directory: users.list: %w", err))
			break
		}
		now := d.cfg.Now().UTC()
		page := make([]people.Person, 0, len(p.Users))
		for _, u := range p.Users {
			page = append(page, personOf(u, now))
		}
		if err := d.cfg.Store.SavePeople(context.WithoutCancel(ctx), page); err != nil {
			errs = append(errs, fmt.Errorf("directory: save people: %w", err))
			break
		}
		saved = append(saved, page...)
	}
	if len(saved) > 0 {
		d.merge(saved)
	}
	return len(saved), errors.Join(errs...)
}

// Lookup describes ids with users.info, one call each, saves them and
// serves them. An id Slack does not know, or cannot be asked about, is
// not asked for again for a while (MissTTL).
func (d *Directory) Lookup(ctx context.Context, ids ...string) error {
	if d.cfg.Slack == nil {
		return nil
	}
	var found []people.Person
	var errs []error
	for _, id := range ids {
		if !people.IsMemberID(id) {
			continue
		}
		var u *slack.User
		err := d.cfg.Guard.Do(ctx, resilience.Op{Method: "users.info", Idempotent: true}, func(ctx context.Context) error {
			var err error
			u, err = d.cfg.Slack.GetUserInfoContext(ctx, id)
			return err
		})
		if err != nil {
			d.missed(id)
			errs = append(errs, fmt.Errorf("users.info %s: %w", id, err))
			continue
		}
		found = append(found, personOf(*u, d.cfg.Now().UTC()))
	}
	if len(found) > 0 {
		if err := d.save(ctx, found); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}

// Run loads the store, then looks up the ids Name queued and reads the
// store again every Reload, until ctx ends. Every replica runs it: the
// refresh runs on one, and the others learn it from the store.
func (d *Directory) Run(ctx context.Context) error {
	if err := d.Load(ctx); err != nil && ctx.Err() == nil {
		d.cfg.Logger.WarnContext(ctx, "directory: names unavailable until the store answers", "err", err)
	}
	reload := time.NewTicker(d.cfg.Reload)
	defer reload.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-reload.C:
			if err := d.Load(ctx); err != nil && ctx.Err() == nil {
				d.cfg.Logger.WarnContext(ctx, "directory: reload failed", "err", err)
			}
		case id := <-d.queue:
			ids := []string{id}
		drain:
			for len(ids) < lookupBatch {
				select {
				case id := <-d.queue:
					ids = append(ids, id)
				default:
					break drain
				}
			}
			lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
			err := d.Lookup(lctx, ids...)
			cancel()
			if err != nil && ctx.Err() == nil {
				d.cfg.Logger.WarnContext(ctx, "directory: some names could not be looked up", "err", err)
			}
		}
	}
}

// save stores ps and then serves them: what is served was stored, so a
// restart serves it too.
func (d *Directory) save(ctx context.Context, ps []people.Person) error {
	if err := d.cfg.Store.SavePeople(ctx, ps); err != nil {
		return fmt.Errorf("directory: save people: %w", err)
	}
	d.merge(ps)
	return nil
}

// merge serves ps together with the people already served, the more
// recent description of each winning.
func (d *Directory) merge(ps []people.Person) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cur.Store(people.NewDirectory(append(d.Current().People(), ps...)))
	d.askedMu.Lock()
	for _, p := range ps {
		delete(d.asked, p.ID)
	}
	d.askedMu.Unlock()
}

// shouldAsk reports whether Slack should be asked about id, and marks it
// asked: a member ID Slack has not failed to describe lately, and, unless
// now is true (a draft that would rather wait than show the id), not
// already queued.
func (d *Directory) shouldAsk(id string, now bool) bool {
	if !people.IsMemberID(id) {
		return false
	}
	at := d.cfg.Now()
	d.askedMu.Lock()
	defer d.askedMu.Unlock()
	if a, ok := d.asked[id]; ok && at.Sub(a.at) < d.cfg.MissTTL && (a.missed || !now) {
		return false
	}
	d.remember(id, asked{at: at})
	return true
}

// maxAsked bounds the ids remembered as asked: ids shown faster than
// MissTTL forgets them (a flood of unknown ones) must not grow the map
// without end.
const maxAsked = 4096

// remember records a as the last ask about id, keeping at most maxAsked
// ids: when full, the expired ones are swept, and if too few had expired a
// quarter of the rest is forgotten, whichever the map yields first (an id
// forgotten may be asked about again sooner, which costs a call, not
// memory; forgetting many at once keeps a flood from sweeping on every
// ask). Call with askedMu held.
func (d *Directory) remember(id string, a asked) {
	if _, ok := d.asked[id]; !ok && len(d.asked) >= maxAsked {
		for k, v := range d.asked {
			if a.at.Sub(v.at) >= d.cfg.MissTTL {
				delete(d.asked, k)
			}
		}
		for k := range d.asked {
			if len(d.asked) <= maxAsked*3/4 {
				break
			}
			delete(d.asked, k)
		}
	}
	d.asked[id] = a
}

func (d *Directory) missed(id string) {
	d.askedMu.Lock()
	d.remember(id, asked{at: d.cfg.Now(), missed: true})
	d.askedMu.Unlock()
}

func (d *Directory) forget(id string) {
	d.askedMu.Lock()
	delete(d.asked, id)
	d.askedMu.Unlock()
}

// personOf is a Slack user as the directory keeps them, described at now.
func personOf(u slack.User, now time.Time) people.Person {
	return people.Person{
		ID:          u.ID,
		Handle:      u.Name,
		RealName:    cmp.Or(u.Profile.RealName, u.RealName),
		DisplayName: u.Profile.DisplayName,
		TZ:          u.TZ,
		Deleted:     u.Deleted,
		Bot:         u.IsBot || u.ID == "USLACKBOT",
		Email:       u.Profile.Email,
		SeenAt:      now,
	}
}
