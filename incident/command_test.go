package incident_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

func TestDeclare(t *testing.T) {
	m := incident.Meta{At: t0, Actor: "U1", Source: timeline.SourceCommand, Key: "req-1"}
	tests := []struct {
		name     string
		d        incident.Declaration
		meta     incident.Meta
		err      error  // nil means success
		msg      string // part of the error's sentence
		severity int
		status   incident.Status
	}{
		{name: "defaults", d: incident.Declaration{Title: "Checkout down"}, severity: 3, status: incident.StatusInvestigating},
		{name: "severity 1", d: incident.Declaration{Title: "x", Severity: 1}, severity: 1, status: incident.StatusInvestigating},
		{name: "severity 4", d: incident.Declaration{Title: "x", Severity: 4}, severity: 4, status: incident.StatusInvestigating},
		{name: "severity 5", d: incident.Declaration{Title: "x", Severity: 5}, err: incident.ErrInvalid, msg: "severity 5 does not exist; use sev1 (worst) to sev4"},
		{name: "severity -1", d: incident.Declaration{Title: "x", Severity: -1}, err: incident.ErrInvalid, msg: "severity -1 does not exist"},
		{name: "triage", d: incident.Declaration{Title: "x", Status: incident.StatusTriage}, severity: 3, status: incident.StatusTriage},
		{name: "declared identified", d: incident.Declaration{Title: "x", Status: incident.StatusIdentified}, err: incident.ErrInvalid, msg: "declared in triage or investigating"},
		{name: "declared resolved", d: incident.Declaration{Title: "x", Status: incident.StatusResolved}, err: incident.ErrInvalid},
		{name: "empty title", d: incident.Declaration{}, err: incident.ErrInvalid, msg: "`/incident declare sev2 Checkout is down`"},
		{name: "blank title", d: incident.Declaration{Title: " \t\n"}, err: incident.ErrInvalid, msg: "needs a title"},
		{name: "title at the limit", d: incident.Declaration{Title: strings.Repeat("é", incident.MaxTitle)}, severity: 3, status: incident.StatusInvestigating},
		{name: "overlong title", d: incident.Declaration{Title: strings.Repeat("a", incident.MaxTitle+1)}, err: incident.ErrInvalid, msg: "at most 150 characters"},
		{name: "invalid UTF-8 title", d: incident.Declaration{Title: "bad \xff title"}, err: incident.ErrInvalid},
		{name: "service at the limit", d: incident.Declaration{Title: "x", Service: strings.Repeat("s", 100)}, severity: 3, status: incident.StatusInvestigating},
		{name: "service in non-ASCII at the limit", d: incident.Declaration{Title: "x", Service: strings.Repeat("ß", 100)}, severity: 3, status: incident.StatusInvestigating},
		{name: "service too long", d: incident.Declaration{Title: "x", Service: strings.Repeat("s", 101)}, err: incident.ErrInvalid, msg: "the service name is 101 characters"},
		{name: "no time", d: incident.Declaration{Title: "x"}, meta: incident.Meta{Actor: "U1", Source: timeline.SourceCommand, Key: "k"}, err: incident.ErrInvalid},
		{name: "no actor", d: incident.Declaration{Title: "x"}, meta: incident.Meta{At: t0, Source: timeline.SourceCommand, Key: "k"}, err: incident.ErrInvalid},
		{name: "no source", d: incident.Declaration{Title: "x"}, meta: incident.Meta{At: t0, Actor: "U1", Key: "k"}, err: incident.ErrInvalid},
		{name: "no key", d: incident.Declaration{Title: "x"}, meta: incident.Meta{At: t0, Actor: "U1", Source: timeline.SourceCommand}, err: incident.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := tt.meta
			if meta == (incident.Meta{}) {
				meta = m
			}
			ch, err := incident.Declare(number, tt.d, meta)
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				require.Empty(t, ch.Events)
				require.Empty(t, ch.Effects)
				return
			}
			require.NoError(t, err)
			checkChange(t, number, 0, ch)
			inc := incident.Replay(ch.Events)
			require.Equal(t, tt.severity, inc.Severity)
			require.Equal(t, tt.status, inc.Status)
			require.Equal(t, uint64(number), inc.Number)
			require.Equal(t, "INC-7", inc.ID)
		})
	}
}

