package blockkit

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"
)

// Alert is what a triage signal shows of one Alertmanager alert.
type Alert struct {
	Name    string // its alertname, or what stands for it
	Summary string // its summary or description annotation
	Span    string // when it fired and, resolved, for how long
	Service string // the service its labels name, or ""
	// Resolved says the alert has ended.
	Resolved     bool
	StartsAt     time.Time
	GeneratorURL string
	Labels       map[string]string
}

// AlertGroup is the triage signal of one Alertmanager group: its alerts
// that no open incident covers, one message kept current as they join and
// resolve.
type AlertGroup struct {
	// Alerts are the alerts the message shows, in the order they joined.
	Alerts []Alert
	// UnnamedFiring and UnnamedResolved count alerts the message shows
	// that Ooda knows only by fingerprint: it restarted, and Alertmanager
	// has not sent them since.
	UnnamedFiring, UnnamedResolved int
	// Open are the open incidents of the group's service: they take the
	// place of the "Declare incident" button.
	Open []incident.Incident
}

// Limits of a group's message, well within Slack's 3,000 characters of a
// section: the first alerts are listed by their labels, the rest counted.
const (
	maxListedAlerts = 8
	maxAlertLine    = 200  // one alert's labels
	maxAlertName    = 150  // the group's name, and its service
	maxAlertSummary = 400  // the summary quoted
	maxAlertLink    = 2000 // a longer source link is left out
)

func (g AlertGroup) firing() []Alert {
	return slices.DeleteFunc(slices.Clone(g.Alerts), func(a Alert) bool { return a.Resolved })
}

func (g AlertGroup) resolved() []Alert {
	return slices.DeleteFunc(slices.Clone(g.Alerts), func(a Alert) bool { return !a.Resolved })
}

// counts are how many of the group's alerts fire and how many resolved.
func (g AlertGroup) counts() (firing, resolved int) {
	for _, a := range g.Alerts {
		if a.Resolved {
			resolved++
		} else {
			firing++
		}
	}
	return firing + g.UnnamedFiring, resolved + g.UnnamedResolved
}

