package command

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// Command is one parsed `/incident` command. The same grammar arrives from
// Slack (HTTP and Socket Mode), the API and the CLI, and is parsed here
// only.
type Command struct {
	Verb     Verb
	Incident uint64 // named explicitly (INC-7); 0 means the channel's incident

	// declare; slo (the service to show); list (Severity filters, 0 is
	// every severity)
	Severity int
	Private  bool
	Service  string
	Title    string
	// Commander is whom declare --commander names; empty: the declarer
	// when a person declares, nobody when a token does.
	Commander string

	// role
	Role roles.Role
	User string

	// status
	Status incident.Status

	// loop entries, impact, update, resolve summary, action, publish URL;
	// the new text of amend and the reason of strike; the words of search
	Phase    timeline.Phase
	Cause    bool
	Text     string
	Owner    string
	Priority string

	// action: the due day as typed (2026-12-20, +14d, none), and the same
	// words read as a change to an existing item (see actions.go)
	Due  string
	Item ItemCommand

	// actions: whose items and which (Service and Page too)
	Mine, Overdue, AllStates bool

	// amend and strike: the entry's number; amend and the loop entries:
	// the time given with --at
	Entry uint64
	At    incident.When

	// help
	Topic string

	// list: which page of listPageSize entries; 0 is the first
	Page int
}

// UsageError is a command the parser could not read; Msg says what to type.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Verb names an /incident command: the one typed table below lists every
// verb a person can type, and VerbTake is the one a button sends.
type Verb string

// The verbs.
const (
	VerbDeclare    Verb = "declare"
	VerbRole       Verb = "role"
	VerbRoles      Verb = "roles"
	VerbStatus     Verb = "status"
	VerbSev        Verb = "sev"
	VerbImpact     Verb = "impact"
	VerbObserve    Verb = "observe"
	VerbOrient     Verb = "orient"
	VerbDecide     Verb = "decide"
	VerbAct        Verb = "act"
	VerbNote       Verb = "note"
	VerbAmend      Verb = "amend"
	VerbStrike     Verb = "strike"
	VerbAction     Verb = "action"
	VerbActions    Verb = "actions"
	VerbUpdate     Verb = "update"
	VerbTimeline   Verb = "timeline"
	VerbResolve    Verb = "resolve"
	VerbReopen     Verb = "reopen"
	VerbPostmortem Verb = "postmortem"
	VerbPublish    Verb = "postmortem publish"
	VerbList       Verb = "list"
	VerbSearch     Verb = "search"
	VerbSimilar    Verb = "similar"
	VerbSLO        Verb = "slo"
	VerbHelp       Verb = "help"
	// VerbTake is "Take a role" clicked in the kickoff message: the role
	// goes to the clicker only while nobody else holds it.
	VerbTake Verb = "take"
)

