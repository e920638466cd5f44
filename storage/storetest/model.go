package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

// testModel drives the store with random command sequences across several
// incidents, using the real domain commands, and after every step compares
// it with a model: a map of event lists, the keys seen and the outbox. The
// model decides each command on Replay of its own events, so the store must
// agree with the domain as well as with itself. Set OODA_MODEL_SEED to
// replay a failing seed.
func testModel(t *testing.T, b *suite) {
	if testing.Short() {
		t.Skip("model-based random test; runs without -short")
	}
	seeds := []uint64{1, 2, uint64(time.Now().UnixNano())}
	if s := os.Getenv("OODA_MODEL_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "OODA_MODEL_SEED")
		seeds = []uint64{seed}
	}
	name := t.Name()
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("replay with: OODA_MODEL_SEED=%d go test -run '%s' in the backend's package", seed, name)
				}
			})
			runModel(t, b, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), 300)
		})
	}
}

// model is what the store should hold.
type model struct {
	events map[uint64][]timeline.Event
	next   uint64 // the number the next declaration gets
	keys   map[string]keyed
	outbox []queued                     // effects not yet completed, in commit order
	done   map[string]map[string]string // effect key -> outcome result
	gone   []uint64                     // outbox sequences of completed effects
	maxSeq uint64                       // the highest outbox sequence seen
}

// queued is an effect in the outbox. The store numbers it (the interface
// promises only that numbers rise in commit order), so its seq is learned
// from Pending after the command that queued it, and must not change.
type queued struct {
	seq    uint64 // 0 until learned
	effect incident.Effect
}

type keyed struct {
	number uint64
	events []timeline.Event
}

// record adds a committed change to the model.
func (m *model) record(n uint64, key string, ch incident.Change) {
	m.events[n] = append(m.events[n], ch.Events...)
	if key != "" {
		m.keys[key] = keyed{number: n, events: ch.Events}
	}
	for _, fx := range ch.Effects {
		m.outbox = append(m.outbox, queued{effect: fx})
	}
}

// expect is what a command should do: return want (or wantErr) and, when
// it commits, change the model by commit.
type expect struct {
	want    incident.Result
	wantErr error
	commit  func()
}

// predict decides a command on the model's state, the way the store must.
func (m *model) predict(n uint64, key string, exists bool, decide func(before incident.Incident) (incident.Change, error)) expect {
	if k, ok := m.keys[key]; ok {
		return expect{want: incident.Result{Incident: incident.Replay(m.events[k.number]), Events: k.events, Duplicate: true}}
	}
	if !exists {
		return expect{wantErr: incident.NotFound(n)}
	}
	before := incident.Replay(m.events[n])
	ch, err := decide(before.Clone())
	if err != nil {
		return expect{wantErr: err}
	}
	if len(ch.Events) == 0 {
		return expect{want: incident.Result{Incident: before}}
	}
	after := before.Clone()
	for _, e := range ch.Events {
		after.Apply(e)
	}
	return expect{
		want:   incident.Result{Incident: after, Events: ch.Events, Effects: ch.Effects},
		commit: func() { m.record(n, key, ch) },
	}
}

