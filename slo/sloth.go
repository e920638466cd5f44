package slo

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The Kubernetes resource that carries a Sloth spec.
const (
	kubernetesAPIVersion = "sloth.slok.dev/v1"
	kubernetesKind       = "PrometheusServiceLevel"
)

// Sloth's spec, field for field (Sloth's pkg/prometheus/api/v1 and, with
// the k8s tags, pkg/kubernetes/api/sloth/v1, whose fields are camelCase).
type slothSpec struct {
	Version    string            `yaml:"version" k8s:"-"`
	Service    string            `yaml:"service"`
	Labels     map[string]string `yaml:"labels"`
	SLOPlugins *slothPlugins     `yaml:"slo_plugins" k8s:"sloPlugins"`
	// SLOs are decoded one by one, so that a problem in one keeps out
	// that one only.
	SLOs yaml.Node `yaml:"slos"`
}

type slothSLO struct {
	Name        string            `yaml:"name"`
	Objective   *float64          `yaml:"objective"`
	Description string            `yaml:"description"`
	Labels      map[string]string `yaml:"labels"`
	Plugins     *slothPlugins     `yaml:"plugins"`
	SLI         struct {
		Events *struct {
			ErrorQuery string `yaml:"error_query" k8s:"errorQuery"`
			TotalQuery string `yaml:"total_query" k8s:"totalQuery"`
		} `yaml:"events"`
		Raw *struct {
			ErrorRatioQuery string `yaml:"error_ratio_query" k8s:"errorRatioQuery"`
		} `yaml:"raw"`
		Plugin *struct {
			ID      string            `yaml:"id"`
			Options map[string]string `yaml:"options"`
		} `yaml:"plugin"`
	} `yaml:"sli"`
	Alerting struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
		PageAlert   slothAlert        `yaml:"page_alert" k8s:"pageAlert"`
		TicketAlert slothAlert        `yaml:"ticket_alert" k8s:"ticketAlert"`
	} `yaml:"alerting"`
}

type slothAlert struct {
	Disable     bool              `yaml:"disable"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// slothPlugins is slo_plugins or an SLO's plugins: Sloth runs them while
// generating the Prometheus rules.
type slothPlugins struct {
	OverridePrevious bool          `yaml:"overridePrevious"`
	Chain            []slothPlugin `yaml:"chain"`
}

type slothPlugin struct {
	ID       string    `yaml:"id"`
	Priority int       `yaml:"priority"`
	Config   yaml.Node `yaml:"config"`
}

// kubernetesResource is the envelope of the Kubernetes form. Ooda reads
// nothing from the metadata and the status a cluster adds.
type kubernetesResource struct {
	APIVersion string    `yaml:"apiVersion"`
	Kind       string    `yaml:"kind"`
	Metadata   yaml.Node `yaml:"metadata"`
	Spec       yaml.Node `yaml:"spec"`
	Status     yaml.Node `yaml:"status"`
}

// slothNames spells a field the way a format does: Sloth's spec in
// snake_case, its Kubernetes form in camelCase.
type slothNames Format

func (f slothNames) of(snake string) string {
	if Format(f) != FormatKubernetes {
		return snake
	}
	parts := strings.Split(snake, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

// nameRE is Sloth's rule for service and SLO names, except that one
// character is enough; it also keeps "/", the separator of an SLO's ID,
// out of them.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]*$`)