func TestDeclareChange(t *testing.T) {
	m := incident.Meta{At: t0, Actor: "U1", Source: timeline.SourceCommand, Key: "req-1"}
	ch, err := incident.Declare(number, incident.Declaration{Title: "  Checkout down ", Severity: 2, Service: " checkout ", Description: " 5xx "}, m)
	require.NoError(t, err)
	require.Equal(t, []timeline.Kind{timeline.KindDeclared, timeline.KindRoleAssigned}, kinds(ch))
	d := ch.Events[0]
	require.Equal(t, "Checkout down", d.Attr(timeline.AttrTitle))
	require.Equal(t, "checkout", d.Attr(timeline.AttrService))
	require.Equal(t, "5xx", d.Text)
	require.Equal(t, timeline.PhaseObserve, d.Phase)
	require.Equal(t, []string{"req-1", "req-1#1"}, []string{ch.Events[0].Key, ch.Events[1].Key})
	var keys []string
	for _, f := range ch.Effects {
		keys = append(keys, f.Key)
	}
	require.Equal(t, []string{
		"INC-7/1/create_channel/incident",
		"INC-7/1/invite/incident",
		"INC-7/1/set_topic/incident",
		"INC-7/1/post/incident",
		"INC-7/1/post/announce",
	}, keys)
	require.Equal(t, map[string]string{"name": "inc-7-checkout-down", "private": "false"}, ch.Effects[0].Params)
	require.Equal(t, map[string]string{"users": "U1"}, ch.Effects[1].Params)
	require.Equal(t, incident.TemplateKickoff, ch.Effects[3].Template)
	require.Equal(t, incident.TemplateAnnounce, ch.Effects[4].Template)

	inc := incident.Replay(ch.Events)
	require.Equal(t, roles.Holders{Commander: "U1"}, inc.Roles, "the declarer is Commander")
	require.True(t, inc.CommanderVacantSince.IsZero())
	require.Equal(t, []string{"U1"}, inc.Participants)
	require.Equal(t, "INC-7 (SEV2) Checkout down", inc.Label())
}

func TestDeclareByAlert(t *testing.T) {
	for _, actor := range []string{incident.Bot, "alertmanager:checkout"} {
		t.Run(actor, func(t *testing.T) {
			m := incident.Meta{At: t0, Actor: actor, Source: timeline.SourceAlert, Key: "alert-1"}
			ch, err := incident.Declare(number, incident.Declaration{Title: "High error rate", Status: incident.StatusTriage, Private: true}, m)
			require.NoError(t, err)
			checkChange(t, number, 0, ch)
			require.Equal(t, []timeline.Kind{timeline.KindDeclared}, kinds(ch), "nobody is made Commander")
			require.Equal(t, []string{"create_channel incident", "set_topic incident", "post incident kickoff"}, effectShape(ch),
				"no one to invite, and a private incident is not announced")
			inc := incident.Replay(ch.Events)
			require.Empty(t, inc.Roles.Commander)
			require.Equal(t, t0, inc.CommanderVacantSince)
			require.Empty(t, inc.Participants)
			require.True(t, inc.Private)
		})
	}
}

func TestAssignRole(t *testing.T) {
	tests := []struct {
		name     string
		role     roles.Role
		user     string
		status   incident.Status
		err      error
		msg      string
		effects  []string
		previous string
	}{
		{name: "empty role", role: roles.Ops, user: "U2",
			effects: []string{"invite incident", "set_topic incident", "refresh_kickoff incident kickoff", "post incident line"}},
		{name: "commander may also hold comms", role: roles.Comms, user: "U1",
			effects: []string{"invite incident", "set_topic incident", "refresh_kickoff incident kickoff", "post incident line"}},
		{name: "handover", role: roles.Commander, user: "U2", previous: "U1",
			effects: []string{"invite incident", "set_topic incident", "refresh_kickoff incident kickoff", "post incident handover"}},
		{name: "handover in triage", role: roles.Commander, user: "U2", previous: "U1", status: incident.StatusTriage,
			effects: []string{"invite incident", "set_topic incident", "refresh_kickoff incident kickoff", "post incident handover"}},
		{name: "same holder", role: roles.Commander, user: "U1", err: incident.ErrRefused, msg: "<@U1> is already Commander of INC-7"},
		{name: "empty user", role: roles.Ops, user: "", err: incident.ErrInvalid, msg: "`/incident role ops @user`"},
		{name: "unknown role", role: roles.Role("scribe"), user: "U2", err: incident.ErrInvalid, msg: "use commander, comms or ops"},
		{name: "resolved", role: roles.Ops, user: "U2", status: incident.StatusResolved, err: incident.ErrRefused,
			msg: "INC-7 is resolved; use `/incident reopen` to work on it again"},
		{name: "closed", role: roles.Ops, user: "U2", status: incident.StatusClosed, err: incident.ErrRefused, msg: "INC-7 is closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == "" {
				status = incident.StatusInvestigating
			}
			r := atStatus(t, status, checkout)
			ch, err := r.inc.AssignRole(tt.role, tt.user, r.meta("U1"))
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				require.Empty(t, ch.Events)
				return
			}
			r.commit(ch, err)
			require.Equal(t, tt.effects, effectShape(ch))
			require.Equal(t, []timeline.Kind{timeline.KindRoleAssigned}, kinds(ch))
			e := ch.Events[0]
			require.Equal(t, string(tt.role), e.Attr(timeline.AttrRole))
			require.Equal(t, tt.user, e.Attr(timeline.AttrUser))
			require.Equal(t, tt.previous, e.Attr(timeline.AttrPrevious))
			require.Equal(t, timeline.PhaseDecide, e.Phase)
			require.Equal(t, map[string]string{"users": tt.user}, ch.Effects[0].Params)
			require.Equal(t, tt.user, r.inc.Roles.Get(tt.role))
			require.Contains(t, r.inc.Participants, tt.user)
		})
	}
}

