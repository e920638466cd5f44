package slo

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The OpenSLO versions Ooda reads.
const (
	osloV1alpha = "openslo/v1alpha"
	osloV1      = "openslo/v1"
)

// osloMetadata is an OpenSLO object's metadata; Ooda reads its name.
type osloMetadata struct {
	Name        string    `yaml:"name"`
	DisplayName string    `yaml:"displayName"`
	Labels      yaml.Node `yaml:"labels"`
	Annotations yaml.Node `yaml:"annotations"`
}

// osloV1alphaSLO is an openslo/v1alpha SLO as Sloth reads it (OpenSLO's
// oslo pkg/manifest/v1alpha).
type osloV1alphaSLO struct {
	APIVersion string       `yaml:"apiVersion"`
	Kind       string       `yaml:"kind"`
	Metadata   osloMetadata `yaml:"metadata"`
	Spec       struct {
		TimeWindows []struct {
			Unit      string    `yaml:"unit"`
			Count     int       `yaml:"count"`
			IsRolling bool      `yaml:"isRolling"`
			Calendar  yaml.Node `yaml:"calendar"`
		} `yaml:"timeWindows"`
		BudgetingMethod string    `yaml:"budgetingMethod"`
		Description     string    `yaml:"description"`
		Indicator       yaml.Node `yaml:"indicator"`
		Service         string    `yaml:"service"`
		// Objectives are decoded one by one: each is an SLO of its own.
		Objectives yaml.Node `yaml:"objectives"`
	} `yaml:"spec"`
}

type osloV1alphaObjective struct {
	DisplayName  string   `yaml:"displayName"`
	Value        *float64 `yaml:"value"`
	RatioMetrics *struct {
		Good        osloV1alphaQuery `yaml:"good"`
		Total       osloV1alphaQuery `yaml:"total"`
		Counter     bool             `yaml:"counter"`
		Incremental bool             `yaml:"incremental"`
	} `yaml:"ratioMetrics"`
	Target          *float64 `yaml:"target"`
	TimeSliceTarget *float64 `yaml:"timeSliceTarget"`
	Op              string   `yaml:"op"`
}

type osloV1alphaQuery struct {
	Source    string `yaml:"source"`
	QueryType string `yaml:"queryType"`
	Query     string `yaml:"query"`
}

// osloV1Object is any openslo/v1 object; its spec is read by kind.
type osloV1Object struct {
	APIVersion string       `yaml:"apiVersion"`
	Kind       string       `yaml:"kind"`
	Metadata   osloMetadata `yaml:"metadata"`
	Spec       yaml.Node    `yaml:"spec"`
}

type osloV1SLOSpec struct {
	Description     string             `yaml:"description"`
	Service         string             `yaml:"service"`
	Indicator       *osloV1SLIInline   `yaml:"indicator"`
	IndicatorRef    *string            `yaml:"indicatorRef"`
	BudgetingMethod string             `yaml:"budgetingMethod"`
	TimeWindow      []osloV1TimeWindow `yaml:"timeWindow"`
	Objectives      yaml.Node          `yaml:"objectives"`
	AlertPolicies   yaml.Node          `yaml:"alertPolicies"`
}

type osloV1TimeWindow struct {
	Duration  string    `yaml:"duration"`
	IsRolling *bool     `yaml:"isRolling"`
	Calendar  yaml.Node `yaml:"calendar"`
}

type osloV1Objective struct {
	DisplayName     string    `yaml:"displayName"`
	Op              string    `yaml:"op"`
	Value           *float64  `yaml:"value"`
	Target          *float64  `yaml:"target"`
	TargetPercent   *float64  `yaml:"targetPercent"`
	TimeSliceTarget *float64  `yaml:"timeSliceTarget"`
	TimeSliceWindow yaml.Node `yaml:"timeSliceWindow"`
	Indicator       yaml.Node `yaml:"indicator"`
	IndicatorRef    yaml.Node `yaml:"indicatorRef"`
	CompositeWeight *float64  `yaml:"compositeWeight"`
}

type osloV1SLIInline struct {
	Metadata osloMetadata  `yaml:"metadata"`
	Spec     osloV1SLISpec `yaml:"spec"`
}