func runModel(t *testing.T, b *suite, rng *rand.Rand, steps int) {
	clk := resiliencetest.NewClock(t0)
	db := b.open(t, clk.Now)
	m := &model{
		events: map[uint64][]timeline.Event{}, next: 1, keys: map[string]keyed{},
		done: map[string]map[string]string{},
	}
	var usedKeys []string
	users := []string{"U1", "U2", "U3", "U4"}
	// tally counts outcomes, so -v shows the run reached every path.
	tally := map[string]int{}
	defer func() { t.Logf("outcomes: %v", tally) }()

	for step := range steps {
		clk.Advance(time.Duration(1+rng.IntN(300)) * time.Second)
		key := fmt.Sprintf("k%d", step)
		if len(usedKeys) > 0 && rng.IntN(5) == 0 {
			key = usedKeys[rng.IntN(len(usedKeys))] // a Slack retry or a double click
		}
		usedKeys = append(usedKeys, key)
		meta := incident.Meta{At: clk.Now(), Actor: users[rng.IntN(len(users))], Source: timeline.SourceCommand, Key: key}

		var (
			what string
			exp  expect
			res  incident.Result
			err  error
		)
		switch op := rng.IntN(100); {
		case op < 12 || len(m.events) == 0:
			d := randomDeclaration(rng)
			what = fmt.Sprintf("declare %+v", d)
			decide := func(n uint64) (incident.Change, error) { return incident.Declare(n, d, meta) }
			n := m.next
			exp = m.predict(n, key, true, func(incident.Incident) (incident.Change, error) { return decide(n) })
			if exp.commit != nil {
				commit := exp.commit
				exp.commit = func() { commit(); m.next++ }
			}
			res, err = db.Declare(t.Context(), key, decide)

		case op < 80:
			n := uint64(1 + rng.IntN(int(m.next-1)))
			if rng.IntN(50) == 0 {
				n = m.next + 5
			}
			name, cmd := randomCommand(rng, users, m.events[n])
			what = fmt.Sprintf("%s on %s", name, incident.ID(n))
			decider := func(inc *incident.Incident) (incident.Change, error) { return cmd(inc, meta) }
			_, exists := m.events[n]
			exp = m.predict(n, key, exists, func(before incident.Incident) (incident.Change, error) { return decider(&before) })
			res, err = db.Apply(t.Context(), n, key, decider)

		case op < 92 && len(m.outbox) > 0:
			i := rng.IntN(len(m.outbox))
			seq, fx := m.outbox[i].seq, m.outbox[i].effect
			outcome, name := randomOutcome(rng, fx, step, clk.Now(), key)
			what = fmt.Sprintf("complete %s (%s)", fx.Key, name)
			if outcome.Decide != nil {
				exp = m.predict(fx.Incident, outcome.Key, true, func(before incident.Incident) (incident.Change, error) { return outcome.Decide(&before) })
			} else {
				exp = expect{want: incident.Result{Incident: incident.Replay(m.events[fx.Incident])}}
			}
			if exp.wantErr == nil {
				commit := exp.commit
				exp.commit = func() {
					if commit != nil {
						commit()
					}
					// commit only appends to the outbox: entry i is still the one completed.
					m.outbox = slices.Delete(m.outbox, i, i+1)
					m.gone = append(m.gone, seq)
					m.done[fx.Key] = outcome.Result
				}
			}
			res, err = db.Complete(t.Context(), seq, outcome)

		case op < 96 && len(m.outbox) > 0:
			seq := m.outbox[rng.IntN(len(m.outbox))].seq
			what = fmt.Sprintf("defer outbox %d", seq)
			require.NoError(t, db.Defer(t.Context(), seq, incident.Retry{Attempts: 1 + rng.IntN(5), NextAt: clk.Now().Add(time.Minute), Error: "slack: 503"}))
			exp = expect{want: res}

		case op < 98:
			what = "complete an effect that is not queued"
			seq := m.maxSeq + 100
			if len(m.gone) > 0 && rng.IntN(2) == 0 {
				seq = m.gone[rng.IntN(len(m.gone))] // completed before
			}
			exp = expect{want: incident.Result{Duplicate: true}}
			res, err = db.Complete(t.Context(), seq, incident.Outcome{})

		default:
			what = "restart"
			db = b.reopen(t, db, clk.Now)
			exp = expect{want: res}
		}

		msg := fmt.Sprintf("step %d: %s with key %s", step, what, key)
		op, _, _ := strings.Cut(what, " ")
		switch {
		case exp.wantErr != nil:
			tally[op+" refused"]++
		case exp.want.Duplicate:
			tally[op+" duplicate"]++
		case exp.commit != nil:
			tally[op+" committed"]++
		default:
			tally[op]++
		}
		if exp.wantErr != nil {
			require.EqualError(t, err, exp.wantErr.Error(), msg)
			for _, kind := range []error{incident.ErrInvalid, incident.ErrRefused, incident.ErrNotFound} {
				require.Equal(t, errors.Is(exp.wantErr, kind), errors.Is(err, kind), "%s: error kind %v", msg, kind)
			}
		} else {
			require.NoError(t, err, msg)
			require.Equal(t, exp.want.Duplicate, res.Duplicate, msg)
			require.Equal(t, exp.want.Events, res.Events, msg)
			require.Equal(t, exp.want.Effects, res.Effects, msg)
			requireSameState(t, exp.want.Incident, res.Incident, msg)
			if exp.commit != nil {
				exp.commit()
			}
		}
		requireModel(t, db, m, msg)
	}
}

