package incident_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		want uint64 // 0 means an error
	}{
		{"INC-7", 7},
		{"inc-7", 7},
		{"Inc-42", 42},
		{"#7", 7},
		{"7", 7},
		{"  INC-7\n", 7},
		{"INC-007", 7},
		{"#INC-7", 7},
		{"INC-18446744073709551615", math.MaxUint64},
		{"INC-18446744073709551616", 0},
		{"INC-0", 0},
		{"0", 0},
		{"", 0},
		{"INC-", 0},
		{"inc", 0},
		{"INC-7a", 0},
		{"INC-+7", 0},
		{"-7", 0},
		{"INC--7", 0},
		{"INC 7", 0},
		{"##7", 0},
		{"# 7", 0},
		{"INC-７", 0}, // a full-width digit
		{"INCIDENT-7", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := incident.ParseID(tt.in)
			if tt.want == 0 {
				requireUserError(t, err, incident.ErrInvalid, "write it as INC-7")
				require.Zero(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"INC-7", "inc-7", "#7", "7", "", "INC-", "INC-0", "INC-18446744073709551616", "#INC-1", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := incident.ParseID(s)
		if err != nil {
			require.ErrorIs(t, err, incident.ErrInvalid)
			require.Zero(t, n)
			return
		}
		require.NotZero(t, n)
		// Whatever was accepted names the incident that ID prints back.
		back, err := incident.ParseID(incident.ID(n))
		require.NoError(t, err)
		require.Equal(t, n, back)
		// And only "[#][INC-]<digits>" is accepted, the digits being n.
		digits := strings.TrimPrefix(strings.TrimSpace(s), "#")
		if len(digits) > 4 && strings.EqualFold(digits[:4], "inc-") {
			digits = digits[4:]
		}
		require.NotEmpty(t, digits)
		require.Equal(t, -1, strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }), "%q", s)
		require.Equal(t, strconv.FormatUint(n, 10), strings.TrimLeft(digits, "0"))
	})
}

func TestID(t *testing.T) {
	require.Equal(t, "INC-7", incident.ID(7))
	require.Equal(t, "INC-18446744073709551615", incident.ID(math.MaxUint64))
}

func TestNotFound(t *testing.T) {
	err := incident.NotFound(9)
	require.ErrorIs(t, err, incident.ErrNotFound)
	require.NotErrorIs(t, err, incident.ErrInvalid)
	require.EqualError(t, err, "INC-9 does not exist; `/incident list` shows the open incidents")
}

// story drives one incident through its whole life: every command, every
// kind of event.
func story(t *testing.T) *run {
	t.Helper()
	r := &run{t: t}
	r.commit(incident.Declare(number, incident.Declaration{Title: "Checkout down", Severity: 3, Service: "checkout", Description: "5xx"}, r.meta("U1")))
	r.commit(r.inc.ChannelCreated("C042", r.meta(incident.Bot)))
	r.commit(r.inc.Record(timeline.KindParticipant, timeline.PhaseNone, "", map[string]string{timeline.AttrUser: "U4"}, r.meta(incident.Bot)))
	r.commit(r.inc.AddEntry(timeline.PhaseObserve, "error rate 12%", false, r.meta("U2")))
	r.commit(r.inc.SetSeverity(2, r.meta("U1")))
	r.commit(r.inc.AssignRole(roles.Comms, "U3", r.meta("U1")))
	r.commit(r.inc.AssignRole(roles.Commander, "U2", r.meta("U1")))
	r.commit(r.inc.AddEntry(timeline.PhaseOrient, "pool exhausted", true, r.meta("U2")))
	r.commit(r.inc.SetStatus(incident.StatusIdentified, r.meta("U2")))
	r.commit(r.inc.SetImpact("10% of checkouts fail", r.meta("U3")))
	r.commit(r.inc.PostUpdate("Checkout degraded; next update in 30 min", r.meta("U3")))
	r.commit(r.inc.AddEntry(timeline.PhaseAct, "rolled back to 40", false, r.meta("U2")))
	r.commit(r.inc.Record(timeline.KindNudged, timeline.PhaseNone, "update due", map[string]string{timeline.AttrNudge: string(roles.NudgeUpdateDue)}, r.meta(incident.Bot)))
	r.commit(r.inc.Record(timeline.KindEffectFailed, timeline.PhaseNone, "", map[string]string{timeline.AttrEffect: "INC-7/11/post/announce", timeline.AttrError: "channel_not_found"}, r.meta(incident.Bot)))
	r.commit(r.inc.SetStatus(incident.StatusMonitoring, r.meta("U2")))
	r.commit(r.inc.Resolve("rolled back", r.meta("U2")))
	r.commit(r.inc.Reopen(r.meta("U2")))
	r.commit(r.inc.Resolve("", r.meta("U2")))
	r.commit(r.inc.AddAction("Alert on pool saturation", "U5", "", r.meta("U2")))
	r.commit(r.inc.Record(timeline.KindMessageCaptured, timeline.PhaseOrient, "the graph", map[string]string{timeline.AttrChannel: "C042", timeline.AttrTS: "1.2"}, r.meta("U4")))
	r.commit(r.inc.Close("https://wiki.example/pm/7", r.meta("U2")))
	return r
}