type osloV1SLISpec struct {
	Description     string       `yaml:"description"`
	ThresholdMetric yaml.Node    `yaml:"thresholdMetric"`
	RatioMetric     *osloV1Ratio `yaml:"ratioMetric"`
}

type osloV1Ratio struct {
	Counter bool          `yaml:"counter"`
	Good    *osloV1Metric `yaml:"good"`
	Bad     *osloV1Metric `yaml:"bad"`
	Total   *osloV1Metric `yaml:"total"`
	RawType string        `yaml:"rawType"`
	Raw     *osloV1Metric `yaml:"raw"`
}

type osloV1Metric struct {
	MetricSource struct {
		MetricSourceRef string `yaml:"metricSourceRef"`
		Type            string `yaml:"type"`
		// Spec is the data source's own; Prometheus's holds query.
		Spec yaml.Node `yaml:"spec"`
	} `yaml:"metricSource"`
}

type osloV1DataSourceSpec struct {
	Description       string    `yaml:"description"`
	Type              string    `yaml:"type"`
	ConnectionDetails yaml.Node `yaml:"connectionDetails"`
}

// osloObject is an openslo/v1 SLI or DataSource that SLOs may refer to by
// name from any file.
type osloObject struct {
	file int
	path string
	line int
	sli  *osloV1SLISpec // an SLI's spec; nil for a DataSource
	typ  string         // a DataSource's type
	// broken is set when the object itself has problems, reported where
	// it is.
	broken bool
}

// osloPendingSLO is an openslo/v1 SLO waiting for the SLIs and
// DataSources of every file to be known.
type osloPendingSLO struct {
	file   int
	path   string
	line   int
	name   string
	spec   osloV1SLOSpec
	broken bool // its header had problems, already reported
}

