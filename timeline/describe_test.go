package timeline

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDescribe(t *testing.T) {
	a := func(kv ...string) map[string]string {
		m := make(map[string]string)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		e    Event
		want string
	}{
		{name: "declared", e: Event{Kind: KindDeclared, Attrs: a(AttrTitle, "Checkout down", AttrSeverity, "2", AttrService, "checkout", AttrPrivate, "false", AttrStatus, "investigating")},
			want: `Declared SEV2 "Checkout down" (service checkout)`},
		{name: "declared without service", e: Event{Kind: KindDeclared, Attrs: a(AttrTitle, "Checkout down", AttrSeverity, "3")},
			want: `Declared SEV3 "Checkout down"`},
		{name: "declared private from an alert", e: Event{Kind: KindDeclared, Text: "p99 latency 4s", Attrs: a(AttrTitle, "Slow search", AttrSeverity, "4", AttrPrivate, "true", AttrStatus, "triage", AttrService, "search")},
			want: `Declared private SEV4 "Slow search" in triage (service search): p99 latency 4s`},
		{name: "role assigned", e: Event{Kind: KindRoleAssigned, Attrs: a(AttrRole, "commander", AttrUser, "U123")},
			want: "U123 is Commander"},
		{name: "role handover", e: Event{Kind: KindRoleAssigned, Attrs: a(AttrRole, "commander", AttrUser, "U123", AttrPrevious, "U999")},
			want: "U123 is Commander (handover from U999)"},
		{name: "role handover, empty previous attr", e: Event{Kind: KindRoleAssigned, Attrs: a(AttrRole, "ops", AttrUser, "U1", AttrPrevious, "")},
			want: "U1 is Ops"},
		{name: "role vacated", e: Event{Kind: KindRoleAssigned, Attrs: a(AttrRole, "comms", AttrUser, "", AttrPrevious, "U9")},
			want: "Comms is vacant (was U9)"},
		{name: "status", e: Event{Kind: KindStatusChanged, Attrs: a(AttrStatus, "identified", AttrPrevious, "investigating")},
			want: "Status: investigating → identified"},
		{name: "status without previous", e: Event{Kind: KindStatusChanged, Attrs: a(AttrStatus, "monitoring")},
			want: "Status: monitoring"},
		{name: "severity", e: Event{Kind: KindSeverityChanged, Attrs: a(AttrSeverity, "2", AttrPrevious, "3")},
			want: "Severity: SEV3 → SEV2"},
		{name: "impact", e: Event{Kind: KindImpactSet, Text: "10% of checkouts fail"},
			want: "Impact: 10% of checkouts fail"},
		{name: "observation", e: Event{Kind: KindLoopEntry, Phase: PhaseObserve, Text: "5xx at 12%"},
			want: "5xx at 12%"},
		{name: "root cause", e: Event{Kind: KindLoopEntry, Phase: PhaseOrient, Text: "pool exhausted", Attrs: a(AttrCause, "true")},
			want: "Root cause: pool exhausted"},
		{name: "note", e: Event{Kind: KindLoopEntry, Phase: PhaseNone, Text: "bridge call at 15:00"},
			want: "Note: bridge call at 15:00"},
		{name: "action", e: Event{Kind: KindActionAdded, Text: "Alert on pool saturation", Attrs: a(AttrActionID, "3", AttrOwner, "U5", AttrPriority, "P1")},
			want: "Action 3 (P1, owner U5): Alert on pool saturation"},
		{name: "action without owner or priority", e: Event{Kind: KindActionAdded, Text: "Add a runbook", Attrs: a(AttrActionID, "1", AttrOwner, "", AttrPriority, "")},
			want: "Action 1: Add a runbook"},
		{name: "action with owner only", e: Event{Kind: KindActionAdded, Text: "Add a runbook", Attrs: a(AttrActionID, "2", AttrOwner, "U5")},
			want: "Action 2 (owner U5): Add a runbook"},
		{name: "action done", e: Event{Kind: KindActionUpdated, Attrs: a(AttrActionID, "3", AttrChange, ActionChangeDone, AttrPrevious, "open")},
			want: "Action 3 done"},
		{name: "action won't do", e: Event{Kind: KindActionUpdated, Text: "superseded by the queue rewrite", Attrs: a(AttrActionID, "3", AttrChange, ActionChangeWontDo)},
			want: "Action 3 won't be done: superseded by the queue rewrite"},
		{name: "action reopened", e: Event{Kind: KindActionUpdated, Attrs: a(AttrActionID, "3", AttrChange, ActionChangeReopen)},
			want: "Action 3 reopened"},
		{name: "action owner", e: Event{Kind: KindActionUpdated, Attrs: a(AttrActionID, "3", AttrChange, ActionChangeOwner, AttrOwner, "U2", AttrPrevious, "U1")},
			want: "Action 3 owner: U1 → U2"},
		{name: "action due removed", e: Event{Kind: KindActionUpdated, Attrs: a(AttrActionID, "3", AttrChange, ActionChangeDue, AttrDue, "", AttrPrevious, "2026-12-20")},
			want: "Action 3 due: 2026-12-20 → none"},
		{name: "action linked", e: Event{Kind: KindActionUpdated, Attrs: a(AttrActionID, "3", AttrChange, ActionChangeLink, AttrURL, "https://tracker.example/OPS-1")},
			want: "Action 3 linked: https://tracker.example/OPS-1"},
		{name: "update", e: Event{Kind: KindUpdatePosted, Text: "Checkout is degraded; next update 15:30"},
			want: "Update: Checkout is degraded; next update 15:30"},
		{name: "resolved", e: Event{Kind: KindResolved, Text: "rolled back", Attrs: a(AttrPrevious, "monitoring")},
			want: "Resolved: rolled back"},
		{name: "resolved without summary", e: Event{Kind: KindResolved},
			want: "Resolved"},
		{name: "reopened", e: Event{Kind: KindReopened},
			want: "Reopened"},
		{name: "closed", e: Event{Kind: KindClosed, Attrs: a(AttrURL, "https://wiki.example/pm/7")},
			want: "Closed; post-mortem at https://wiki.example/pm/7"},
		{name: "closed without link", e: Event{Kind: KindClosed, Attrs: a(AttrURL, "")},
			want: "Closed"},
		{name: "channel", e: Event{Kind: KindChannelCreated, Attrs: a(AttrChannel, "C042")},
			want: "Channel C042 created"},
		{name: "participant", e: Event{Kind: KindParticipant, Attrs: a(AttrUser, "U7")},
			want: "U7 joined"},
		{name: "pinned", e: Event{Kind: KindMessageCaptured, Source: SourcePin, Text: "the graph", Attrs: a(AttrChannel, "C1", AttrTS, "1.2")},
			want: "Pinned: the graph"},
		{name: "marked", e: Event{Kind: KindMessageCaptured, Source: SourceReaction, Text: "restarted db-2"},
			want: "Marked: restarted db-2"},
		{name: "captured otherwise", e: Event{Kind: KindMessageCaptured, Source: SourceAPI, Text: "hi"},
			want: "Captured: hi"},
		{name: "effect failed", e: Event{Kind: KindEffectFailed, Attrs: a(AttrEffect, "INC-7/3/post/announce", AttrError, "channel_not_found")},
			want: "Effect INC-7/3/post/announce failed: channel_not_found"},
		{name: "nudged", e: Event{Kind: KindNudged, Text: "A stakeholder update is due.", Attrs: a(AttrNudge, "update_due")},
			want: "Reminder: A stakeholder update is due."},
		{name: "nudged without text", e: Event{Kind: KindNudged, Attrs: a(AttrNudge, "commander_missing")},
			want: "Reminder (commander_missing)"},
		{name: "budget breached", e: Event{Kind: KindBudgetBreached, Text: "this incident alone spent 27.8% of the budget"},
			want: "Error budget: this incident alone spent 27.8% of the budget"},
		{name: "post-mortem requested", e: Event{Kind: KindPostmortemRequested},
			want: "Post-mortem draft requested"},
		{name: "post-mortem drafted", e: Event{Kind: KindPostmortemDrafted, Attrs: a(AttrFile, "F042", AttrURL, "https://ooda.slack.com/files/U1/F042/inc-7-postmortem-draft-12.md")},
			want: "Post-mortem draft uploaded: https://ooda.slack.com/files/U1/F042/inc-7-postmortem-draft-12.md"},
		{name: "post-mortem drafted without a link", e: Event{Kind: KindPostmortemDrafted, Attrs: a(AttrFile, "F042")},
			want: "Post-mortem draft uploaded"},
		{name: "member left", e: Event{Kind: KindMemberLeft, Attrs: map[string]string{AttrUser: "U0ALICE"}},
			want: "U0ALICE left the channel"},
		{name: "members invited", e: Event{Kind: KindMembersAdded, Attrs: map[string]string{AttrUsers: "U0ALICE,U0BOB"}},
			want: "Invited U0ALICE, U0BOB"},
		{name: "members synced", e: Event{Kind: KindMembersSynced, Attrs: map[string]string{AttrUsers: "U0ALICE"}},
			want: "Channel members: U0ALICE"},
		{name: "entry amended", e: Event{Kind: KindEntryAmended, Text: "rolled back to v41", Attrs: a(AttrEntry, "12", AttrPrevious, "rolled back to v42")},
			want: "Amended #12: rolled back to v41"},
		{name: "entry amended to another time", e: Event{Kind: KindEntryAmended, Attrs: a(AttrEntry, "12", AttrAt, "2026-11-26T14:02:00Z", AttrPreviousAt, "2026-11-26T14:09:00Z")},
			want: "Amended #12 to 14:02 UTC"},
		{name: "entry struck", e: Event{Kind: KindEntryStruck, Text: "wrong incident", Attrs: a(AttrEntry, "7", AttrPrevious, "db-2 restarted")},
			want: "Struck #7: wrong incident"},
		{name: "corrected entries say so", e: Event{Kind: KindLoopEntry, Phase: PhaseAct, Text: "rolled back", At: time.Date(2026, 11, 26, 14, 2, 0, 0, time.UTC),
			Attrs: a(AttrAmended, "true", AttrWrittenAt, "2026-11-26T14:10:00Z", AttrStruck, "true", AttrStruckBy, "U1", AttrReason, "duplicate")},
			want: "rolled back (amended) (written 14:10 UTC) (struck by U1: duplicate)"},
		{name: "written on another day", e: Event{Kind: KindLoopEntry, Phase: PhaseNone, Text: "paged", At: time.Date(2026, 11, 26, 23, 58, 0, 0, time.UTC),
			Attrs: a(AttrWrittenAt, "2026-11-27T00:03:00Z")},
			want: "Note: paged (written 2026-11-27 00:03 UTC)"},
		{name: "unknown kind", e: Event{Kind: Kind("escalated"), Text: "paged db team"},
			want: "escalated: paged db team"},
	}
	covered := map[Kind]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Describe(tt.e)
			require.Equal(t, tt.want, got)
			require.NotContains(t, got, "\n")
			covered[tt.e.Kind] = true
		})
	}
	// Every kind event.go declares must have a case above, so a new kind
	// cannot fall through to the fallback unnoticed.
	for _, k := range declaredKinds(t) {
		require.True(t, covered[k], "Describe has no test for kind %q", k)
		require.False(t, strings.HasPrefix(Describe(Event{Kind: k}), string(k)), "kind %q falls through to the fallback", k)
	}
}

// declaredKinds reads the Kind constants from event.go.
func declaredKinds(t *testing.T) []Kind {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "event.go", nil, 0)
	require.NoError(t, err)
	var kinds []Kind
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Kind" {
				continue
			}
			for _, val := range v.Values {
				lit := val.(*ast.BasicLit)
				kinds = append(kinds, Kind(strings.Trim(lit.Value, `"`)))
			}
		}
	}
	// Sixteen when this was written; fewer means the parse went wrong.
	require.GreaterOrEqual(t, len(kinds), 16)
	return kinds
}