// verbs is every verb with its usage, its one-line help and the other
// words people type for it, in the order help lists them.
var verbs = []struct {
	verb        Verb
	usage, help string
	aliases     []string
}{
	{VerbDeclare, "declare [sev1..sev4] [--private] [--service NAME] [--commander @user] <title>", "open an incident and its channel (no title: a form); you are Commander unless --commander names someone", []string{"new", "open"}},
	{VerbRole, "role commander|comms|ops @user", "assign a role; assigning a held role hands it over", []string{"assign"}},
	{VerbRoles, "roles", "who holds which role", nil},
	{VerbStatus, "status investigating|identified|monitoring|resolved", "move the incident forward", nil},
	{VerbSev, "sev 1..4", "change the severity", []string{"severity"}},
	{VerbImpact, "impact <text>", "describe customer impact (marks the incident customer-impacting)", nil},
	{VerbObserve, "observe [--at 14:02|-5m] <text>", "record a signal: alerts, symptoms, data; --at dates an entry when it happened (UTC), on every loop entry and note", nil},
	{VerbOrient, "orient [--cause] [--at TIME] <text>", "record a hypothesis or finding; --cause marks the root cause", nil},
	{VerbDecide, "decide [--at TIME] <text>", "record a decision", nil},
	{VerbAct, "act [--at TIME] <text>", "record an action taken: a rollback, a failover", nil},
	{VerbNote, "note [--at TIME] <text>", "record anything else", nil},
	{VerbAmend, "amend #12 [--at TIME] <new text>", "correct a loop entry or note by its number in `timeline` (its author or the Commander); the record keeps the original", []string{"correct"}},
	{VerbStrike, "strike #12 [reason]", "strike a loop entry or note from the timeline and the post-mortem (its author or the Commander); the record keeps it", nil},
	{VerbAction, "action <text> [@owner] [P0..P3] [due 2026-12-20|+14d|none]", "add a follow-up action item (due in 7, 14 or 30 days at P0, P1, P2 unless given); `action done|wontdo <n> [reason]`, `action reopen <n>`, `action owner <n> @user`, `action due <n> +7d`, `action link <n> <url>` change item n; `action ticket <n>` opens its ticket in the configured tracker (for an item made before one was configured, or after a failure)", nil},
	{VerbActions, "actions [mine|overdue|all] [--service NAME] [page N]", "open action items of every incident you may see, overdue first (all: done and won't do too)", nil},
	{VerbUpdate, "update <text>", "post a stakeholder update here and in the announcement channel", nil},
	{VerbTimeline, "timeline", "show the minute-by-minute timeline", nil},
	{VerbResolve, "resolve [summary]", "resolve the incident", nil},
	{VerbReopen, "reopen", "reopen a resolved incident", nil},
	{VerbPostmortem, "postmortem", "write the post-mortem draft from the timeline, upload it here and bookmark it", []string{"post-mortem"}},
	{VerbPublish, "postmortem publish <url>", "record where the final post-mortem is published and close the incident", nil},
	{VerbList, "list [sev1..sev4] [page N]", "open incidents, newest first, and resolved ones whose post-mortem is overdue, a page at a time", []string{"ls"}},
	{VerbSearch, "search <words>", "find incidents by the words of their title, impact, root cause, trigger, updates and timeline, newest first, with the line that matched", []string{"find"}},
	{VerbSimilar, "similar [INC-7]", "up to three past incidents most like this one (same service first, then shared words), with their root cause and post-mortem", nil},
	{VerbSLO, "slo [service]", "SLO burn rates and error budgets, and Ooda's own SLO", []string{"slos"}},
	{VerbHelp, "help [command]", "this help", []string{"-h", "--help", "?"}},
}

// HelpText is the whole grammar, as `/incident help` shows it.
func HelpText() string {
	var b strings.Builder
	b.WriteString("Usage: /incident <command>. Outside an incident's channel, name the incident after the command: `/incident status INC-7 monitoring`.\n")
	for _, v := range verbs {
		fmt.Fprintf(&b, "• `/incident %s` — %s\n", v.usage, v.help)
	}
	return strings.TrimRight(b.String(), "\n")
}

// HelpTopic is `/incident help <command>`: that command's usage, or the
// whole grammar when the topic is empty or unknown.
func HelpTopic(topic string) string {
	for _, v := range verbs {
		if string(v.verb) == topic {
			return fmt.Sprintf("`/incident %s` — %s", v.usage, v.help)
		}
	}
	return HelpText()
}

// VerbUsage is verb's usage, quoted as code, or a pointer to the help.
func VerbUsage(verb Verb) string {
	for _, v := range verbs {
		if v.verb == verb {
			return "`/incident " + v.usage + "`"
		}
	}
	return "`/incident help`"
}

// lookupVerb finds the verb a typed word names, by its name or an alias.
func lookupVerb(word string) (Verb, bool) {
	for _, v := range verbs {
		if string(v.verb) == word || slices.Contains(v.aliases, word) {
			return v.verb, true
		}
	}
	return Verb(word), false
}

// knownVerb reports whether v is a verb of the grammar.
func knownVerb(v Verb) bool {
	for _, k := range verbs {
		if k.verb == v {
			return true
		}
	}
	return false
}

// ReadsOnly reports whether text is a command that changes nothing (help,
// list, roles, timeline, slo, search, similar), which a token without the write scope may
// run. Text that does not parse changes nothing either: its answer says
// what to type instead.
func ReadsOnly(text string) bool {
	c, err := ParseCommand(text)
	if err != nil {
		return true
	}
	switch c.Verb {
	case VerbHelp, VerbList, VerbRoles, VerbTimeline, VerbSLO, VerbActions, VerbSearch, VerbSimilar:
		return true
	}
	return false
}

