package postmortem_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/timeline"
)

func TestLintBlamingLanguage(t *testing.T) {
	tests := []struct {
		text string
		want []string // the phrases flagged, in order; nil means clean
	}{
		// Words that judge a person are flagged wherever they stand.
		{"This was human error.", []string{"human error"}},
		{"Root cause: HUMAN ERROR during the failover", []string{"HUMAN ERROR"}},
		{"Classic operator error on the load balancer.", []string{"operator error"}},
		{"Closed as user error.", []string{"user error"}},
		{"It was Bob's fault the deploy broke.", []string{"Bob's fault"}},
		{"It was <@U0BOB>'s fault.", []string{"<@U0BOB>'s fault"}},
		{"Honestly it was my fault.", []string{"my fault"}},
		{"The outage was the fault of the on-call engineer.", []string{"fault of"}},
		{"The reviewer was at fault.", []string{"at fault"}},
		{"A careless change to the pool size.", []string{"careless"}},
		{"The change was made carelessly.", []string{"carelessly"}},
		{"Negligent review let it through.", []string{"Negligent"}},
		{"That was negligence.", []string{"negligence"}},
		{"An incompetent rollout plan.", []string{"incompetent"}},
		{"Sloppy work on the migration.", []string{"Sloppy"}},
		{"A lazy fix that did not hold.", []string{"lazy"}},
		{"A stupid mistake in the config.", []string{"stupid"}},
		{"Who is to blame?", []string{"blame"}},
		{"They blamed the database team.", []string{"blamed"}},
		{"He didn't bother to check the dashboard.", []string{"didn't bother"}},
		{"They did not bother with the canary.", []string{"did not bother"}},
		{"We totally screwed up the migration.", []string{"screwed up"}},
		{"The rollout got messed up.", []string{"messed up"}},
		{"Ops dropped the ball on the handover.", []string{"dropped the ball"}},
		{"Someone fat-fingered the replica count.", []string{"fat-fingered"}},
		{"Botched deploy.", []string{"Botched"}},
		{"He forgot to drain the node.", []string{"forgot"}},
		{"The runbook step was forgotten about.", []string{"forgotten about"}},
		{"She neglected to page the DBA.", []string{"neglected to"}},
		{"Bob was not paying attention to the graphs.", []string{"not paying attention"}},
		// "should have": a person, or no subject at all.
		{"We should have rolled back sooner.", []string{"should have"}},
		{"Should have checked the dashboard first.", []string{"Should have"}},
		{"They should've known the default was 2.", []string{"should've"}},
		{"The on-call should have escalated.", []string{"should have"}},
		{"Alice should not have deployed on Friday.", []string{"should not have"}},
		{"We ought to have paged the DBA.", []string{"ought to have"}},
		// "failed to": only when a person is the subject.
		{"The engineer failed to follow the runbook.", []string{"failed to"}},
		{"<@U0BOB> failed to page the DBA.", []string{"failed to"}},
		{"@carol failed to notice the alert.", []string{"failed to"}},
		{"Alice failed to restart the service.", []string{"failed to"}},
		{"The deploy went out and Bob failed to watch it.", []string{"failed to"}},
		{"We failed to notice the saturation.", []string{"failed to"}},
		{"I also failed to check.", []string{"failed to"}},
		{"They had failed to update the runbook.", []string{"failed to"}},
		{"The team keeps failing to write runbooks.", []string{"failing to"}},
		{"The IC failed to assign Comms.", []string{"failed to"}},
		{"The SRE who failed to escalate.", []string{"failed to"}},
		{"Devs fail to test on staging.", []string{"fail to"}},
		// Several on one line, in the order they appear.
		{"Human error: he failed to check, and should have known.", []string{"Human error", "failed to", "should have"}},

		// Near misses: systems, negations, quoted code and links.
		{"The deploy failed to start.", nil},
		{"The health check failed to detect the bad pods.", nil},
		{"Failed to connect to db-primary: timeout after 5s", nil},
		{"- Failed to pull image registry.example/checkout:v2.31.0", nil},
		{"Deploy failed to roll out on two nodes.", nil},
		{"The Deploy failed to start.", nil},
		{"Kubernetes failed to schedule the pods.", nil},
		{"Customers failed to check out for 20 minutes.", nil},
		{"The job that failed to run was retried.", nil},
		{"It failed to start.", nil},
		{"DNS failed to resolve for 3 minutes.", nil},
		{"The alert should have fired at 23:04 but the threshold was 20%.", nil},
		{"It should have been caught by the canary.", nil},
		{"This is a blameless post-mortem.", nil},
		{"Nobody is to blame.", nil},
		{"We do not blame individuals.", nil},
		{"It was nobody's fault.", nil},
		{"It was no one's fault.", nil},
		{"Fault injection tests passed; fault tolerance held.", nil},
		{"A page fault in the kernel; the process segfaulted.", nil},
		{"The error budget is at 40%; error rate 5%.", nil},
		{"Lazy loading of the catalogue hid the latency.", nil},
		{"The cache is lazily initialised.", nil},
		{"See `human error` in the glossary.", nil},
		{"Run ``grep 'failed to'`` on the logs, where we failed to", []string{"failed to"}},
		{"https://wiki.example.com/careless-deploys/should-have-known", nil},
		{"Notes at <https://docs.example/blame> and www.example.com/forgot-to", nil},
		{"[the human error glossary](https://wiki.example/human-error-is-not-a-cause)", []string{"human error"}},
		{"The messages queue backed up.", nil},
		{"The failover worked.", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			var got []string
			for _, f := range postmortem.Lint(tt.text) {
				got = append(got, f.Phrase)
				require.Equal(t, 1, f.Line)
				require.Equal(t, strings.TrimSpace(tt.text), f.Text)
				require.NotEmpty(t, f.Suggestion)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLintLinesAndMarkdownBlocks(t *testing.T) {
	text := strings.Join([]string{
		"# Post-mortem",                       // 1
		"",                                    // 2
		"The deploy failed to start.",         // 3
		"We should have rolled back.",         // 4
		"```",                                 // 5
		"human error: failed to connect",      // 6 code block
		"```",                                 // 7
		"~~~~sh",                              // 8
		"# blame the logs",                    // 9 code block
		"~~~",                                 // 10 too short to close
		"careless",                            // 11 still code
		"~~~~",                                // 12
		"A careless change.\r",                // 13
		"<!-- ooda:review -->",                // 14
		"| Timeline | should have | blame |",  // 15 review note
		"<!-- /ooda:review -->",               // 16
		"Nobody forgot to, but he forgot to.", // 17
	}, "\n")
	var got []string
	for _, f := range postmortem.Lint(text) {
		got = append(got, strings.Join([]string{itoa(f.Line), f.Phrase}, ":"))
	}
	require.Equal(t, []string{"4:should have", "13:careless", "17:forgot", "17:forgot"}, got)

	fs := postmortem.Lint("first\n\n  Our team was careless.  \nlast")
	require.Len(t, fs, 1)
	require.Equal(t, postmortem.Finding{Line: 3, Phrase: "careless", Text: "Our team was careless.",
		Suggestion: fs[0].Suggestion}, fs[0])
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}

// TestLintSuggestionsAreBlameless: Ooda's own suggestions and prompts
// must pass the check they are part of.
func TestLintSuggestionsAreBlameless(t *testing.T) {
	seen := map[string]bool{}
	for _, text := range []string{
		"human error", "Bob's fault", "careless", "lazy", "blame", "we should have", "we failed to",
		"forgot", "neglected to", "didn't bother", "screwed up", "fat-finger",
	} {
		fs := postmortem.Lint(text)
		require.Len(t, fs, 1, text)
		seen[fs[0].Suggestion] = true
	}
	for s := range seen {
		require.Empty(t, postmortem.Lint(s), "suggestion %q", s)
	}
}

// TestDraftReviewsTheTextAsShown: findings quote entries as the draft
// shows them, mentions resolved, so linting the export finds the same.
func TestDraftReviewsTheTextAsShown(t *testing.T) {
	s := declare(t, 5, incident.Declaration{Title: "Careless deploy"}, incident.Meta{At: declaredAt, Actor: alice, Source: timeline.SourceCommand})
	s.commit(s.inc.AddEntry(timeline.PhaseOrient, "it was <@U0BOB>'s fault; <@U0CAROL> failed to page", false, s.by(mins(1), alice)))
	s.commit(s.inc.AddEntry(timeline.PhaseObserve, "the deploy failed to start", false, s.by(mins(2), alice)))
	doc := postmortem.Draft(s.inc, s.events, postmortem.Options{Names: names})

	var got []string
	for _, f := range doc.Review.Findings {
		got = append(got, f.Section+"|"+f.Where+"|"+f.Phrase+"|"+f.Text)
	}
	require.Equal(t, []string{
		"Summary|title|Careless|Careless deploy",
		"Timeline|23:11 (T+00:01)|@bob's fault|it was @bob's fault; @carol failed to page",
		"Timeline|23:11 (T+00:01)|failed to|it was @bob's fault; @carol failed to page",
	}, got)

	// The export repeats texts (the title in the heading, the summary and
	// the timeline; an orient entry as a candidate cause and in the
	// timeline), so lint reports them once per place; the phrases agree.
	exported := map[string]bool{}
	for _, f := range postmortem.Lint(string(doc.Markdown())) {
		exported[f.Phrase] = true
	}
	require.Equal(t, map[string]bool{"Careless": true, "@bob's fault": true, "failed to": true}, exported)
}
