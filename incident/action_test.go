package incident_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// withItem returns a run of INC-7 at status whose action 1 ("Alert on
// pool saturation", owner U5, P1) is in state.
func withItem(t *testing.T, status incident.Status, state string) *run {
	t.Helper()
	r := declare(t, checkout)
	r.commit(r.inc.AddActionItem(incident.NewAction{Text: "Alert on pool saturation", Owner: "U5", Priority: "P1"}, r.meta("U1")))
	switch state {
	case incident.ActionOpen:
	case incident.ActionDone:
		r.commit(r.inc.MarkActionDone(1, r.meta("U5")))
	case incident.ActionWontDo:
		r.commit(r.inc.MarkActionWontDo(1, "superseded", r.meta("U5")))
	default:
		t.Fatalf("no way to reach state %q", state)
	}
	switch status {
	case incident.StatusInvestigating:
	case incident.StatusResolved:
		r.commit(r.inc.Resolve("rolled back", r.meta("U1")))
	case incident.StatusClosed:
		r.commit(r.inc.Resolve("rolled back", r.meta("U1")))
		r.commit(r.inc.Close("https://wiki.example/pm/7", r.meta("U1")))
	default:
		t.Fatalf("no way to reach status %q", status)
	}
	require.Equal(t, state, r.inc.Actions[0].Status)
	return r
}

