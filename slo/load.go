package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// formatsRead names the forms Ooda reads, for a file in none of them.
const formatsRead = "a Sloth spec (version: prometheus/v1), a Kubernetes PrometheusServiceLevel (apiVersion: sloth.slok.dev/v1) or an OpenSLO SLO (apiVersion: openslo/v1alpha or openslo/v1)"

// Source is one SLO file to read: its path, as messages name it, and its
// contents, or why they could not be had.
type Source struct {
	Path string
	Data []byte
	Err  error
}

// Set is what reading SLO files found: the SLOs that can be used, and for
// every file what it was read as, which of its SLOs were kept, and what is
// wrong with the others. A problem keeps out the SLO it names (or every
// SLO of its document, for a problem with the document's header) and
// nothing else: one bad SLO or file never silences the rest.
type Set struct {
	SLOs  []SLO
	Files []FileReport
}

// FileReport is what reading one file found.
type FileReport struct {
	Path string
	// Formats are the forms its documents were read as, in order.
	Formats []Format
	// SLOs are the IDs of the SLOs kept from it.
	SLOs     []string
	Problems []*SpecError
	Warnings []Warning
}

// OK reports whether the file had no problem.
func (f FileReport) OK() bool { return len(f.Problems) == 0 }

// Problems returns every file's problems, file by file.
func (s Set) Problems() []*SpecError {
	var out []*SpecError
	for _, f := range s.Files {
		out = append(out, f.Problems...)
	}
	return out
}

// Warnings returns every file's warnings, file by file.
func (s Set) Warnings() []Warning {
	var out []Warning
	for _, f := range s.Files {
		out = append(out, f.Warnings...)
	}
	return out
}

// Err joins every problem, or is nil when there is none.
func (s Set) Err() error {
	var errs []error
	for _, p := range s.Problems() {
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

// Load reads the SLO files at paths with Read: a file that cannot be
// read is a problem of that file alone. period is the SLO period of the
// files that do not give one, against which their alerts are judged
// (Windows.Warnings).
func Load(paths []string, period time.Duration) Set {
	sources := make([]Source, len(paths))
	for i, p := range paths {
		b, err := os.ReadFile(p)
		sources[i] = Source{Path: p, Data: b, Err: err}
	}
	return Read(sources, period)
}

// Parse reads the SLOs of one file's contents, name being what messages
// call it. The error lists every problem; the SLOs it returns are those
// that had none, even when it is not nil.
func Parse(name string, data []byte) ([]SLO, []Warning, error) {
	s := Read([]Source{{Path: name, Data: data}}, DefaultPeriod)
	return s.SLOs, s.Warnings(), s.Err()
}

// Read reads SLO files in any of the formats (several YAML documents may
// share a file, in one format or several). An OpenSLO v1 SLO's
// indicatorRef may name an SLI in any of the files. Two SLOs with the
// same service and name are a problem of the second.
func Read(sources []Source, period time.Duration) Set {
	r := &reader{reports: make([]FileReport, len(sources)), osloSLIs: map[string]osloObject{}, osloSources: map[string]osloObject{}}
	for i, src := range sources {
		r.reports[i].Path = src.Path
		r.readFile(i, src)
	}
	r.resolveOpenSLOv1()

	var set Set
	seen := map[string]SLO{}
	for _, c := range r.candidates {
		s := c.slo
		if first, dup := seen[s.ID]; dup {
			r.problem(c.file, &SpecError{File: s.File, Line: s.Line, SLO: s.Name, Field: "name", Problem: fmt.Sprintf(
				"service %s already has an SLO %s (%s:%d); SLO names must be unique within a service", s.Service, s.Name, first.File, first.Line)})
			continue
		}
		seen[s.ID] = s
		set.SLOs = append(set.SLOs, s)
		rep := &r.reports[c.file]
		rep.SLOs = append(rep.SLOs, s.ID)
		rep.Warnings = append(rep.Warnings, DefaultWindows(s.PeriodOr(period)).Warnings([]SLO{s})...)
	}
	set.Files = r.reports
	return set
}

// candidate is an SLO read without problems, waiting for the duplicate
// check.
type candidate struct {
	file int
	slo  SLO
}

// reader holds what Read gathers across files.
type reader struct {
	reports    []FileReport
	candidates []candidate
	// OpenSLO v1 objects that SLOs of any file may refer to, by name,
	// and the SLOs waiting for them.
	osloSLIs    map[string]osloObject
	osloSources map[string]osloObject
	osloPending []osloPendingSLO
}

func (r *reader) problem(file int, e *SpecError) {
	r.reports[file].Problems = append(r.reports[file].Problems, e)
}

func (r *reader) warn(file int, w Warning) {
	r.reports[file].Warnings = append(r.reports[file].Warnings, w)
}

func (r *reader) format(file int, f Format) {
	if !slices.Contains(r.reports[file].Formats, f) {
		r.reports[file].Formats = append(r.reports[file].Formats, f)
	}
}

func (r *reader) keep(file int, slos ...SLO) {
	for _, s := range slos {
		r.candidates = append(r.candidates, candidate{file: file, slo: s})
	}
}

func (r *reader) readFile(file int, src Source) {
	if src.Err != nil {
		r.problem(file, &SpecError{File: src.Path, Problem: "cannot read it: " + readError(src.Err), Err: src.Err})
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(src.Data))
	docs := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, msg := yamlError(err)
			r.problem(file, &SpecError{File: src.Path, Line: line, Problem: "not valid YAML: " + msg})
			return
		}
		n := resolve(&doc)
		if isNull(n) || n.Kind == 0 {
			continue // an empty document: a stray --- or comments alone
		}
		docs++
		r.readDocument(file, src.Path, n)
	}
	if docs == 0 {
		r.problem(file, &SpecError{File: src.Path, Problem: "the file is empty; want " + formatsRead})
	}
}

