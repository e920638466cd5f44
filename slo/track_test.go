package slo_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
)

// step is one evaluation fed to Track, and what it should announce.
type step struct {
	at     time.Duration // after t0
	level  slo.Level
	budget float64 // NaN: unknown
	kind   slo.NoticeKind
	freeze slo.FreezeChange
}

func TestTrack(t *testing.T) {
	const renotify = time.Hour
	nan := math.NaN()
	tests := []struct {
		name  string
		steps []step
	}{
		{"a healthy SLO says nothing", []step{
			{0, slo.LevelOK, 0.9, "", ""},
			{time.Minute, slo.LevelOK, 0.9, "", ""},
		}},
		{"escalation is announced once, then repeated on the interval", []step{
			{0, slo.LevelOK, 0.9, "", ""},
			{time.Minute, slo.LevelTicket, 0.8, slo.NoticeWarning, ""},
			{2 * time.Minute, slo.LevelTicket, 0.8, "", ""},
			{30 * time.Minute, slo.LevelTicket, 0.8, "", ""},
			{61 * time.Minute, slo.LevelTicket, 0.8, slo.NoticeRepeat, ""},
			{62 * time.Minute, slo.LevelPage, 0.7, slo.NoticeWarning, ""},
			{63 * time.Minute, slo.LevelPage, 0.7, "", ""},
			{121 * time.Minute, slo.LevelPage, 0.7, "", ""},
			{122 * time.Minute, slo.LevelPage, 0.7, slo.NoticeRepeat, ""},
			{123 * time.Minute, slo.LevelPage, 0.7, "", ""},
			{182 * time.Minute, slo.LevelPage, 0.7, slo.NoticeRepeat, ""},
		}},
		{"de-escalation is a change too; recovery is announced", []step{
			{0, slo.LevelPage, 0.5, slo.NoticeWarning, ""},
			{time.Minute, slo.LevelTicket, 0.5, slo.NoticeWarning, ""},
			{2 * time.Minute, slo.LevelOK, 0.5, slo.NoticeRecovery, ""},
			{3 * time.Minute, slo.LevelOK, 0.5, "", ""},
		}},
		{"ok and low traffic are both quiet", []step{
			{0, slo.LevelOK, 0.5, "", ""},
			{time.Minute, slo.LevelLowTraffic, 0.5, "", ""},
			{2 * time.Minute, slo.LevelOK, 0.5, "", ""},
			{3 * time.Minute, slo.LevelPage, 0.5, slo.NoticeWarning, ""},
			{4 * time.Minute, slo.LevelLowTraffic, 0.5, slo.NoticeRecovery, ""},
		}},
		{"no data warns, and its end is a recovery", []step{
			{0, slo.LevelOK, 0.5, "", ""},
			{time.Minute, slo.LevelNoData, nan, slo.NoticeWarning, ""},
			{2 * time.Minute, slo.LevelOK, 0.5, slo.NoticeRecovery, ""},
		}},
		{"a failed evaluation changes nothing", []step{
			{0, slo.LevelPage, 0.5, slo.NoticeWarning, ""},
			{time.Minute, slo.LevelError, nan, "", ""},
			{2 * time.Minute, slo.LevelPage, 0.5, "", ""},
		}},
		{"freeze starts when the budget is spent and ends when some is back", []step{
			{0, slo.LevelTicket, 0.01, slo.NoticeWarning, ""},
			{time.Minute, slo.LevelTicket, 0, slo.NoticeFreeze, slo.FreezeStarted},
			{2 * time.Minute, slo.LevelTicket, -0.3, "", ""},
			{3 * time.Minute, slo.LevelTicket, nan, "", ""},
			{4 * time.Minute, slo.LevelOK, -0.1, slo.NoticeRecovery, ""},
			{5 * time.Minute, slo.LevelOK, 0.02, slo.NoticeFreeze, slo.FreezeEnded},
		}},
		{"a level change and a freeze come in one notice", []step{
			{0, slo.LevelOK, 0.1, "", ""},
			{time.Minute, slo.LevelPage, -0.1, slo.NoticeWarning, slo.FreezeStarted},
			{2 * time.Minute, slo.LevelOK, 0.1, slo.NoticeRecovery, slo.FreezeEnded},
		}},
	}
	s := parseSLOs(t, sloFile("checkout", 99.9, "availability"))[0]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st slo.State
			for i, sp := range tt.steps {
				r := slo.Result{SLO: s.ID, Service: s.Service, Name: s.Name, File: s.File, Level: sp.level, BudgetRemaining: sp.budget, Burn: nan}
				if sp.level == slo.LevelError {
					r.Err = errors.New("prometheus down")
				}
				now := t0.Add(sp.at)
				prev := st
				var n *slo.Notice
				st, n = slo.Track(st, r, now, renotify)
				if sp.kind == "" {
					require.Nil(t, n, "step %d (%s): want no notice", i, sp.level)
				} else {
					require.NotNil(t, n, "step %d (%s): want a %s notice", i, sp.level, sp.kind)
					assert.Equal(t, sp.kind, n.Kind, "step %d", i)
					assert.Equal(t, sp.freeze, n.Freeze, "step %d", i)
					assert.Equal(t, prev.Level, n.From, "step %d", i)
					assert.Equal(t, sp.level, n.To, "step %d", i)
					assert.Equal(t, "checkout/availability", n.SLO)
					assert.Equal(t, now, n.At)
				}
				if sp.level == slo.LevelError {
					assert.Equal(t, prev, st, "step %d: state untouched", i)
					continue
				}
				assert.Equal(t, sp.level, st.Level, "step %d", i)
				assert.Equal(t, now, st.EvaluatedAt, "step %d", i)
			}
		})
	}
}

func TestTrackRemembersWhenThingsStarted(t *testing.T) {
	s := parseSLOs(t, sloFile("checkout", 99.9, "availability"))[0]
	res := func(l slo.Level, budget float64) slo.Result {
		return slo.Result{SLO: s.ID, Service: s.Service, Level: l, BudgetRemaining: budget}
	}
	st, _ := slo.Track(slo.State{}, res(slo.LevelPage, -0.5), t0, time.Hour)
	st, n := slo.Track(st, res(slo.LevelPage, -0.6), t0.Add(time.Minute), time.Hour)
	assert.Nil(t, n)
	assert.Equal(t, t0, st.Since, "the level started at the first evaluation")
	assert.Equal(t, t0, st.FrozenSince)
	assert.Equal(t, t0, st.NotifiedAt)
	require.NotNil(t, st.BudgetRemaining)
	assert.InDelta(t, -0.6, *st.BudgetRemaining, 1e-12)
	assert.Equal(t, "checkout", st.Service)

	// Re-notifying can be turned off.
	_, n = slo.Track(st, res(slo.LevelPage, -0.6), t0.Add(48*time.Hour), 0)
	assert.Nil(t, n)
}
