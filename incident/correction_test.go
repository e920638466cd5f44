package incident_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// logged returns the event the run's log holds under seq, nil when none:
// what the dispatcher reads before a correction.
func (r *run) logged(seq uint64) *timeline.Event {
	for i := range r.events {
		if r.events[i].Seq == seq {
			e := r.events[i]
			return &e
		}
	}
	return nil
}

// corrections is INC-7 declared by U1 (Commander), with an entry by U2 as
// seq 3 and what else the tests correct.
type corrections struct {
	*run
	entry, alert, captured uint64
}

func correctionRun(t *testing.T) corrections {
	r := declare(t, checkout) // 1 declared, 2 U1 Commander
	c := corrections{run: r}
	c.entry = r.commit(r.inc.AddEntry(timeline.PhaseAct, "rolled back to v42", false, r.meta("U2"))).Events[0].Seq
	m := r.meta(incident.Bot)
	m.Source = timeline.SourceAlert
	c.alert = r.commit(r.inc.AddEntry(timeline.PhaseObserve, "HighErrorRate firing", false, m)).Events[0].Seq
	m = r.meta("U2")
	m.Source = timeline.SourcePin
	c.captured = r.commit(r.inc.Record(timeline.KindMessageCaptured, timeline.PhaseObserve, "see graph", map[string]string{timeline.AttrChannel: "C1", timeline.AttrTS: "1.2"}, m)).Events[0].Seq
	return c
}