// requireModel compares everything the store holds with the model, and
// learns the outbox sequences of newly queued effects.
func requireModel(t *testing.T, db storage.Store, m *model, msg string) {
	t.Helper()
	ctx := t.Context()
	all, err := db.Incidents(ctx, true)
	require.NoError(t, err)
	var numbers []uint64
	for _, inc := range all {
		numbers = append(numbers, inc.Number)
	}
	var want []uint64
	for n := m.next - 1; n >= 1; n-- {
		want = append(want, n)
	}
	require.Equal(t, want, numbers, "%s: incidents numbered 1..n without reuse, newest first", msg)

	for _, inc := range all {
		events, err := db.Events(ctx, inc.Number, 1)
		require.NoError(t, err)
		require.Equal(t, m.events[inc.Number], events, "%s: %s events", msg, inc.ID)
		for i, e := range events {
			require.Equal(t, uint64(i+1), e.Seq, "%s: %s sequences contiguous", msg, inc.ID)
		}
		requireSameState(t, incident.Replay(events), inc, "%s: %s snapshot is the fold of its events", msg, inc.ID)
		if inc.ChannelID != "" {
			n, err := db.IncidentByChannel(ctx, inc.ChannelID)
			require.NoError(t, err, msg)
			require.Equal(t, inc.Number, n, "%s: channel index", msg)
		}
	}

	pending, err := db.Pending(ctx, 0)
	require.NoError(t, err)
	var wantOutbox, gotOutbox []incident.Effect
	for _, q := range m.outbox {
		wantOutbox = append(wantOutbox, q.effect)
	}
	for _, p := range pending {
		gotOutbox = append(gotOutbox, p.Effect)
	}
	require.Equal(t, wantOutbox, gotOutbox, "%s: outbox, in commit order", msg)
	for i, p := range pending {
		if i > 0 {
			require.Greater(t, p.OutboxSeq, pending[i-1].OutboxSeq, "%s: outbox sequences rise in commit order", msg)
		}
		if q := &m.outbox[i]; q.seq == 0 {
			q.seq = p.OutboxSeq
		} else {
			require.Equal(t, q.seq, p.OutboxSeq, "%s: %s keeps its outbox sequence", msg, q.effect.Key)
		}
		m.maxSeq = max(m.maxSeq, p.OutboxSeq)
	}
	for key, result := range m.done {
		o, ok, err := db.EffectResult(ctx, key)
		require.NoError(t, err)
		require.True(t, ok, "%s: result of %s", msg, key)
		require.Equal(t, result, o.Result, "%s: result of %s", msg, key)
	}
}

func randomDeclaration(rng *rand.Rand) incident.Declaration {
	titles := []string{"Checkout is down", "Elevated 5xx on api", "Payments delayed", "  ", strings.Repeat("long ", 40)}
	return incident.Declaration{
		Title:    titles[rng.IntN(len(titles))],
		Severity: rng.IntN(6), // 0 is the default; 5 is refused
		Private:  rng.IntN(4) == 0,
		Service:  []string{"", "checkout", "api"}[rng.IntN(3)],
	}
}

type command func(inc *incident.Incident, m incident.Meta) (incident.Change, error)

