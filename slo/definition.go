package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// SlothVersion is the version of the Sloth spec Ooda reads.
const SlothVersion = "prometheus/v1"

// SLO is one validated service level objective from a Sloth file.
type SLO struct {
	// ID is "service/name", unique across all loaded files.
	ID          string
	Service     string
	Name        string
	Description string
	// File is where the SLO was read, for messages that send people to it.
	File string
	// Objective is the target in percent, as in the file: 99.9.
	Objective float64
	// Labels are the file's labels merged with the SLO's own.
	Labels   map[string]string
	SLI      SLI
	Alerting Alerting
}

// SLI holds the queries of an SLO, with {{.window}} where the window goes.
// Either ErrorQuery and TotalQuery (an events SLI) or ErrorRatioQuery (a
// raw SLI) are set.
type SLI struct {
	ErrorQuery      string
	TotalQuery      string
	ErrorRatioQuery string
}

// Raw reports whether the SLI is a ready-made error ratio.
func (s SLI) Raw() bool { return s.ErrorRatioQuery != "" }

// Alerting is the alerting section of a Sloth SLO. Ooda does not generate
// Prometheus alerts from it; it honours Disable and passes the rest to the
// messages it posts.
type Alerting struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	Page        AlertSpec
	Ticket      AlertSpec
}

// AlertSpec is page_alert or ticket_alert.
type AlertSpec struct {
	Disable     bool
	Labels      map[string]string
	Annotations map[string]string
}

// ErrorBudget is the share of events allowed to fail: 0.001 for 99.9 %.
// It is rounded to the decimal places an objective is written with, so
// that 99.9 gives exactly the float 0.001 and an error ratio of exactly
// 1/1000 spends exactly the whole budget.
func (s SLO) ErrorBudget() float64 {
	return ErrorBudget(s.Objective)
}

// ErrorBudget is the error budget of an objective in percent; see
// SLO.ErrorBudget.
func ErrorBudget(objective float64) float64 {
	return math.Round((100-objective)*1e9) / 1e11
}

// Warning is a problem with an SLO file that does not stop Ooda from using
// it, said once at start-up.
type Warning struct {
	File    string
	SLO     string
	Message string
}

// String gives the warning as one line: file: slo "name": message.
func (w Warning) String() string {
	return w.File + ": slo " + strconv.Quote(w.SLO) + ": " + w.Message
}

// SpecError is one problem with an SLO file. Field is the YAML path of the
// value at fault, such as objective or sli.events.error_query.
type SpecError struct {
	File    string
	SLO     string // empty for problems with the file's header
	Field   string
	Problem string
}

// Error gives the problem as one line: file: slo "name": field: problem.
func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.SLO != "" {
		b.WriteString(": slo ")
		b.WriteString(strconv.Quote(e.SLO))
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	return b.String()
}

// The file format, field for field: Sloth's pkg/prometheus/api/v1.
type specFile struct {
	Version string            `yaml:"version"`
	Service string            `yaml:"service"`
	Labels  map[string]string `yaml:"labels"`
	SLOs    []specSLO         `yaml:"slos"`
}

type specSLO struct {
	Name        string            `yaml:"name"`
	Objective   *float64          `yaml:"objective"`
	Description string            `yaml:"description"`
	Labels      map[string]string `yaml:"labels"`
	SLI         struct {
		Events *struct {
			ErrorQuery string `yaml:"error_query"`
			TotalQuery string `yaml:"total_query"`
		} `yaml:"events"`
		Raw *struct {
			ErrorRatioQuery string `yaml:"error_ratio_query"`
		} `yaml:"raw"`
		Plugin yaml.Node `yaml:"plugin"`
	} `yaml:"sli"`
	Alerting struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
		PageAlert   specAlert         `yaml:"page_alert"`
		TicketAlert specAlert         `yaml:"ticket_alert"`
	} `yaml:"alerting"`
}

