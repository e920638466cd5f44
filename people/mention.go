package people

import "regexp"

// memberID is the form of a Slack member ID: users are U…, Enterprise
// Grid users W….
const memberID = `[UW][A-Z0-9]{2,}`

var (
	memberIDRE = regexp.MustCompile(`^` + memberID + `$`)
	// mentionRE is a mention in Slack's markup, anywhere in a text.
	mentionRE = regexp.MustCompile(`<@(` + memberID + `)(?:\|[^>]*)?>`)
	// wordRE is one word naming a member by ID: as slash commands escape
	// a mention, or as people type it into the API and CLI.
	wordRE = regexp.MustCompile(`^(?:<@(` + memberID + `)(?:\|[^>]*)?>|@(` + memberID + `))$`)
)

// IsMemberID reports whether s is a Slack member ID (U0123ABCD).
func IsMemberID(s string) bool { return memberIDRE.MatchString(s) }

// Mentions returns the member IDs text mentions in Slack's markup
// (<@U0123ABCD> or <@U0123ABCD|alice>), in order, repeats included.
func Mentions(text string) []string {
	ms := mentionRE.FindAllStringSubmatch(text, -1)
	if len(ms) == 0 {
		return nil
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m[1]
	}
	return out
}

// ParseMention reads one word that names a member by ID: a mention as
// slash commands escape it (<@U0123ABCD|alice>, <@U0123ABCD>) or as people
// type it (@U0123ABCD). It returns the ID.
func ParseMention(word string) (string, bool) {
	m := wordRE.FindStringSubmatch(word)
	if m == nil {
		return "", false
	}
	if m[1] != "" {
		return m[1], true
	}
	return m[2], true
}
