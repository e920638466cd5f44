package blockkit

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/search"
)

// The bounds of the kickoff's similar incidents: at most maxSimilar of
// them, each within an equal share of a section; a post-mortem link longer
// than maxSimilarLink is not shown, since a cut link leads nowhere.
const (
	maxSimilar     = 3
	similarHeading = "*Similar past incidents* — what happened last time:"
	maxSimilarHit  = (maxSectionText - len(similarHeading)) / maxSimilar
	maxSimilarLink = 400
)

// similarSection lists the past incidents most like this one: each with
// its number, severity, status, day and title, its root cause, its
// post-mortem link and why it is listed.
func similarSection(hits []search.Hit) slack.Block {
	var b strings.Builder
	b.WriteString(similarHeading)
	for _, h := range hits[:min(len(hits), maxSimilar)] {
		b.WriteString("\n" + similarHit(h, maxSimilarHit-1))
	}
	return mrkdwnSection(b.String())
}

// similarHit is one similar incident in at most limit characters; the
// link is never cut, the root cause gives way first.
func similarHit(h search.Hit, limit int) string {
	head := fmt.Sprintf("• *%s* · SEV%d · %s · %s — ", h.ID, h.Severity, h.Status, h.DeclaredAt.UTC().Format("2006-01-02"))
	head += mrkdwn.Clip(mrkdwn.Escape(h.Title), max(limit/4-utf8.RuneCountInString(head), 16))
	var tail []string
	if h.PostmortemURL != "" {
		if link := mrkdwn.Escape(h.PostmortemURL); utf8.RuneCountInString(link) <= maxSimilarLink {
			tail = append(tail, "   Post-mortem: "+link)
		} else {
			tail = append(tail, "   Post-mortem: published (its link is too long to show here)")
		}
	}
	tail = append(tail, mrkdwn.Clip("   Why: "+command.SimilarWhy(h), limit/5))
	used := utf8.RuneCountInString(head)
	for _, t := range tail {
		used += 1 + utf8.RuneCountInString(t)
	}
	lines := []string{head}
	if h.RootCause != "" {
		room := max(limit-used-1, 32)
		lines = append(lines, mrkdwn.Clip("   Root cause: "+mrkdwn.Escape(strings.Join(strings.Fields(h.RootCause), " ")), room))
	}
	return mrkdwn.Clip(strings.Join(append(lines, tail...), "\n"), limit)
}