func TestAssignRoleCommanderVacancy(t *testing.T) {
	r := &run{t: t}
	m := r.meta(incident.Bot)
	r.commit(incident.Declare(number, incident.Declaration{Title: "x", Status: incident.StatusTriage}, m))
	require.Equal(t, m.At, r.inc.CommanderVacantSince)
	r.commit(r.inc.AssignRole(roles.Commander, "U2", r.meta("U2")))
	require.True(t, r.inc.CommanderVacantSince.IsZero())
	require.Equal(t, roles.Holders{Commander: "U2"}, r.inc.Situation().Holders)
}

func TestSetSeverity(t *testing.T) {
	tests := []struct {
		name   string
		sev    int
		status incident.Status
		err    error
		msg    string
	}{
		{name: "raise", sev: 1},
		{name: "lower", sev: 4},
		{name: "same", sev: 2, err: incident.ErrRefused, msg: "INC-7 is already SEV2"},
		{name: "zero", sev: 0, err: incident.ErrInvalid, msg: "`/incident sev 2`"},
		{name: "five", sev: 5, err: incident.ErrInvalid, msg: "severity 5 does not exist"},
		{name: "negative", sev: -1, err: incident.ErrInvalid},
		{name: "resolved", sev: 1, status: incident.StatusResolved, err: incident.ErrRefused, msg: "INC-7 is resolved; use `/incident reopen` to work on it again"},
		{name: "closed", sev: 1, status: incident.StatusClosed, err: incident.ErrRefused, msg: "INC-7 is closed"},
		{name: "triage", sev: 1, status: incident.StatusTriage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == "" {
				status = incident.StatusInvestigating
			}
			r := atStatus(t, status, checkout)
			ch, err := r.inc.SetSeverity(tt.sev, r.meta("U1"))
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			require.Equal(t, []string{"set_topic incident", "refresh_kickoff incident kickoff", "post incident line"}, effectShape(ch))
			e := ch.Events[0]
			require.Equal(t, timeline.KindSeverityChanged, e.Kind)
			require.Equal(t, "2", e.Attr(timeline.AttrPrevious))
			require.Equal(t, tt.sev, r.inc.Severity)
		})
	}
}

func TestSetImpact(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		status incident.Status
		err    error
		msg    string
	}{
		{name: "impact", text: " 10% of checkouts fail "},
		{name: "after resolution", text: "refunds owed", status: incident.StatusResolved},
		{name: "empty", text: "  ", err: incident.ErrInvalid, msg: "the impact is empty"},
		{name: "too long", text: strings.Repeat("x", incident.MaxText+1), err: incident.ErrInvalid, msg: "keep it under 3000"},
		{name: "closed", text: "x", status: incident.StatusClosed, err: incident.ErrRefused, msg: "INC-7 is closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == "" {
				status = incident.StatusInvestigating
			}
			r := atStatus(t, status, checkout)
			require.False(t, r.inc.CustomerImpacting)
			ch, err := r.inc.SetImpact(tt.text, r.meta("U1"))
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			require.Equal(t, []string{"post incident line"}, effectShape(ch))
			require.Equal(t, timeline.PhaseObserve, ch.Events[0].Phase)
			require.True(t, r.inc.CustomerImpacting)
			require.Equal(t, strings.TrimSpace(tt.text), r.inc.Impact)
		})
	}
}