// IsUnknownVerb reports whether text fails to parse because its first
// word is no verb of the grammar (rather than a verb used wrongly).
func IsUnknownVerb(text string) bool {
	c, err := ParseCommand(text)
	var ue *UsageError
	return err != nil && errors.As(err, &ue) && c.Verb != "" && !knownVerb(c.Verb)
}

// ParseUser reads a user mention and returns the user id: as slash
// commands escape it (<@U123|name> or <@U123>) or as people type it into
// the API and CLI (@U123).
func ParseUser(s string) (string, bool) { return people.ParseMention(s) }

// MaxCommandText bounds what the parser reads; Slack sends at most a few
// thousand characters, and nothing longer is a real command.
const MaxCommandText = 8000

// ParseCommand reads the text after `/incident`.
func ParseCommand(text string) (Command, error) {
	if !utf8.ValidString(text) {
		return Command{}, usagef("the command is not valid text; type it again")
	}
	if len(text) > MaxCommandText {
		return Command{}, usagef("the command is %d characters; keep it under %d", len(text), MaxCommandText)
	}
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return Command{Verb: VerbHelp}, nil
	}
	v, _ := lookupVerb(strings.ToLower(fields[0]))
	c := Command{Verb: v}
	args := fields[1:]
	rest := func() string { return restAfter(text, len(fields)-len(args)) }

	// Commands about an existing incident may name it first.
	takeIncident := func() error {
		n, rest, err := splitIncident(args)
		if err != nil {
			return err
		}
		if n != 0 {
			c.Incident, args = n, rest
		}
		return nil
	}

	switch c.Verb {
	case VerbHelp:
		if len(args) > 0 {
			c.Topic = strings.ToLower(args[0])
		}
		return c, nil
	case VerbList:
		return parseList(c, args)
	case VerbSLO:
		if len(args) > 1 {
			return c, usagef("name one service at most: %s", VerbUsage(VerbSLO))
		}
		if len(args) == 1 {
			c.Service = args[0]
		}
		return c, nil
	case VerbDeclare:
		return parseDeclare(c, args, rest)
	case VerbRole:
		if err := takeIncident(); err != nil {
			return c, err
		}
		if len(args) != 2 {
			return c, usagef("name a role and a person: %s", VerbUsage(VerbRole))
		}
		r, err := roles.Parse(args[0])
		if err != nil {
			return c, usagef("%s: %s", err.Error(), VerbUsage(VerbRole))
		}
		u, ok := parsePerson(args[1])
		if !ok {
			return c, usagef("name the person after an @, by their Slack handle, display name or member ID: `role %s @U0123ABCD`. %s", r, memberIDHint)
		}
		c.Role, c.User = r, u
		return c, nil
	case VerbSearch:
		c.Text = rest()
		if c.Text == "" {
			return c, usagef("say what to look for: %s, such as `/incident search connection pool`", VerbUsage(VerbSearch))
		}
		return c, nil
	case VerbRoles, VerbTimeline, VerbReopen, VerbSimilar:
		if err := takeIncident(); err != nil {
			return c, err
		}
		if len(args) > 0 {
			return c, usagef("%s takes no text: %s", c.Verb, VerbUsage(c.Verb))
		}
		return c, nil
	case VerbStatus:
		if err := takeIncident(); err != nil {
			return c, err
		}
		if len(args) != 1 {
			return c, usagef("say which status: %s", VerbUsage(VerbStatus))
		}
		st, err := incident.ParseStatus(args[0])
		if err != nil {
			return c, usagef("%s", err.Error())
		}
		c.Status = st
		return c, nil
	case VerbSev:
		if err := takeIncident(); err != nil {
			return c, err
		}
		if len(args) != 1 {
			return c, usagef("say which severity: %s", VerbUsage(VerbSev))
		}
		sev, ok := ParseSeverity(args[0])
		if !ok {
			return c, usagef("%s is not a severity; use 1 (worst) to 4: `/incident sev 2`", echo(args[0]))
		}
		c.Severity = sev
		return c, nil
	case VerbImpact, VerbUpdate, VerbResolve:
		if err := takeIncident(); err != nil {
			return c, err
		}
		c.Text = rest()
		if c.Text == "" && c.Verb != VerbResolve {
			return c, usagef("write the %s after the command: %s", c.Verb, VerbUsage(c.Verb))
		}
		return c, nil
	case VerbObserve, VerbOrient, VerbDecide, VerbAct, VerbNote:
		if err := takeIncident(); err != nil {
			return c, err
		}
		if c.Verb != VerbNote {
			c.Phase = timeline.Phase(c.Verb)
		}
		var err error
		if args, err = entryOptions(&c, args); err != nil {
			return c, err
		}
		c.Text = rest()
		if c.Text == "" {
			return c, usagef("write what you saw, learned, decided or did: %s", VerbUsage(c.Verb))
		}
		return c, nil
	case VerbAmend, VerbStrike:
		return parseCorrection(c, text, args, len(fields)-len(args))
	case VerbPostmortem:
		if err := takeIncident(); err != nil {
			return c, err
		}
		return parsePostmortem(c, args)
	case VerbAction:
		if err := takeIncident(); err != nil {
			return c, err
		}
		return parseAction(c, args)
	case VerbActions:
		return parseActions(c, args)
	}
	return c, usagef("%s is not an /incident command; type `/incident help` for the list", echo(fields[0]))
}

