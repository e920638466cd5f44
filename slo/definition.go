package slo

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// SlothVersion is the version of the Sloth spec Ooda reads.
const SlothVersion = "prometheus/v1"

// Format is a form of SLO file Ooda reads, as `ooda slo validate` names
// it.
type Format string

// The formats. Each maps into the same SLO.
const (
	// FormatSloth is Sloth's own spec: version: prometheus/v1.
	FormatSloth Format = "Sloth prometheus/v1"
	// FormatKubernetes is Sloth's Kubernetes resource: apiVersion:
	// sloth.slok.dev/v1, kind: PrometheusServiceLevel, the Sloth spec
	// under spec: with its fields in camelCase.
	FormatKubernetes Format = "Sloth Kubernetes PrometheusServiceLevel (sloth.slok.dev/v1)"
	// FormatOpenSLOv1alpha is OpenSLO's openslo/v1alpha SLO, as Sloth
	// reads it.
	FormatOpenSLOv1alpha Format = "OpenSLO openslo/v1alpha"
	// FormatOpenSLOv1 is OpenSLO's openslo/v1: SLO, SLI and DataSource
	// objects.
	FormatOpenSLOv1 Format = "OpenSLO openslo/v1"
)

// SLO is one validated service level objective from an SLO file.
type SLO struct {
	// ID is "service/name", unique across all loaded files.
	ID          string
	Service     string
	Name        string
	Description string
	// File is where the SLO was read, for messages that send people to
	// it, and Line the line of its entry there (0 when built in code).
	File   string
	Line   int
	Format Format
	// Objective is the target in percent: 99.9.
	Objective float64
	// Period is the SLO period the file gives (OpenSLO's time window);
	// zero when the format has none and the configured period applies.
	Period time.Duration
	// Labels are the file's labels merged with the SLO's own.
	Labels   map[string]string
	SLI      SLI
	Alerting Alerting
}

// PeriodOr returns the SLO's own period, or def when the file gave none.
func (s SLO) PeriodOr(def time.Duration) time.Duration {
	if s.Period > 0 {
		return s.Period
	}
	if def > 0 {
		return def
	}
	return DefaultPeriod
}

// SLI holds the queries of an SLO, with {{.window}} where the window goes.
// An events SLI counts failed events (ErrorQuery) or good ones (GoodQuery,
// OpenSLO's way) against TotalQuery; a raw SLI is a ready-made error
// ratio (ErrorRatioQuery). Exactly one of the three forms is set.
type SLI struct {
	ErrorQuery      string
	GoodQuery       string
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

// Warning is something about an SLO file that does not stop Ooda from
// using it (an alert that can never fire, a part of the file Ooda
// ignores), said once when the file is read. SLO is empty when it is
// about the whole file.
type Warning struct {
	File    string
	SLO     string
	Message string
}

// String gives the warning as one line: file: slo "name": message.
func (w Warning) String() string {
	if w.SLO == "" {
		return w.File + ": " + w.Message
	}
	return w.File + ": slo " + strconv.Quote(w.SLO) + ": " + w.Message
}

// SpecError is one problem with an SLO file, which keeps the SLO it
// names (or, with SLO empty, every SLO of the document) from being used.
// Field is the path of the value at fault in the file's own spelling,
// such as objective or sli.events.error_query; Line is where it is, 0
// when unknown.
type SpecError struct {
	File    string
	Line    int
	SLO     string
	Field   string
	Problem string
	// Err is the error behind Problem, when there is one (a file that
	// could not be read).
	Err error
}

// Unwrap returns the error behind the problem, if any.
func (e *SpecError) Unwrap() error { return e.Err }

// Error gives the problem as one line: file:line: slo "name": field:
// problem.
func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
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
// query that is not a template using {{.window}}, an SLI with none or
// several of its forms, an events SLI without its total. Reading a file
// refuses such SLOs already; Validate is for SLOs built in code.
func (s SLO) Validate() error {
	var errs []error
	for _, q := range []string{s.SLI.ErrorQuery, s.SLI.GoodQuery, s.SLI.TotalQuery, s.SLI.ErrorRatioQuery} {
		if q == "" {
			continue
		}
		if err := checkQuery(q); err != nil {
			errs = append(errs, fmt.Errorf("slo %s: %w", s.ID, err))
		}
	}
	counted := s.SLI.ErrorQuery != "" || s.SLI.GoodQuery != ""
	switch {
	case s.SLI.ErrorQuery != "" && s.SLI.GoodQuery != "":
		errs = append(errs, fmt.Errorf("slo %s: an events SLI counts errors or good events, not both", s.ID))
	case s.SLI.Raw() && (counted || s.SLI.TotalQuery != ""):
		errs = append(errs, fmt.Errorf("slo %s: a raw SLI has its error ratio query alone", s.ID))
	case !s.SLI.Raw() && (!counted || s.SLI.TotalQuery == ""):
		errs = append(errs, fmt.Errorf("slo %s: an events SLI needs both queries", s.ID))
	}
	return errors.Join(errs...)
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