func TestAmend(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(c corrections) // before the amendment
		actor  string
		seq    func(c corrections) uint64
		text   string
		when   string
		err    error
		msg    string
		status incident.Status // reached before the amendment; "" stays investigating
	}{
		{name: "by its author", actor: "U2", text: "rolled back to v41"},
		{name: "by the Commander", actor: "U1", text: "rolled back to v41"},
		{name: "by someone else", actor: "U3", text: "rolled back to v41", err: incident.ErrRefused,
			msg: "only the entry's author (<@U2>) or the Commander can amend #3, and the Commander is <@U1>; ask one of them"},
		{name: "by the Commander who handed over", actor: "U1", text: "x", err: incident.ErrRefused, msg: "the Commander is <@U4>",
			setup: func(c corrections) { c.commit(c.inc.AssignRole(roles.Commander, "U4", c.meta("U1"))) }},
		{name: "by the new Commander", actor: "U4", text: "rolled back to v41",
			setup: func(c corrections) { c.commit(c.inc.AssignRole(roles.Commander, "U4", c.meta("U1"))) }},
		{name: "with no Commander, by someone else", actor: "U3", text: "x", err: incident.ErrRefused, msg: "there is no Commander now",
			setup: func(c corrections) { c.inc.Roles.Commander = "" }},
		{name: "a declaration", actor: "U1", seq: func(corrections) uint64 { return 1 }, text: "x", err: incident.ErrRefused,
			msg: "#1 was recorded by Ooda (declared); only the observe, orient, decide and act entries and notes people type can be amended or struck"},
		{name: "a role assignment", actor: "U1", seq: func(corrections) uint64 { return 2 }, text: "x", err: incident.ErrRefused, msg: "(role assigned)"},
		{name: "an alert", actor: "U1", seq: func(c corrections) uint64 { return c.alert }, text: "x", err: incident.ErrRefused, msg: "is what an alert said"},
		{name: "a captured message", actor: "U2", seq: func(c corrections) uint64 { return c.captured }, text: "x", err: incident.ErrRefused,
			msg: "is a Slack message Ooda captured: the channel's transcript follows its edits, so edit it in Slack"},
		{name: "an unknown entry", actor: "U2", seq: func(corrections) uint64 { return 99 }, text: "x", err: incident.ErrInvalid,
			msg: "INC-7 has no entry #99; `/incident timeline` shows each entry's number"},
		{name: "entry zero", actor: "U2", seq: func(corrections) uint64 { return 0 }, text: "x", err: incident.ErrInvalid, msg: "has no entry #0"},
		{name: "a struck entry", actor: "U2", text: "x", err: incident.ErrRefused,
			msg:   "#3 was struck by <@U1> at 14:04 UTC, so it stays as it was; if what it said still holds, write it again: `/incident act <text>`",
			setup: func(c corrections) { c.commit(c.inc.Strike(c.entry, c.logged(c.entry), "", c.meta("U1"))) }},
		{name: "the same text", actor: "U2", text: " rolled back to v42 ", err: incident.ErrRefused, msg: "#3 already says that"},
		{name: "no text and no time", actor: "U2", err: incident.ErrInvalid, msg: "`/incident amend #3 <new text>`"},
		{name: "a control character", actor: "U2", text: "v41\x1b[2J", err: incident.ErrInvalid, msg: "U+001B"},
		{name: "its time only", actor: "U2", when: "13:58"},
		{name: "to the future", actor: "U2", when: "2030-01-01T00:00Z", err: incident.ErrInvalid, msg: "is in the future"},
		{name: "once resolved", actor: "U2", text: "rolled back to v41", status: incident.StatusResolved},
		{name: "once closed", actor: "U2", text: "rolled back to v41", status: incident.StatusClosed, err: incident.ErrRefused,
			msg: "INC-7 is closed: its post-mortem is published at https://wiki.example/pm/7, and the timeline it was written from no longer changes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := correctionRun(t)
			if tt.setup != nil {
				tt.setup(c)
			}
			switch tt.status {
			case incident.StatusResolved:
				c.commit(c.inc.Resolve("", c.meta("U1")))
			case incident.StatusClosed:
				c.commit(c.inc.Resolve("", c.meta("U1")))
				c.commit(c.inc.Close("https://wiki.example/pm/7", c.meta("U1")))
			}
			seq := c.entry
			if tt.seq != nil {
				seq = tt.seq(c)
			}
			var when incident.When
			if tt.when != "" {
				var err error
				when, err = incident.ParseWhen(tt.when)
				require.NoError(t, err)
			}
			before := c.inc.Clone()
			m := c.meta(tt.actor)
			ch, err := c.inc.Amend(seq, c.logged(seq), tt.text, when, m)
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				require.Empty(t, ch.Events)
				require.Equal(t, before, c.inc, "a refusal changes nothing")
				return
			}
			c.commit(ch, err)
			require.Equal(t, []timeline.Kind{timeline.KindEntryAmended}, kinds(ch))
			require.Equal(t, []string{"post incident line"}, effectShape(ch), "the channel is told")
			e := ch.Events[0]
			require.Equal(t, "3", e.Attr(timeline.AttrEntry))
			require.Equal(t, "rolled back to v42", e.Attr(timeline.AttrPrevious), "the original is kept")
			require.Equal(t, c.events[2].Text, "rolled back to v42", "and never rewritten")

			want := timeline.Correction{Kind: timeline.CorrectionAmended, Entry: 3, Seq: e.Seq, By: tt.actor, At: m.At, Previous: "rolled back to v42", Text: tt.text}
			if tt.when != "" {
				want.EntryAt, want.PreviousAt = t0.Add(-2*time.Minute), c.events[2].At
			}
			require.Equal(t, []timeline.Correction{want}, c.inc.Corrections, "the fold keeps the audit trail")
			require.Equal(t, c.inc, incident.Replay(c.events), "the log replays to the same state")
		})
	}
}

func TestAmendTwiceKeepsEachPreviousText(t *testing.T) {
	c := correctionRun(t)
	c.commit(c.inc.Amend(c.entry, c.logged(c.entry), "rolled back to v41", incident.When{}, c.meta("U2")))
	ch := c.commit(c.inc.Amend(c.entry, c.logged(c.entry), "rolled back to v40", incident.When{}, c.meta("U1")))
	require.Equal(t, "rolled back to v41", ch.Events[0].Attr(timeline.AttrPrevious))
	require.Len(t, c.inc.Corrections, 2)

	view := timeline.Build(c.events, c.inc.DeclaredAt, timeline.Options{})
	var texts []string
	for _, m := range view.Minutes {
		for _, e := range m.Events {
			texts = append(texts, e.Text)
		}
	}
	require.Contains(t, texts, "rolled back to v40")
	require.NotContains(t, texts, "rolled back to v41")
}