func TestStory(t *testing.T) {
	r := story(t)
	got := r.inc
	require.Equal(t, incident.StatusClosed, got.Status)
	require.Equal(t, 2, got.Severity)
	require.Equal(t, roles.Holders{Commander: "U2", Comms: "U3"}, got.Roles)
	require.Equal(t, "C042", got.ChannelID)
	require.True(t, got.CustomerImpacting)
	require.Equal(t, "rolled back", got.Summary, "a later resolve without summary keeps the first one")
	require.Equal(t, []string{"U1", "U4", "U2", "U3", "U5"}, got.Participants)
	require.Equal(t, 1, got.FailedEffects)
	require.Equal(t, "P0", got.ActionPriority(got.Actions[0]))
	require.Equal(t, "https://wiki.example/pm/7", got.PostmortemURL)
	require.Equal(t, uint64(len(r.events)), got.LastSeq)
	for i, e := range r.events {
		require.Equal(t, uint64(i+1), e.Seq, "sequences are contiguous from 1")
	}
	// Every kind of event the timeline knows was recorded.
	seen := map[timeline.Kind]bool{}
	for _, e := range r.events {
		seen[e.Kind] = true
	}
	require.Len(t, seen, 16)
}

func TestReplay(t *testing.T) {
	r := story(t)
	a, b := incident.Replay(r.events), incident.Replay(r.events)
	require.Equal(t, a, b, "replay is deterministic")
	require.Equal(t, r.inc, a, "replay equals the state built one change at a time")

	// Every prefix replays to the state the incident had at that point.
	var states []incident.Incident
	var inc incident.Incident
	for _, e := range r.events {
		inc.Apply(e)
		states = append(states, inc.Clone())
	}
	for i := range r.events {
		require.Equal(t, states[i], incident.Replay(r.events[:i+1]), "after event %d", i+1)
	}
}

// TestReplayFromStore checks that events and snapshots survive the JSON the
// store keeps them in: replaying stored events gives the stored snapshot.
func TestReplayFromStore(t *testing.T) {
	r := story(t)
	raw, err := json.Marshal(r.events)
	require.NoError(t, err)
	var stored []timeline.Event
	require.NoError(t, json.Unmarshal(raw, &stored))
	require.Equal(t, r.inc, incident.Replay(stored))

	raw, err = json.Marshal(r.inc)
	require.NoError(t, err)
	var snapshot incident.Incident
	require.NoError(t, json.Unmarshal(raw, &snapshot))
	require.Equal(t, r.inc, snapshot)
}

func TestClone(t *testing.T) {
	r := story(t)
	c := r.inc.Clone()
	c.Actions[0].Text = "changed"
	c.Participants[0] = "changed"
	require.Equal(t, "Alert on pool saturation", r.inc.Actions[0].Text)
	require.Equal(t, "U1", r.inc.Participants[0])
}

// TestCommandsDeterministic checks that a command is a pure function of the
// state and its metadata: the store may run a decider twice, and the
// effects' keys must then be the same.
func TestCommandsDeterministic(t *testing.T) {
	r := declare(t, checkout)
	r.commit(r.inc.AssignRole(roles.Comms, "U3", r.meta("U1")))
	commands := map[string]func(inc *incident.Incident, m incident.Meta) (incident.Change, error){
		"declare": func(_ *incident.Incident, m incident.Meta) (incident.Change, error) {
			return incident.Declare(number, checkout, m)
		},
		"handover": func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AssignRole(roles.Commander, "U2", m)
		},
		"status": func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetStatus(incident.StatusIdentified, m)
		},
		"resolve": func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetStatus(incident.StatusResolved, m)
		},
		"sev":    func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.SetSeverity(1, m) },
		"impact": func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.SetImpact("x", m) },
		"entry": func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddEntry(timeline.PhaseOrient, "x", true, m)
		},
		"action": func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddAction("x", "U5", "p1", m)
		},
		"update": func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.PostUpdate("x", m) },
		"channel": func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.ChannelCreated("C1", m)
		},
		"record": func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Record(timeline.KindNudged, timeline.PhaseNone, "x", nil, m)
		},
	}
	for name, do := range commands {
		t.Run(name, func(t *testing.T) {
			m := r.meta("U1")
			a, b := r.inc.Clone(), r.inc.Clone()
			ca, err := do(&a, m)
			require.NoError(t, err)
			cb, err := do(&b, m)
			require.NoError(t, err)
			require.Equal(t, ca, cb)
			require.Equal(t, r.inc, a, "a command does not change the state it decides on")
			require.NotEmpty(t, ca.Events)
			lastSeq := a.LastSeq
			if name == "declare" {
				lastSeq = 0 // a new incident
			}
			checkChange(t, number, lastSeq, ca)
		})
	}
}

