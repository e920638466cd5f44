package command

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/people"
)

// People finds the person a command names by a handle or display name
// (@alice). It answers from memory: resolving a name never waits on Slack
// or the store, so it costs a command's acknowledgement nothing.
// *directory.Directory is one.
type People interface {
	Find(name string) people.Match
	// Len is how many people it knows; 0 means it cannot tell a name
	// from a typo, and people are asked for member IDs instead.
	Len() int
}

// maxHandle bounds a typed name: Slack's display names are at most 80
// characters.
const maxHandle = 80

// parsePerson reads a word that names a person: a member ID, as Slack
// escapes a mention (<@U123|alice>) or as people type it (@U123), is
// returned as the ID; a handle or display name (@alice) is returned as
// typed, with its @, for the dispatcher to resolve through the directory
// (see IsHandle). ok is false for a word that names nobody.
func parsePerson(word string) (string, bool) {
	if id, ok := ParseUser(word); ok {
		return id, true
	}
	name, ok := strings.CutPrefix(word, "@")
	if !ok || name == "" || utf8.RuneCountInString(name) > maxHandle || !utf8.ValidString(name) {
		return "", false
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>|@", r) {
			return "", false
		}
	}
	return word, true
}

// IsHandle reports whether a person of a parsed Command (User, Owner,
// Commander) is a name still to be resolved (@alice) rather than a member
// ID. The dispatcher resolves every one before the command runs.
func IsHandle(s string) bool { return strings.HasPrefix(s, "@") }

// resolvePeople replaces every name cmd holds (@alice) by the member ID
// the directory finds for it. A name it cannot resolve to one person is
// answered with a reply that says who was meant, or how to name them. A
// command that names nobody by name costs three prefix checks.
func (d *Dispatcher) resolvePeople(cmd *Command) (Reply, bool) {
	if !IsHandle(cmd.User) && !IsHandle(cmd.Owner) && !IsHandle(cmd.Commander) {
		return Reply{}, false
	}
	for _, value := range [...]*string{&cmd.User, &cmd.Owner, &cmd.Commander} {
		if !IsHandle(*value) {
			continue
		}
		// A command naming a person there by member ID.
		var example string
		switch value {
		case &cmd.User:
			example = "`role " + cmp.Or(string(cmd.Role), "commander") + " @U0123ABCD`"
		case &cmd.Owner:
			example = "`action roll back the config @U0123ABCD P1`"
		default:
			example = "`declare sev2 --commander @U0123ABCD Checkout is down`"
		}
		id, msg := resolveName(d.People, *value, example)
		if msg != "" && value == &cmd.Owner && cmd.Item.Op != "" {
			// `action <op> <n> … @name`: whether the words change item n
			// or add an item is up to the incident (decideAction), so the
			// refusal waits for the reading that needs the name.
			refusal := &UsageError{Msg: msg}
			if cmd.Item.NewErr == nil {
				cmd.Item.NewErr = refusal
			}
			if cmd.Item.Op == ItemOwner && cmd.Item.Err == nil {
				cmd.Item.Err = refusal
			}
			continue
		}
		if msg != "" {
			return Reply{Text: msg, Code: http.StatusBadRequest}, true
		}
		*value = id
	}
	return Reply{}, false
}

// resolveName finds the member ID of a typed name, or says why it cannot:
// without a directory, or an empty one, it asks for a member ID as the
// grammar always did; a name nobody has, or several people have, gets the
// candidates (at most people.MaxCandidates), escaped, with their IDs.
func resolveName(dir People, typed, example string) (id, refusal string) {
	if dir == nil || dir.Len() == 0 {
		return "", fmt.Sprintf("Ooda cannot look up %s: it knows nobody's names yet. Name the person by their Slack member ID: %s. %s",
			echo(typed), example, memberIDHint)
	}
	m := dir.Find(typed)
	if m.ID != "" {
		return m.ID, ""
	}
	if m.Ambiguous {
		return "", fmt.Sprintf("%s could be %d people: %s. Name one by their member ID: %s.",
			echo(typed), len(m.Candidates)+m.More, candidates(m), exampleWith(example, m.Candidates[0].ID))
	}
	if len(m.Candidates) > 0 {
		return "", fmt.Sprintf("Nobody in the workspace goes by %s. Did you mean %s? Name them by member ID: %s.",
			echo(typed), candidates(m), exampleWith(example, m.Candidates[0].ID))
	}
	return "", fmt.Sprintf("Nobody in the workspace goes by %s. Check the spelling, or name the person by their Slack member ID: %s. %s",
		echo(typed), example, memberIDHint)
}

// candidates lists the people of m: "Alice Chen (@alice) `@U0ALICE`, …".
func candidates(m people.Match) string {
	parts := make([]string, 0, len(m.Candidates)+1)
	for _, p := range m.Candidates {
		name := p.Display()
		if name == "" {
			name = p.ID
		}
		parts = append(parts, mrkdwn.Escape(name)+" `@"+p.ID+"`")
	}
	s := strings.Join(parts, ", ")
	if m.More > 0 {
		s += fmt.Sprintf(" and %d more", m.More)
	}
	return s
}

// exampleWith is example naming id instead of its placeholder.
func exampleWith(example, id string) string {
	return strings.Replace(example, "@U0123ABCD", "@"+id, 1)
}