type specAlert struct {
	Disable     bool              `yaml:"disable"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// LoadFile reads the SLOs of one Sloth prometheus/v1 file (several YAML
// documents may share it). The error lists every problem found, each
// naming the file, the SLO and the field. Warnings are judged against the
// default 30-day windows; see Windows.Warnings for another period.
func LoadFile(path string) ([]SLO, []Warning, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("slo file: %w", err)
	}
	return Parse(path, b)
}

// LoadFiles reads several files with LoadFile and also refuses two SLOs
// with the same service and name.
func LoadFiles(paths []string) ([]SLO, []Warning, error) {
	var (
		all   []SLO
		warns []Warning
		errs  []error
	)
	seen := map[string]string{}
	for _, p := range paths {
		slos, w, err := LoadFile(p)
		warns = append(warns, w...)
		if err != nil {
			errs = append(errs, err)
		}
		for _, s := range slos {
			if first, dup := seen[s.ID]; dup {
				errs = append(errs, &SpecError{File: p, SLO: s.Name, Field: "name",
					Problem: fmt.Sprintf("service %s already has an SLO %s in %s; SLO names must be unique within a service", s.Service, s.Name, first)})
				continue
			}
			seen[s.ID] = p
			all = append(all, s)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, warns, err
	}
	return all, warns, nil
}

// Parse reads SLOs from the contents of a Sloth file; name is what errors
// call it.
func Parse(name string, data []byte) ([]SLO, []Warning, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var (
		out  []SLO
		errs []error
	)
	for doc := 1; ; doc++ {
		var f specFile
		err := dec.Decode(&f)
		if errors.Is(err, io.EOF) {
			if doc == 1 {
				errs = append(errs, &SpecError{File: name, Problem: "the file is empty; want a Sloth prometheus/v1 spec"})
			}
			break
		}
		file := name
		if doc > 1 {
			file = fmt.Sprintf("%s (document %d)", name, doc)
		}
		if err != nil {
			errs = append(errs, &SpecError{File: file, Problem: yamlProblem(err)})
			break
		}
		slos, ferrs := f.validate(file)
		out = append(out, slos...)
		errs = append(errs, ferrs...)
	}
	// Two documents of one file may describe the same service.
	seen := map[string]bool{}
	for _, s := range out {
		if seen[s.ID] {
			errs = append(errs, &SpecError{File: s.File, SLO: s.Name, Field: "name", Problem: "appears twice for service " + s.Service})
		}
		seen[s.ID] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return out, DefaultWindows(DefaultPeriod).Warnings(out), nil
}

// typeNameRE finds the Go type in yaml.v3's "field x not found in type
// slo.specSLO", which means nothing to someone editing a YAML file.
var typeNameRE = regexp.MustCompile(` in type [\w.]+`)

func yamlProblem(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msg = strings.Join(te.Errors, "; ")
	}
	msg = typeNameRE.ReplaceAllString(msg, " in the Sloth prometheus/v1 format")
	return "not a valid Sloth file: " + msg
}

// nameRE is Sloth's rule for service and SLO names; it also keeps "/", the
// separator of an SLO's ID, out of them.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]*$`)