func TestAmendingACorrectionIsRefused(t *testing.T) {
	c := correctionRun(t)
	seq := c.commit(c.inc.Amend(c.entry, c.logged(c.entry), "v41", incident.When{}, c.meta("U2"))).Events[0].Seq
	_, err := c.inc.Amend(seq, c.logged(seq), "v40", incident.When{}, c.meta("U2"))
	requireUserError(t, err, incident.ErrRefused, "#6 is itself a correction, of #3; correct that entry instead")
}

func TestAnAPITokenCorrectsItsOwnEntry(t *testing.T) {
	c := correctionRun(t)
	m := c.meta("api:deploybot")
	m.Source = timeline.SourceAPI
	seq := c.commit(c.inc.AddEntry(timeline.PhaseAct, "deployed v43", false, m)).Events[0].Seq
	m = c.meta("api:deploybot")
	m.Source = timeline.SourceAPI
	c.commit(c.inc.Amend(seq, c.logged(seq), "deployed v44", incident.When{}, m))
	_, err := c.inc.Strike(seq, c.logged(seq), "", c.meta("U3"))
	requireUserError(t, err, incident.ErrRefused, `only the entry's author (the API token "deploybot")`)
}

func TestStrike(t *testing.T) {
	tests := []struct {
		name   string
		actor  string
		reason string
		twice  bool
		err    error
		msg    string
	}{
		{name: "by its author", actor: "U2", reason: "that was staging"},
		{name: "by the Commander, without a reason", actor: "U1"},
		{name: "by someone else", actor: "U3", err: incident.ErrRefused, msg: "only the entry's author (<@U2>) or the Commander can strike #3"},
		{name: "twice", actor: "U2", twice: true, err: incident.ErrRefused, msg: "#3 is already struck (by <@U2> at 14:04 UTC)"},
		{name: "a reason with a control character", actor: "U2", reason: "a\x07b", err: incident.ErrInvalid, msg: "the reason has U+0007"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := correctionRun(t)
			if tt.twice {
				c.commit(c.inc.Strike(c.entry, c.logged(c.entry), "", c.meta("U2")))
			}
			m := c.meta(tt.actor)
			ch, err := c.inc.Strike(c.entry, c.logged(c.entry), tt.reason, m)
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				require.Empty(t, ch.Events)
				return
			}
			c.commit(ch, err)
			require.Equal(t, []timeline.Kind{timeline.KindEntryStruck}, kinds(ch))
			require.Equal(t, []timeline.Correction{{Kind: timeline.CorrectionStruck, Entry: 3, Seq: ch.Events[0].Seq, By: tt.actor, At: m.At,
				Previous: "rolled back to v42", Reason: tt.reason}}, c.inc.Corrections)
			require.Equal(t, c.inc, incident.Replay(c.events))

			view := timeline.Build(c.events, c.inc.DeclaredAt, timeline.Options{})
			for _, min := range view.Minutes {
				for _, e := range min.Events {
					require.NotEqual(t, c.entry, e.Seq, "the timeline leaves a struck entry out")
				}
			}
		})
	}
}