func TestAddEntry(t *testing.T) {
	tests := []struct {
		name   string
		phase  timeline.Phase
		cause  bool
		text   string
		status incident.Status
		err    error
		msg    string
	}{
		{name: "observe", phase: timeline.PhaseObserve, text: "5xx at 12%"},
		{name: "orient", phase: timeline.PhaseOrient, text: "pool exhausted"},
		{name: "decide", phase: timeline.PhaseDecide, text: "roll back"},
		{name: "act", phase: timeline.PhaseAct, text: "rolled back"},
		{name: "note", phase: timeline.PhaseNone, text: "bridge at 15:00"},
		{name: "cause on orient", phase: timeline.PhaseOrient, cause: true, text: "pool exhausted by retries"},
		{name: "cause on observe", phase: timeline.PhaseObserve, cause: true, text: "x", err: incident.ErrInvalid, msg: "`/incident orient --cause <text>`"},
		{name: "cause on act", phase: timeline.PhaseAct, cause: true, text: "x", err: incident.ErrInvalid},
		{name: "cause on a note", phase: timeline.PhaseNone, cause: true, text: "x", err: incident.ErrInvalid},
		{name: "unknown phase", phase: timeline.Phase("panic"), text: "x", err: incident.ErrInvalid, msg: "use observe, orient, decide or act"},
		{name: "empty", phase: timeline.PhaseObserve, text: "", err: incident.ErrInvalid, msg: "the entry is empty"},
		{name: "too long", phase: timeline.PhaseObserve, text: strings.Repeat("x", incident.MaxText+1), err: incident.ErrInvalid},
		{name: "at the limit", phase: timeline.PhaseObserve, text: strings.Repeat("ü", incident.MaxText)},
		{name: "after resolution", phase: timeline.PhaseOrient, cause: true, text: "found it", status: incident.StatusResolved},
		{name: "closed", phase: timeline.PhaseOrient, text: "x", status: incident.StatusClosed, err: incident.ErrRefused, msg: "INC-7 is closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == "" {
				status = incident.StatusInvestigating
			}
			r := atStatus(t, status, checkout)
			ch, err := r.inc.AddEntry(tt.phase, tt.text, tt.cause, r.meta("U2"))
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			require.Equal(t, []string{"post incident line"}, effectShape(ch))
			e := ch.Events[0]
			require.Equal(t, timeline.KindLoopEntry, e.Kind)
			require.Equal(t, tt.phase, e.Phase)
			require.Equal(t, tt.text, e.Text)
			require.Equal(t, tt.cause, e.Attr(timeline.AttrCause) == "true")
			require.Contains(t, r.inc.Participants, "U2")
		})
	}
}

func TestAddAction(t *testing.T) {
	tests := []struct {
		name     string
		priority string
		impact   bool
		status   incident.Status
		err      error
		msg      string
		stored   string // the priority the event records
		worked   string // ActionPriority
		due      string // the priority's default due day, from 26 Nov
	}{
		{name: "default", worked: "P2", due: "2026-12-26"},
		{name: "default when customer-impacting", impact: true, worked: "P0", due: "2026-12-03"},
		{name: "given", priority: "P1", stored: "P1", worked: "P1", due: "2026-12-10"},
		{name: "given wins over impact", priority: "P3", impact: true, stored: "P3", worked: "P3"},
		{name: "lowercase and spaces", priority: " p0 ", stored: "P0", worked: "P0", due: "2026-12-03"},
		{name: "unknown", priority: "P4", err: incident.ErrInvalid, msg: `priority "P4" does not exist; use P0 (most urgent) to P3`},
		{name: "words", priority: "urgent", err: incident.ErrInvalid},
		{name: "after resolution", priority: "P1", status: incident.StatusResolved, stored: "P1", worked: "P1", due: "2026-12-10"},
		{name: "closed", status: incident.StatusClosed, err: incident.ErrRefused, msg: "INC-7 is closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == "" {
				status = incident.StatusInvestigating
			}
			r := atStatus(t, status, checkout)
			if tt.impact {
				r.commit(r.inc.SetImpact("checkouts fail", r.meta("U1")))
			}
			ch, err := r.inc.AddAction("Alert on pool saturation", "U5", tt.priority, r.meta("U1"))
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			require.Equal(t, []string{"post incident line"}, effectShape(ch))
			e := ch.Events[0]
			require.Equal(t, "1", e.Attr(timeline.AttrActionID))
			require.Equal(t, "U5", e.Attr(timeline.AttrOwner))
			require.Equal(t, tt.stored, e.Attr(timeline.AttrPriority))
			require.Len(t, r.inc.Actions, 1)
			a := r.inc.Actions[0]
			require.Equal(t, incident.Action{ID: 1, Text: "Alert on pool saturation", Owner: "U5", Priority: tt.stored, Status: "open", CreatedAt: e.At, Due: tt.due}, a)
			require.Equal(t, tt.worked, r.inc.ActionPriority(a))
			require.Contains(t, r.inc.Participants, "U5", "the owner takes part")
		})
	}
}