// readDocument tells the document's format from its header and reads it.
func (r *reader) readDocument(file int, path string, doc *yaml.Node) {
	if doc.Kind != yaml.MappingNode {
		r.problem(file, &SpecError{File: path, Line: doc.Line, Problem: "not an SLO file Ooda reads: want " + formatsRead + ", not " + describe(doc)})
		return
	}
	top := map[string]*yaml.Node{}
	for k, v := range pairs(doc) {
		top[k.Value] = resolve(v)
	}
	header := func(key string) string {
		if n, ok := top[key]; ok && n.Kind == yaml.ScalarNode {
			return n.Value
		}
		return ""
	}
	apiVersion, kind := header("apiVersion"), header("kind")
	switch {
	case top["version"] != nil && apiVersion == "":
		r.format(file, FormatSloth)
		r.readSloth(file, path, doc, FormatSloth)
	case apiVersion == kubernetesAPIVersion && kind == "AlertWindows":
		r.problem(file, &SpecError{File: path, Line: doc.Line, Field: "kind", Problem: "AlertWindows set Sloth's alert windows; Ooda does not read them: it scales the SRE Workbook's windows to the SLO period (slo_period, or the SLO's own time window). Leave this file out of slo_files"})
	case apiVersion == kubernetesAPIVersion:
		if kind != kubernetesKind {
			r.problem(file, &SpecError{File: path, Line: doc.Line, Field: "kind", Problem: fmt.Sprintf(
				"%q: Ooda reads the %s resources of %s; other kinds belong in other files", kind, kubernetesKind, kubernetesAPIVersion)})
			return
		}
		r.format(file, FormatKubernetes)
		r.readSloth(file, path, doc, FormatKubernetes)
	case apiVersion == osloV1alpha:
		r.format(file, FormatOpenSLOv1alpha)
		r.readOpenSLOv1alpha(file, path, doc, kind)
	case apiVersion == osloV1:
		r.format(file, FormatOpenSLOv1)
		r.readOpenSLOv1(file, path, doc, kind)
	case apiVersion != "":
		r.problem(file, &SpecError{File: path, Line: top["apiVersion"].Line, Field: "apiVersion", Problem: fmt.Sprintf(
			"%q is not a format Ooda reads; want %s", apiVersion, formatsRead)})
	default:
		r.problem(file, &SpecError{File: path, Line: doc.Line, Problem: "not an SLO file Ooda reads (it has neither version: nor apiVersion:); want " + formatsRead})
	}
}

// yamlLineRE finds the line yaml.v3 puts in its syntax errors.
var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlError splits a YAML syntax error into its line and its message.
func yamlError(err error) (int, string) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, msg[len(m[0]):]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// readError says why a file could not be read, without repeating its
// path.
func readError(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file; check the path in slo_files (OODA_SLO_FILES)"
	case errors.Is(err, os.ErrPermission):
		return "permission denied; let the user ooda runs as read it"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// fieldProblems turns what a fieldDecoder found into SpecErrors of one
// SLO (or, with slo empty, of the document's header).
func fieldProblems(path, slo string, ps []fieldProblem) []*SpecError {
	out := make([]*SpecError, len(ps))
	for i, p := range ps {
		out[i] = &SpecError{File: path, Line: p.line, SLO: slo, Field: p.path, Problem: p.problem}
	}
	return out
}
