package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/slo"
)

// demoWidth is the width the demo's lines aim at; longer texts wrap.
const demoWidth = 118

// show prints what the people of the workspace saw: what each did and the
// replies only they saw, then the incident channel and the announcement
// channel as everyone in them saw them.
func (ws *demoWorkspace) show(w io.Writer, inc incident.Incident, events, requests int) error {
	ch, ok := ws.fake.Channel(ws.channel)
	if !ok {
		return fmt.Errorf("demo: the incident channel %s is gone", ws.channel)
	}
	calls, failed := ws.fake.Calls(), 0
	for _, c := range calls {
		if c.Err != "" || c.Status != http.StatusOK {
			failed++
		}
	}
	fmt.Fprintln(w, "Ooda demo: a SEV2 played through Slack in this process. Fake Slack and Prometheus APIs on loopback, a temporary")
	fmt.Fprintln(w, "database and the SLO monitor, handlers, dispatcher and executor of `ooda serve`; requests signed as Slack signs them;")
	fmt.Fprintln(w, "the hour simulated.")

	ws.mu.Lock()
	deeds := append(slices.Clone(ws.did), ws.followUps...)
	said := slices.Clone(ws.said)
	ticks := slices.Clone(ws.ticks)
	ws.mu.Unlock()

	// Observe: the signal that starts the loop.
	for _, rep := range ticks {
		for _, r := range rep.Results {
			period := "-"
			if len(r.Windows) > 0 {
				period = slo.FormatWindow(r.Windows[len(r.Windows)-1].Window)
			}
			fmt.Fprintf(w, "\nObserve: at %s the SLO monitor evaluates %s (%s, %s%% good over %s)\n",
				rep.At.UTC().Format("15:04:05"), r.SLO, filepath.Base(r.File), strconv.FormatFloat(r.Objective, 'f', -1, 64), period)
			fmt.Fprintf(w, "with %d instant queries to Prometheus, where %s: %s.\n", rep.Queries, ws.traffic.describe(r.Service, rep.At), r.Level)
		}
	}
	fmt.Fprintf(w, "\n%s, where Ooda posts SLO warnings:\n\n", ws.channelName(ws.sloChannel))
	for _, m := range ws.fake.Messages(ws.sloChannel) {
		ws.botLine(m).write(w)
	}

	fmt.Fprintf(w, "\nWhat people did in Slack, and the replies only they saw:\n\n")
	for _, e := range ws.fake.Ephemerals() {
		at, _ := tsTime(e.TS)
		deeds = append(deeds, demoDeed{at: at, who: demoName(e.User), what: "(a message from Ooda)", reply: e.Text})
	}
	slices.SortStableFunc(deeds, func(a, b demoDeed) int { return a.at.Compare(b.at) })
	for _, d := range deeds {
		ws.showDeed(w, d)
	}

	members := make([]string, len(ch.Members))
	for i, u := range ch.Members {
		members[i] = demoName(u)
	}
	fmt.Fprintf(w, "\n#%s, as everyone in it saw it (members: %s):\n\n", ch.Name, strings.Join(members, ", "))
	fmt.Fprintf(w, "  topic  %s\n", ws.readable(ch.Topic))
	var lines []demoLine
	for _, m := range ws.fake.Messages(ws.channel) {
		lines = append(lines, ws.botLine(m))
	}
	for _, s := range said {
		text := s.txt
		if s.pinnedBy != "" {
			text += "   [pinned by " + s.pinnedBy + "]"
		}
		lines = append(lines, demoLine{ts: s.ts, who: s.who, text: text})
	}
	slices.SortStableFunc(lines, func(a, b demoLine) int { return compareTS(a.ts, b.ts) })
	for _, l := range lines {
		l.write(w)
	}

	fmt.Fprintf(w, "\n%s, the announcement channel:\n\n", ws.channelName(ws.announce))
	for _, m := range ws.fake.Messages(ws.announce) {
		ws.botLine(m).write(w)
	}

	answered := "all answered"
	if failed > 0 {
		answered = fmt.Sprintf("%d refused", failed)
	}
	fmt.Fprintf(w, "\n%s %s after %d min: %d signed requests from Slack, %d events recorded, %d Slack API calls, %s.\n",
		inc.ID, inc.Status, int(inc.ResolvedAt.Sub(inc.DeclaredAt).Minutes()), requests, events, len(calls), answered)
	return nil
}

// showDeed prints what someone did, and the reply they alone saw beside
// it, or under it when both do not fit on a line.
func (ws *demoWorkspace) showDeed(w io.Writer, d demoDeed) {
	head := fmt.Sprintf("  %s  %-5s  ", d.at.UTC().Format("15:04"), d.who)
	what := d.what
	if d.where != "" {
		what = "in " + d.where + ": " + what
	}
	if d.reply == "" {
		fmt.Fprintln(w, head+mrkdwn.Clip(what, demoWidth-len(head)))
		return
	}
	reply := "→ " + ws.readable(d.reply)
	room := demoWidth - len(head) - utf8.RuneCountInString(reply) - 2
	if room >= 40 {
		fmt.Fprintf(w, "%s%s  %s\n", head, mrkdwn.Clip(what, room), reply)
		return
	}
	fmt.Fprintf(w, "%s%s\n", head, mrkdwn.Clip(what, demoWidth-len(head)))
	indent := strings.Repeat(" ", len(head))
	for i, line := range wrap(reply, demoWidth-len(head)) {
		if i > 0 {
			line = "  " + line
		}
		fmt.Fprintf(w, "%s%s\n", indent, line)
	}
}