// TestActionStateMachine drives action 1 from each state, in each status
// an incident's items are worked in, through every change people make.
func TestActionStateMachine(t *testing.T) {
	type op func(inc *incident.Incident, m incident.Meta) (incident.Change, error)
	done := func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(1, m)
	}
	wontdo := func(reason string) op {
		return func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.MarkActionWontDo(1, reason, m)
		}
	}
	reopen := func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.ReopenAction(1, m) }
	owner := func(u string) op {
		return func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetActionOwner(1, u, m)
		}
	}
	due := func(spec string) op {
		return func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetActionDue(1, spec, m)
		}
	}
	link := func(u string) op {
		return func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetActionLink(1, u, m)
		}
	}
	tests := []struct {
		name   string
		from   string
		op     op
		err    error
		msg    string
		state  string                // the item's state after
		check  func(incident.Action) // more about the item after
		change string                // the event's change attribute
	}{
		{name: "open → done", from: incident.ActionOpen, op: done, state: incident.ActionDone, change: "done",
			check: func(a incident.Action) { require.Equal(t, "U2", a.ClosedBy); require.False(t, a.ClosedAt.IsZero()) }},
		{name: "open → won't do", from: incident.ActionOpen, op: wontdo("superseded by the queue rewrite"), state: incident.ActionWontDo, change: "wontdo",
			check: func(a incident.Action) { require.Equal(t, "superseded by the queue rewrite", a.Reason) }},
		{name: "won't do without a reason", from: incident.ActionOpen, op: wontdo("  "), err: incident.ErrInvalid,
			msg: "say why action 1 won't be done: `/incident action wontdo 1 superseded by the queue rewrite`"},
		{name: "won't do with a control character", from: incident.ActionOpen, op: wontdo("no\x07"), err: incident.ErrInvalid, msg: "the reason has"},
		{name: "done → done", from: incident.ActionDone, op: done, err: incident.ErrRefused, msg: "action 1 of INC-7 is already done"},
		{name: "done → won't do", from: incident.ActionDone, op: wontdo("changed our minds"), err: incident.ErrRefused,
			msg: "action 1 of INC-7 is done; to drop it instead, reopen it first: `/incident action INC-7 reopen 1`"},
		{name: "won't do → won't do", from: incident.ActionWontDo, op: wontdo("again"), err: incident.ErrRefused, msg: "already marked won't do"},
		{name: "won't do → done", from: incident.ActionWontDo, op: done, state: incident.ActionDone, change: "done",
			check: func(a incident.Action) { require.Empty(t, a.Reason, "a done item has no reason not to be") }},
		{name: "done → open", from: incident.ActionDone, op: reopen, state: incident.ActionOpen, change: "reopen",
			check: func(a incident.Action) { require.True(t, a.ClosedAt.IsZero()); require.Empty(t, a.ClosedBy) }},
		{name: "won't do → open", from: incident.ActionWontDo, op: reopen, state: incident.ActionOpen, change: "reopen"},
		{name: "open → open", from: incident.ActionOpen, op: reopen, err: incident.ErrRefused, msg: "action 1 of INC-7 is open already"},
		{name: "new owner", from: incident.ActionOpen, op: owner("U9"), state: incident.ActionOpen, change: "owner",
			check: func(a incident.Action) { require.Equal(t, "U9", a.Owner) }},
		{name: "new owner of a done item", from: incident.ActionDone, op: owner("U9"), state: incident.ActionDone, change: "owner"},
		{name: "same owner", from: incident.ActionOpen, op: owner("U5"), err: incident.ErrRefused, msg: "<@U5> already owns action 1 of INC-7"},
		{name: "owner that is no person", from: incident.ActionOpen, op: owner("api:ci"), err: incident.ErrInvalid, msg: "an action item's owner is a person"},
		{name: "due in days", from: incident.ActionOpen, op: due("+7d"), state: incident.ActionOpen, change: "due",
			check: func(a incident.Action) { require.Regexp(t, `^2026-12-0[3-9]$`, a.Due) }},
		{name: "due on a day", from: incident.ActionOpen, op: due("2027-01-15"), state: incident.ActionOpen, change: "due",
			check: func(a incident.Action) { require.Equal(t, "2027-01-15", a.Due) }},
		{name: "due none", from: incident.ActionOpen, op: due("none"), state: incident.ActionOpen, change: "due",
			check: func(a incident.Action) { require.Empty(t, a.Due) }},
		{name: "due the same day", from: incident.ActionOpen, op: due("2026-12-10"), err: incident.ErrRefused, msg: "action 1 of INC-7 is due 2026-12-10 already"},
		{name: "due in the past", from: incident.ActionOpen, op: due("2026-01-01"), err: incident.ErrInvalid, msg: "2026-01-01 is past"},
		{name: "due nonsense", from: incident.ActionOpen, op: due("soon"), err: incident.ErrInvalid, msg: `"soon" is not a due day`},
		{name: "due empty", from: incident.ActionOpen, op: due(""), err: incident.ErrInvalid, msg: "give action 1 a due day"},
		{name: "link", from: incident.ActionOpen, op: link("https://tracker.example.com/OPS-123"), state: incident.ActionOpen, change: "link",
			check: func(a incident.Action) { require.Equal(t, "https://tracker.example.com/OPS-123", a.Link) }},
		{name: "link of a done item", from: incident.ActionDone, op: link("https://tracker.example.com/OPS-123"), state: incident.ActionDone, change: "link"},
		{name: "link that is no web address", from: incident.ActionOpen, op: link("javascript:alert(1)"), err: incident.ErrInvalid, msg: "starting with https:// or http://"},
		{name: "link markup", from: incident.ActionOpen, op: link("<https://evil.example|bank>"), err: incident.ErrInvalid},
	}
	for _, status := range []incident.Status{incident.StatusInvestigating, incident.StatusResolved, incident.StatusClosed} {
		for _, tt := range tests {
			t.Run(string(status)+"/"+tt.name, func(t *testing.T) {
				r := withItem(t, status, tt.from)
				before := r.inc.Clone()
				ch, err := tt.op(&r.inc, r.meta("U2"))
				if tt.err != nil {
					requireUserError(t, err, tt.err, tt.msg)
					require.Empty(t, ch.Events)
					require.Equal(t, before, r.inc, "a refused change changes nothing")
					return
				}
				r.commit(ch, err)
				require.Equal(t, []timeline.Kind{timeline.KindActionUpdated}, kinds(ch))
				e := ch.Events[0]
				require.Equal(t, tt.change, e.Attr(timeline.AttrChange))
				require.Equal(t, "1", e.Attr(timeline.AttrActionID))
				require.False(t, e.Bookkeeping(), "the change is on the incident's timeline")
				if status == incident.StatusClosed {
					require.Empty(t, ch.Effects, "a closed incident's channel is not written to")
				} else {
					require.Equal(t, []string{"post incident line"}, effectShape(ch))
				}
				a, ok := r.inc.Action(1)
				require.True(t, ok)
				require.Equal(t, tt.state, a.Status)
				if tt.check != nil {
					tt.check(a)
				}
				require.Equal(t, status, r.inc.Status, "an item's change leaves the incident's status alone")
				require.Equal(t, r.inc, incident.Replay(r.events), "the fold of the log is the state")
			})
		}
	}
}