func TestAddActionNumbersAndText(t *testing.T) {
	r := declare(t, checkout)
	for i := 1; i <= 3; i++ {
		ch := r.commit(r.inc.AddAction("action", "", "", r.meta("U1")))
		require.Equal(t, []string{"1", "2", "3"}[i-1], ch.Events[0].Attr(timeline.AttrActionID))
	}
	_, err := r.inc.AddAction(" ", "", "", r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "the action is empty")
	_, err = r.inc.AddAction(strings.Repeat("x", incident.MaxText+1), "", "", r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "keep it under 3000")

	// The default follows the incident: an action recorded before the
	// impact was known is worked at P0 once it is.
	require.Equal(t, "P2", r.inc.ActionPriority(r.inc.Actions[0]))
	r.commit(r.inc.SetImpact("checkouts fail", r.meta("U1")))
	require.Equal(t, "P0", r.inc.ActionPriority(r.inc.Actions[0]))
}

func TestPostUpdate(t *testing.T) {
	tests := []struct {
		name    string
		private bool
		status  incident.Status
		text    string
		err     error
		msg     string
		effects []string
	}{
		{name: "public", text: "Checkout is degraded", effects: []string{"post incident update", "post announce update"}},
		{name: "private", private: true, text: "Checkout is degraded", effects: []string{"post incident update"}},
		{name: "triage", status: incident.StatusTriage, text: "looking", effects: []string{"post incident update", "post announce update"}},
		{name: "empty", text: "", err: incident.ErrInvalid, msg: "the update is empty"},
		{name: "too long", text: strings.Repeat("x", incident.MaxText+1), err: incident.ErrInvalid},
		{name: "resolved", status: incident.StatusResolved, text: "x", err: incident.ErrRefused, msg: "INC-7 is resolved; use `/incident reopen` to work on it again"},
		{name: "closed", status: incident.StatusClosed, text: "x", err: incident.ErrRefused, msg: "INC-7 is closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == "" {
				status = incident.StatusInvestigating
			}
			d := checkout
			d.Private = tt.private
			r := atStatus(t, status, d)
			m := r.meta("U3")
			ch, err := r.inc.PostUpdate(tt.text, m)
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			require.Equal(t, tt.effects, effectShape(ch))
			require.Equal(t, []timeline.Kind{timeline.KindUpdatePosted}, kinds(ch))
			require.Equal(t, m.At, r.inc.LastUpdateAt, "the update cadence restarts")
		})
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		status  incident.Status
		private bool
		summary string
		err     error
		msg     string
		effects []string
	}{
		{name: "investigating", summary: " rolled back ", effects: []string{"set_topic incident", "refresh_kickoff incident kickoff", "post incident resolved", "post announce resolved"}},
		{name: "monitoring", status: incident.StatusMonitoring, effects: []string{"set_topic incident", "refresh_kickoff incident kickoff", "post incident resolved", "post announce resolved"}},
		{name: "triage", status: incident.StatusTriage, effects: []string{"set_topic incident", "refresh_kickoff incident kickoff", "post incident resolved", "post announce resolved"}},
		{name: "private", private: true, effects: []string{"set_topic incident", "refresh_kickoff incident kickoff", "post incident resolved"}},
		{name: "summary too long", summary: strings.Repeat("x", incident.MaxText+1), err: incident.ErrInvalid, msg: "the summary is 3001 characters; keep it under 3000"},
		{name: "already resolved", status: incident.StatusResolved, err: incident.ErrRefused, msg: "INC-7 is resolved; use `/incident reopen` to work on it again"},
		{name: "closed", status: incident.StatusClosed, err: incident.ErrRefused, msg: "INC-7 is closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == "" {
				status = incident.StatusInvestigating
			}
			d := checkout
			d.Private = tt.private
			r := atStatus(t, status, d)
			m := r.meta("U1")
			ch, err := r.inc.Resolve(tt.summary, m)
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			require.Equal(t, tt.effects, effectShape(ch))
			e := ch.Events[0]
			require.Equal(t, timeline.KindResolved, e.Kind)
			require.Equal(t, string(status), e.Attr(timeline.AttrPrevious))
			require.Equal(t, incident.StatusResolved, r.inc.Status)
			require.Equal(t, m.At, r.inc.ResolvedAt)
			require.Equal(t, strings.TrimSpace(tt.summary), r.inc.Summary)
			require.False(t, r.inc.Situation().Active, "nobody is nudged about a resolved incident")
		})
	}
}

