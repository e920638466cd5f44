package web

import (
	"html/template"
	"strconv"
	"strings"
)

// The timeline's minutes are written here rather than by html/template:
// a long incident has tens of thousands of entries, and the template
// engine's reflection made a 10,000-event page take 170 ms where this
// takes a fraction. The markup is the page's contract with live.js and
// the browser tests (see incident.html for the rest of the page); every
// piece of text goes through escape, which escapes what html/template
// escapes in text and in quoted attribute values.

// minutesHTML renders minutes as the items of <ol id="timeline">.
func minutesHTML(minutes []minuteData) template.HTML {
	var b strings.Builder
	n := 0
	for i := range minutes {
		n += 200 + 400*len(minutes[i].Entries)
	}
	b.Grow(n)
	for i := range minutes {
		writeMinute(&b, &minutes[i])
	}
	return template.HTML(b.String()) //nolint:gosec // every text is escaped as it is written
}

func writeMinute(b *strings.Builder, m *minuteData) {
	minute := strconv.FormatInt(m.Minute, 10)
	if m.Silence != "" {
		b.WriteString(`<li class="silence" data-minute="`)
		b.WriteString(minute)
		b.WriteString(`">· · · `)
		escape(b, m.Silence)
		b.WriteString(" without entries · · ·</li>\n")
	}
	b.WriteString(`<li class="minute" data-minute="`)
	b.WriteString(minute)
	b.WriteString(`"><h3 class="minute-head">`)
	writeTime(b, m.Clock)
	b.WriteString(` <span class="offset">`)
	escape(b, m.Offset)
	b.WriteString("</span></h3>\n<ol class=\"entries\">")
	for i := range m.Entries {
		writeEntry(b, &m.Entries[i])
	}
	b.WriteString("</ol></li>\n")
}

func writeEntry(b *strings.Builder, e *entryData) {
	b.WriteString(`<li class="entry phase-`)
	escape(b, e.Phase)
	if e.Struck {
		b.WriteString(" struck")
	}
	if e.Cause {
		b.WriteString(" cause")
	}
	b.WriteString(`" data-seq="`)
	b.WriteString(strconv.FormatUint(e.Seq, 10))
	b.WriteString(`">`)
	if e.Number != "" {
		b.WriteString(`<span class="num">`)
		escape(b, e.Number)
		b.WriteString(`</span> `)
	} else {
		// Holds the column, so phases line up whether or not an entry can
		// be corrected.
		b.WriteString(`<span class="nonum" aria-hidden="true"></span> `)
	}
	b.WriteString(`<span class="phase">`)
	if e.Phase != "none" {
		escape(b, e.Phase)
	}
	b.WriteString(`</span> <span class="actor">`)
	escape(b, e.Actor)
	b.WriteString(`</span>`)
	if e.Struck {
		b.WriteString(` <del class="text">`)
		escape(b, e.Text)
		b.WriteString(`</del> <span class="mark struck-mark">struck`)
		if e.StruckBy != "" {
			b.WriteString(" by ")
			escape(b, e.StruckBy)
		}
		if e.Reason != "" {
			b.WriteString(": ")
			escape(b, e.Reason)
		}
		b.WriteString(`</span>`)
	} else {
		b.WriteString(` <span class="text">`)
		escape(b, e.Text)
		b.WriteString(`</span>`)
	}
	if e.Written != "" {
		b.WriteString(` <span class="mark written">written `)
		escape(b, e.Written)
		b.WriteString(`</span>`)
	}
	if e.Amended {
		b.WriteString(` <span class="mark amended">amended</span>`)
		writeVersions(b, e.Earlier, true)
	}
	if e.Edited.Text != "" {
		b.WriteString(` <span class="mark edited">edited `)
		writeTime(b, e.Edited)
		b.WriteString(`</span>`)
		writeVersions(b, e.Edits, false)
	}
	if e.Deleted.Text != "" {
		b.WriteString(` <span class="mark deleted">deleted `)
		writeTime(b, e.Deleted)
		b.WriteString(`</span>`)
	}
	b.WriteString("</li>\n")
}

// writeVersions writes an entry's or a message's earlier texts in a
// <details>, closed until someone opens it.
func writeVersions(b *strings.Builder, vs []versionData, amended bool) {
	if len(vs) == 0 {
		return
	}
	b.WriteString(`<details class="earlier"><summary>Earlier text</summary><ol>`)
	for _, v := range vs {
		b.WriteString(`<li>`)
		escape(b, v.Text)
		b.WriteString(` <span class="until">(until `)
		writeTime(b, v.Until)
		if amended && v.By != "" {
			b.WriteString(", amended by ")
			escape(b, v.By)
		}
		b.WriteString(`)</span></li>`)
	}
	b.WriteString(`</ol></details>`)
}

func writeTime(b *strings.Builder, m moment) {
	b.WriteString(`<time datetime="`)
	escape(b, m.ISO)
	b.WriteString(`">`)
	escape(b, m.Text)
	b.WriteString(`</time>`)
}

// escape writes s with the characters that mean something in HTML text
// or in a quoted attribute value replaced, as html/template and
// template.HTMLEscapeString replace them; a NUL becomes U+FFFD. Runs of
// safe text are written whole.
func escape(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&#34;"
		case '\'':
			rep = "&#39;"
		case 0:
			rep = "\uFFFD"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		last = i + 1
	}
	b.WriteString(s[last:])
}
