package command

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/search"
)

// The bounds of a `/incident similar` reply: similarShown hits, each
// within maxSimilarHit characters, so the reply stays within maxListText
// whatever the titles and root causes. A post-mortem link longer than
// maxShownLink is not shown, since a cut link leads nowhere.
const (
	similarShown  = 3
	maxSimilarHit = (maxListText - listFrame) / similarShown
	maxShownLink  = 300
)

// similar answers `/incident similar`: the past incidents most like
// incident n that the caller may see.
func (d *Dispatcher) similar(ctx context.Context, req Request, n uint64) Reply {
	if reply, no := d.unavailable(); no {
		return reply
	}
	evs, err := d.Store.Events(ctx, n, 1)
	if err != nil {
		return d.Failed(ctx, n, err)
	}
	inc := incident.Replay(evs)
	if !req.admits(inc) {
		return d.Failed(ctx, n, incident.NotFound(n))
	}
	hits := d.Search.Similar(inc, evs, req.admits, similarShown)
	return Reply{Text: SimilarText(inc, hits), Incident: inc.ID, Code: http.StatusOK}
}

// SimilarText renders the past incidents like inc: for each, its heading,
// its root cause, its post-mortem link when published, and why it is
// listed.
func SimilarText(inc incident.Incident, hits []search.Hit) string {
	if len(hits) == 0 {
		return fmt.Sprintf("No past incident you may see is like %s: none of the same service, and none sharing enough words of the title, impact, trigger or root cause.", inc.ID)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Past incidents like %s, most alike first:", inc.ID)
	for _, h := range hits {
		b.WriteString("\n" + SimilarHit(h, maxSimilarHit))
	}
	return b.String()
}

// SimilarHit is one similar incident in at most limit characters: its
// heading, then its root cause, post-mortem link and why it is listed,
// one line each. The link is never cut; the root cause gives way first.
func SimilarHit(h search.Hit, limit int) string {
	head := "• " + hitHead(h, min(limit/3, maxSearchHead))
	var tail []string
	if h.PostmortemURL != "" {
		if link := mrkdwn.Escape(h.PostmortemURL); utf8.RuneCountInString(link) <= maxShownLink {
			tail = append(tail, "   Post-mortem: "+link)
		} else {
			tail = append(tail, "   Post-mortem: published (its link is too long to show here)")
		}
	}
	tail = append(tail, mrkdwn.Clip("   Why: "+SimilarWhy(h), limit/4))
	used := utf8.RuneCountInString(head)
	for _, t := range tail {
		used += 1 + utf8.RuneCountInString(t)
	}
	lines := []string{head}
	if h.RootCause != "" {
		room := max(limit-used-1, minListTitle+len("   Root cause: "))
		lines = append(lines, mrkdwn.Clip("   Root cause: "+mrkdwn.Escape(oneLine(h.RootCause)), room))
	}
	return mrkdwn.Clip(strings.Join(append(lines, tail...), "\n"), limit)
}

// SimilarWhy says why Similar listed h: the same service, the words it
// shares, or both.
func SimilarWhy(h search.Hit) string {
	var why []string
	if h.SameService {
		why = append(why, fmt.Sprintf("same service `%s`", mrkdwn.Escape(h.Service)))
	}
	if len(h.Shared) > 0 {
		why = append(why, "shared words: "+mrkdwn.Escape(strings.Join(h.Shared, ", ")))
	}
	if len(why) == 0 {
		return "alike"
	}
	return strings.Join(why, "; ")
}