func TestActionChangeOfAnUnknownItem(t *testing.T) {
	r := declare(t, checkout)
	_, err := r.inc.MarkActionDone(1, r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "INC-7 has no action items; add one with `/incident action <text> @owner`")
	r.commit(r.inc.AddAction("Alert on pool saturation", "", "", r.meta("U1")))
	_, err = r.inc.SetActionDue(3, "+1d", r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "INC-7 has no action 3; its items are 1 to 1")
}

func TestAddActionItemDue(t *testing.T) {
	tests := []struct {
		name     string
		priority string
		impact   bool
		due      string
		want     string
		err      string
	}{
		{name: "P0 default", priority: "P0", want: "2026-12-03"},
		{name: "P1 default", priority: "P1", want: "2026-12-10"},
		{name: "P2 default", priority: "P2", want: "2026-12-26"},
		{name: "P3 has none", priority: "P3", want: ""},
		{name: "default priority, customer-impacting: P0", impact: true, want: "2026-12-03"},
		{name: "given day wins", priority: "P0", due: "2027-02-01", want: "2027-02-01"},
		{name: "given days", priority: "P3", due: "+14d", want: "2026-12-10"},
		{name: "none on a P0", priority: "P0", due: "none", want: ""},
		{name: "not a day", due: "2026-02-30", err: `"2026-02-30" is not a due day`},
		{name: "too far", due: "+9999d", err: "+9999d is more than ten years away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := declare(t, checkout)
			if tt.impact {
				r.commit(r.inc.SetImpact("checkouts fail", r.meta("U1")))
			}
			ch, err := r.inc.AddActionItem(incident.NewAction{Text: "Alert on pool saturation", Priority: tt.priority, Due: tt.due}, r.meta("U1"))
			if tt.err != "" {
				requireUserError(t, err, incident.ErrInvalid, tt.err)
				return
			}
			r.commit(ch, err)
			require.Equal(t, tt.want, ch.Events[0].Attr(timeline.AttrDue))
			require.Equal(t, tt.want, r.inc.Actions[0].Due)
		})
	}
}