// memberIDHint says where a Slack member ID comes from, for a person named
// by a handle the grammar cannot look up.
const memberIDHint = "In Slack, pick the person from the @ list as you type; elsewhere, copy the ID from their Slack profile (⋮ → Copy member ID)."

// looksLikePriority tells a priority out of range (P4, p9, P10) from a
// word that merely starts with P.
func looksLikePriority(upper string) bool {
	if len(upper) < 2 || len(upper) > 3 || upper[0] != 'P' {
		return false
	}
	for _, c := range upper[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// splitIncident reads an incident named first in args (INC-7, #7) and
// returns its number and the arguments after it; 0 and args unchanged when
// args do not start with one.
func splitIncident(args []string) (uint64, []string, error) {
	if len(args) == 0 {
		return 0, args, nil
	}
	if a := strings.ToUpper(args[0]); strings.HasPrefix(a, "INC-") || strings.HasPrefix(a, "#") {
		n, err := incident.ParseID(args[0])
		if err != nil {
			return 0, args, usagef("%s is not an incident number; write it as INC-7", echo(args[0]))
		}
		return n, args[1:], nil
	}
	return 0, args, nil
}

// parsePostmortem reads what follows `postmortem [INC-7]`: nothing, or
// `publish [INC-7] <url>`.
func parsePostmortem(c Command, args []string) (Command, error) {
	if len(args) == 0 {
		return c, nil
	}
	if !strings.EqualFold(args[0], "publish") {
		return c, usagef("%s is not a postmortem option: %s writes the draft, %s closes the incident",
			echo(args[0]), VerbUsage(VerbPostmortem), VerbUsage(VerbPublish))
	}
	c.Verb = VerbPublish
	args = args[1:]
	if c.Incident == 0 {
		n, rest, err := splitIncident(args)
		if err != nil {
			return c, err
		}
		c.Incident, args = n, rest
	}
	if len(args) != 1 {
		return c, usagef("give the one link where the post-mortem is published: %s", VerbUsage(VerbPublish))
	}
	link, err := parseLink(args[0], "the http(s) address where the post-mortem is published: `/incident postmortem publish https://wiki.example.com/postmortems/inc-7`")
	if err != nil {
		return c, err
	}
	c.Text = link
	return c, nil
}

// parseLink reads a web link as a slash command delivers it (Slack wraps
// it as <https://…> or <https://…|label>; the transport has already undone
// its &amp; entities) or as people type it into the API and CLI, and
// accepts only http and https addresses; what says what to give instead.
func parseLink(s, what string) (string, error) {
	raw := s
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
		if i := strings.IndexByte(s, '|'); i >= 0 {
			s = s[:i]
		}
	}
	if utf8.RuneCountInString(s) > incident.MaxURL {
		return "", usagef("the link is %d characters; keep it under %d", utf8.RuneCountInString(s), incident.MaxURL)
	}
	if !incident.IsWebLink(s) {
		return "", usagef("%s is not a web link; give %s", echo(raw), what)
	}
	return s, nil
}

// restAfter returns text after its first n whitespace-separated fields,
// keeping the user's own spacing and line breaks.
func restAfter(text string, n int) string {
	s := text
	for i := 0; i < n; i++ {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		j := strings.IndexFunc(s, unicode.IsSpace)
		if j < 0 {
			return ""
		}
		s = s[j:]
	}
	return strings.TrimSpace(s)
}

// looksLikeSeverity tells "sev2", "SEV-9" and "sev" (typos worth an
// error) from a title that merely starts with the letters ("Severe latency").
func looksLikeSeverity(s string) bool {
	l := strings.ToLower(s)
	if !strings.HasPrefix(l, "sev") {
		return false
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(l, "sev"), "-")
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// echo quotes user input in an error, escaped for Slack and cut short, so
// a mistake is shown back without becoming a ping or a link.
func echo(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return mrkdwn.Quote(s)
}

func ParseSeverity(s string) (int, bool) {
	s = strings.ToLower(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "sev"), "-")
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 4 {
		return 0, false
	}
	return n, true
}

// parseList reads what follows `list`: a severity and a page, in either
// order, each at most once.
func parseList(c Command, args []string) (Command, error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case looksLikeSeverity(a) && c.Severity == 0:
			sev, ok := ParseSeverity(a)
			if !ok {
				return c, usagef("%s is not a severity; use sev1 (worst) to sev4: `/incident list sev1`", echo(a))
			}
			c.Severity = sev
		case strings.EqualFold(a, "page") && c.Page == 0:
			if i+1 >= len(args) {
				return c, usagef("say which page: `/incident list page 2`")
			}
			i++
			p, err := strconv.Atoi(args[i])
			if err != nil || p < 1 {
				return c, usagef("%s is not a page number; pages count from 1: `/incident list page 2`", echo(args[i]))
			}
			c.Page = p
		default:
			return c, usagef("%s is not a list option: %s", echo(a), VerbUsage(VerbList))
		}
	}
	return c, nil
}