// readOpenSLOv1alpha reads an openslo/v1alpha document the way Sloth
// does: each objective of an SLO is an SLO of its own, named after the
// SLO and the objective's index (availability-0), its good and total
// queries PromQL with {{.window}}, its target a ratio (0.999), and the
// period the time window in days.
func (r *reader) readOpenSLOv1alpha(file int, path string, doc *yaml.Node, kind string) {
	switch kind {
	case "SLO":
	case "Service":
		return // a description of the service; nothing to evaluate
	default:
		r.problem(file, &SpecError{File: path, Line: doc.Line, Field: "kind", Problem: fmt.Sprintf("%q: Ooda reads the SLO objects of %s", kind, osloV1alpha)})
		return
	}
	d := fieldDecoder{format: FormatOpenSLOv1alpha}
	var o osloV1alphaSLO
	d.decode(doc, &o, "")
	header := fieldProblems(path, "", d.problems)
	bad := func(field, format string, args ...any) {
		header = append(header, &SpecError{File: path, Line: doc.Line, SLO: o.Metadata.Name, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	checkOpenSLOName(o.Metadata.Name, o.Spec.Service, bad)
	checkBudgeting(o.Spec.BudgetingMethod, bad)
	if o.Spec.Indicator.Kind != 0 && !isNull(&o.Spec.Indicator) {
		bad("spec.indicator", "a thresholdMetric compares single values against a threshold; Ooda measures ratios of events: use objectives[].ratioMetrics")
	}
	var period time.Duration
	switch tw := o.Spec.TimeWindows; {
	case len(tw) > 1:
		bad("spec.timeWindows", "has %d time windows; an SLO has one", len(tw))
	case len(tw) == 1:
		w := tw[0]
		switch {
		case w.Calendar.Kind != 0 && !isNull(&w.Calendar):
			bad("spec.timeWindows[0].calendar", "%s", calendarRefused)
		case w.Count <= 0:
			bad("spec.timeWindows[0].count", "%d: want a number of days above 0, such as 30", w.Count)
		case strings.EqualFold(w.Unit, "Day"):
			period = time.Duration(w.Count) * Day
		case strings.EqualFold(w.Unit, "Week"):
			period = time.Duration(w.Count) * 7 * Day
		default:
			bad("spec.timeWindows[0].unit", "%q: a rolling window is counted in Day or Week units (a month has no fixed length: write count: 30, unit: Day)", w.Unit)
		}
		if period > 0 {
			if err := checkPeriod(period); err != nil {
				bad("spec.timeWindows[0]", "%v", err)
			}
		}
	}
	objectives := resolve(&o.Spec.Objectives)
	if objectives.Kind != yaml.SequenceNode || len(objectives.Content) == 0 {
		bad("spec.objectives", "no objectives; add at least one with ratioMetrics and a target")
	}
	for _, e := range header {
		r.problem(file, e)
	}
	if objectives.Kind != yaml.SequenceNode {
		return
	}
	var kept []SLO
	for i, n := range objectives.Content {
		n = resolve(n)
		name := fmt.Sprintf("%s-%d", o.Metadata.Name, i)
		field := fmt.Sprintf("spec.objectives[%d]", i)
		od := fieldDecoder{format: FormatOpenSLOv1alpha}
		var obj osloV1alphaObjective
		od.decode(n, &obj, field)
		errs := fieldProblems(path, name, od.problems)
		obad := func(f, format string, args ...any) {
			errs = append(errs, &SpecError{File: path, Line: n.Line, SLO: name, Field: field + f, Problem: fmt.Sprintf(format, args...)})
		}
		objective := checkTarget(obj.Target, nil, obad)
		if obj.Op != "" || obj.Value != nil {
			obad(".op", "op and value compare a thresholdMetric; an objective with ratioMetrics has a target only")
		}
		if obj.TimeSliceTarget != nil {
			obad(".timeSliceTarget", "%s", timeslicesRefused)
		}
		var sli SLI
		if rm := obj.RatioMetrics; rm == nil {
			obad(".ratioMetrics", "missing; Ooda measures ratioMetrics objectives: good and total PromQL queries with {{.window}}")
		} else {
			sli.GoodQuery = checkV1alphaQuery(rm.Good, ".ratioMetrics.good", obad)
			sli.TotalQuery = checkV1alphaQuery(rm.Total, ".ratioMetrics.total", obad)
			if sli.GoodQuery != "" && sameQuery(sli.GoodQuery, sli.TotalQuery) {
				obad(".ratioMetrics.good.query", "the same query as total: no request could ever count as an error, so the SLO would never burn; count the good requests only")
			}
		}
		if len(errs) > 0 || len(header) > 0 {
			for _, e := range errs {
				r.problem(file, e)
			}
			continue
		}
		kept = append(kept, SLO{
			ID: o.Spec.Service + "/" + name, Service: o.Spec.Service, Name: name,
			Description: o.Spec.Description, File: path, Line: n.Line, Format: FormatOpenSLOv1alpha,
			Objective: objective, Period: period, SLI: sli,
		})
	}
	r.keep(file, kept...)
}

// checkV1alphaQuery checks one of an objective's ratioMetrics queries and
// returns it.
func checkV1alphaQuery(q osloV1alphaQuery, field string, bad func(field, format string, args ...any)) string {
	if src := strings.ToLower(q.Source); src != "prometheus" && src != "sloth" {
		bad(field+".source", "%q: Ooda queries Prometheus; want source: prometheus", q.Source)
	}
	if !strings.EqualFold(q.QueryType, "promql") {
		bad(field+".queryType", "%q: want queryType: promql", q.QueryType)
	}
	if err := checkOpenSLOQuery(q.Query); err != nil {
		bad(field+".query", "%v", err)
	}
	return q.Query
}

// checkOpenSLOQuery is checkQuery, which says how OpenSLO's queries must
// carry the window.
func checkOpenSLOQuery(q string) error {
	err := checkQuery(q)
	if err != nil && strings.TrimSpace(q) != "" && !strings.Contains(q, "{{") {
		return errors.New("does not use {{.window}}: OpenSLO leaves the window to the tool that evaluates the SLO, and Ooda puts it where the query says, as in sum(rate(http_requests_total[{{.window}}]))")
	}
	return err
}

// The sentences that refuse what Ooda does not do.
const (
	calendarRefused   = "calendar-aligned windows are not supported: Ooda's burn-rate alerts and error budget are measured over a rolling period; use a rolling window (isRolling: true), such as 30d"
	timeslicesRefused = "Timeslices budgeting counts good periods, not good events; Ooda measures the ratio of good events (budgetingMethod: Occurrences)"
)

func checkOpenSLOName(name, service string, bad func(field, format string, args ...any)) {
	switch {
	case name == "":
		bad("metadata.name", "missing; name the SLO, such as checkout-availability")
	case !nameRE.MatchString(name):
		bad("metadata.name", "%q: use letters, digits, '-', '_' and '.'", name)
	}
	switch {
	case service == "":
		bad("spec.service", "missing; name the service this SLO belongs to")
	case !nameRE.MatchString(service):
		bad("spec.service", "%q: use letters, digits, '-', '_' and '.'", service)
	}
}

func checkBudgeting(method string, bad func(field, format string, args ...any)) {
	switch {
	case method == "" || strings.EqualFold(method, "Occurrences"):
	case strings.EqualFold(method, "Timeslices") || strings.EqualFold(method, "RatioTimeslices"):
		bad("spec.budgetingMethod", "%s: %s", method, timeslicesRefused)
	default:
		bad("spec.budgetingMethod", "%q: want Occurrences", method)
	}
}

// checkTarget reads an objective's target (a ratio) or targetPercent and
// returns it in percent.
func checkTarget(target, percent *float64, bad func(field, format string, args ...any)) float64 {
	switch {
	case target != nil && percent != nil:
		bad(".target", "give target or targetPercent, not both")
	case target != nil:
		if !(*target > 0 && *target < 1) {
			bad(".target", "%v: want a ratio above 0 and below 1, such as 0.999 for 99.9%%", *target)
			return 0
		}
		// 0.999 × 100 is 99.89999999999999 in floating point.
		return math.Round(*target*100*1e9) / 1e9
	case percent != nil:
		if !(*percent > 0 && *percent < 100) {
			bad(".targetPercent", "%v: want a percentage above 0 and below 100, such as 99.9", *percent)
			return 0
		}
		return *percent
	default:
		bad(".target", "missing; want a ratio such as 0.999 for 99.9%%")
	}
	return 0
}

// readOpenSLOv1 reads an openslo/v1 object. SLOs wait for every file's
// SLIs and DataSources (resolveOpenSLOv1); the kinds Ooda has no use for
// are skipped.
func (r *reader) readOpenSLOv1(file int, path string, doc *yaml.Node, kind string) {
	switch kind {
	case "SLO", "SLI", "DataSource":
	case "Service", "AlertPolicy", "AlertCondition", "AlertNotificationTarget":
		return
	default:
		r.problem(file, &SpecError{File: path, Line: doc.Line, Field: "kind", Problem: fmt.Sprintf(
			"%q is not an OpenSLO v1 kind; Ooda reads SLO, SLI and DataSource objects (and skips Service and the alerting kinds)", kind)})
		return
	}
	d := fieldDecoder{format: FormatOpenSLOv1}
	var o osloV1Object
	d.decode(doc, &o, "")
	name := o.Metadata.Name
	var errs []*SpecError
	bad := func(field, format string, args ...any) {
		errs = append(errs, &SpecError{File: path, Line: doc.Line, SLO: name, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	spec := resolve(&o.Spec)
	if spec.Kind == 0 || isNull(spec) {
		bad("spec", "missing")
	}
	switch kind {
	case "SLO":
		var s osloV1SLOSpec
		if spec.Kind != 0 {
			d.decode(spec, &s, "spec")
		}
		checkOpenSLOName(name, s.Service, bad)
		errs = append(fieldProblems(path, name, d.problems), errs...)
		for _, e := range errs {
			r.problem(file, e)
		}
		if s.AlertPolicies.Kind != 0 && !isNull(&s.AlertPolicies) {
			r.warn(file, Warning{File: path, SLO: name, Message: "alertPolicies ignored: Ooda warns on every SLO with the SRE Workbook's multiwindow burn-rate alerts (pages at 14.4× over 1h/5m and 6× over 6h/30m, tickets at 3× and 1×)"})
		}
		r.osloPending = append(r.osloPending, osloPendingSLO{file: file, path: path, line: doc.Line, name: name, spec: s, broken: len(errs) > 0})
	case "SLI":
		var s osloV1SLISpec
		if spec.Kind != 0 {
			d.decode(spec, &s, "spec")
		}
		if name == "" {
			bad("metadata.name", "missing; SLOs refer to an SLI by its name (indicatorRef)")
		}
		errs = append(fieldProblems(path, "", d.problems), errs...)
		r.register(r.osloSLIs, "SLI", name, osloObject{file: file, path: path, line: doc.Line, sli: &s, broken: len(errs) > 0}, &errs)
		for _, e := range errs {
			r.problem(file, e)
		}
	case "DataSource":
		var s osloV1DataSourceSpec
		if spec.Kind != 0 {
			d.decode(spec, &s, "spec")
		}
		errs = append(fieldProblems(path, "", d.problems), errs...)
		r.register(r.osloSources, "DataSource", name, osloObject{file: file, path: path, line: doc.Line, typ: s.Type, broken: len(errs) > 0}, &errs)
		for _, e := range errs {
			r.problem(file, e)
		}
	}
}

// register files an SLI or DataSource under its name, refusing a second
// of the same name.
func (r *reader) register(into map[string]osloObject, kind, name string, o osloObject, errs *[]*SpecError) {
	if name == "" {
		return
	}
	if first, dup := into[name]; dup {
		*errs = append(*errs, &SpecError{File: o.path, Line: o.line, Field: "metadata.name", Problem: fmt.Sprintf(
			"another %s is named %s (%s:%d); names must be unique", kind, name, first.path, first.line)})
		return
	}
	into[name] = o
}

// resolveOpenSLOv1 turns the openslo/v1 SLOs into SLOs now that every
// file's SLIs and DataSources are known: one SLO per objective, named
// after the SLO and the objective's index as for v1alpha.
func (r *reader) resolveOpenSLOv1() {
	for _, p := range r.osloPending {
		var errs []*SpecError
		bad := func(field, format string, args ...any) {
			errs = append(errs, &SpecError{File: p.path, Line: p.line, SLO: p.name, Field: field, Problem: fmt.Sprintf(format, args...)})
		}
		s := p.spec
		checkBudgeting(s.BudgetingMethod, bad)
		period := r.osloV1Period(s.TimeWindow, bad)
		sli, sliOK := r.osloV1Indicator(s, bad)

		objectives := resolve(&s.Objectives)
		if objectives.Kind != yaml.SequenceNode || len(objectives.Content) == 0 {
			bad("spec.objectives", "no objectives; add at least one with a target, such as target: 0.999")
		}
		var kept []SLO
		if objectives.Kind == yaml.SequenceNode {
			for i, n := range objectives.Content {
				n = resolve(n)
				name := fmt.Sprintf("%s-%d", p.name, i)
				field := fmt.Sprintf("spec.objectives[%d]", i)
				d := fieldDecoder{format: FormatOpenSLOv1}
				var obj osloV1Objective
				d.decode(n, &obj, field)
				oerrs := fieldProblems(p.path, name, d.problems)
				obad := func(f, format string, args ...any) {
					oerrs = append(oerrs, &SpecError{File: p.path, Line: n.Line, SLO: name, Field: field + f, Problem: fmt.Sprintf(format, args...)})
				}
				objective := checkTarget(obj.Target, obj.TargetPercent, obad)
				if obj.Op != "" || obj.Value != nil {
					obad(".op", "op and value compare a thresholdMetric; an objective of a ratioMetric has a target only")
				}
				if obj.TimeSliceTarget != nil || obj.TimeSliceWindow.Kind != 0 {
					obad(".timeSliceTarget", "%s", timeslicesRefused)
				}
				if obj.Indicator.Kind != 0 || obj.IndicatorRef.Kind != 0 || obj.CompositeWeight != nil {
					obad(".indicator", "an indicator per objective makes a composite SLO, which Ooda does not evaluate; give the SLO one indicator (spec.indicator or spec.indicatorRef) and one SLO per indicator")
				}
				if len(oerrs) > 0 || len(errs) > 0 || p.broken || !sliOK {
					for _, e := range oerrs {
						r.problem(p.file, e)
					}
					continue
				}
				kept = append(kept, SLO{
					ID: s.Service + "/" + name, Service: s.Service, Name: name,
					Description: s.Description, File: p.path, Line: n.Line, Format: FormatOpenSLOv1,
					Objective: objective, Period: period, SLI: sli,
				})
			}
		}
		for _, e := range errs {
			r.problem(p.file, e)
		}
		if len(errs) == 0 {
			r.keep(p.file, kept...)
		}
	}
}

// osloV1Period reads an SLO's time window: one rolling window, whose
// duration is the period.
func (r *reader) osloV1Period(tw []osloV1TimeWindow, bad func(field, format string, args ...any)) time.Duration {
	switch {
	case len(tw) == 0:
		return 0
	case len(tw) > 1:
		bad("spec.timeWindow", "has %d time windows; an SLO has one", len(tw))
		return 0
	}
	w := tw[0]
	if w.Calendar.Kind != 0 && !isNull(&w.Calendar) || w.IsRolling != nil && !*w.IsRolling {
		bad("spec.timeWindow[0]", "%s", calendarRefused)
		return 0
	}
	d, err := parseShorthand(w.Duration)
	if err != nil {
		bad("spec.timeWindow[0].duration", "%v", err)
		return 0
	}
	if err := checkPeriod(d); err != nil {
		bad("spec.timeWindow[0].duration", "%v", err)
		return 0
	}
	return d
}

// parseShorthand reads OpenSLO's duration shorthand for a rolling window:
// a whole number and one of m, h, d, w. M, Q and Y are calendar units.
func parseShorthand(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("missing; want a rolling window such as 28d or 4w")
	}
	unit := s[len(s)-1]
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: want a whole number and a unit, such as 28d or 4w", s)
	}
	switch unit {
	case 'm':
		return time.Duration(n) * time.Minute, nil
	case 'h':
		return time.Duration(n) * time.Hour, nil
	case 'd':
		return time.Duration(n) * Day, nil
	case 'w':
		return time.Duration(n) * 7 * Day, nil
	case 'M', 'Q', 'Y':
		return 0, fmt.Errorf("%q: months, quarters and years have no fixed length; write the rolling window in days or weeks, such as 30d", s)
	}
	return 0, fmt.Errorf("%q: want a unit of m, h, d or w, such as 28d", s)
}

// osloV1Indicator finds an SLO's indicator, inline or by reference, and
// reads its ratioMetric into an SLI. ok is false when it cannot be used;
// the problems are then reported (those of a referred SLI where it is).
func (r *reader) osloV1Indicator(s osloV1SLOSpec, bad func(field, format string, args ...any)) (SLI, bool) {
	var (
		spec  *osloV1SLISpec
		field string
	)
	switch {
	case s.Indicator != nil && s.IndicatorRef != nil:
		bad("spec.indicator", "give indicator or indicatorRef, not both")
		return SLI{}, false
	case s.Indicator != nil:
		spec, field = &s.Indicator.Spec, "spec.indicator.spec"
	case s.IndicatorRef != nil:
		ref := *s.IndicatorRef
		o, found := r.osloSLIs[ref]
		switch {
		case !found:
			bad("spec.indicatorRef", "%q: no SLI of that name in the SLO files; define it (apiVersion: openslo/v1, kind: SLI) in one of them, or inline it under spec.indicator", ref)
			return SLI{}, false
		case o.broken:
			bad("spec.indicatorRef", "%q: that SLI (%s:%d) has problems of its own, listed there", ref, o.path, o.line)
			return SLI{}, false
		}
		spec, field = o.sli, fmt.Sprintf("spec.indicatorRef (the SLI %s at %s:%d): spec", ref, o.path, o.line)
	default:
		bad("spec.indicator", "missing; give the SLO an indicator (spec.indicator) or the name of an SLI (spec.indicatorRef)")
		return SLI{}, false
	}
	return r.osloV1Ratio(spec, field, bad)
}

// osloV1Ratio reads a ratioMetric into an SLI.
func (r *reader) osloV1Ratio(spec *osloV1SLISpec, field string, bad func(field, format string, args ...any)) (SLI, bool) {
	if spec.ThresholdMetric.Kind != 0 && !isNull(&spec.ThresholdMetric) {
		bad(field+".thresholdMetric", "a thresholdMetric compares single values against a threshold; Ooda measures ratios of events: use a ratioMetric with good (or bad) and total queries")
		return SLI{}, false
	}
	rm := spec.RatioMetric
	if rm == nil {
		bad(field+".ratioMetric", "missing; Ooda measures a ratioMetric: good (or bad) and total PromQL queries with {{.window}}")
		return SLI{}, false
	}
	ok := true
	query := func(m *osloV1Metric, name string) string {
		q, err := r.osloV1Query(m)
		if err != nil {
			bad(field+".ratioMetric."+name, "%v", err)
			ok = false
		}
		return q
	}
	var sli SLI
	switch {
	case rm.Raw != nil:
		if rm.Good != nil || rm.Bad != nil || rm.Total != nil {
			bad(field+".ratioMetric.raw", "a raw ratio stands alone; drop good, bad and total, or drop raw")
			return SLI{}, false
		}
		q := query(rm.Raw, "raw")
		switch rm.RawType {
		case "failure":
			sli.ErrorRatioQuery = q
		case "success":
			sli.ErrorRatioQuery = "1 - (\n" + q + "\n)"
		default:
			bad(field+".ratioMetric.rawType", "%q: want failure (the raw ratio counts bad events) or success (good events)", rm.RawType)
			return SLI{}, false
		}
	case rm.Good != nil && rm.Bad != nil:
		bad(field+".ratioMetric", "has both good and bad; keep one, with total")
		return SLI{}, false
	case rm.Total == nil || rm.Good == nil && rm.Bad == nil:
		bad(field+".ratioMetric", "want good (or bad) and total")
		return SLI{}, false
	case rm.Good != nil:
		sli.GoodQuery, sli.TotalQuery = query(rm.Good, "good"), query(rm.Total, "total")
		if ok && sameQuery(sli.GoodQuery, sli.TotalQuery) {
			bad(field+".ratioMetric.good", "the same query as total: no request could ever count as an error, so the SLO would never burn; count the good requests only")
			ok = false
		}
	default:
		sli.ErrorQuery, sli.TotalQuery = query(rm.Bad, "bad"), query(rm.Total, "total")
		if ok && sameQuery(sli.ErrorQuery, sli.TotalQuery) {
			bad(field+".ratioMetric.bad", "the same query as total: every request would count as an error, a total outage on every window; count the failed requests only")
			ok = false
		}
	}
	return sli, ok
}

// osloV1Query reads the PromQL query of a metric source, which must be
// Prometheus (said by its type, or by the DataSource it refers to).
func (r *reader) osloV1Query(m *osloV1Metric) (string, error) {
	ms := m.MetricSource
	typ := ms.Type
	if typ == "" && ms.MetricSourceRef != "" {
		ds, found := r.osloSources[ms.MetricSourceRef]
		if !found {
			return "", fmt.Errorf("metricSource.metricSourceRef %q: no DataSource of that name in the SLO files; define it (type: Prometheus) or set metricSource.type: Prometheus", ms.MetricSourceRef)
		}
		typ = ds.typ
	}
	switch {
	case typ == "":
		return "", errors.New("metricSource.type: missing; Ooda queries Prometheus: set type: Prometheus")
	case !strings.EqualFold(typ, "prometheus"):
		return "", fmt.Errorf("metricSource.type %q: Ooda queries Prometheus only", typ)
	}
	spec := resolve(&ms.Spec)
	var q string
	if spec.Kind == yaml.MappingNode {
		for k, v := range pairs(spec) {
			if k.Value == "query" {
				q = resolve(v).Value
			}
		}
	}
	if q == "" {
		return "", errors.New("metricSource.spec.query: missing; want a PromQL query with {{.window}}, such as sum(rate(http_requests_total[{{.window}}]))")
	}
	if err := checkOpenSLOQuery(q); err != nil {
		return "", fmt.Errorf("metricSource.spec.query: %w", err)
	}
	return q, nil
}