// TestRandomCommands is a model-based test: random command sequences, with
// every accepted change checked by run.commit and every refusal checked to
// be a user error that leaves nothing behind. At the end the whole log must
// replay to the state built along the way.
func TestRandomCommands(t *testing.T) {
	users := []string{"U1", "U2", "U3", ""}
	phases := []timeline.Phase{timeline.PhaseNone, timeline.PhaseObserve, timeline.PhaseOrient, timeline.PhaseDecide, timeline.PhaseAct, "bogus"}
	texts := []string{"x", "", " ", "a longer line of text", strings.Repeat("y", incident.MaxText+1)}
	for seed := uint64(1); seed <= 50; seed++ {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0))
			pick := func(n int) int { return rng.IntN(n) }
			r := &run{t: t}
			d := incident.Declaration{Title: "random", Severity: pick(5), Private: pick(2) == 0}
			if pick(3) == 0 {
				d.Status = incident.StatusTriage
			}
			actor := users[pick(3)]
			if pick(4) == 0 {
				actor = incident.Bot
			}
			r.commit(incident.Declare(number, d, r.meta(actor)))
			for range 200 {
				m := r.meta(users[pick(3)])
				var ch incident.Change
				var err error
				switch pick(12) {
				case 0:
					ch, err = r.inc.AssignRole(roles.All[pick(len(roles.All))], users[pick(len(users))], m)
				case 1:
					ch, err = r.inc.SetStatus(statuses[pick(len(statuses))], m)
				case 2:
					ch, err = r.inc.SetSeverity(pick(6)-1, m)
				case 3:
					ch, err = r.inc.SetImpact(texts[pick(len(texts))], m)
				case 4:
					ch, err = r.inc.AddEntry(phases[pick(len(phases))], texts[pick(len(texts))], pick(3) == 0, m)
				case 5:
					ch, err = r.inc.AddAction(texts[pick(len(texts))], users[pick(len(users))], []string{"", "P0", "p3", "P9"}[pick(4)], m)
				case 6:
					ch, err = r.inc.PostUpdate(texts[pick(len(texts))], m)
				case 7:
					ch, err = r.inc.Resolve(texts[pick(len(texts))], m)
				case 8:
					ch, err = r.inc.Reopen(m)
				case 9:
					ch, err = r.inc.Close("https://x/"+strconv.Itoa(pick(9)), m)
				case 10:
					ch, err = r.inc.ChannelCreated([]string{"C1", "C2", ""}[pick(3)], m)
				case 11:
					ch, err = r.inc.Record(timeline.KindParticipant, timeline.PhaseNone, "", map[string]string{timeline.AttrUser: users[pick(len(users))]}, m)
				}
				if err != nil {
					require.True(t, errors.Is(err, incident.ErrInvalid) || errors.Is(err, incident.ErrRefused), "%v", err)
					require.Empty(t, ch.Events)
					require.Empty(t, ch.Effects)
					continue
				}
				before := r.inc.Status
				r.commit(ch, err)
				if before == incident.StatusClosed {
					for _, e := range ch.Events {
						require.True(t, e.Bookkeeping(), "a closed incident records nothing but bookkeeping, not %s", e.Kind)
					}
				}
				for _, e := range ch.Events {
					if e.Kind == timeline.KindParticipant {
						require.NotEmpty(t, e.Attr(timeline.AttrUser), "a participant is someone")
					}
				}
				require.Contains(t, statuses, r.inc.Status)
				require.GreaterOrEqual(t, r.inc.Severity, 1)
				require.LessOrEqual(t, r.inc.Severity, 4)
			}
			require.Equal(t, r.inc, incident.Replay(r.events))
		})
	}
}