func (f specFile) validate(file string) ([]SLO, []error) {
	var errs []error
	bad := func(slo, field, format string, args ...any) {
		errs = append(errs, &SpecError{File: file, SLO: slo, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	switch {
	case f.Version == "":
		bad("", "version", "missing; want %q", SlothVersion)
	case f.Version != SlothVersion:
		bad("", "version", "%q is not supported; want %q", f.Version, SlothVersion)
	}
	switch {
	case f.Service == "":
		bad("", "service", "missing; name the service these SLOs belong to")
	case !nameRE.MatchString(f.Service):
		bad("", "service", "%q: use letters, digits, '-', '_' and '.'", f.Service)
	}
	if len(f.SLOs) == 0 {
		bad("", "slos", "no SLOs; add at least one under slos:")
	}
	var out []SLO
	names := map[string]bool{}
	for i, s := range f.SLOs {
		id := s.Name
		if id == "" {
			id = fmt.Sprintf("#%d", i+1)
		}
		n := len(errs)
		switch {
		case s.Name == "":
			bad(id, "name", "missing")
		case !nameRE.MatchString(s.Name):
			bad(id, "name", "%q: use letters, digits, '-', '_' and '.'", s.Name)
		case names[s.Name]:
			bad(id, "name", "appears twice in this file")
		}
		names[s.Name] = true
		switch {
		case s.Objective == nil:
			bad(id, "objective", "missing; want a percentage such as 99.9")
		case !(*s.Objective > 0 && *s.Objective < 100):
			bad(id, "objective", "%v: want a percentage above 0 and below 100, such as 99.9", *s.Objective)
		}
		sli := SLI{}
		events, raw := s.SLI.Events != nil, s.SLI.Raw != nil
		switch {
		case s.SLI.Plugin.Kind != 0:
			bad(id, "sli.plugin", "SLI plugins are not supported; write the queries under sli.events or sli.raw")
		case events && raw:
			bad(id, "sli", "has both events and raw; keep one")
		case events:
			sli.ErrorQuery, sli.TotalQuery = s.SLI.Events.ErrorQuery, s.SLI.Events.TotalQuery
			if err := checkQuery(sli.ErrorQuery); err != nil {
				bad(id, "sli.events.error_query", "%v", err)
			}
			if err := checkQuery(sli.TotalQuery); err != nil {
				bad(id, "sli.events.total_query", "%v", err)
			}
		case raw:
			sli.ErrorRatioQuery = s.SLI.Raw.ErrorRatioQuery
			if err := checkQuery(sli.ErrorRatioQuery); err != nil {
				bad(id, "sli.raw.error_ratio_query", "%v", err)
			}
		default:
			bad(id, "sli", "missing; want sli.events (error_query and total_query) or sli.raw (error_ratio_query)")
		}
		if len(errs) > n {
			continue
		}
		a := s.Alerting
		out = append(out, SLO{
			ID:          f.Service + "/" + s.Name,
			Service:     f.Service,
			Name:        s.Name,
			Description: s.Description,
			File:        file,
			Objective:   *s.Objective,
			Labels:      mergeLabels(f.Labels, s.Labels),
			SLI:         sli,
			Alerting: Alerting{
				Name: a.Name, Labels: a.Labels, Annotations: a.Annotations,
				Page:   AlertSpec(a.PageAlert),
				Ticket: AlertSpec(a.TicketAlert),
			},
		})
	}
	return out, errs
}

func mergeLabels(a, b map[string]string) map[string]string {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// Validate reports every problem that stops s from being measured: a
// query that is not a template using {{.window}}, an events SLI without
// both of its queries. Parse refuses such SLOs already; Validate is for
// SLOs built in code.
func (s SLO) Validate() error {
	var errs []error
	for _, q := range []string{s.SLI.ErrorQuery, s.SLI.TotalQuery, s.SLI.ErrorRatioQuery} {
		if q == "" {
			continue
		}
		if err := checkQuery(q); err != nil {
			errs = append(errs, fmt.Errorf("slo %s: %w", s.ID, err))
		}
	}
	if !s.SLI.Raw() && (s.SLI.ErrorQuery == "" || s.SLI.TotalQuery == "") {
		errs = append(errs, fmt.Errorf("slo %s: an events SLI needs both queries", s.ID))
	}
	return errors.Join(errs...)
}

// windowProbe stands for the window when checking that a query uses it.
const windowProbe = "ooda_window_probe"

// checkQuery checks that a query is a template Sloth would accept and that
// it uses {{.window}}: without it every window would measure the same thing.
func checkQuery(q string) error {
	if strings.TrimSpace(q) == "" {
		return errors.New("missing")
	}
	out, err := renderQuery(q, windowProbe)
	if err != nil {
		return err
	}
	if !strings.Contains(out, windowProbe) {
		return errors.New("does not use {{.window}}; write the range as [{{.window}}]")
	}
	return nil
}

// renderQuery puts window into a query template the way Sloth does.
func renderQuery(q, window string) (string, error) {
	t, err := template.New("query").Option("missingkey=error").Parse(q)
	if err != nil {
		return "", fmt.Errorf("not a valid template: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]string{"window": window}); err != nil {
		return "", fmt.Errorf("not a valid template: the only variable is {{.window}}: %w", err)
	}
	return b.String(), nil
}

// Warnings says, for each SLO, which alerts can never fire with these
// windows: a total outage burns at most 1/(1 − objective), so an objective
// of 90 % (at most 10×) can never reach the 14.4× fast page.
func (w Windows) Warnings(slos []SLO) []Warning {
	var out []Warning
	for _, s := range slos {
		budget := s.ErrorBudget()
		if budget <= 0 {
			continue
		}
		maxBurn := 1 / budget
		var dead []string
		for _, a := range w.Alerts() {
			if a.Level == LevelPage && s.Alerting.Page.Disable || a.Level == LevelTicket && s.Alerting.Ticket.Disable {
				continue
			}
			if maxBurn <= a.Threshold {
				dead = append(dead, fmt.Sprintf("%s (%s/%s above %s×)", a.Name, FormatWindow(a.Window.Long), FormatWindow(a.Window.Short), formatFloat(a.Threshold)))
			}
		}
		if len(dead) == 0 {
			continue
		}
		out = append(out, Warning{File: s.File, SLO: s.Name, Message: fmt.Sprintf(
			"objective %v%% burns at most %s× even in a total outage, so %s can never fire; raise the objective or accept that only the slower alerts will warn",
			s.Objective, formatFloat(maxBurn), strings.Join(dead, ", "))})
	}
	return out
}

// formatFloat writes a threshold or a burn rate the way people quote them:
// 14.4, 0.933, 10.
func formatFloat(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/1000, 'f', -1, 64)
}