func TestResolveDue(t *testing.T) {
	// 01:00 UTC on 1 March: still 28 February west of UTC-1.
	at := time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		spec, want, err string
	}{
		{spec: "2026-03-01", want: "2026-03-01"},
		{spec: "2026-02-28", want: "2026-02-28"},
		{spec: "2026-02-27", err: "2026-02-27 is past"},
		{spec: "+0d", want: "2026-03-01"},
		{spec: "+30d", want: "2026-03-31"},
		{spec: " NONE ", want: ""},
		{spec: "+3650d", want: "2036-02-27"},
		{spec: "+3651d", err: "more than ten years away"},
		{spec: "2036-03-01", err: "more than ten years away"},
		{spec: "+2w", err: "is not a due day"},
		{spec: "-1d", err: "is not a due day"},
		{spec: "12/20/2026", err: "is not a due day"},
		{spec: "", err: "is not a due day"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := incident.ResolveDue(tt.spec, at)
			if tt.err != "" {
				requireUserError(t, err, incident.ErrInvalid, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestActionItemsAcrossIncidents(t *testing.T) {
	now := time.Date(2026, 12, 15, 16, 0, 0, 0, time.UTC)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	zones := incident.Zones(func(u string) *time.Location {
		if u == "UTOKYO" {
			return tokyo
		}
		return nil
	})
	a := func(id int, owner, status, due string) incident.Action {
		return incident.Action{ID: id, Text: "item " + strings.Repeat("x", id), Owner: owner, Status: status, Due: due}
	}
	incs := []incident.Incident{
		{Number: 9, ID: "INC-9", Service: "search", Actions: []incident.Action{
			a(1, "UBOB", incident.ActionOpen, "2026-12-20"),
			a(2, "UBOB", incident.ActionDone, "2026-12-01"),
		}},
		{Number: 4, ID: "INC-4", Service: "Checkout", CustomerImpacting: true, Actions: []incident.Action{
			a(1, "UALICE", incident.ActionOpen, "2026-12-14"),
			a(2, "UBOB", incident.ActionOpen, ""),
			a(3, "UTOKYO", incident.ActionOpen, "2026-12-15"), // already 16 Dec in Tokyo (01:00)
			a(4, "UALICE", incident.ActionWontDo, ""),
			a(5, "UALICE", incident.ActionOpen, "2026-12-01"),
		}},
	}
	ref := func(items []incident.ActionItem) []string {
		var out []string
		for _, it := range items {
			s := it.Incident.ID + "#" + string(rune('0'+it.Action.ID))
			if it.Overdue {
				s += "!"
			}
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		name string
		f    incident.ActionFilter
		want []string
	}{
		{"open, overdue first, most overdue first", incident.ActionFilter{}, []string{"INC-4#5!", "INC-4#1!", "INC-4#3!", "INC-9#1", "INC-4#2"}},
		{"overdue", incident.ActionFilter{Overdue: true}, []string{"INC-4#5!", "INC-4#1!", "INC-4#3!"}},
		{"one owner's", incident.ActionFilter{Owner: "UBOB"}, []string{"INC-9#1", "INC-4#2"}},
		{"all of one owner's", incident.ActionFilter{Owner: "UBOB", State: incident.ActionsAll}, []string{"INC-9#1", "INC-4#2", "INC-9#2"}},
		{"won't do", incident.ActionFilter{State: incident.ActionWontDo}, []string{"INC-4#4"}},
		{"a service, any case", incident.ActionFilter{Service: "checkout", Overdue: true, Owner: "UALICE"}, []string{"INC-4#5!", "INC-4#1!"}},
		{"a service nobody has", incident.ActionFilter{Service: "dns"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ref(incident.ActionItems(incs, tt.f, now, zones)))
		})
	}
	items := incident.ActionItems(incs, incident.ActionFilter{Owner: "UBOB"}, now, nil)
	require.Equal(t, "P2", items[0].Priority)
	require.Equal(t, "P0", items[1].Priority, "the incident is customer-impacting")
	require.Equal(t, []string{"INC-4#5!", "INC-4#1!", "INC-4#3", "INC-9#1", "INC-4#2"},
		ref(incident.ActionItems(incs, incident.ActionFilter{}, now, nil)), "without zones every day is UTC's")
}

func TestRemindActions(t *testing.T) {
	r := withItem(t, incident.StatusResolved, incident.ActionOpen)
	m := incident.Meta{At: t0.Add(30 * 24 * time.Hour), Actor: incident.Bot, Source: timeline.SourceReminder, Key: "remind-actions:U5:2026-12-28"}
	items := []incident.ActionRef{{Incident: 3, Action: 2}, {Incident: number, Action: 1}}
	ch := r.commit(r.inc.RemindActions("U5", "2026-12-28", items, m))
	require.Equal(t, []timeline.Kind{timeline.KindNudged}, kinds(ch))
	e := ch.Events[0]
	require.True(t, e.Bookkeeping())
	require.Equal(t, "1", e.Attr(timeline.AttrActions), "the record names only this incident's items")
	require.NotContains(t, e.Text+strings.Join(mapValues(e.Attrs), " "), "3:2", "nor another incident, which may be private")
	require.Equal(t, []string{"dm U5 actions_due"}, effectShape(ch))
	fx := ch.Effects[0]
	require.Equal(t, map[string]string{incident.ParamDay: "2026-12-28"}, fx.Params,
		"the queued message names no item: the executor lists them when it sends it, as the owner may see them")

	_, err := r.inc.RemindActions("api:ci", "2026-12-28", items, m)
	requireUserError(t, err, incident.ErrInvalid, "a reminder is for a person")
	_, err = r.inc.RemindActions("U5", "28 Dec", items, m)
	requireUserError(t, err, incident.ErrInvalid, "is not a day")
	_, err = r.inc.RemindActions("U5", "2026-12-28", nil, m)
	requireUserError(t, err, incident.ErrInvalid, "names at least one item")

	// Follow-up work outlives its incident: a closed one carries the
	// reminder of its overdue items.
	closed := withItem(t, incident.StatusClosed, incident.ActionOpen)
	ch, err = closed.inc.RemindActions("U5", "2026-12-28", items, m)
	require.NoError(t, err)
	require.Equal(t, []string{"dm U5 actions_due"}, effectShape(ch))
}

func TestParseActionRefs(t *testing.T) {
	require.Equal(t, []incident.ActionRef{{Incident: 3, Action: 2}, {Incident: 12, Action: 1}},
		incident.ParseActionRefs("3:2, x:1,0:1,12:1,4:,:5,4:-1"))
	require.Empty(t, incident.ParseActionRefs(""))
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