func TestAddEntryAt(t *testing.T) {
	// INC-7 is declared at t0, 14:00 on 26 November; the entries below
	// are written at 14:10 unless a test says otherwise.
	now := t0.Add(10 * time.Minute)
	tests := []struct {
		name string
		at   string
		now  time.Time
		want time.Time
		err  error
		msg  string
	}{
		{name: "a time of day", at: "14:02", want: t0.Add(2 * time.Minute)},
		{name: "a time of day with Z", at: "14:02Z", want: t0.Add(2 * time.Minute)},
		{name: "minutes ago", at: "-5m", want: now.Add(-5 * time.Minute)},
		{name: "hours and minutes ago", at: "-1h30m", want: now.Add(-90 * time.Minute)},
		{name: "a date and time", at: "2026-11-26T13:45Z", want: t0.Add(-15 * time.Minute)},
		{name: "a date and time in another zone", at: "2026-11-26T14:45+01:00", want: t0.Add(-15 * time.Minute)},
		{name: "before the declaration", at: "13:31", want: t0.Add(-29 * time.Minute)},
		{name: "yesterday's time of day after midnight", at: "23:50", now: time.Date(2026, 11, 27, 0, 10, 0, 0, time.UTC),
			want: time.Date(2026, 11, 26, 23, 50, 0, 0, time.UTC)},
		{name: "now", at: "-0m", want: now},
		{name: "a time of day still to come", at: "14:15", err: incident.ErrInvalid,
			msg: "14:15 UTC was 23 h 55 min ago (it is 14:10 UTC now). A time of day means one within the last 12 hours, and an entry cannot be dated in the future: for an earlier day write the date, `--at 2026-11-25T14:15Z`"},
		{name: "in the future", at: "2026-11-26T14:30Z", err: incident.ErrInvalid,
			msg: "14:30 UTC is in the future (it is 14:10 UTC now); an entry is dated when it happened"},
		{name: "long before the declaration", at: "2026-11-25T13:59Z", err: incident.ErrInvalid,
			msg: "2026-11-25 13:59 UTC is more than 24 hours before INC-7 was declared (2026-11-26 14:00 UTC)"},
		{name: "the day before, within a day of the declaration", at: "2026-11-25T14:00Z", want: t0.Add(-24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := declare(t, checkout)
			m := r.meta("U2")
			m.At = now
			if !tt.now.IsZero() {
				m.At = tt.now
			}
			w, err := incident.ParseWhen(tt.at)
			require.NoError(t, err)
			ch, err := r.inc.AddEntryAt(timeline.PhaseObserve, "first 5xx on the dashboard", false, w, m)
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			e := ch.Events[0]
			require.Equal(t, tt.want, e.At, "dated when it happened")
			require.Equal(t, timeline.FormatTime(m.At), e.Attr(timeline.AttrWrittenAt), "and it keeps when it was written")
			require.Equal(t, []timeline.Correction{{Kind: timeline.CorrectionBackdated, Entry: e.Seq, Seq: e.Seq, By: "U2", At: m.At, EntryAt: tt.want}},
				r.inc.Corrections, "the audit trail names it")
			require.Equal(t, r.inc, incident.Replay(r.events))
		})
	}
}

func TestAddEntryAtKeepsTheCause(t *testing.T) {
	r := declare(t, checkout)
	w, err := incident.ParseWhen("-3m")
	require.NoError(t, err)
	ch := r.commit(r.inc.AddEntryAt(timeline.PhaseOrient, "pool exhausted", true, w, r.meta("U1")))
	require.Equal(t, "true", ch.Events[0].Attr(timeline.AttrCause))
	require.Equal(t, []string{"post incident line"}, effectShape(ch))

	_, err = r.inc.AddEntryAt(timeline.PhaseObserve, "", false, w, r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "the entry is empty")
	atStatusClosed := atStatus(t, incident.StatusClosed, checkout)
	_, err = atStatusClosed.inc.AddEntryAt(timeline.PhaseObserve, "x", false, w, atStatusClosed.meta("U1"))
	requireUserError(t, err, incident.ErrRefused, "is closed")
}

func TestParseWhen(t *testing.T) {
	for _, s := range []string{"14:02", "4:02", "-5m", "-1h30m", "2026-11-26T14:02Z", "2026-11-26T14:02", "2026-11-26T14:02:05Z", "2026-11-26T14:02:05+05:30"} {
		w, err := incident.ParseWhen(s)
		require.NoError(t, err, s)
		require.Equal(t, s, w.Text)
		again, err := incident.ParseWhen(w.Text)
		require.NoError(t, err)
		require.Equal(t, w, again, "%s reads back the same", s)
	}
	for s, msg := range map[string]string{
		"":       "--at needs a time",
		"soon":   `"soon" is not a time; write a UTC time of day`,
		"25:00":  `"25:00" is not a time`,
		"+5m":    "which is not in the future",
		"5m":     `"5m" would be in the future; write a time before now with a minus sign: ` + "`--at -5m`",
		"-x":     `"-x" is not a time before now`,
		"--5m":   `"--5m" is not a time before now`,
		"14h02":  "is not a time",
		"2026-1": "is not a time",
	} {
		_, err := incident.ParseWhen(s)
		requireUserError(t, err, incident.ErrInvalid, msg)
	}
}
