package command

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
)

// FuzzParseCommand checks the parser on anything a Slack user can type.
// Its seed corpus covers the whole grammar, misuses included, so plain
// `go test` runs it as a table; `go test -fuzz FuzzParseCommand ./bot`
// explores from there.
//
// Properties: it never panics; a refusal is a *UsageError with a sentence
// to show; a command it accepts is well-formed, loses none of the words
// typed, and reads back the same from its canonical spelling.
func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{
		"", "   ", "help", "help declare", "-h", "--help", "?", "HELP ROLE",
		"list", "ls", "list sev1", "list page 2", "ls page 3 sev4", "list sev9", "list page",
		"list page -1", "list page 2 page 3", "list everything",
		"declare", "declare Checkout is down", "declare sev1 Checkout is down",
		"declare SEV-2 --private Payments API timing out", "declare --private sev4 Small thing",
		"declare --service checkout sev2 Checkout is down", "declare --service=checkout Checkout down",
		"declare sev2", "declare --private", "declare --service", "declare --service=", "declare --verbose x",
		"declare sev9 x", "declare sev1 sev2 double severity in the title",
		"new Checkout down", "open   spaced\ttitle\nwith lines",
		"role commander <@U123ABC|alice>", "role ops <@U123ABC>", "role comms @W0ALICE", "role ic U0BOB",
		"role INC-7 comms <@U0CAROL|carol>", "assign ops <@U1X>", "role pilot <@U1X>", "role ops alice",
		"role ops", "role", "role #7 ops <@U1X>", "role INC-x ops <@U1X>", "role ops @alice", "role comms @Alice.Chen",
		"declare --commander @alice sev2 Checkout down", "declare --commander=<@U0BOB|bob> x", "declare --commander", "declare --commander bob x",
		"roles", "roles INC-7", "roles extra", "timeline", "timeline #12", "reopen", "reopen INC-3", "reopen now",
		"status identified", "status INC-7 monitoring", "status resolved", "status closed", "status triage",
		"status", "status nope", "status INC-7",
		"sev 1", "sev INC-7 4", "severity sev2", "sev 0", "sev 5", "sev high", "sev",
		"impact EU customers cannot pay", "impact", "impact INC-7 checkout 5xx",
		"update Mitigated; monitoring", "update", "update INC-2 all good",
		"resolve", "resolve rolled back 4512", "resolve INC-9", "resolve INC-9 fixed",
		"observe p99 is 4s", "orient --cause bad deploy 4512", "orient --cause", "orient cache cold",
		"decide roll back", "act rolled back", "note hello", "note", "observe INC-4 errors up",
		"note INC-4", "orient INC-4 --cause config push",
		"observe --at 14:02 first 5xx", "act --at=-5m rolled back", "orient --at -1h --cause pool", "orient --cause --at 13:58 pool",
		"note --at", "note --at soon x", "observe --at +5m x", "decide INC-4 --at 2026-11-26T14:02Z roll back",
		"amend #12 rolled back to v41", "amend INC-7 #12 v41", "amend 12 --at 14:02", "amend #12 --at=-5m v41", "amend #12",
		"amend", "amend twelve x", "amend #0 x", "amend #7 #12 x", "correct #3 typo", "strike #12", "strike #12 wrong incident",
		"strike INC-7 12 staging, not prod", "strike", "strike INC-7", "strike #x",
		"action add a canary <@U0BOB|bob> P1", "action add alerting P0 <@U0BOB>", "action fix it",
		"action <@U0BOB>", "action P2", "action", "action INC-3 write the runbook p3",
		"action add a canary due +14d P1", "action add a canary <@U0BOB> due 2026-12-20", "action fix it due none",
		"action fix it due 12/20", "action make it due soon", "action done 3", "action INC-3 done 2", "action done with the migration",
		"action done 3 twice", "action done 3 P9", "action wontdo 3 superseded by the queue rewrite", "action wontdo 3",
		"action reopen 2", "action owner 3 <@U0BOB|bob>", "action owner 3 bob", "action due 3 +7d", "action due 3 tomorrow",
		"action link 3 <https://tracker.example/OPS-1|OPS-1>", "action link 3 javascript:alert(1)", "action done 0", "action done -1",
		"actions", "actions mine", "actions overdue --service checkout", "actions all page 2", "actions --service=search mine",
		"actions all overdue", "actions everything", "actions page", "actions --service",
		"frobnicate", "DECLARE Upper Case Verb", "note \xff\xfe invalid utf8",
		"note <!channel> &lt;b&gt;", "declare <https://evil.example|bank> title",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCommand(text)
		if err != nil {
			var ue *UsageError
			require.True(t, errors.As(err, &ue), "%q: a refusal is a *UsageError, not %T", text, err)
			require.NotEmpty(t, ue.Msg, "%q: a refusal says what to type", text)
			return
		}
		checkCommand(t, text, c)
		require.Empty(t, unexplainedWords(text, c), "%q: every word typed is in the command %+v", text, c)
		again, err := ParseCommand(canonicalCommand(c))
		require.NoError(t, err, "%q: its canonical spelling %q parses", text, canonicalCommand(c))
		require.Equal(t, c, again, "%q reads back the same from %q", text, canonicalCommand(c))
	})
}

