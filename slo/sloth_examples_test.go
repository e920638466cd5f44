package slo_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
)

// TestSlothFiles reads every example and test fixture of Sloth's own
// repository (testdata/sloth, with Sloth's NOTICE and LICENSE), in all three
// forms, and says what Ooda makes of each: the SLOs it keeps, and for the
// others the sentence that refuses them. Where Ooda and Sloth disagree the
// case says why.
func TestSlothFiles(t *testing.T) {
	const (
		sloth = slo.FormatSloth
		k8s   = slo.FormatKubernetes
		v1a   = slo.FormatOpenSLOv1alpha
	)
	pluginsIgnored := "Sloth SLO plugins ignored"
	respelt := "read as page_alert, as the Sloth prometheus/v1 format spells it (Sloth itself would ignore pageAlert"
	tests := []struct {
		file     string
		format   slo.Format
		slos     []string // kept
		problems []string // each in one problem, in order
		warnings []string // each in one warning, in order
		period   time.Duration
	}{
		// Sloth's examples.
		{file: "examples/getting-started.yml", format: sloth, slos: []string{"myservice/requests-availability"}},
		{file: "examples/multifile.yml", format: sloth, slos: []string{"myservice/requests-availability", "myservice2/requests-availability"}},
		{file: "examples/home-wifi.yml", format: sloth, slos: []string{"home-wifi/good-wifi-client-satisfaction", "home-wifi/risk-wifi-client-satisfaction"}},
		{file: "examples/raw-home-wifi.yml", format: sloth, slos: []string{"home-wifi/wifi-client-satisfaction"}},
		{file: "examples/kubernetes-apiserver.yml", format: sloth, slos: []string{"k8s-apiserver/requests-availability", "k8s-apiserver/requests-latency"}},
		{file: "examples/no-alerts.yml", format: sloth, slos: []string{"myapp/http-availability"}},
		// Plugins that shape Sloth's rules are ignored, and said once.
		{file: "examples/contrib-slo-plugins.yml", format: sloth,
			slos:     []string{"myservice/requests-availability-contrib-plugin-info-labels-v1", "myservice/requests-availability-contrib-plugin-rule-intervals-v1"},
			warnings: []string{pluginsIgnored + " (sloth.dev/contrib/info_labels/v1, sloth.dev/contrib/rule_intervals/v1): they shape the Prometheus rules Sloth generates; Ooda evaluates the SLI's own queries"}},
		{file: "examples/slo-plugin-getting-started.yml", format: sloth, slos: []string{"myservice/requests-availability"},
			warnings: []string{pluginsIgnored + " (sloth.dev/core/debug/v1)"}},
		{file: "examples/victoria-metrics.yml", format: sloth, slos: []string{"foo-bar/grpc-latency-percentile-90", "foo-bar/grpc-latency-percentile-99"},
			warnings: []string{
				"sloth.dev/contrib/validate_victoria_metrics/v1 says these queries are MetricsQL, for VictoriaMetrics: Ooda sends them to Prometheus, which refuses MetricsQL's own functions",
				`slo "grpc-latency-percentile-90": objective 90% burns at most 10× even in a total outage, so page-quick`,
			}},
		// An SLI plugin builds its queries inside Sloth: that SLO, and
		// only it, is refused.
		{file: "examples/plugin-getting-started.yml", format: sloth,
			problems: []string{`plugin-getting-started.yml:9: slo "requests-availability": sli.plugin: Ooda cannot evaluate the SLI plugin "getting_started_availability": its queries are built inside Sloth; write them out under sli.events (error_query and total_query) or sli.raw (error_ratio_query) instead`}},
		{file: "examples/k8s-getting-started.yml", format: k8s, slos: []string{"myservice/requests-availability"}},
		{file: "examples/k8s-home-wifi.yml", format: k8s, slos: []string{"home-wifi/good-wifi-client-satisfaction", "home-wifi/risk-wifi-client-satisfaction"}},
		{file: "examples/k8s-multifile.yml", format: k8s, slos: []string{"myservice/requests-availability", "myservice2/requests-availability"}},
		{file: "examples/slo-plugin-k8s-getting-started.yml", format: k8s, slos: []string{"myservice/requests-availability"},
			warnings: []string{pluginsIgnored + " (sloth.dev/core/debug/v1): they shape the Prometheus rules Sloth generates; Ooda evaluates the SLI's own queries, which sloPlugins and plugins do not change"}},
		{file: "examples/contrib-denominator-corrected.yaml", format: k8s, slos: []string{"svc01/slo1"},
			warnings: []string{pluginsIgnored + " (sloth.dev/contrib/denominator_corrected_rules/v1)"}},
		// The example writes page_alert in the Kubernetes form: Sloth
		// drops it, Ooda reads it and says so; its SLI plugin is refused.
		{file: "examples/plugin-k8s-getting-started.yml", format: k8s,
			problems: []string{`slo "requests-availability": sli.plugin: Ooda cannot evaluate the SLI plugin "getting_started_availability": its queries are built inside Sloth; write them out under sli.events (errorQuery and totalQuery) or sli.raw (errorRatioQuery) instead`},
			warnings: []string{"alerting.page_alert (line 39): read as pageAlert", "alerting.ticket_alert (line 43): read as ticketAlert"}},
		{file: "examples/openslo-getting-started.yml", format: v1a, slos: []string{"my-service/sloth-slo-my-service-0"}, period: 30 * slo.Day},
		// One OpenSLO SLO with two objectives is two SLOs, as in Sloth.
		{file: "examples/openslo-kubernetes-apiserver.yml", format: v1a, period: 30 * slo.Day,
			slos: []string{"k8s-apiserver/requests-availability-openslo-0", "k8s-apiserver/requests-latency-openslo-0", "k8s-apiserver/requests-latency-openslo-1"}},
		// Sloth's alert windows are Sloth's: Ooda scales the Workbook's.
		{file: "examples/windows/7d.yaml",
			problems: []string{"7d.yaml:1: kind: AlertWindows set Sloth's alert windows; Ooda does not read them: it scales the SRE Workbook's windows to the SLO period (slo_period, or the SLO's own time window). Leave this file out of slo_files"}},
		{file: "examples/windows/custom-30d.yaml", problems: []string{"kind: AlertWindows set Sloth's alert windows"}},

		// Sloth's integration test inputs.
		{file: "integration/in-base.yaml", format: sloth, slos: []string{"svc01/slo1", "svc01/slo02"}},
		{file: "integration/in-base-k8s.yaml", format: k8s, slos: []string{"svc01/slo1", "svc01/slo02"}},
		{file: "integration/in-multifile.yaml", format: sloth, slos: []string{"svc01/slo1", "svc01/slo02", "svc02/slo1", "svc02/slo02"}},
		{file: "integration/in-multifile-k8s.yaml", format: k8s, slos: []string{"svc01/slo1", "svc01/slo02", "svc02/slo1", "svc02/slo02"}},
		{file: "integration/in-openslo.yaml", format: v1a, slos: []string{"svc01/slo1-0"}, period: 30 * slo.Day},
		{file: "integration/in-slo-plugin.yaml", format: sloth, slos: []string{"svc01/slo1"}, warnings: []string{pluginsIgnored + " (integration-tests/plugin1)"}},
		{file: "integration/in-slo-plugin-k8s.yaml", format: k8s, slos: []string{"svc01/slo1"}, warnings: []string{pluginsIgnored + " (integration-tests/plugin1)"}},
		{file: "integration/in-sli-plugin.yaml", format: sloth,
			problems: []string{`in-sli-plugin.yaml:7: slo "slo1": sli.plugin: Ooda cannot evaluate the SLI plugin "integration_test"`}},
		{file: "integration/in-invalid-version.yaml", format: sloth,
			problems: []string{`in-invalid-version.yaml:1: version: "prometheus/v999" is not supported; want "prometheus/v1"`}},

		// Sloth's validate fixtures. Its "good" ones write pageAlert in
		// the prometheus/v1 form, which Sloth silently drops and Ooda
		// reads as page_alert, saying so.
		{file: "integration/validate/good/good-aa.yaml", format: sloth, slos: []string{"svc01/slo1", "svc01/slo02"}, warnings: []string{respelt, "read as ticket_alert"}},
		{file: "integration/validate/good/good-ab.yaml", format: sloth, slos: []string{"svc01/slo1", "svc01/slo02"}, warnings: []string{respelt, "read as ticket_alert"}},
		{file: "integration/validate/good/good-ba.yaml", format: sloth, slos: []string{"svc01/slo1", "svc01/slo02"}, warnings: []string{respelt, "read as ticket_alert"}},
		{file: "integration/validate/good/good-k8s.yaml", format: k8s, slos: []string{"svc01/slo1", "svc01/slo02"}},
		{file: "integration/validate/good/good-multi.yaml", format: sloth, slos: []string{"svc01/slo1", "svc01/slo02", "svc02/slo1", "svc02/slo02"}},
		{file: "integration/validate/good/good-multi-k8s.yaml", format: k8s, slos: []string{"svc01/slo1", "svc01/slo02", "svc02/slo1", "svc02/slo02"}},
		{file: "integration/validate/good/good-openslo.yaml", format: v1a, slos: []string{"svc01/slo1-0"}, period: 30 * slo.Day},
		// The bad ones: the SLO at fault is refused, its neighbours kept.
		{file: "integration/validate/bad/bad-aa.yaml", format: sloth, slos: []string{"svc01/slo1"}, warnings: []string{respelt, "read as ticket_alert"},
			problems: []string{`bad-aa.yaml:27: slo "slo02": objective: 101: want a percentage above 0 and below 100, such as 99.9`}},
		{file: "integration/validate/bad/bad-ab.yaml", format: sloth, slos: []string{"svc01/slo1"}, warnings: []string{respelt, "read as ticket_alert"},
			problems: []string{`slo "slo02": objective: 101`}},
		{file: "integration/validate/bad/bad-ba.yaml", format: sloth, slos: []string{"svc01/slo1"}, warnings: []string{respelt, "read as ticket_alert"},
			problems: []string{`slo "slo02": objective: 101`}},
		{file: "integration/validate/bad/bad-multi.yaml", format: sloth, slos: []string{"svc01/slo1", "svc01/slo02", "svc02/slo1"},
			problems: []string{`bad-multi.yaml:72: slo "slo02": sli: missing; want sli.events (error_query and total_query) or sli.raw (error_ratio_query)`}},
		{file: "integration/validate/bad/bad-k8s.yaml", format: k8s,
			problems: []string{"bad-k8s.yaml:7: spec.service: missing; name the service these SLOs belong to"}},
		{file: "integration/validate/bad/bad-multi-k8s.yaml", format: k8s, slos: []string{"svc01/slo02", "svc02/slo1", "svc02/slo02"},
			problems: []string{`bad-multi-k8s.yaml:12: slo "slo1": alerting.name: missing; Sloth names the alerts it generates with it, so it is needed while pageAlert or ticketAlert is enabled`}},
		// Sloth refuses 28 days without a window catalog for them; Ooda
		// takes the period from the file and scales its windows.
		{file: "integration/validate/bad/bad-openslo.yaml", format: v1a, slos: []string{"svc01/slo1-0"}, period: 28 * slo.Day},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "sloth", tt.file)
			set := slo.Load([]string{path}, slo.DefaultPeriod)
			require.Len(t, set.Files, 1)
			f := set.Files[0]
			if tt.format != "" {
				assert.Equal(t, []slo.Format{tt.format}, f.Formats)
			}
			assert.Equal(t, tt.slos, f.SLOs, "the SLOs kept")
			require.Len(t, f.Problems, len(tt.problems), "%v", f.Problems)
			for i, want := range tt.problems {
				assert.Contains(t, f.Problems[i].Error(), want)
				assert.Equal(t, path, f.Problems[i].File)
			}
			var warned []string
			for _, w := range f.Warnings {
				warned = append(warned, w.String())
			}
			require.Len(t, warned, len(tt.warnings), "%v", warned)
			for i, want := range tt.warnings {
				assert.Contains(t, warned[i], want)
			}
			for _, s := range set.SLOs {
				assert.NoError(t, s.Validate(), "a kept SLO can be measured")
				assert.Equal(t, tt.period, s.Period, s.ID)
				assert.Equal(t, tt.format, s.Format)
			}
		})
	}
	// Every file copied from Sloth is in the table.
	var files []string
	for _, pattern := range []string{"*/*.y*ml", "*/*/*.y*ml", "*/*/*/*.y*ml"} {
		m, err := filepath.Glob(filepath.Join("testdata", "sloth", pattern))
		require.NoError(t, err)
		files = append(files, m...)
	}
	for _, f := range files {
		rel, err := filepath.Rel(filepath.Join("testdata", "sloth"), f)
		require.NoError(t, err)
		assert.True(t, seen[filepath.ToSlash(rel)], "%s is not in the table", rel)
	}
	assert.Len(t, files, len(tests))
}