// readSloth reads a document of Sloth's spec, or of its Kubernetes form.
func (r *reader) readSloth(file int, path string, doc *yaml.Node, format Format) {
	names := slothNames(format)
	var (
		d      = fieldDecoder{format: format}
		spec   slothSpec
		prefix string
	)
	specNode := doc
	if format == FormatKubernetes {
		var res kubernetesResource
		d.decode(doc, &res, "")
		if res.Spec.Kind == 0 || isNull(&res.Spec) {
			d.fail(doc, "spec", "missing; the Sloth spec goes under spec:")
		}
		specNode, prefix = &res.Spec, "spec"
		d.tag = "k8s"
	}
	if specNode.Kind != 0 {
		d.decode(specNode, &spec, prefix)
	}
	var header []*SpecError
	bad := func(n *yaml.Node, field, format string, args ...any) {
		header = append(header, &SpecError{File: path, Line: n.Line, Field: join(prefix, field), Problem: fmt.Sprintf(format, args...)})
	}
	if format == FormatSloth {
		switch {
		case spec.Version == "":
			bad(doc, "version", "missing; want %q", SlothVersion)
		case spec.Version != SlothVersion:
			bad(doc, "version", "%q is not supported; want %q", spec.Version, SlothVersion)
		}
	}
	switch {
	case spec.Service == "":
		bad(specNode, "service", "missing; name the service these SLOs belong to")
	case !nameRE.MatchString(spec.Service):
		bad(specNode, "service", "%q: use letters, digits, '-', '_' and '.'", spec.Service)
	}
	for _, p := range checkLabels(spec.Labels, "labels", "label") {
		bad(specNode, p.path, "%s", p.problem)
	}
	plugins := newPluginNote()
	for _, p := range plugins.add(spec.SLOPlugins, names.of("slo_plugins")) {
		bad(specNode, p.path, "%s", p.problem)
	}
	slos := resolve(&spec.SLOs)
	switch {
	case slos.Kind == 0 || isNull(slos) || slos.Kind == yaml.SequenceNode && len(slos.Content) == 0:
		bad(specNode, "slos", "no SLOs; add at least one under slos:")
	case slos.Kind != yaml.SequenceNode:
		bad(slos, "slos", "want a list of SLOs (lines starting with - name:), not %s", describe(slos))
	}
	header = append(fieldProblems(path, "", d.problems), header...)
	for _, e := range header {
		r.problem(file, e)
	}
	for _, w := range respelt(path, "", d.respelt) {
		r.warn(file, w)
	}

	var kept []SLO
	seen := map[string]bool{}
	if slos.Kind == yaml.SequenceNode {
		for i, n := range slos.Content {
			s, errs, warns := readSlothSLO(path, resolve(n), i, spec, format, plugins, seen)
			for _, e := range errs {
				r.problem(file, e)
			}
			for _, w := range warns {
				r.warn(file, w)
			}
			if len(errs) == 0 && len(header) == 0 {
				kept = append(kept, s)
			}
		}
	}
	if w, ok := plugins.warning(path, format); ok {
		r.warn(file, w)
	}
	r.keep(file, kept...)
}

