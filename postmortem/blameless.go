package postmortem

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Finding is a phrase the blameless check flags.
type Finding struct {
	// Line is the 1-based line of the text the phrase is on.
	Line int `json:"line"`
	// Phrase is the flagged words as they are written.
	Phrase string `json:"phrase"`
	// Text is the whole line, trimmed.
	Text string `json:"text"`
	// Suggestion says how to put it in terms of the process.
	Suggestion string `json:"suggestion"`
}

// The markers around the review note in a Markdown draft. Lint skips what
// lies between them: the note quotes the phrases it asks people to reword.
const (
	reviewBegin = "<!-- ooda:review -->"
	reviewEnd   = "<!-- /ooda:review -->"
)

// Lint finds language that puts the blame on people, case-insensitively,
// and suggests wording about the process instead. text is read as
// Markdown: fenced code blocks, code spans, URLs, link destinations and
// the review note of an Ooda draft are not checked, since they quote
// systems and commands rather than judge anyone.
//
// Where the line is drawn. Words that judge a person ("careless",
// "negligent", "lazy", "human error", "X's fault", "blame"…) are flagged
// wherever they stand, except "blame" and "fault" after a negation ("no
// blame", "nobody's fault") and "lazy" in "lazy loading" and its kin.
// Phrases that can describe a system as well as a person are flagged only
// when a person is their subject:
//
//   - "failed to" (fails, failing) is flagged after a pronoun (I, we, he,
//     she, they, you, someone, nobody, who…), a Slack mention (<@U123>,
//     @alice), a role word (engineer, operator, on-call, dev, team, SRE,
//     admin, responder, IC…), or a word that looks like a name: capitalised
//     and not the object of an article ("Alice failed to", but not "The
//     Deploy failed to"). "The deploy failed to start", "the health check
//     failed to detect" and a log line that begins "Failed to connect" are
//     about systems and are not flagged. A capitalised system name at the
//     start of a sentence is read as a person unless it is a common system
//     word (Kubernetes, Postgres, Deploy…); put other system names in `code`.
//   - "should have" (should've, ought to have) follows the same rule, but
//     also flags a sentence that starts with it ("Should have rolled back
//     sooner"), whose omitted subject is a person; "the alert should have
//     fired" is about a system and is not flagged.
//
// "forgot to", "neglected to", "didn't bother", "dropped the ball",
// "screwed up" and "messed up" only ever describe people and are always
// flagged.
func Lint(text string) []Finding {
	var out []Finding
	var fence string // the fence that opened the current code block
	inReview := false
	for n, rest := 1, text; ; n++ {
		line, next, more := strings.Cut(rest, "\n")
		line = strings.TrimSuffix(line, "\r")
		switch t := strings.TrimSpace(line); {
		case inReview:
			inReview = t != reviewEnd
		case t == reviewBegin:
			inReview = true
		case fence != "":
			if strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
				fence = ""
			}
		case strings.HasPrefix(t, "```"), strings.HasPrefix(t, "~~~"):
			fence = t[:3]
			for len(fence) < len(t) && t[len(fence)] == fence[0] {
				fence = t[:len(fence)+1]
			}
		case hasTriggerWord(line):
			out = lintLine(out, n, line)
		}
		if !more {
			break
		}
		rest = next
	}
	return out
}

// lintLine appends the findings on one line.
func lintLine(out []Finding, n int, line string) []Finding {
	masked := mask(line)
	type hit struct {
		start, end int
		r          *rule
	}
	var hits []hit
	for i := range rules {
		r := &rules[i]
		for _, m := range r.re.FindAllStringIndex(masked, -1) {
			if r.keep != nil && !r.keep(masked, m[0], m[1]) {
				continue
			}
			hits = append(hits, hit{m[0], m[1], r})
		}
	}
	// Rules run one after another; a reader wants the line's findings in
	// the order they appear, each phrase once.
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(a.start, b.start) })
	text := strings.TrimSpace(line)
	end := 0
	for _, h := range hits {
		if h.start < end {
			continue
		}
		end = h.end
		out = append(out, Finding{Line: n, Phrase: line[h.start:h.end], Text: text, Suggestion: h.r.suggestion})
	}
	return out
}

// rule is one family of blaming phrases.
type rule struct {
	re *regexp.Regexp
	// keep, when set, decides whether a match on the masked line counts.
	keep       func(line string, start, end int) bool
	suggestion string
}

