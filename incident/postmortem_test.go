package incident_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

func TestDraftPostmortem(t *testing.T) {
	tests := []struct {
		name   string
		status incident.Status
		err    error
		msg    string
	}{
		{name: "resolved", status: incident.StatusResolved},
		{name: "still investigating: a draft of the story so far", status: incident.StatusInvestigating},
		{name: "monitoring", status: incident.StatusMonitoring},
		{name: "closed", status: incident.StatusClosed, err: incident.ErrRefused, msg: "INC-7 is closed: its post-mortem is published at https://wiki.example/pm/7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := atStatus(t, tt.status, checkout)
			before := r.inc
			ch, err := r.inc.DraftPostmortem(r.meta("U2"))
			if tt.err != nil {
				requireUserError(t, err, tt.err, tt.msg)
				return
			}
			r.commit(ch, err)
			require.Equal(t, []timeline.Kind{timeline.KindPostmortemRequested}, kinds(ch))
			require.True(t, ch.Events[0].Bookkeeping(), "drafting is not part of the incident's story")
			require.Equal(t, []string{"upload_file incident", "bookmark incident"}, effectShape(ch))
			upload, bookmark := ch.Effects[0], ch.Effects[1]
			require.Equal(t, "INC-7/"+strconv.FormatUint(ch.Events[0].Seq, 10)+"/upload_file/incident", upload.Key)
			require.Empty(t, upload.Params, "the draft is written when it is uploaded, not stored in the outbox")
			require.Equal(t, upload.Key, bookmark.Params["upload"], "the bookmark finds the file through the upload's result")
			require.Equal(t, "INC-7 post-mortem draft", bookmark.Params["title"])
			require.Equal(t, before.Status, r.inc.Status, "asking for a draft changes nothing else")
			require.Equal(t, before.LastActivityAt, r.inc.LastActivityAt)
			require.Contains(t, r.inc.Participants, "U2")
		})
	}
}

func TestPostmortemDrafted(t *testing.T) {
	r := atStatus(t, incident.StatusResolved, checkout)
	r.commit(r.inc.DraftPostmortem(r.meta("U1")))
	m := r.meta(incident.Bot)
	m.Source = timeline.SourceSystem
	link := "https://ooda.slack.com/files/UBOT/F042/inc-7-postmortem-draft-4.md"
	ch := r.commit(r.inc.PostmortemDrafted("F042", link, "C7", "1764165600.000100", m))
	require.Empty(t, ch.Effects)
	e := ch.Events[0]
	require.Equal(t, timeline.KindPostmortemDrafted, e.Kind)
	require.True(t, e.Bookkeeping())
	require.Equal(t, map[string]string{
		timeline.AttrFile: "F042", timeline.AttrURL: link, timeline.AttrChannel: "C7", timeline.AttrTS: "1764165600.000100",
	}, e.Attrs)
	require.Equal(t, "F042", r.inc.PostmortemDraftFileID)
	require.Equal(t, link, r.inc.PostmortemDraftURL)
	require.Equal(t, m.At, r.inc.PostmortemDraftedAt)
	require.True(t, r.inc.Situation().PostmortemDrafted)
	require.Equal(t, r.inc, incident.Replay(r.events), "the snapshot is the fold of the log")

	_, err := r.inc.PostmortemDrafted("", link, "C7", "", r.meta(incident.Bot))
	requireUserError(t, err, incident.ErrInvalid, "file id")
}

func TestSituationAfterResolution(t *testing.T) {
	r := atStatus(t, incident.StatusResolved, checkout)
	s := r.inc.Situation()
	require.False(t, s.Active)
	require.Equal(t, r.inc.ResolvedAt, s.ResolvedAt)
	require.False(t, s.CustomerImpacting)

	r.commit(r.inc.SetImpact("10% of checkouts failed", r.meta("U1")))
	require.True(t, r.inc.Situation().CustomerImpacting)
	require.True(t, r.inc.PostmortemRequired())

	r.commit(r.inc.Close("https://wiki.example/pm/7", r.meta("U1")))
	require.True(t, r.inc.Situation().ResolvedAt.IsZero(), "published: nothing is due")
	require.False(t, r.inc.ResolvedAt.IsZero(), "the incident still says when it was resolved")

	open := atStatus(t, incident.StatusMonitoring, checkout)
	require.True(t, open.inc.Situation().ResolvedAt.IsZero())
}

func TestPostmortemRequired(t *testing.T) {
	for sev, want := range map[int]bool{1: true, 2: true, 3: false, 4: false} {
		d := checkout
		d.Severity = sev
		r := declare(t, d)
		require.Equal(t, want, r.inc.PostmortemRequired(), "SEV%d", sev)
	}
}

// TestNudgeFollowsTheState: the post-mortem reminder is for resolved
// incidents only, every other nudge for active ones only. The policy is
// asked about a snapshot; the state the nudge is applied to may have moved.
func TestNudgeFollowsTheState(t *testing.T) {
	due := roles.Nudge{Kind: roles.NudgePostmortemDue, Role: roles.Commander, User: "U1", Key: "postmortem_due/2026-11-27", Text: "The post-mortem is due."}
	checkIn := roles.Nudge{Kind: roles.NudgeCheckIn, Role: roles.Commander, User: "U1", Key: "check_in/1", Text: "OODA check-in"}
	tests := []struct {
		status incident.Status
		nudge  roles.Nudge
		posted bool
	}{
		{incident.StatusInvestigating, checkIn, true},
		{incident.StatusInvestigating, due, false},
		{incident.StatusResolved, due, true},
		{incident.StatusResolved, checkIn, false},
		{incident.StatusClosed, due, false},
		{incident.StatusClosed, checkIn, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.status)+"/"+string(tt.nudge.Kind), func(t *testing.T) {
			r := atStatus(t, tt.status, checkout)
			m := r.meta(incident.Bot)
			m.Source = timeline.SourceReminder
			ch, err := r.inc.Nudge(tt.nudge, m)
			require.NoError(t, err)
			if !tt.posted {
				require.Empty(t, ch.Events)
				require.Empty(t, ch.Effects)
				return
			}
			r.commit(ch, err)
			require.Equal(t, []string{"post incident nudge"}, effectShape(ch))
			require.Equal(t, string(tt.nudge.Kind), ch.Events[0].Attr(timeline.AttrNudge))
			require.Equal(t, tt.status, r.inc.Status, "a reminder changes nothing")
		})
	}
}