// readSlothSLO reads the i-th SLO of a Sloth spec; seen holds the names
// of those before it.
func readSlothSLO(path string, n *yaml.Node, i int, spec slothSpec, format Format, plugins *pluginNote, seen map[string]bool) (SLO, []*SpecError, []Warning) {
	names := slothNames(format)
	d := fieldDecoder{format: format}
	if format == FormatKubernetes {
		d.tag = "k8s"
	}
	var s slothSLO
	d.decode(n, &s, "")
	id := s.Name
	if id == "" || n.Kind != yaml.MappingNode {
		id = fmt.Sprintf("#%d", i+1)
	}
	errs := fieldProblems(path, id, d.problems)
	warns := respelt(path, id, d.respelt)
	bad := func(field, format string, args ...any) {
		errs = append(errs, &SpecError{File: path, Line: n.Line, SLO: id, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if n.Kind != yaml.MappingNode {
		if len(errs) == 0 {
			bad("", "want an SLO (name, objective, sli, alerting), not %s", describe(n))
		}
		return SLO{}, errs, nil
	}
	switch {
	case s.Name == "":
		bad("name", "missing; give the SLO a name such as requests-availability")
	case !nameRE.MatchString(s.Name):
		bad("name", "%q: use letters, digits, '-', '_' and '.'", s.Name)
	case seen[s.Name]:
		bad("name", "appears twice for service %s; SLO names must be unique within a service", spec.Service)
	}
	seen[s.Name] = true
	checkObjective(s.Objective, bad)

	sli := SLI{}
	events, raw, plugin := s.SLI.Events != nil, s.SLI.Raw != nil, s.SLI.Plugin != nil
	switch {
	case plugin:
		bad("sli.plugin", "Ooda cannot evaluate the SLI plugin %q: its queries are built inside Sloth; write them out under sli.events (%s and %s) or sli.raw (%s) instead",
			s.SLI.Plugin.ID, names.of("error_query"), names.of("total_query"), names.of("error_ratio_query"))
	case events && raw:
		bad("sli", "has both events and raw; keep one")
	case events:
		sli.ErrorQuery, sli.TotalQuery = s.SLI.Events.ErrorQuery, s.SLI.Events.TotalQuery
		errQ, totalQ := "sli.events."+names.of("error_query"), "sli.events."+names.of("total_query")
		if err := checkQuery(sli.ErrorQuery); err != nil {
			bad(errQ, "%v", err)
		}
		if err := checkQuery(sli.TotalQuery); err != nil {
			bad(totalQ, "%v", err)
		}
		if sli.ErrorQuery != "" && sameQuery(sli.ErrorQuery, sli.TotalQuery) {
			bad(errQ, "the same query as %s: every request would count as an error, a burn of %s× on every window; count the failed requests only (code=~\"5..\", say)",
				names.of("total_query"), formatFloat(1/ErrorBudget(objectiveOr(s.Objective))))
		}
	case raw:
		sli.ErrorRatioQuery = s.SLI.Raw.ErrorRatioQuery
		if err := checkQuery(sli.ErrorRatioQuery); err != nil {
			bad("sli.raw."+names.of("error_ratio_query"), "%v", err)
		}
	default:
		bad("sli", "missing; want sli.events (%s and %s) or sli.raw (%s)", names.of("error_query"), names.of("total_query"), names.of("error_ratio_query"))
	}
	for _, p := range checkLabels(s.Labels, "labels", "label") {
		bad(p.path, "%s", p.problem)
	}
	for _, p := range plugins.add(s.Plugins, "plugins") {
		bad(p.path, "%s", p.problem)
	}

	a := s.Alerting
	if a.Name == "" && (!a.PageAlert.Disable || !a.TicketAlert.Disable) {
		bad("alerting.name", "missing; Sloth names the alerts it generates with it, so it is needed while %s or %s is enabled (name them such as MyServiceHighErrorRate, or set disable: true on both)",
			names.of("page_alert"), names.of("ticket_alert"))
	}
	for _, p := range checkLabels(a.Labels, "alerting.labels", "label") {
		bad(p.path, "%s", p.problem)
	}
	for _, p := range checkLabels(a.Annotations, "alerting.annotations", "annotation") {
		bad(p.path, "%s", p.problem)
	}
	for _, al := range []struct {
		name string
		spec slothAlert
	}{{names.of("page_alert"), a.PageAlert}, {names.of("ticket_alert"), a.TicketAlert}} {
		for _, p := range checkLabels(al.spec.Labels, "alerting."+al.name+".labels", "label") {
			bad(p.path, "%s", p.problem)
		}
		for _, p := range checkLabels(al.spec.Annotations, "alerting."+al.name+".annotations", "annotation") {
			bad(p.path, "%s", p.problem)
		}
	}
	if len(errs) > 0 {
		return SLO{}, errs, warns
	}
	return SLO{
		ID:          spec.Service + "/" + s.Name,
		Service:     spec.Service,
		Name:        s.Name,
		Description: s.Description,
		File:        path,
		Line:        n.Line,
		Format:      format,
		Objective:   *s.Objective,
		Labels:      mergeLabels(spec.Labels, s.Labels),
		SLI:         sli,
		Alerting: Alerting{
			Name: a.Name, Labels: a.Labels, Annotations: a.Annotations,
			Page:   AlertSpec(a.PageAlert),
			Ticket: AlertSpec(a.TicketAlert),
		},
	}, nil, warns
}

// respelt turns fields read under the other Sloth form's spelling into
// warnings.
func respelt(path, slo string, ps []fieldProblem) []Warning {
	out := make([]Warning, len(ps))
	for i, p := range ps {
		out[i] = Warning{File: path, SLO: slo, Message: fmt.Sprintf("%s (line %d): %s", p.path, p.line, p.problem)}
	}
	return out
}

// checkObjective checks an objective in percent.
func checkObjective(o *float64, bad func(field, format string, args ...any)) {
	switch {
	case o == nil:
		bad("objective", "missing; want a percentage such as 99.9")
	case !(*o > 0 && *o < 100):
		bad("objective", "%v: want a percentage above 0 and below 100, such as 99.9", *o)
	}
}

// objectiveOr is the objective, or the usual 99.9 when it is missing or
// out of range: only to say how much a lying query would burn.
func objectiveOr(o *float64) float64 {
	if o == nil || !(*o > 0 && *o < 100) {
		return 99.9
	}
	return *o
}

// checkLabels checks labels (or annotations) the way Sloth does: a name
// Prometheus accepts that is not __name__, and a value that is not empty.
// what is "label" or "annotation".
func checkLabels(m map[string]string, field, what string) []fieldProblem {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []fieldProblem
	for _, k := range keys {
		v, path := m[k], join(field, k)
		switch {
		case k == "" || !utf8.ValidString(k):
			out = append(out, fieldProblem{path: field, problem: fmt.Sprintf("%q is not a %s name; use letters, digits and _", k, what)})
		case what == "label" && k == "__name__":
			out = append(out, fieldProblem{path: path, problem: "__name__ is the metric's name, not a label Ooda or Sloth may set; choose another name"})
		case v == "":
			out = append(out, fieldProblem{path: path, problem: fmt.Sprintf("empty; give the %s a value or remove it (Sloth refuses empty values too)", what)})
		case !utf8.ValidString(v):
			out = append(out, fieldProblem{path: path, problem: "not valid UTF-8"})
		}
	}
	return out
}

// pluginNote gathers the Sloth SLO plugins of a document, which Ooda
// ignores and says so once.
type pluginNote struct {
	ids []string
}

func newPluginNote() *pluginNote { return &pluginNote{} }

// add notes the plugins of p, found under field, and returns the
// problems Sloth would refuse them for.
func (n *pluginNote) add(p *slothPlugins, field string) []fieldProblem {
	if p == nil {
		return nil
	}
	var out []fieldProblem
	for i, pl := range p.Chain {
		if pl.ID == "" {
			out = append(out, fieldProblem{path: fmt.Sprintf("%s.chain[%d].id", field, i), problem: "missing; Sloth needs each plugin's id"})
			continue
		}
		if !slices.Contains(n.ids, pl.ID) {
			n.ids = append(n.ids, pl.ID)
		}
	}
	return out
}

// warning is the one line that says which plugins were ignored and why.
func (n *pluginNote) warning(path string, format Format) (Warning, bool) {
	if len(n.ids) == 0 {
		return Warning{}, false
	}
	names := slothNames(format)
	msg := fmt.Sprintf("Sloth SLO plugins ignored (%s): they shape the Prometheus rules Sloth generates; Ooda evaluates the SLI's own queries, which %s and plugins do not change",
		strings.Join(n.ids, ", "), names.of("slo_plugins"))
	for _, id := range n.ids {
		if strings.Contains(id, "victoria_metrics") {
			msg += ". " + id + " says these queries are MetricsQL, for VictoriaMetrics: Ooda sends them to Prometheus, which refuses MetricsQL's own functions (histogram_share, say), and those SLOs then show a configuration error"
			break
		}
	}
	return Warning{File: path, Message: msg}, true
}