// demoLine is one message in a channel, as a reader sees it.
type demoLine struct {
	ts, who, text string
	// notes are blocks shown under the text, line by line: the kickoff's
	// similar past incidents, which its fallback text leaves out.
	notes    []string
	controls []string // buttons and menus under the message
}

func (l demoLine) write(w io.Writer) {
	at := "     "
	if t, ok := tsTime(l.ts); ok {
		at = t.Format("15:04")
	}
	head := fmt.Sprintf("  %s  %-5s  ", at, l.who)
	indent := strings.Repeat(" ", len(head))
	for i, line := range wrap(l.text, demoWidth-len(head)) {
		if i > 0 {
			head = indent
		}
		fmt.Fprintf(w, "%s%s\n", head, line)
	}
	for _, note := range l.notes {
		for _, nl := range strings.Split(note, "\n") {
			lead := strings.Repeat(" ", len(nl)-len(strings.TrimLeft(nl, " ")))
			for _, line := range wrap(nl, demoWidth-len(indent)-len(lead)) {
				fmt.Fprintf(w, "%s%s%s\n", indent, lead, line)
			}
		}
	}
	if len(l.controls) > 0 {
		fmt.Fprintf(w, "%s%s\n", indent, strings.Join(l.controls, "  "))
	}
}

// wrap breaks s into lines of at most n characters at spaces; a word
// longer than a line stays whole.
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= n:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}

// botLine renders a message Ooda posted: its text, as notifications and
// screen readers show it, and the controls its blocks offer.
func (ws *demoWorkspace) botLine(m slacktest.Message) demoLine {
	l := demoLine{ts: m.TS, who: demoName(m.User), text: ws.readable(m.Text)}
	for _, id := range m.Files {
		for _, f := range ws.fake.Files() {
			if f.ID == id {
				l.controls = append(l.controls, fmt.Sprintf("[file %s, %d bytes]", f.Name, len(f.Content)))
			}
		}
	}
	var blocks []map[string]any
	if json.Unmarshal(m.Blocks, &blocks) != nil {
		return l
	}
	for _, b := range blocks {
		if text := sectionText(b); strings.HasPrefix(text, "*Similar past incidents*") {
			l.notes = append(l.notes, ws.readable(text))
		}
		for _, el := range blockElements(b) {
			l.controls = append(l.controls, controlLabel(el))
		}
	}
	return l
}

// sectionText is the mrkdwn text of a section block, "" for another.
func sectionText(b map[string]any) string {
	if b["type"] != "section" {
		return ""
	}
	t, _ := b["text"].(map[string]any)
	s, _ := t["text"].(string)
	return s
}

// controlLabel shows a button as [label] and a menu as [choice ▾]; an "I'll
// take it" button names the role it offers.
func controlLabel(el map[string]any) string {
	text := func(o any) string {
		m, _ := o.(map[string]any)
		s, _ := m["text"].(string)
		return s
	}
	switch el["type"] {
	case "button":
		label := text(el["text"])
		if v, _ := el["value"].(string); el["action_id"] == blockkit.ActionTakeRole {
			_, role, _ := strings.Cut(v, ":")
			label += ": " + roles.Role(role).Title()
		}
		return "[" + label + "]"
	case "static_select":
		choice := text(el["placeholder"])
		if o, ok := el["initial_option"].(map[string]any); ok {
			choice = text(o["text"])
		}
		return "[" + choice + " ▾]"
	}
	return "[" + fmt.Sprint(el["type"]) + "]"
}

// Slack mrkdwn, for readable.
var (
	mrkdwnRef    = regexp.MustCompile(`<([^<>]*)>`)
	mrkdwnBold   = regexp.MustCompile(`\*([^*\n]+)\*`)
	mrkdwnItalic = regexp.MustCompile(`(^|[\s(])_([^_\n]+)_`)
	mrkdwnEmoji  = regexp.MustCompile(`:[a-z][a-z0-9_+-]*: ?`)
)

// mrkdwnEntities undoes Slack's escaping once every markup is read.
var mrkdwnEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// readable renders Slack mrkdwn as plain text the way a reader takes it
// in: mentions as @name and #channel, links as their text, bold, italics
// and emoji codes dropped, entities unescaped.
func (ws *demoWorkspace) readable(s string) string {
	s = mrkdwnRef.ReplaceAllStringFunc(s, func(ref string) string {
		inner := ref[1 : len(ref)-1]
		target, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			return "@" + demoName(target[1:])
		case strings.HasPrefix(target, "#"):
			if name := ws.channelName(target[1:]); strings.HasPrefix(name, "#") || !hasLabel {
				return "#" + strings.TrimPrefix(name, "#")
			}
			return "#" + label
		case strings.HasPrefix(target, "!"):
			return "@" + strings.TrimPrefix(target, "!")
		case hasLabel:
			return label + " (" + target + ")"
		}
		return target
	})
	s = mrkdwnBold.ReplaceAllString(s, "$1")
	s = mrkdwnItalic.ReplaceAllString(s, "$1$2")
	s = mrkdwnEmoji.ReplaceAllString(s, "")
	return mrkdwnEntities.Replace(s)
}

// tsTime reads a Slack message ts as a time.
func tsTime(ts string) (time.Time, bool) {
	secs, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000).UTC(), true
}

// compareTS orders Slack timestamps as Slack does: by time.
func compareTS(a, b string) int {
	ta, _ := tsTime(a)
	tb, _ := tsTime(b)
	return ta.Compare(tb)
}