// checkCommand asserts what every accepted command satisfies.
func checkCommand(t *testing.T, text string, c Command) {
	t.Helper()
	require.True(t, knownVerb(c.Verb), "%q: verb %q is one of the grammar's", text, c.Verb)
	require.GreaterOrEqual(t, c.Severity, 0)
	require.LessOrEqual(t, c.Severity, 4)
	require.GreaterOrEqual(t, c.Page, 0)
	require.True(t, utf8.ValidString(c.Text) && utf8.ValidString(c.Title), "%q: text is valid UTF-8", text)
	switch c.Verb {
	case "declare":
		require.LessOrEqual(t, utf8.RuneCountInString(c.Title), incident.MaxTitle)
	case "role":
		_, err := roles.Parse(string(c.Role))
		require.NoError(t, err)
		u, ok := ParseUser("@" + c.User)
		require.True(t, (ok && u == c.User) || IsHandle(c.User), "%q: user %q is a Slack user id or a name to resolve", text, c.User)
	case "status":
		_, err := incident.ParseStatus(string(c.Status))
		require.NoError(t, err)
	case "sev":
		require.NotZero(t, c.Severity)
	case "impact", "update", "observe", "orient", "decide", "act", "note", "action":
		require.NotEmpty(t, c.Text, "%q: %s needs text", text, c.Verb)
	case "amend":
		require.NotZero(t, c.Entry)
		require.True(t, c.Text != "" || !c.At.IsZero(), "%q: amend changes the text or the time", text)
	case "strike":
		require.NotZero(t, c.Entry)
	}
}

// canonicalCommand spells a command the way help documents it.
func canonicalCommand(c Command) string {
	inc := ""
	if c.Incident != 0 {
		inc = " " + incident.ID(c.Incident)
	}
	with := func(s, text string) string {
		if text == "" {
			return s
		}
		return s + " " + text
	}
	switch {
	case c.Verb == "amend" || c.Verb == "strike":
		s := string(c.Verb) + inc + " #" + strconv.FormatUint(c.Entry, 10)
		if !c.At.IsZero() {
			s += " --at=" + c.At.Text
		}
		return with(s, c.Text)
	case !c.At.IsZero():
		s := string(c.Verb) + inc
		if c.Cause {
			s += " --cause"
		}
		return with(s+" --at="+c.At.Text, c.Text)
	}
	switch c.Verb {
	case "help":
		return with("help", c.Topic)
	case "slo":
		return with("slo", c.Service)
	case "list":
		s := "list"
		if c.Severity != 0 {
			s += " sev" + strconv.Itoa(c.Severity)
		}
		if c.Page != 0 {
			s += " page " + strconv.Itoa(c.Page)
		}
		return s
	case "declare":
		s := "declare"
		if c.Severity != 0 {
			s += " sev" + strconv.Itoa(c.Severity)
		}
		if c.Private {
			s += " --private"
		}
		if c.Service != "" {
			s += " --service=" + c.Service
		}
		if c.Commander != "" {
			s += " --commander=" + mention(c.Commander)
		}
		return with(s, c.Title)
	case "role":
		return "role" + inc + " " + string(c.Role) + " " + mention(c.User)
	case "status":
		return "status" + inc + " " + string(c.Status)
	case "sev":
		return "sev" + inc + " " + strconv.Itoa(c.Severity)
	case "orient":
		if c.Cause {
			return with("orient"+inc+" --cause", c.Text)
		}
	case "action":
		s := with("action"+inc, c.Text)
		if c.Owner != "" {
			s += " " + mention(c.Owner)
		}
		s = with(s, c.Priority)
		if c.Due != "" {
			s += " due " + c.Due
		}
		return s
	case "actions":
		s := "actions"
		for _, w := range []struct {
			on   bool
			word string
		}{{c.Mine, " mine"}, {c.Overdue, " overdue"}, {c.AllStates, " all"}} {
			if w.on {
				s += w.word
			}
		}
		if c.Service != "" {
			s += " --service=" + c.Service
		}
		if c.Page != 0 {
			s += " page " + strconv.Itoa(c.Page)
		}
		return s
	}
	return with(string(c.Verb)+inc, c.Text)
}

// mention spells a person as Slack escapes a member ID, or a name to
// resolve as typed.
func mention(user string) string {
	if IsHandle(user) {
		return user
	}
	return "<@" + user + ">"
}

// unexplainedWords returns the words of text that a command carrying free
// text neither keeps in its text nor reads as grammar: words the parser
// dropped.
func unexplainedWords(text string, c Command) []string {
	body := c.Text
	switch c.Verb {
	case "declare":
		body = c.Title
	case "impact", "update", "resolve", "observe", "orient", "decide", "act", "note", "action", "amend", "strike":
	default:
		return nil
	}
	words := strings.Fields(text)
	if c.Verb == "action" {
		trailing := 0
		if c.Owner != "" {
			trailing++
		}
		if c.Priority != "" {
			trailing++
		}
		if c.Due != "" {
			trailing += 2
		}
		words = words[:len(words)-trailing]
	}
	tail := strings.Fields(body)
	if len(tail) >= len(words) || !slices.Equal(words[len(words)-len(tail):], tail) {
		return words
	}
	var left []string
	grammar := words[1 : len(words)-len(tail)]
	for i := 0; i < len(grammar); i++ {
		w := grammar[i]
		switch {
		case i == 0 && c.Incident != 0 && (strings.HasPrefix(strings.ToUpper(w), "INC-") || strings.HasPrefix(w, "#")):
		case c.Verb == "orient" && c.Cause && w == "--cause":
		case !c.At.IsZero() && (w == "--at" || w == c.At.Text || w == "--at="+c.At.Text):
		case c.Entry != 0 && (w == "#"+strconv.FormatUint(c.Entry, 10) || w == strconv.FormatUint(c.Entry, 10)):
		case c.Verb == "declare" && (strings.HasPrefix(strings.ToLower(w), "sev") || w == "--private" || strings.HasPrefix(w, "--service") || strings.HasPrefix(w, "--commander")):
			if w == "--service" || w == "--commander" {
				i++
			}
		default:
			left = append(left, w)
		}
	}
	return left
}