// Name is what the group is called: its alerts' name when they share one,
// else the first names and how many more.
func (g AlertGroup) Name() string {
	names := g.names()
	switch len(names) {
	case 0:
		return "alerts"
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return fmt.Sprintf("%s, %s and %d more", names[0], names[1], len(names)-2)
}

// names are the alerts' distinct names, in order.
func (g AlertGroup) names() []string {
	var names []string
	for _, a := range g.Alerts {
		if !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
	}
	return names
}

// Service is the service every alert of the group names, or "".
func (g AlertGroup) Service() string {
	service := ""
	for i, a := range g.Alerts {
		if i == 0 {
			service = a.Service
		} else if a.Service != service {
			return ""
		}
	}
	return service
}

// commonLabels are the labels every alert of the group carries, alike.
func (g AlertGroup) commonLabels() map[string]string {
	if len(g.Alerts) == 0 {
		return nil
	}
	common := map[string]string{}
	for k, v := range g.Alerts[0].Labels {
		common[k] = v
	}
	for _, a := range g.Alerts[1:] {
		for k, v := range common {
			if a.Labels[k] != v {
				delete(common, k)
			}
		}
	}
	return common
}

// CommonLabel is label k when every alert of the group carries it alike,
// else "".
func (g AlertGroup) CommonLabel(k string) string { return g.commonLabels()[k] }

// CommonSummary is the summary every alert of the group gives, or "".
func (g AlertGroup) CommonSummary() string { return commonSummary(g.Alerts) }

// LabelsOf is what tells a from the group's other alerts: its labels they
// do not share, as k=v pairs, after its name when the group's alerts have
// several names.
func (g AlertGroup) LabelsOf(a Alert) string {
	return alertLabels(a, g.commonLabels(), len(g.names()) > 1)
}

// Title is the title a declaration from the group suggests.
func (g AlertGroup) Title() string {
	firing, _ := g.counts()
	t := g.Name() + " firing"
	if firing > 1 {
		t += " (" + strconv.Itoa(firing) + " alerts)"
	}
	if s := g.Service(); s != "" {
		t = s + ": " + t
	}
	return t
}

// AlertGroupSignal is the message of an alert group: what fires, the
// first alerts by their labels and how many more, and a button to declare
// an incident (or the open incidents of its service); once every alert
// has resolved, the same message says so.
func AlertGroupSignal(g AlertGroup) Message {
	firing, resolved := g.counts()
	name, service := mrkdwn.Clip(mrkdwn.Escape(g.Name()), maxAlertName), g.Service()
	common := g.commonLabels()

	var b strings.Builder
	switch {
	case firing == 0:
		fmt.Fprintf(&b, ":white_check_mark: *Resolved: %s*", name)
		if resolved > 1 {
			fmt.Fprintf(&b, " · all %d alerts", resolved)
		}
	case firing+resolved == 1:
		fmt.Fprintf(&b, ":bell: *Alert firing: %s*", name)
	default:
		fmt.Fprintf(&b, ":bell: *Alerts firing: %s* · %d firing", name, firing)
		if resolved > 0 {
			fmt.Fprintf(&b, ", %d resolved", resolved)
		}
	}
	if service != "" {
		fmt.Fprintf(&b, " · service `%s`", mrkdwn.Clip(mrkdwn.Escape(service), maxAlertName))
	}
	if sev := common["severity"]; sev != "" {
		fmt.Fprintf(&b, " · severity %s", mrkdwn.Clip(mrkdwn.Escape(sev), maxAlertName))
	}
	if s := commonSummary(g.Alerts); s != "" {
		b.WriteString("\n" + quoteLines(mrkdwn.Clip(mrkdwn.Escape(s), maxAlertSummary)))
	}
	if len(g.Alerts) > 1 || g.UnnamedFiring+g.UnnamedResolved > 0 {
		b.WriteString(alertLines(g, common))
	}
	blocks := []slack.Block{mrkdwnSection(b.String())}
	if firing > 0 {
		if len(g.Open) == 0 {
			blocks = append(blocks, DeclareSignalBlock(service, g.Title(), timeline.SourceAlert))
		} else {
			blocks = append(blocks, contextMrkdwn(openLine(service, g.Open, "this group's new alerts go to its timeline")))
		}
	}
	blocks = append(blocks, contextMrkdwn(groupContext(g, common, firing)))
	return Message{Text: mrkdwn.Clip(mrkdwn.Escape(AlertGroupText(g)), maxFallbackText), Blocks: blocks}
}

// AlertGroupText is a group's message in words, without markup: the
// message's fallback text, and what a declaration from its button records
// as the incident's first observation.
func AlertGroupText(g AlertGroup) string {
	firing, resolved := g.counts()
	var b strings.Builder
	switch {
	case firing == 0:
		b.WriteString("Resolved: " + g.Name())
	case firing+resolved == 1:
		b.WriteString("Alert firing: " + g.Name())
	default:
		fmt.Fprintf(&b, "Alerts firing: %s, %d firing", g.Name(), firing)
		if resolved > 0 {
			fmt.Fprintf(&b, ", %d resolved", resolved)
		}
	}
	if s := g.Service(); s != "" {
		b.WriteString(" (service " + s + ")")
	}
	if firing > 0 && len(g.Alerts) > 1 {
		common, named := g.commonLabels(), len(g.names()) > 1
		var parts []string
		for _, a := range g.firing() {
			if len(parts) == maxListedAlerts {
				break
			}
			parts = append(parts, mrkdwn.Clip(alertLabels(a, common, named), maxAlertLine))
		}
		b.WriteString(": " + strings.Join(parts, "; "))
		if more := firing - len(parts); more > 0 {
			fmt.Fprintf(&b, " and %d more", more)
		}
	}
	return b.String()
}

// AlertGroupEntry is the observe entry several alerts of one group become
// in an open incident, in words: the group, its severity and service, the
// summary the firing ones share, then the first few firing (since when)
// and resolved (for how long) by the labels that tell them apart.
func AlertGroupEntry(g AlertGroup) string {
	var firing, resolved []string
	for _, a := range g.Alerts {
		if a.Resolved {
			resolved = append(resolved, cmp.Or(g.LabelsOf(a), a.Name)+" "+a.Span)
		} else {
			line := cmp.Or(g.LabelsOf(a), a.Name)
			if !a.StartsAt.IsZero() {
				line += " since " + mrkdwn.Clock(a.StartsAt)
			}
			firing = append(firing, line)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Alerts of %s", g.Name())
	var about []string
	if sev := g.CommonLabel("severity"); sev != "" {
		about = append(about, "severity "+sev)
	}
	if s := g.Service(); s != "" {
		about = append(about, "service "+s)
	}
	if len(about) > 0 {
		b.WriteString(" (" + strings.Join(about, ", ") + ")")
	}
	if s := g.CommonSummary(); s != "" && len(firing) > 0 {
		b.WriteString(": " + s)
	}
	if len(firing) > 0 {
		fmt.Fprintf(&b, " — %d firing: %s", len(firing), listed(firing))
	}
	if len(resolved) > 0 {
		fmt.Fprintf(&b, " — %d resolved: %s", len(resolved), listed(resolved))
	}
	return b.String()
}

// listed joins the first maxListedAlerts items and counts the rest.
func listed(items []string) string {
	if len(items) <= maxListedAlerts {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:maxListedAlerts], "; ") + fmt.Sprintf(" and %d more", len(items)-maxListedAlerts)
}

// AlertGroupResolved is the reply, in the thread of a group's message,
// that some of its alerts resolved.
func AlertGroupResolved(g AlertGroup, resolved []Alert) Message {
	firing, _ := g.counts()
	common, named := g.commonLabels(), len(g.names()) > 1
	name := g.Name()
	var head, text string
	switch {
	case len(resolved) == 1:
		a := resolved[0]
		what := a.Name
		if l := alertLabels(a, common, false); l != "" {
			what += " " + l
		}
		head = fmt.Sprintf(":white_check_mark: Resolved: *%s* (%s).", mrkdwn.Clip(mrkdwn.Escape(what), maxAlertLine), a.Span)
		text = fmt.Sprintf("Resolved: %s (%s).", what, a.Span)
	case firing == 0:
		head = fmt.Sprintf(":white_check_mark: All alerts of *%s* resolved:", mrkdwn.Clip(mrkdwn.Escape(name), maxAlertName))
		text = fmt.Sprintf("All alerts of %s resolved.", name)
	default:
		head = fmt.Sprintf(":white_check_mark: %d alerts of *%s* resolved, %d still firing:", len(resolved), mrkdwn.Clip(mrkdwn.Escape(name), maxAlertName), firing)
		text = fmt.Sprintf("%d alerts of %s resolved, %d still firing.", len(resolved), name, firing)
	}
	if len(resolved) > 1 {
		var b strings.Builder
		b.WriteString(head)
		for i, a := range resolved {
			if i == maxListedAlerts {
				fmt.Fprintf(&b, "\n…and %d more", len(resolved)-i)
				break
			}
			b.WriteString("\n• " + alertLine(a, common, named))
		}
		head = b.String()
	}
	return Message{Text: mrkdwn.Clip(mrkdwn.Escape(text), maxFallbackText), Blocks: []slack.Block{mrkdwnSection(head)}}
}

// alertLines lists the group's alerts, firing first, each by the labels
// that tell it from the others, then how many more there are.
func alertLines(g AlertGroup, common map[string]string) string {
	var b strings.Builder
	shown := 0
	named := len(g.names()) > 1
	for _, a := range append(g.firing(), g.resolved()...) {
		if shown == maxListedAlerts {
			break
		}
		b.WriteString("\n• " + alertLine(a, common, named))
		shown++
	}
	firing, resolved := g.counts()
	if more := firing + resolved - shown; more > 0 {
		moreFiring := firing - min(shown, len(g.firing()))
		fmt.Fprintf(&b, "\n…and %d more", more)
		if moreFiring > 0 && moreFiring < more {
			fmt.Fprintf(&b, " (%d firing)", moreFiring)
		}
	}
	return b.String()
}

// alertLine is one alert in a list: its telling labels and when it fired.
func alertLine(a Alert, common map[string]string, named bool) string {
	labels := alertLabels(a, common, named)
	if labels == "" {
		labels = a.Name
	}
	line := "`" + mrkdwn.Clip(mrkdwn.Escape(labels), maxAlertLine) + "`"
	switch {
	case a.Resolved:
		line = ":white_check_mark: " + line + " " + a.Span
	case !a.StartsAt.IsZero():
		line += " since " + mrkdwn.Clock(a.StartsAt)
	}
	return line
}

// alertLabels are an alert's labels that the group does not share, as
// k=v pairs, with its name first when named.
func alertLabels(a Alert, common map[string]string, named bool) string {
	var labels []string
	for k, v := range a.Labels {
		if k == model.AlertNameLabel {
			continue
		}
		if cv, ok := common[k]; !ok || cv != v {
			labels = append(labels, k+"="+v)
		}
	}
	slices.Sort(labels)
	if named {
		labels = append([]string{a.Name}, labels...)
	}
	return strings.Join(labels, " ")
}

// commonSummary is the summary every alert of the group gives, or, for a
// group of one, its own.
func commonSummary(alerts []Alert) string {
	if len(alerts) == 0 {
		return ""
	}
	s := alerts[0].Summary
	for _, a := range alerts[1:] {
		if a.Summary != s {
			return ""
		}
	}
	return s
}

// groupLink is the source of the first firing alert that has one.
func groupLink(g AlertGroup) string {
	for _, a := range append(g.firing(), g.resolved()...) {
		if link := WebLink(a.GeneratorURL); link != "" {
			return link
		}
	}
	return ""
}

// openLine names the open incidents of service that take the place of a
// Declare button, and says what goes to their timeline: "Open for
// `checkout`: INC-7 <#C1> (this warning is in its timeline)."
func openLine(service string, open []incident.Incident, what string) string {
	var where []string
	for _, inc := range open {
		s := inc.ID
		if inc.ChannelID != "" {
			s += " <#" + inc.ChannelID + ">"
		}
		where = append(where, s)
	}
	return "Open for `" + mrkdwn.Escape(service) + "`: " + strings.Join(where, ", ") + " (" + what + ")."
}

// groupContext is the message's last line: what covers it, since when,
// its source and the labels the alerts share.
func groupContext(g AlertGroup, common map[string]string, firing int) string {
	var parts []string
	service := g.Service()
	switch {
	case firing == 0:
		parts = append(parts, "Every alert of this group has resolved")
	case len(g.Open) > 0:
		// The line above names the incidents.
	case service != "":
		parts = append(parts, "No open incident for `"+mrkdwn.Clip(mrkdwn.Escape(service), maxAlertName)+"`")
	default:
		parts = append(parts, "No open incident covers it")
	}
	var since time.Time
	for _, a := range g.firing() {
		if !a.StartsAt.IsZero() && (since.IsZero() || a.StartsAt.Before(since)) {
			since = a.StartsAt
		}
	}
	if !since.IsZero() {
		parts = append(parts, "firing since "+mrkdwn.Clock(since))
	}
	if link := groupLink(g); link != "" && len(link) <= maxAlertLink {
		// Inside a link Slack reads the same entities as anywhere else.
		parts = append(parts, "<"+mrkdwn.Escape(link)+"|Source>")
	}
	var labels []string
	for k, v := range common {
		if k != model.AlertNameLabel {
			labels = append(labels, k+"="+v)
		}
	}
	slices.Sort(labels)
	if len(labels) > 0 {
		parts = append(parts, "`"+mrkdwn.Clip(mrkdwn.Escape(strings.Join(labels, " ")), 500)+"`")
	}
	line := strings.Join(parts, " · ")
	if line == "" {
		return "Firing"
	}
	return strings.ToUpper(line[:1]) + line[1:]
}