func TestReopen(t *testing.T) {
	tests := []struct {
		name    string
		status  incident.Status
		private bool
		err     error
		msg     string
		effects []string
	}{
		{name: "resolved", status: incident.StatusResolved, effects: []string{"set_topic incident", "refresh_kickoff incident kickoff", "post incident line", "post announce line"}},
		{name: "resolved private", status: incident.StatusResolved, private: true, effects: []string{"set_topic incident", "refresh_kickoff incident kickoff", "post incident line"}},
		{name: "investigating", status: incident.StatusInvestigating, err: incident.ErrRefused, msg: "INC-7 is investigating, not resolved; there is nothing to reopen"},
		{name: "monitoring", status: incident.StatusMonitoring, err: incident.ErrRefused, msg: "INC-7 is monitoring, not resolved"},
		{name: "closed", status: incident.StatusClosed, err: incident.ErrRefused, msg: "INC-7 is closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := checkout
			d.Private = tt.private
			r := atStatus(t, tt.status, d)
			ch, err := r.inc.Reopen(r.meta("U1"))
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			require.Equal(t, tt.effects, effectShape(ch))
			require.Equal(t, []timeline.Kind{timeline.KindReopened}, kinds(ch))
			require.Equal(t, incident.StatusInvestigating, r.inc.Status)
			require.True(t, r.inc.ResolvedAt.IsZero())
			require.True(t, r.inc.Situation().Active)
			// Work goes on: the status machine runs forward again.
			r.commit(r.inc.SetStatus(incident.StatusMonitoring, r.meta("U1")))
		})
	}
}

func TestClose(t *testing.T) {
	tests := []struct {
		name   string
		status incident.Status
		url    string
		err    error
		msg    string
	}{
		{name: "resolved", status: incident.StatusResolved, url: " https://wiki.example/pm/7 "},
		{name: "resolved without link", status: incident.StatusResolved},
		{name: "link too long", status: incident.StatusResolved, url: "https://x/" + strings.Repeat("a", incident.MaxURL), err: incident.ErrInvalid, msg: "the post-mortem link is too long"},
		{name: "http link", status: incident.StatusResolved, url: "http://wiki.internal/pm/7"},
		{name: "not a web link", status: incident.StatusResolved, url: "ftp://files.example/pm-7.md", err: incident.ErrInvalid, msg: "must be a web address starting with https:// or http://"},
		{name: "no host", status: incident.StatusResolved, url: "https:///pm/7", err: incident.ErrInvalid, msg: "must be a web address"},
		{name: "a word", status: incident.StatusResolved, url: "wiki", err: incident.ErrInvalid, msg: "must be a web address"},
		{name: "javascript", status: incident.StatusResolved, url: "javascript:alert(1)", err: incident.ErrInvalid, msg: "must be a web address"},
		{name: "Slack markup", status: incident.StatusResolved, url: "https://evil.example|https://wiki.example", err: incident.ErrInvalid, msg: "must be a web address"},
		{name: "credentials", status: incident.StatusResolved, url: "https://user:secret@wiki.example/pm/7", err: incident.ErrInvalid, msg: "must be a web address"},
		{name: "investigating", status: incident.StatusInvestigating, err: incident.ErrRefused, msg: "INC-7 is investigating; resolve it with `/incident resolve` before publishing its post-mortem"},
		{name: "triage", status: incident.StatusTriage, err: incident.ErrRefused, msg: "INC-7 is triage"},
		{name: "closed", status: incident.StatusClosed, err: incident.ErrRefused, msg: "INC-7 is already closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := atStatus(t, tt.status, checkout)
			m := r.meta("U1")
			ch, err := r.inc.Close(tt.url, m)
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			require.Equal(t, []string{"set_topic incident", "refresh_kickoff incident kickoff", "post incident line"}, effectShape(ch))
			require.Equal(t, incident.StatusClosed, r.inc.Status)
			require.Equal(t, m.At, r.inc.ClosedAt)
			require.Equal(t, strings.TrimSpace(tt.url), r.inc.PostmortemURL)
			require.False(t, r.inc.Situation().Active)
		})
	}
}