// Suggestions, shared by the rules that mean the same thing.
const (
	suggestError     = "Name the conditions that made the slip possible and easy (a risky default, a missing check, an unclear runbook) rather than calling it a person's error."
	suggestFault     = "Describe what in the system or the process allowed this, not whose fault it was."
	suggestCharacter = "Describe the action and the context it was taken in; a judgement of a person hides what the process can fix."
	suggestBlame     = "A post-mortem looks for contributing factors, not culprits: describe what happened and why it made sense at the time."
	suggestHindsight = "Hindsight: say what was known at the time, and what would make the right call easier next time (an alert, a check, a runbook step)."
	suggestMissed    = "Say which step did not happen and why the process let it slip (no checklist, no automation, no alert), rather than who did not do it."
	suggestForgot    = "Name the step that was missed and what could remind people of it or do it for them."
	suggestNeutral   = "Describe what happened in neutral terms: which action, which effect, and the conditions around it (load, tooling, a handover)."
	suggestTypo      = "Describe the input that was mistyped and the safeguard that would catch it (validation, a confirmation, a dry run)."
)

// rules are checked on lines that contain a trigger word. Matching runs on
// the masked line, so offsets are the same in the original.
var rules = [...]rule{
	{re: regexp.MustCompile(`(?i)\b(?:human|operator|user|pilot)[\s-]+errors?\b`), suggestion: suggestError},
	{re: regexp.MustCompile(`(?i)(?:<@[A-Z0-9]+(?:\|[^>]*)?>|@?\b[\p{L}\p{N}_.-]+)['’]s\s+(?:fault|mistake)s?\b|\b(?:his|her|their|my|our|your)\s+(?:fault|mistake)s?\b|\bfault\s+of\b|\bat\s+fault\b`),
		keep: notNegated, suggestion: suggestFault},
	{re: regexp.MustCompile(`(?i)\b(?:careless(?:ly|ness)?|negligen(?:t|tly|ce)|incompeten(?:t|tly|ce|cy)|slopp(?:y|ily|iness)|stupid(?:ly|ity)?|dumb|idiot(?:s|ic)?|reckless(?:ly|ness)?|irresponsib(?:le|ly|ility)|clueless)\b`),
		suggestion: suggestCharacter},
	{re: regexp.MustCompile(`(?i)\blaz(?:y|ily|iness)\b`), keep: notTechnicalLazy, suggestion: suggestCharacter},
	{re: regexp.MustCompile(`(?i)\bblam(?:e|ed|es|ing|eworthy)\b`), keep: notNegated, suggestion: suggestBlame},
	{re: regexp.MustCompile(`(?i)\bshould(?:\s+have|['’]ve|\s+not\s+have|n['’]t\s+have)\b|\bought\s+to\s+have\b`),
		keep: personOrOmittedSubject, suggestion: suggestHindsight},
	{re: regexp.MustCompile(`(?i)\bfail(?:ed|s|ing)?\s+to\b`), keep: personSubject, suggestion: suggestMissed},
	{re: regexp.MustCompile(`(?i)\bforgot\b|\bforg(?:et|ets|etting|otten)\s+(?:to|about)\b`), suggestion: suggestForgot},
	{re: regexp.MustCompile(`(?i)\bneglect(?:ed|s|ing)?\s+to\b`), suggestion: suggestMissed},
	{re: regexp.MustCompile(`(?i)\b(?:didn['’]?t|did\s+not|couldn['’]?t\s+be|could\s+not\s+be)\s+bother(?:ed)?\b`), suggestion: suggestMissed},
	{re: regexp.MustCompile(`(?i)\b(?:screw(?:ed)?|mess(?:ed)?)(?:\s+|-)?ups?\b|\bdropped\s+the\s+ball\b|\bbotch(?:ed|es|ing)?\b|\brookie\s+mistakes?\b|\b(?:not|wasn['’]t|weren['’]t)\s+paying\s+attention\b`),
		suggestion: suggestNeutral},
	{re: regexp.MustCompile(`(?i)\bfat[\s-]?finger(?:ed|ing|s)?\b`), suggestion: suggestTypo},
}