// randomCommand picks a command and its arguments; log is the incident's
// events, from which corrections pick the entry they name (one past the
// end, sometimes: an entry that does not exist).
func randomCommand(rng *rand.Rand, users []string, log []timeline.Event) (string, command) {
	texts := []string{"p99 latency at 4s", "rolled back deploy 1234", "", "cache hit ratio fell to 20%", strings.Repeat("x", incident.MaxText+1)}
	text := texts[rng.IntN(len(texts))]
	user := users[rng.IntN(len(users))]
	seq := uint64(1 + rng.IntN(len(log)+1))
	var typed []uint64
	for _, e := range log {
		if timeline.Correctable(e) {
			typed = append(typed, e.Seq)
		}
	}
	if len(typed) > 0 && rng.IntN(4) > 0 {
		seq = typed[rng.IntN(len(typed))] // mostly an entry people may correct
	}
	var entry *timeline.Event
	if i := int(seq) - 1; i < len(log) {
		entry = &log[i]
	}
	when, _ := incident.ParseWhen([]string{"-5m", "-2h", "14:02", "2026-11-26T09:00Z", "-30h"}[rng.IntN(5)])
	if rng.IntN(3) == 0 {
		when = incident.When{}
	}
	switch rng.IntN(15) {
	case 12:
		return fmt.Sprintf("amend #%d --at %q", seq, when.Text), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Amend(seq, entry, text, when, m)
		}
	case 13:
		return fmt.Sprintf("strike #%d", seq), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Strike(seq, entry, text, m)
		}
	case 14:
		return fmt.Sprintf("entry --at %q", when.Text), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddEntryAt(timeline.PhaseObserve, text, false, when, m)
		}
	case 0, 1:
		r := roles.All[rng.IntN(len(roles.All))]
		return "assign " + string(r), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AssignRole(r, user, m)
		}
	case 2:
		st := []incident.Status{incident.StatusInvestigating, incident.StatusIdentified, incident.StatusMonitoring,
			incident.StatusResolved, incident.StatusClosed, incident.StatusTriage}[rng.IntN(6)]
		return "status " + string(st), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetStatus(st, m)
		}
	case 3:
		sev := rng.IntN(6)
		return fmt.Sprintf("sev %d", sev), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetSeverity(sev, m)
		}
	case 4, 5:
		phase := []timeline.Phase{timeline.PhaseObserve, timeline.PhaseOrient, timeline.PhaseDecide, timeline.PhaseAct, timeline.PhaseNone}[rng.IntN(5)]
		cause := rng.IntN(6) == 0
		return fmt.Sprintf("entry %q cause=%v", phase, cause), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddEntry(phase, text, cause, m)
		}
	case 6:
		priority := []string{"", "P0", "p2", "P9"}[rng.IntN(4)]
		return "action " + priority, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddAction(text, user, priority, m)
		}
	case 7:
		return "update", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.PostUpdate(text, m) }
	case 8:
		return "resolve", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.Resolve(text, m) }
	case 9:
		return "reopen", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.Reopen(m) }
	case 10:
		return "close", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Close("https://wiki.example.com/pm", m)
		}
	default:
		return "impact", func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.SetImpact(text, m) }
	}
}

// randomOutcome is how the executor might finish fx: a created channel, a
// permanent failure recorded in the timeline, or a plain result.
func randomOutcome(rng *rand.Rand, fx incident.Effect, step int, at time.Time, key string) (incident.Outcome, string) {
	m := incident.Meta{At: at, Actor: incident.Bot, Source: timeline.SourceSystem, Key: "outcome:" + fx.Key}
	if rng.IntN(5) == 0 {
		m.Key = key // sometimes a key already used
	}
	switch {
	case fx.Kind == incident.EffectCreateChannel:
		channel := fmt.Sprintf("C%dS%d", fx.Incident, step)
		return incident.Outcome{
			Result: map[string]string{"channel": channel}, At: at, Key: m.Key,
			Decide: func(inc *incident.Incident) (incident.Change, error) { return inc.ChannelCreated(channel, m) },
		}, "channel " + channel
	case rng.IntN(4) == 0:
		return incident.Outcome{
			Failed: true, Error: "channel_not_found", At: at, Key: m.Key,
			Decide: func(inc *incident.Incident) (incident.Change, error) {
				return inc.Record(timeline.KindEffectFailed, timeline.PhaseNone, "channel_not_found",
					map[string]string{timeline.AttrEffect: fx.Key, timeline.AttrError: "channel_not_found"}, m)
			},
		}, "failed"
	}
	return incident.Outcome{Result: map[string]string{"ts": fmt.Sprintf("17000000%d.0001", step)}, At: at}, "posted"
}
