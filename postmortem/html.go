package postmortem

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/ooda-sre/ooda/timeline"
)

// ContentSecurityPolicy is the policy the HTML draft is served with and
// carries in a meta tag, so a saved or mailed copy keeps it: the draft has
// no script, frame, form or remote asset, only inline styles, so even a
// bug in escaping could not make it run or load anything. A server adds
// "frame-ancestors 'none'" in its header; it is left out here because
// browsers ignore that directive in a meta tag.
const ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'"

// HTML renders the draft as one standalone HTML file: the styles are
// inline and nothing is loaded from elsewhere, so it can be attached,
// mailed or opened offline. html/template escapes all user text.
func (d Doc) HTML() []byte {
	var b bytes.Buffer
	b.Grow(8192 + d.Events*160)
	// The template is a constant and the data is our own: an error here is
	// a bug, and tests render every shape of document.
	if err := htmlTemplate().Execute(&b, &d); err != nil {
		panic("postmortem: html template: " + err.Error())
	}
	return b.Bytes()
}

// htmlTemplate parses the template. Parsing per render keeps the package
// free of mutable state; it costs tens of microseconds.
func htmlTemplate() *template.Template {
	return template.Must(template.New("postmortem").Funcs(template.FuncMap{
		"t":              timeline.Clean,
		"title":          docTitle,
		"prompt":         promptHTML,
		"when":           timeOrEmpty,
		"phase":          phaseLabel,
		"severity":       severityLabel,
		"channel":        channelLabel,
		"budget":         budgetLabel,
		"impactDuration": impactDuration,
		"credit":         entryCredit,
		"where":          findingWhere,
		"priority":       priorityLabel,
		"due":            dueLabel,
		"state":          stateLabel,
		"link":           autolinkable,
		"sameLink":       func(it ActionItem) bool { return it.Ticket != nil && it.Ticket.URL == it.Link },
		"reviewIntro":    reviewIntro,
		"unresolvedNote": unresolvedNote,
		"timelineIntro":  timelineIntro,
		"sections":       Sections,
		"reviewClean":    func() string { return reviewClean },
		"reviewAgain":    func() template.HTML { return promptHTML(reviewAgain) },
		"sec":            sectionTitle,
	}).Parse(htmlSource + correctionsHTML))
}

// sectionTitle returns the i-th section heading, so the HTML and the
// Markdown cannot disagree on them.
func sectionTitle(i int) string { return Sections()[i] }

// promptHTML renders Ooda's own guidance, escaped, with `…` as code.
func promptHTML(s string) template.HTML {
	var b strings.Builder
	for i, part := range strings.Split(s, "`") {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(part) + "</code>")
			continue
		}
		b.WriteString(template.HTMLEscapeString(part))
	}
	return template.HTML(b.String()) //nolint:gosec // every part is escaped above
}