func TestClosedIsFinal(t *testing.T) {
	r := atStatus(t, incident.StatusClosed, checkout)
	commands := map[string]func(m incident.Meta) (incident.Change, error){
		"assign": func(m incident.Meta) (incident.Change, error) { return r.inc.AssignRole(roles.Ops, "U2", m) },
		"status": func(m incident.Meta) (incident.Change, error) { return r.inc.SetStatus(incident.StatusMonitoring, m) },
		"sev":    func(m incident.Meta) (incident.Change, error) { return r.inc.SetSeverity(1, m) },
		"impact": func(m incident.Meta) (incident.Change, error) { return r.inc.SetImpact("x", m) },
		"entry": func(m incident.Meta) (incident.Change, error) {
			return r.inc.AddEntry(timeline.PhaseOrient, "x", false, m)
		},
		"action":  func(m incident.Meta) (incident.Change, error) { return r.inc.AddAction("x", "", "", m) },
		"update":  func(m incident.Meta) (incident.Change, error) { return r.inc.PostUpdate("x", m) },
		"resolve": func(m incident.Meta) (incident.Change, error) { return r.inc.Resolve("", m) },
		"reopen":  func(m incident.Meta) (incident.Change, error) { return r.inc.Reopen(m) },
		"close":   func(m incident.Meta) (incident.Change, error) { return r.inc.Close("", m) },
	}
	for name, do := range commands {
		t.Run(name, func(t *testing.T) {
			ch, err := do(r.meta("U1"))
			requireUserError(t, err, incident.ErrRefused, "INC-7 is")
			require.Contains(t, err.Error(), "closed")
			require.Empty(t, ch.Events)
			require.Empty(t, ch.Effects)
		})
	}
}

func TestChannelCreated(t *testing.T) {
	r := declare(t, checkout)
	ch := r.commit(r.inc.ChannelCreated("C042", r.meta(incident.Bot)))
	require.Equal(t, []timeline.Kind{timeline.KindChannelCreated}, kinds(ch))
	require.Empty(t, ch.Effects)
	require.True(t, ch.Events[0].Bookkeeping())
	require.Equal(t, "C042", r.inc.ChannelID)

	// A retried effect reports the same channel: nothing to record.
	ch, err := r.inc.ChannelCreated("C042", r.meta(incident.Bot))
	require.NoError(t, err)
	require.Equal(t, incident.Change{}, ch)

	ch = r.commit(r.inc.ChannelCreated("C043", r.meta(incident.Bot)))
	require.Len(t, ch.Events, 1)
	require.Equal(t, "C043", r.inc.ChannelID)

	_, err = r.inc.ChannelCreated("", r.meta(incident.Bot))
	requireUserError(t, err, incident.ErrInvalid, "")
}

