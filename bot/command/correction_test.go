package command

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

func when(t *testing.T, s string) incident.When {
	t.Helper()
	w, err := incident.ParseWhen(s)
	require.NoError(t, err)
	return w
}

func TestParseCorrections(t *testing.T) {
	tests := []struct {
		text string
		want Command
	}{
		{"amend #12 rolled back to v41", Command{Verb: VerbAmend, Entry: 12, Text: "rolled back to v41"}},
		{"amend 12 rolled  back\nto v41", Command{Verb: VerbAmend, Entry: 12, Text: "rolled  back\nto v41"}},
		{"amend INC-7 #12 --at 14:02 v41", Command{Verb: VerbAmend, Incident: 7, Entry: 12, At: when(t, "14:02"), Text: "v41"}},
		{"amend #12 --at=-5m", Command{Verb: VerbAmend, Entry: 12, At: when(t, "-5m")}},
		{"correct #3 typo", Command{Verb: VerbAmend, Entry: 3, Text: "typo"}},
		{"amend #12 #hashtag stays text", Command{Verb: VerbAmend, Entry: 12, Text: "#hashtag stays text"}},
		{"strike #12", Command{Verb: VerbStrike, Entry: 12}},
		{"strike inc-7 12 that was  staging", Command{Verb: VerbStrike, Incident: 7, Entry: 12, Text: "that was  staging"}},
		{"observe --at 14:02 first 5xx", Command{Verb: VerbObserve, Phase: timeline.PhaseObserve, At: when(t, "14:02"), Text: "first 5xx"}},
		{"note INC-4 --at=-1h30m paged db", Command{Verb: VerbNote, Incident: 4, At: when(t, "-1h30m"), Text: "paged db"}},
		{"orient --at -5m --cause pool", Command{Verb: VerbOrient, Phase: timeline.PhaseOrient, Cause: true, At: when(t, "-5m"), Text: "pool"}},
		{"orient --cause --at 2026-11-26T13:58Z pool", Command{Verb: VerbOrient, Phase: timeline.PhaseOrient, Cause: true, At: when(t, "2026-11-26T13:58Z"), Text: "pool"}},
		{"act --cause is text here", Command{Verb: VerbAct, Phase: timeline.PhaseAct, Text: "--cause is text here"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := ParseCommand(tt.text)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseCorrectionErrorsSayWhatToType(t *testing.T) {
	tests := []struct{ text, want string }{
		{"amend", "say which entry, by the number `/incident timeline` shows: `/incident amend #12 [--at TIME] <new text>`"},
		{"strike INC-7", "say which entry"},
		{"amend twelve x", "“twelve” is not an entry number; `/incident timeline` shows each entry's number, such as #12"},
		{"amend #0 x", "is not an entry number"},
		{"amend #12", "write the new text after the entry number: `/incident amend #12 <new text>`, or a new time: `/incident amend #12 --at 14:02`"},
		{"amend #7 #12 x", "name the incident as INC-7 and the entry as #12: `/incident amend INC-7 #12 …`"},
		{"amend INC-x #12 x", "is not an incident number; write it as INC-7"},
		{"amend #12 --at", "--at needs a time"},
		{"observe --at soon x", `"soon" is not a time; write a UTC time of day (` + "`--at 14:02`" + `)`},
		{"observe --at +5m x", "an entry is dated when it happened, which is not in the future"},
		{"act --at 5m x", "would be in the future; write a time before now with a minus sign: `--at -5m`"},
		{"note --at", "--at needs a time"},
		{"note --at -5m", "write what you saw, learned, decided or did"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := ParseCommand(tt.text)
			var ue *UsageError
			require.ErrorAs(t, err, &ue)
			require.Contains(t, ue.Msg, tt.want)
		})
	}
}

// Corrections change the record, so a read-only token may not make them.
func TestCorrectionsAreWrites(t *testing.T) {
	for _, text := range []string{"amend #3 v41", "strike #3", "observe --at -5m x"} {
		require.False(t, ReadsOnly(text), text)
	}
}

// correctionDesk is a dispatcher on a real store with INC-1 declared by
// alice (Commander) at 14:00, and bob's entries.
type correctionDesk struct {
	t *testing.T
	d *Dispatcher
	n int
}

const (
	bob   = "U0BOB00001"
	carol = "U0CAROL001"
)

var deskT0 = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)

func newCorrectionDesk(t *testing.T) *correctionDesk {
	k := &correctionDesk{t: t, d: &Dispatcher{Store: storagetest.Open(t)}}
	k.ok(alice, 0, "declare sev2 Checkout down")
	return k
}

// do sends text as user, at minutes after 14:00.
func (k *correctionDesk) do(user string, minutes int, text string) Reply {
	k.n++
	return k.d.Handle(k.t.Context(), Request{Text: text, User: user, Source: timeline.SourceCommand,
		Key: fmt.Sprintf("req-%d", k.n), At: deskT0.Add(time.Duration(minutes) * time.Minute)})
}

func (k *correctionDesk) ok(user string, minutes int, text string) Reply {
	k.t.Helper()
	r := k.do(user, minutes, text)
	require.Equal(k.t, http.StatusOK, r.Code, "%s: %s", text, r.Text)
	return r
}

// entryNumber finds the number `/incident timeline` shows for the entry
// whose line holds text.
func (k *correctionDesk) entryNumber(text string) string {
	k.t.Helper()
	tl := k.ok(alice, 59, "timeline INC-1").Text
	m := regexp.MustCompile(`(?m)^    (#\d+) .*` + regexp.QuoteMeta(text)).FindStringSubmatch(tl)
	require.NotNil(k.t, m, "no numbered entry %q in\n%s", text, tl)
	return m[1]
}

func TestCorrectionsThroughTheDispatcher(t *testing.T) {
	k := newCorrectionDesk(t)
	k.ok(bob, 1, "act INC-1 rolled back to v42")
	k.ok(bob, 2, "observe INC-1 db-2 restarted")
	rollback, restart := k.entryNumber("rolled back to v42"), k.entryNumber("db-2 restarted")
	require.Equal(t, "#3", rollback, "entry numbers are the event's sequence: declared, Commander, then bob's")

	tests := []struct {
		name, user, text string
		code             int
		want             string
	}{
		{"someone else amends", carol, "amend INC-1 " + rollback + " v41", http.StatusConflict,
			"only the entry's author (<@U0BOB00001>) or the Commander can amend #3, and the Commander is <@U0ALICE0001>; ask one of them"},
		{"the author amends", bob, "amend INC-1 " + rollback + " rolled back to v41", http.StatusOK,
			"INC-1: #3 amended: it now reads “rolled back to v41” (was “rolled back to v42”). The record keeps the original, and the post-mortem's Corrections list the change."},
		{"the Commander moves it", alice, "amend INC-1 " + rollback + " --at 13:59", http.StatusOK,
			"INC-1: #3 amended: it is dated 13:59 UTC (was 14:01 UTC)."},
		{"the Commander strikes", alice, "strike INC-1 " + restart + " that was staging", http.StatusOK,
			"INC-1: #4 struck. The timeline and the post-mortem leave it out; the record keeps what it said (“db-2 restarted”)"},
		{"a struck entry is amended", bob, "amend INC-1 " + restart + " db-3", http.StatusConflict,
			"#4 was struck by <@U0ALICE0001> at 14:13 UTC, so it stays as it was; if what it said still holds, write it again: `/incident observe <text>`"},
		{"a bot event", alice, "amend INC-1 #1 x", http.StatusConflict, "#1 was recorded by Ooda (declared)"},
		{"an unknown entry", bob, "strike INC-1 #99", http.StatusBadRequest, "INC-1 has no entry #99; `/incident timeline` shows each entry's number"},
		{"a backdated entry", bob, "observe INC-1 --at 13:52 first 5xx on the dashboard", http.StatusOK,
			"INC-1: recorded (observe) as #8, dated 13:52 UTC (written 14:17 UTC)."},
		{"a bad --at", bob, "observe INC-1 --at 25:00 x", http.StatusBadRequest, `"25:00" is not a time`},
		{"a future --at", bob, "observe INC-1 --at 2026-11-26T15:00Z x", http.StatusBadRequest,
			"15:00 UTC is in the future (it is 14:19 UTC now)"},
		{"an --at long before the declaration", bob, "observe INC-1 --at 2026-11-25T09:00Z x", http.StatusBadRequest,
			"is more than 24 hours before INC-1 was declared"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := k.do(tt.user, 10+i, tt.text)
			require.Equal(t, tt.code, r.Code, r.Text)
			require.Contains(t, r.Text, tt.want)
		})
	}

	tl := k.ok(alice, 59, "timeline INC-1").Text
	require.Contains(t, tl, "*13:59* `T-00:01`\n    #3 _act_ <@U0BOB00001>: rolled back to v41 (amended)", "the corrected text at the corrected time")
	require.Contains(t, tl, "_observe_ <@U0BOB00001>: ~db-2 restarted~ — struck by <@U0ALICE0001>: that was staging", "a struck entry is shown struck")
	require.Contains(t, tl, "#8 _observe_ <@U0BOB00001>: first 5xx on the dashboard (written 14:17 UTC)")
	require.Contains(t, tl, "`/incident amend #12 <new text>`")
	require.NotContains(t, tl, "Amended #3", "the corrections themselves are not entries")

	// The same request again answers the same, and records nothing more.
	req := Request{Text: "amend INC-1 #8 the first 5xx on the dashboard", User: bob, Source: timeline.SourceCommand, Key: "amend-once", At: deskT0.Add(30 * time.Minute)}
	first := k.d.Handle(t.Context(), req)
	require.Equal(t, http.StatusOK, first.Code, first.Text)
	before, err := k.d.Store.Events(t.Context(), 1, 1)
	require.NoError(t, err)
	require.Equal(t, first, k.d.Handle(t.Context(), req))
	after, err := k.d.Store.Events(t.Context(), 1, 1)
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.Len(t, incident.Replay(after).Corrections, 5, "three amendments, a strike and a backdated entry")
}

func TestCorrectionsOfAClosedIncidentAreRefused(t *testing.T) {
	k := newCorrectionDesk(t)
	k.ok(bob, 1, "act INC-1 rolled back")
	k.ok(alice, 2, "resolve INC-1")
	k.ok(bob, 3, "amend INC-1 #3 rolled back to v41") // resolved: people still learn
	k.ok(alice, 4, "postmortem publish INC-1 https://wiki.example.com/pm/1")
	for _, text := range []string{"amend INC-1 #3 v40", "strike INC-1 #3", "observe INC-1 --at -5m late"} {
		r := k.do(alice, 5, text)
		require.Equal(t, http.StatusConflict, r.Code, text)
		require.Contains(t, r.Text, "INC-1 is closed", text)
	}
}

// A private incident's entries say nothing to someone who may not see it:
// the same answer as an incident that does not exist.
func TestCorrectionsOfAPrivateIncidentFollowTheAccessRule(t *testing.T) {
	k := newCorrectionDesk(t)
	k.ok(alice, 1, "declare --private Payroll leak")
	k.ok(alice, 2, "note INC-2 secret")
	missing := k.do(carol, 3, "amend INC-9 #3 x")
	for _, text := range []string{"amend INC-2 #3 x", "amend INC-2 #99 x", "strike INC-2 #3"} {
		r := k.do(carol, 3, text)
		require.Equal(t, http.StatusNotFound, r.Code, text)
		require.Equal(t, strings.ReplaceAll(missing.Text, "INC-9", "INC-2"), r.Text, text)
	}
}

// Help and the README list every verb people type.
func TestHelpAndReadmeListEveryVerb(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "## The commands people type")
	require.True(t, ok, "the README has its commands section")
	table, _, _ = strings.Cut(table, "\n## ")
	help := HelpText()
	for _, v := range verbs {
		require.Contains(t, help, "`/incident "+v.usage+"`", "help lists %s", v.verb)
		first := strings.Fields(string(v.verb))[0]
		require.Regexp(t, "/incident [^`]*\\b"+regexp.QuoteMeta(first)+"\\b", table, "the README's commands table lists %s", v.verb)
	}
}