const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="` + ContentSecurityPolicy + `">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Ooda">
<title>{{t (title .)}}</title>
<style>
body{font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;background:#fff;margin:0}
main{max-width:70rem;margin:0 auto;padding:2rem 1.5rem 4rem}
h1{font-size:1.8rem;margin:0 0 .5rem}
h2{font-size:1.35rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2.2rem}
h3{font-size:1.1rem;margin-top:1.5rem}
.prompt,.intro{color:#59636e;font-style:italic}
.private{border-left:4px solid #bf8700;background:#fff8c5;padding:.5rem 1rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.clock,td.offset{white-space:nowrap;font-variant-numeric:tabular-nums}
tr.silence td{color:#59636e;font-style:italic;background:#f6f8fa;text-align:center}
.phase{font-weight:600}
.phase-observe{color:#0969da}.phase-orient{color:#9a6700}.phase-decide{color:#8250df}.phase-act{color:#1a7f37}
.credit{color:#59636e}
section.review{margin-top:3rem;border:1px dashed #bf8700;padding:0 1rem 1rem;background:#fffdf0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;background:#eff1f3;padding:.1em .3em;border-radius:4px}
</style>
</head>
<body>
<main>
<h1>{{t (title .)}}</h1>
<p class="intro">Draft written by Ooda from the incident’s timeline{{if not .GeneratedAt.IsZero}} on {{when .GeneratedAt}}{{end}}. Check the facts, replace the prompts in italics, and keep it blameless: describe what the system and the process allowed, not who did what.</p>
{{if .Private}}<p class="private"><strong>Private incident.</strong> Share this draft only with people who may see the incident channel.</p>
{{end}}
{{- with .Summary}}
<section id="summary">
<h2>{{sec 0}}</h2>
<dl class="facts">
<dt>What</dt><dd class="text">{{t .Title}}</dd>
{{if .Description}}<dt>Declared with</dt><dd class="text">{{t .Description}}</dd>
{{end -}}
<dt>Resolution</dt><dd class="text">{{if .Resolution}}{{t .Resolution}}{{else}}<span class="prompt">{{.Prompt}}</span>{{end}}</dd>
<dt>Start</dt><dd>{{with when .Start}}{{.}}{{else}}<span class="prompt">unknown</span>{{end}}</dd>
<dt>End</dt><dd>{{with when .End}}{{.}}{{else}}<span class="prompt">not resolved yet</span>{{end}}</dd>
<dt>Duration</dt><dd>{{.Duration}}</dd>
<dt>Service</dt><dd>{{with .Service}}{{t .}}{{else}}<span class="prompt">not recorded</span>{{end}}</dd>
<dt>Channel</dt><dd>{{with channel .}}{{t .}}{{else}}<span class="prompt">not created</span>{{end}}</dd>
<dt>Severity</dt><dd>{{with severity .}}{{.}}{{else}}<span class="prompt">unknown</span>{{end}}</dd>
<dt>Status</dt><dd>{{t .Status}}</dd>
<dt>People involved</dt><dd>{{.People}}</dd>
</dl>
</section>
{{- end}}
{{with .Impact}}
<section id="impact">
<h2>{{sec 1}}</h2>
<dl class="facts">
<dt>Customer-impacting</dt><dd>{{if .CustomerImpacting}}yes{{else}}no{{end}}</dd>
{{if .CustomerImpacting}}<dt>Impact</dt><dd class="text">{{with .Text}}{{t .}}{{else}}<span class="prompt">not described</span>{{end}}</dd>
{{end -}}
<dt>Duration of impact</dt><dd>{{impactDuration .}}</dd>
<dt>Error budget spent</dt><dd>{{budget .Budget}}</dd>
</dl>
{{- with .Chart}}
<figure class="chart">{{.}}</figure>
{{- end}}
<p class="prompt">{{prompt .Prompt}}</p>
</section>
{{- end}}
<section id="root-cause">
<h2>{{sec 2}}</h2>
{{- $days := .Timeline.SpansDays}}
{{- with .RootCause}}
{{if .Confirmed}}<p>Marked as the root cause during the incident:</p>
{{else if .Entries}}<p>Candidate causes, from the orient entries:</p>
{{end -}}
{{if .Entries}}<ul>
{{range .Entries}}<li><span class="text">{{t .Text}}</span> <span class="credit">— {{credit . $days}}</span></li>
{{end}}</ul>
{{end -}}
<p class="prompt">{{prompt .Prompt}}</p>
{{- end}}
</section>
<section id="trigger">
<h2>{{sec 3}}</h2>
{{- with .Trigger}}
{{with .Entry}}<ul>
<li><span class="text">{{t .Text}}</span> <span class="credit">— {{credit . $days}}</span></li>
</ul>
{{end -}}
<p class="prompt">{{prompt .Prompt}}</p>
{{- end}}
</section>
<section id="timeline">
<h2>{{sec 4}}</h2>
{{- with .Timeline}}
{{if .Minutes}}<p class="intro">{{timelineIntro .}}</p>
<table>
<thead><tr><th>Time (UTC)</th><th>T+</th><th>Phase</th><th>Role</th><th>Entry</th></tr></thead>
<tbody>
{{range .Minutes}}{{if .SilenceBefore.Known}}<tr class="silence"><td colspan="5">⋯ {{.SilenceBefore}} without entries ⋯</td></tr>
{{end}}{{$m := .}}{{range $i, $e := .Entries}}<tr>{{if eq $i 0}}<td class="clock">{{$m.Clock}}</td><td class="offset">{{$m.Offset}}</td>{{else}}<td></td><td></td>{{end}}<td class="phase{{with .Phase}} phase-{{.}}{{end}}">{{phase .Phase}}</td><td>{{.Role}}</td><td class="text">{{t .Text}}</td></tr>
{{end}}{{end}}</tbody>
</table>
{{else}}<p class="prompt">The timeline is empty.</p>
{{end -}}
{{- end}}
</section>
<section id="lessons-learned">
<h2>{{sec 5}}</h2>
{{- with .Lessons}}
{{range .Prompts}}<h3>{{.Heading}}</h3>
<p class="prompt">{{prompt .Text}}</p>
{{end -}}
<h3>Key times</h3>
<table>
<thead><tr><th>Measure</th><th>From</th><th>To</th><th>Time</th><th>Note</th></tr></thead>
<tbody>
{{range .KeyTimes}}<tr><td>{{.Name}}</td><td>{{.From}}</td><td>{{.To}}</td><td>{{.Elapsed}}</td><td>{{t .Note}}</td></tr>
{{end}}</tbody>
</table>
{{- end}}
</section>
<section id="action-items">
<h2>{{sec 6}}</h2>
{{- with .Actions}}
{{if .Items}}<table>
<thead><tr><th>Done</th><th>#</th><th>Action</th><th>Owner</th><th>Priority</th><th>Due</th><th>Status</th><th>Ticket</th></tr></thead>
<tbody>
{{range .Items}}<tr><td><input type="checkbox" disabled{{if .Done}} checked{{end}}></td><td>{{.ID}}</td><td class="text">{{t .Text}}</td><td>{{with .Owner}}{{t .}}{{else}}<span class="prompt">unassigned</span>{{end}}</td><td>{{priority .}}</td><td>{{due .}}</td><td>{{t (state .)}}</td><td>{{with .Ticket}}{{if .Name}}{{if link .URL}}<a href="{{.URL}}" rel="noreferrer">{{t .Name}}</a>{{else}}{{t .Name}}{{end}} {{end}}{{t .Label}}{{end}}{{if .Link}}{{if not (sameLink .)}}{{with .Ticket}}; {{end}}<a href="{{.Link}}" rel="noreferrer">{{t .Link}}</a>{{end}}{{end}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p class="prompt">{{prompt .Prompt}}</p>
{{end -}}
{{- end}}
</section>
{{- template "corrections" .}}
<section class="review" id="review-note">
<h2>Review note</h2>
<p class="prompt">For the authors; delete this note before publishing.</p>
{{- with .Review.Findings}}
<p>{{reviewIntro (len .)}}</p>
<table>
<thead><tr><th>Where</th><th>Phrase</th><th>Text</th><th>Suggestion</th></tr></thead>
<tbody>
{{range .}}<tr><td>{{t (where .)}}</td><td><strong>{{t .Phrase}}</strong></td><td class="text">{{t .Text}}</td><td>{{.Suggestion}}</td></tr>
{{end}}</tbody>
</table>
{{- else}}
<p>{{reviewClean}}</p>
{{- end}}
{{- with .Review.UnresolvedNames}}
<p>{{unresolvedNote .}}</p>
{{- end}}
<p>{{reviewAgain}}</p>
</section>
</main>
</body>
</html>
`
