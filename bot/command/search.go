package command

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/timeline"
)

// Searcher is what `/incident search` and `/incident similar` read: the
// index of past incidents. *search.Index is one.
type Searcher interface {
	Search(query string, may func(incident.Incident) bool, limit int) search.Results
	Similar(to incident.Incident, events []timeline.Event, may func(incident.Incident) bool, limit int) []search.Hit
	Ready() bool
	Progress() (read, total int)
}

var _ Searcher = (*search.Index)(nil)

// The bounds of a `/incident search` reply: searchShown hits, within the
// list's maxListText, each hit's two lines within an equal share of what
// the heading and the closing sentence leave.
const (
	searchShown   = 10
	maxSearchHit  = (maxListText-listFrame)/searchShown - 2
	maxSearchHead = maxSearchHit * 3 / 5
)

// unavailable is the reply when the index cannot answer yet (or at all).
func (d *Dispatcher) unavailable() (Reply, bool) {
	if d.Search == nil {
		return Reply{Code: http.StatusServiceUnavailable, Text: "Search is not available on this server."}, true
	}
	if !d.Search.Ready() {
		read, total := d.Search.Progress()
		return Reply{Code: http.StatusServiceUnavailable, Text: fmt.Sprintf(
			"Search is still reading the incidents (%d of %d); try again in a moment.", read, total)}, true
	}
	return Reply{}, false
}

// search answers `/incident search <words>`: the incidents holding every
// word that the caller may see, newest first. Incidents the caller may
// not see are neither listed nor counted.
func (d *Dispatcher) search(req Request, cmd Command) Reply {
	if reply, no := d.unavailable(); no {
		return reply
	}
	res := d.Search.Search(cmd.Text, req.admits, searchShown)
	return Reply{Text: SearchText(cmd.Text, res), Code: http.StatusOK}
}

// SearchText renders what a search found: a heading with the count, up to
// searchShown hits (their number, severity, status, day and title, then
// the line that matched, quoted, with its field), and how many more there
// are.
func SearchText(query string, res search.Results) string {
	if res.Total == 0 {
		return fmt.Sprintf("No incident you may see holds every word of %s. Fewer or other words find more.", echo(query))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s %s, newest first:", res.Total, mrkdwn.Plural(res.Total, "incident matches", "incidents match"), echo(query))
	for _, h := range res.Hits {
		head := "• " + hitHead(h, maxSearchHead)
		b.WriteString("\n" + head)
		if h.Line != "" {
			field := fmt.Sprintf(" (%s)", h.Field)
			room := max(maxSearchHit-utf8.RuneCountInString(head)-utf8.RuneCountInString(field)-3, minListTitle)
			fmt.Fprintf(&b, "\n> %s%s", mrkdwn.Clip(mrkdwn.Escape(oneLine(h.Line)), room), field)
		}
	}
	if more := res.Total - len(res.Hits); more > 0 {
		fmt.Fprintf(&b, "\n…and %d more; narrow the words.", more)
	}
	return b.String()
}

// hitHead is one hit's heading, within limit characters:
//
//	INC-7 · SEV2 · resolved · 2026-11-03 — Title
//
// the title giving way first.
func hitHead(h search.Hit, limit int) string {
	head := fmt.Sprintf("%s · SEV%d · %s · %s", h.ID, h.Severity, h.Status, h.DeclaredAt.UTC().Format("2006-01-02"))
	if h.Private {
		head += " · private"
	}
	head += " — "
	room := max(limit-utf8.RuneCountInString(head), minListTitle)
	return mrkdwn.Clip(head+mrkdwn.Clip(mrkdwn.Escape(h.Title), room), limit)
}

// oneLine joins a text's lines, so a quoted line stays one quote.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
