package slo_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ooda-sre/ooda/slo"
)

// quoted finds the values a message quotes from the file.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// FuzzParse: whatever a file holds, reading it never panics, every problem
// names the file, no message names a Go type, and every SLO it keeps can
// be measured.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/sloth/*/*.y*ml", "testdata/sloth/*/*/*/*.y*ml", "testdata/forms/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("version: prometheus/v1\nservice: a\nslos:\n  - <<: {name: x, objective: 99}\n    sli: {raw: {error_ratio_query: \"x[{{.window}}]\"}}\n    alerting: {name: A}\n"))
	f.Add([]byte("apiVersion: openslo/v1\nkind: SLO\nmetadata: &m {name: a}\nspec: {service: s, indicatorRef: a, objectives: [{target: 0.9}]}\n---\napiVersion: openslo/v1\nkind: SLI\nmetadata: *m\nspec: {ratioMetric: {good: {metricSource: {type: prometheus, spec: {query: \"x[{{.window}}]\"}}}, total: {metricSource: {type: prometheus, spec: {query: \"y[{{.window}}]\"}}}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set := slo.Read([]slo.Source{{Path: "fuzz.yaml", Data: data}}, slo.DefaultPeriod)
		for _, p := range set.Problems() {
			msg := p.Error()
			if p.File != "fuzz.yaml" || !strings.HasPrefix(msg, "fuzz.yaml") {
				t.Fatalf("a problem that does not name its file: %q", msg)
			}
			// The field is the file's own name for it, and what the file
			// said is quoted back; the rest is Ooda's.
			ours := quoted.ReplaceAllString(p.Problem, `""`)
			for _, goType := range []string{"slo.", "reflect.", "yaml.Node", "float64", "*struct", "map[string]"} {
				if strings.Contains(ours, goType) {
					t.Fatalf("a Go type in a message: %q", msg)
				}
			}
		}
		for _, s := range set.SLOs {
			if err := s.Validate(); err != nil {
				t.Fatalf("kept an SLO that cannot be measured: %v", err)
			}
			if _, err := slo.WindowQuery(s, slo.Day); err != nil {
				t.Fatalf("kept an SLO whose query does not render: %v", err)
			}
		}
	})
}