// hasTriggerWord is the cheap test that spares the regular expressions
// almost every line: every rule's match contains one of these words.
func hasTriggerWord(s string) bool {
	var buf [16]byte
	for i := 0; i < len(s); {
		c := s[i]
		if !isASCIILetter(c) {
			i++
			continue
		}
		j := i
		for j < len(s) && isASCIILetter(s[j]) {
			j++
		}
		if n := j - i; n >= 3 && n <= len(buf) {
			for k := 0; k < n; k++ {
				buf[k] = s[i+k] | 0x20
			}
			if isTriggerWord(string(buf[:n])) {
				return true
			}
		}
		i = j
	}
	return false
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isTriggerWord(w string) bool {
	switch w {
	case "error", "errors", "fault", "faults", "mistake", "mistakes",
		"careless", "carelessly", "carelessness", "negligent", "negligently", "negligence",
		"incompetent", "incompetently", "incompetence", "incompetency",
		"sloppy", "sloppily", "sloppiness", "lazy", "lazily", "laziness",
		"stupid", "stupidly", "stupidity", "dumb", "idiot", "idiots", "idiotic",
		"reckless", "recklessly", "recklessness", "irresponsible", "irresponsibly", "irresponsibility", "clueless",
		"blame", "blamed", "blames", "blaming", "blameworthy",
		"should", "shouldn", "ought", "fail", "failed", "fails", "failing",
		"forgot", "forget", "forgets", "forgetting", "forgotten",
		"neglect", "neglected", "neglects", "neglecting", "bother", "bothered",
		"screw", "screwed", "screwup", "screwups", "mess", "messed", "messup", "messups",
		"dropped", "botch", "botched", "botches", "botching", "rookie", "paying",
		"fat", "fatfinger", "fatfingered", "finger", "fingered", "fingering", "fingers":
		return true
	}
	return false
}

var (
	urlRE      = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>|]+|\bwww\.[^\s<>|]+|<(?:https?|mailto|ftp):[^>\s]*>`)
	linkDestRE = regexp.MustCompile(`\]\([^)\s]*\)`)
)

// mask blanks what Lint does not judge (code spans, URLs, link
// destinations) with 'x', keeping every offset where it was.
func mask(line string) string {
	b := []byte(line)
	blank := func(from, to int) {
		for k := from; k < to; k++ {
			b[k] = 'x'
		}
	}
	for i := 0; i < len(b); {
		if b[i] != '`' {
			i++
			continue
		}
		n := 0
		for i+n < len(b) && b[i+n] == '`' {
			n++
		}
		closing := -1
		for j := i + n; j < len(b); {
			if b[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(b) && b[j+m] == '`' {
				m++
			}
			if m == n {
				closing = j
				break
			}
			j += m
		}
		if closing < 0 {
			i += n
			continue
		}
		blank(i, closing+n)
		i = closing + n
	}
	for _, m := range urlRE.FindAllIndex(b, -1) {
		blank(m[0], m[1])
	}
	for _, m := range linkDestRE.FindAllIndex(b, -1) {
		blank(m[0]+2, m[1]-1)
	}
	return string(b)
}

// word is a word before a match, with what came before it.
type word struct {
	text  string // without surrounding punctuation
	start int    // where the word starts in the line
	// boundary is true when nothing but sentence punctuation, a list or
	// table marker, or the start of the line comes before the match.
	boundary bool
}

// wordBefore returns the word that ends before i. A word of bullets or
// punctuation, or punctuation that ends a sentence, is a boundary.
func wordBefore(line string, i int) word {
	j := i
	for j > 0 && (line[j-1] == ' ' || line[j-1] == '\t') {
		j--
	}
	if j == 0 {
		return word{boundary: true}
	}
	switch line[j-1] {
	case '.', '!', '?', ':', ';', '|', '(', '>':
		if line[j-1] == '>' && strings.LastIndex(line[:j], "<@") >= 0 {
			break // the end of a Slack mention
		}
		return word{boundary: true}
	}
	k := j
	for k > 0 && line[k-1] != ' ' && line[k-1] != '\t' {
		k--
	}
	t := strings.Trim(line[k:j], "*_\"'“”‘’()[]{},")
	if t == "" || strings.Trim(t, "-+*#>0123456789.)") == "" {
		return word{start: k, boundary: true} // a bullet, a number, a heading marker
	}
	return word{text: t, start: k}
}

// personOrOmittedSubject keeps "should have" about a person, or with no
// subject at all ("Should have rolled back").
func personOrOmittedSubject(line string, start, _ int) bool {
	return subject(line, start, true)
}

// personSubject keeps "failed to" about a person; with no subject it is a
// log line ("Failed to connect"), not a judgement.
func personSubject(line string, start, _ int) bool {
	return subject(line, start, false)
}

// subject reports whether the subject of the phrase at start is a person;
// omitted is the answer when the phrase starts its sentence.
func subject(line string, start int, omitted bool) bool {
	i := start
	for range 4 {
		w := wordBefore(line, i)
		if w.boundary {
			return omitted
		}
		lw := strings.ToLower(w.text)
		if k := strings.IndexAny(lw, "'’"); k > 0 {
			lw = lw[:k] // we've, they'd, alice's
		}
		switch {
		case conjunctions[lw]:
			return omitted // "…, and should have known": the subject is elided
		case skippable[lw]:
			i = w.start
			continue
		case strings.HasPrefix(w.text, "<@"), strings.HasPrefix(w.text, "@") && len(w.text) > 1:
			return true
		case lw == "who" || pronouns[lw] || roleWords[lw] || roleWords[strings.TrimSuffix(lw, "s")]:
			return true
		case nameLike(w.text):
			prev := wordBefore(line, w.start)
			if prev.boundary {
				return !thingWords[lw]
			}
			return !determiners[strings.ToLower(prev.text)]
		}
		return false
	}
	return false
}