func parseDeclare(c Command, args []string, rest func() string) (Command, error) {
	consumed := 0
	for consumed < len(args) {
		a := args[consumed]
		switch {
		case looksLikeSeverity(a) && c.Severity == 0:
			sev, ok := ParseSeverity(a)
			if !ok {
				return c, usagef("%s is not a severity; use sev1 (worst) to sev4: %s", echo(a), VerbUsage(VerbDeclare))
			}
			c.Severity = sev
		case a == "--private":
			c.Private = true
		case a == "--commander" || strings.HasPrefix(a, "--commander="):
			v, inline := strings.CutPrefix(a, "--commander=")
			if !inline {
				if consumed+1 >= len(args) {
					return c, usagef("--commander needs a person after an @ (a Slack handle, display name or member ID): `/incident declare sev2 --commander @U0123ABCD Checkout is down`")
				}
				consumed++
				v = args[consumed]
			}
			u, ok := parsePerson(v)
			if !ok || c.Commander != "" {
				return c, usagef("--commander names one person after an @ (a Slack handle, display name or member ID): `/incident declare sev2 --commander @U0123ABCD Checkout is down`")
			}
			c.Commander = u
		case a == "--service" || strings.HasPrefix(a, "--service="):
			if v, ok := strings.CutPrefix(a, "--service="); ok {
				c.Service = v
			} else {
				if consumed+1 >= len(args) {
					return c, usagef("--service needs a name: `/incident declare sev2 --service checkout Checkout is down`")
				}
				consumed++
				c.Service = args[consumed]
			}
			if c.Service == "" {
				return c, usagef("--service needs a name: `/incident declare sev2 --service checkout Checkout is down`")
			}
		case strings.HasPrefix(a, "--"):
			return c, usagef("%s is not a declare option; use --private, --service NAME or --commander @user: %s", echo(a), VerbUsage(VerbDeclare))
		default:
			goto title
		}
		consumed++
	}
title:
	// Title is what follows the options, with the user's spacing.
	all := rest()
	c.Title = restAfter(all, consumed)
	if c.Title == "" && (c.Severity != 0 || c.Private || c.Service != "" || c.Commander != "") {
		return c, usagef("an incident needs a title: %s", VerbUsage(VerbDeclare))
	}
	if n := utf8.RuneCountInString(c.Title); n > incident.MaxTitle {
		return c, usagef("the title is %d characters; keep it under %d so it fits the channel topic and the announcement", n, incident.MaxTitle)
	}
	return c, nil
}