func TestRecord(t *testing.T) {
	tests := []struct {
		name  string
		kind  timeline.Kind
		attrs map[string]string
		err   error
		msg   string
		none  bool // succeeds without events
	}{
		{name: "participant", kind: timeline.KindParticipant, attrs: map[string]string{timeline.AttrUser: "U9"}},
		{name: "known participant", kind: timeline.KindParticipant, attrs: map[string]string{timeline.AttrUser: "U1"}, none: true},
		{name: "participant without user", kind: timeline.KindParticipant, attrs: map[string]string{timeline.AttrUser: ""}, err: incident.ErrInvalid, msg: "needs a user"},
		{name: "participant without attrs", kind: timeline.KindParticipant, err: incident.ErrInvalid, msg: "needs a user"},
		{name: "pinned message", kind: timeline.KindMessageCaptured, attrs: map[string]string{timeline.AttrChannel: "C1", timeline.AttrTS: "1.2"}},
		{name: "effect failed", kind: timeline.KindEffectFailed, attrs: map[string]string{timeline.AttrEffect: "INC-7/1/post/announce", timeline.AttrError: "channel_not_found"}},
		{name: "nudged", kind: timeline.KindNudged, attrs: map[string]string{timeline.AttrNudge: "update_due"}},
		{name: "declared", kind: timeline.KindDeclared, err: incident.ErrInvalid, msg: "through their own command"},
		{name: "loop entry", kind: timeline.KindLoopEntry, err: incident.ErrInvalid, msg: "through their own command"},
		{name: "status", kind: timeline.KindStatusChanged, attrs: map[string]string{timeline.AttrStatus: "closed"}, err: incident.ErrInvalid, msg: "through their own command"},
		{name: "resolved", kind: timeline.KindResolved, err: incident.ErrInvalid, msg: "through their own command"},
		{name: "channel", kind: timeline.KindChannelCreated, err: incident.ErrInvalid, msg: "through their own command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := declare(t, checkout)
			before := r.inc.Clone()
			ch, err := r.inc.Record(tt.kind, timeline.PhaseNone, "text", tt.attrs, r.meta(incident.Bot))
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			require.Empty(t, ch.Effects)
			if tt.none {
				require.Empty(t, ch.Events)
				return
			}
			require.Equal(t, []timeline.Kind{tt.kind}, kinds(ch))
			require.Equal(t, tt.attrs, ch.Events[0].Attrs)
			switch tt.kind {
			case timeline.KindParticipant:
				require.Contains(t, r.inc.Participants, "U9")
			case timeline.KindEffectFailed:
				require.Equal(t, before.FailedEffects+1, r.inc.FailedEffects)
			}
			if ch.Events[0].Bookkeeping() {
				require.Equal(t, before.LastActivityAt, r.inc.LastActivityAt, "bookkeeping is not activity")
			} else {
				require.Equal(t, ch.Events[0].At, r.inc.LastActivityAt, "a captured message is activity")
			}
		})
	}
}

// TestCommandsNeedMeta checks that every command refuses to run without
// the time, actor, source and key it records.
func TestCommandsNeedMeta(t *testing.T) {
	r := declare(t, checkout)
	inc := r.inc
	commands := map[string]func(m incident.Meta) (incident.Change, error){
		"declare": func(m incident.Meta) (incident.Change, error) {
			return incident.Declare(8, incident.Declaration{Title: "x"}, m)
		},
		"assign": func(m incident.Meta) (incident.Change, error) { return inc.AssignRole(roles.Ops, "U2", m) },
		"status": func(m incident.Meta) (incident.Change, error) { return inc.SetStatus(incident.StatusMonitoring, m) },
		"sev":    func(m incident.Meta) (incident.Change, error) { return inc.SetSeverity(1, m) },
		"impact": func(m incident.Meta) (incident.Change, error) { return inc.SetImpact("x", m) },
		"entry": func(m incident.Meta) (incident.Change, error) {
			return inc.AddEntry(timeline.PhaseOrient, "x", false, m)
		},
		"action":  func(m incident.Meta) (incident.Change, error) { return inc.AddAction("x", "", "", m) },
		"update":  func(m incident.Meta) (incident.Change, error) { return inc.PostUpdate("x", m) },
		"resolve": func(m incident.Meta) (incident.Change, error) { return inc.Resolve("", m) },
		"reopen":  func(m incident.Meta) (incident.Change, error) { return inc.Reopen(m) },
		"close":   func(m incident.Meta) (incident.Change, error) { return inc.Close("", m) },
		"channel": func(m incident.Meta) (incident.Change, error) { return inc.ChannelCreated("C1", m) },
		"record":  func(m incident.Meta) (incident.Change, error) { return inc.Record(timeline.KindNudged, "", "", nil, m) },
		"draft":   func(m incident.Meta) (incident.Change, error) { return inc.DraftPostmortem(m) },
		"drafted": func(m incident.Meta) (incident.Change, error) { return inc.PostmortemDrafted("F1", "", "C1", "", m) },
		"nudge": func(m incident.Meta) (incident.Change, error) {
			return inc.Nudge(roles.Nudge{Kind: roles.NudgeCheckIn}, m)
		},
	}
	full := r.meta("U1")
	metas := map[string]incident.Meta{
		"no time":   {Actor: full.Actor, Source: full.Source, Key: full.Key},
		"no actor":  {At: full.At, Source: full.Source, Key: full.Key},
		"no source": {At: full.At, Actor: full.Actor, Key: full.Key},
		"no key":    {At: full.At, Actor: full.Actor, Source: full.Source},
	}
	for name, do := range commands {
		for what, m := range metas {
			t.Run(name+"/"+what, func(t *testing.T) {
				_, err := do(m)
				require.True(t, errors.Is(err, incident.ErrInvalid), "%v", err)
			})
		}
	}
}