// nameLike reports whether w is capitalised like a name: "Alice", "Zoë".
// All-capital words are acronyms of systems (DNS, CI) unless a role word
// caught them first.
func nameLike(w string) bool {
	r, size := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) || len(w) == size {
		return false
	}
	for _, r := range w[size:] {
		if !unicode.IsLower(r) && r != '-' {
			return false
		}
	}
	return true
}

// notNegated keeps a match unless a negation comes within three words
// before it ("no blame", "nobody is to blame", "not her fault") or the
// fault is nobody's.
func notNegated(line string, start, _ int) bool {
	head := strings.ToLower(line[start:])
	for _, p := range []string{"nobody", "no one", "no-one", "noone", "anybody", "anyone", "one'", "one’"} {
		if strings.HasPrefix(head, p) {
			return false
		}
	}
	i := start
	for range 3 {
		w := wordBefore(line, i)
		if w.boundary {
			return true
		}
		lw := strings.ToLower(w.text)
		if negations[lw] || strings.HasSuffix(lw, "n't") || strings.HasSuffix(lw, "n’t") {
			return false
		}
		i = w.start
	}
	return true
}

// notTechnicalLazy keeps "lazy" unless it names an evaluation strategy:
// lazy loading, lazily initialised.
func notTechnicalLazy(line string, _, end int) bool {
	rest := strings.TrimLeft(line[end:], " -")
	next := rest
	if k := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) }); k >= 0 {
		next = rest[:k]
	}
	switch strings.ToLower(next) {
	case "load", "loads", "loaded", "loading", "loader", "eval", "evaluation", "evaluated",
		"init", "initialization", "initialisation", "initialized", "initialised", "initializes", "initialises",
		"import", "imports", "imported", "instantiation", "instantiated", "val", "var", "static", "sequence", "stream", "list", "pointer", "fetch", "fetched", "fetching":
		return false
	}
	return true
}

// The word lists the subject rules read. They are lowercase.
var (
	pronouns = set("i", "we", "he", "she", "they", "you", "someone", "somebody", "nobody", "everyone",
		"everybody", "anyone", "anybody", "whoever", "us", "me", "him", "them")
	roleWords = set("engineer", "operator", "on-call", "oncall", "on-caller", "oncaller", "dev", "developer",
		"team", "sre", "admin", "administrator", "responder", "reviewer", "commander", "ic", "human",
		"person", "people", "staff", "employee", "contractor", "author", "lead", "manager", "intern",
		"colleague", "coworker", "co-worker", "owner", "teammate", "dba", "sysadmin", "programmer", "tester")
	// skippable words stand between a subject and its verb: "we also
	// failed to", "they had failed to".
	skippable = set("also", "just", "simply", "really", "clearly", "obviously", "completely", "totally",
		"again", "then", "still", "probably", "apparently", "initially", "originally", "repeatedly", "both",
		"all", "has", "have", "had", "was", "were", "is", "are", "been", "keep", "keeps", "keeping", "kept", "never", "always",
		"once", "twice", "themselves", "himself", "herself", "ourselves", "myself")
	determiners = set("the", "a", "an", "this", "that", "these", "those", "our", "their", "its", "each",
		"every", "any", "no", "his", "her", "my", "your")
	// thingWords are capitalised at the start of a sentence without being
	// anyone's name.
	thingWords = set("deploy", "deploys", "deployment", "deployments", "build", "builds", "job", "jobs",
		"service", "services", "server", "servers", "pod", "pods", "node", "nodes", "check", "checks",
		"alert", "alerts", "alerting", "monitor", "monitoring", "probe", "probes", "script", "scripts",
		"cron", "migration", "migrations", "rollback", "rollout", "release", "request", "requests",
		"query", "queries", "database", "cache", "cluster", "backup", "backups", "test", "tests",
		"pipeline", "config", "process", "system", "systems", "it", "this", "that", "customers",
		"users", "clients", "traffic", "payments", "checkout", "replica", "replicas", "primary", "failover",
		"kubernetes", "postgres", "postgresql", "mysql", "redis", "nginx", "terraform", "vault",
		"consul", "kafka", "envoy", "istio", "docker", "prometheus", "grafana", "alertmanager",
		"pagerduty", "slack", "github", "gitlab", "ooda", "argo", "helm", "ansible", "etcd")
	conjunctions = set("and", "but", "or", "so", "yet")
	negations    = set("no", "not", "nobody", "never", "without", "none", "nor", "noone")
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
