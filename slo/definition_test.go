package slo_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
)

// slothExample is Sloth's own getting-started example, trimmed.
const slothExample = `version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  repo: "myorg/myservice"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    labels:
      category: availability
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: "MyServiceHighErrorRate"
      labels:
        category: "availability"
      annotations:
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          severity: "pageteam"
          routing_key: "myteam"
      ticket_alert:
        labels:
          severity: "slack"
          slack_channel: "#alerts-myteam"
  - name: "latency"
    objective: 99
    sli:
      raw:
        error_ratio_query: |
          1 - (sum(rate(http_request_duration_seconds_bucket{le="0.25"}[{{ .window }}]))
          / sum(rate(http_request_duration_seconds_count[{{ .window }}])))
    alerting:
      name: MyServiceLatency
      ticket_alert:
        disable: true
`

func TestParseSlothExample(t *testing.T) {
	slos, warns, err := slo.Parse("myservice.yaml", []byte(slothExample))
	require.NoError(t, err)
	assert.Empty(t, warns)
	require.Len(t, slos, 2)

	a := slos[0]
	assert.Equal(t, "myservice/requests-availability", a.ID)
	assert.Equal(t, "myservice.yaml", a.File)
	assert.InDelta(t, 99.9, a.Objective, 1e-12)
	assert.Equal(t, 0.001, a.ErrorBudget(), "rounded to the objective's decimals")
	assert.Equal(t, map[string]string{"owner": "myteam", "repo": "myorg/myservice", "category": "availability"}, a.Labels)
	assert.False(t, a.SLI.Raw())
	assert.Contains(t, a.SLI.ErrorQuery, "{{.window}}")
	assert.Equal(t, "MyServiceHighErrorRate", a.Alerting.Name)
	assert.Equal(t, "pageteam", a.Alerting.Page.Labels["severity"])

	l := slos[1]
	assert.True(t, l.SLI.Raw())
	assert.True(t, l.Alerting.Ticket.Disable)
	q, err := slo.WindowQuery(l, window(t, "1h"))
	require.NoError(t, err)
	assert.Contains(t, q, "[1h]")
	assert.NotContains(t, q, "{{")
}

func TestParseErrorsNameFileSLOAndField(t *testing.T) {
	header := "version: prometheus/v1\nservice: checkout\nslos:\n"
	events := "    sli:\n      events:\n        error_query: sum(rate(errors[{{.window}}]))\n        total_query: sum(rate(total[{{.window}}]))\n    alerting:\n      name: CheckoutErrors\n"
	good := "  - name: fine\n    objective: 99\n" + events
	tests := []struct {
		name string
		yaml string
		want []string // each must appear in one line of the error
		kept []string // the SLOs that load all the same
	}{
		{"wrong version", "version: prometheus/v2\nservice: checkout\nslos:\n  - name: a\n    objective: 99\n" + events,
			[]string{`bad.yaml:1: version: "prometheus/v2" is not supported; want "prometheus/v1"`}, nil},
		{"no service", "version: prometheus/v1\nslos:\n  - name: a\n    objective: 99\n" + events,
			[]string{"bad.yaml:1: service: missing; name the service"}, nil},
		{"no slos", "version: prometheus/v1\nservice: checkout\n",
			[]string{"bad.yaml:1: slos: no SLOs"}, nil},
		{"objective out of range", header + "  - name: availability\n    objective: 120\n" + events + good,
			[]string{`bad.yaml:4: slo "availability": objective: 120: want a percentage above 0 and below 100, such as 99.9`}, []string{"checkout/fine"}},
		{"objective of 100 leaves no budget", header + "  - name: availability\n    objective: 100\n" + events,
			[]string{`slo "availability": objective: 100`}, nil},
		{"objective missing", header + "  - name: availability\n" + events,
			[]string{`slo "availability": objective: missing`}, nil},
		{"objective not a number", header + "  - name: availability\n    objective: high\n" + events,
			[]string{`bad.yaml:5: slo "availability": objective: "high" is not a number`}, nil},
		{"query without the window", header + "  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(errors[5m]))\n        total_query: sum(rate(total[{{.window}}]))\n    alerting:\n      name: A\n",
			[]string{`slo "availability": sli.events.error_query: does not use {{.window}}`}, nil},
		{"broken template", header + "  - name: availability\n    objective: 99.9\n    sli:\n      raw:\n        error_ratio_query: errors[{{.window}]\n    alerting:\n      name: A\n",
			[]string{`slo "availability": sli.raw.error_ratio_query: not a valid template`}, nil},
		{"unknown template variable", header + "  - name: availability\n    objective: 99.9\n    sli:\n      raw:\n        error_ratio_query: errors[{{.windows}}]\n    alerting:\n      name: A\n",
			[]string{`slo "availability": sli.raw.error_ratio_query: not a valid template: the only variable is {{.window}}`}, nil},
		{"unbalanced brackets", header + "  - name: availability\n    objective: 99.9\n    sli:\n      raw:\n        error_ratio_query: sum(rate(errors[{{.window}}])\n    alerting:\n      name: A\n",
			[]string{`slo "availability": sli.raw.error_ratio_query: the ( at position 4 is never closed; add )`}, nil},
		{"error query is the total query", header + "  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(total[{{.window}}]))\n        total_query: sum(rate(total[{{.window}}]))\n    alerting:\n      name: A\n" + good,
			[]string{`slo "availability": sli.events.error_query: the same query as total_query: every request would count as an error, a burn of 1000× on every window`}, []string{"checkout/fine"}},
		{"no sli", header + "  - name: availability\n    objective: 99.9\n    alerting:\n      name: A\n",
			[]string{`slo "availability": sli: missing`}, nil},
		{"plugin sli is refused, the rest of the file kept", header + "  - name: availability\n    objective: 99.9\n    sli:\n      plugin:\n        id: sloth-common/kubernetes/apiserver/availability\n    alerting:\n      name: A\n" + good,
			[]string{`bad.yaml:4: slo "availability": sli.plugin: Ooda cannot evaluate the SLI plugin "sloth-common/kubernetes/apiserver/availability": its queries are built inside Sloth; write them out under sli.events (error_query and total_query) or sli.raw (error_ratio_query) instead`},
			[]string{"checkout/fine"}},
		{"both sli kinds", header + "  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(errors[{{.window}}]))\n        total_query: sum(rate(total[{{.window}}]))\n      raw:\n        error_ratio_query: x[{{.window}}]\n    alerting:\n      name: A\n",
			[]string{`slo "availability": sli: has both events and raw`}, nil},
		{"duplicate names", header + "  - name: a\n    objective: 99\n" + events + "  - name: a\n    objective: 99\n" + events,
			[]string{`bad.yaml:12: slo "a": name: appears twice for service checkout`}, []string{"checkout/a"}},
		{"a name with a slash", header + "  - name: a/b\n    objective: 99\n" + events,
			[]string{`slo "a/b": name: "a/b": use letters`}, nil},
		{"nameless slo is numbered", header + "  - objective: 99\n" + events,
			[]string{`slo "#1": name: missing`}, nil},
		{"typo in a field", header + "  - name: a\n    objetive: 99\n" + events,
			[]string{`bad.yaml:5: slo "a": objetive: not a field of the Sloth prometheus/v1 format; did you mean objective?`}, nil},
		{"both spellings of a field", header + "  - name: a\n    objective: 99\n" + events + "      pageAlert:\n        disable: true\n      page_alert:\n        disable: true\n",
			[]string{`bad.yaml:14: slo "a": alerting.page_alert: appears twice (as pageAlert and page_alert); keep one`}, nil},
		{"an unknown field lists the accepted ones", header + "  - name: a\n    objective: 99\n" + events + "      severity: page\n",
			[]string{`slo "a": alerting.severity: not a field of the Sloth prometheus/v1 format; the fields here are annotations, labels, name, page_alert, ticket_alert`}, nil},
		{"no alert name while alerts are on", header + "  - name: a\n    objective: 99\n    sli:\n      raw:\n        error_ratio_query: x[{{.window}}]\n",
			[]string{`slo "a": alerting.name: missing; Sloth names the alerts it generates with it`}, nil},
		{"an empty label value", "version: prometheus/v1\nservice: checkout\nlabels:\n  team: \"\"\nslos:\n" + good,
			[]string{`bad.yaml:1: labels.team: empty; give the label a value or remove it`}, nil},
		{"an empty alert label value", header + "  - name: a\n    objective: 99\n" + events + "      page_alert:\n        labels:\n          severity: \"\"\n" + good,
			[]string{`bad.yaml:4: slo "a": alerting.page_alert.labels.severity: empty; give the label a value or remove it`}, []string{"checkout/fine"}},
		{"every problem at once", header + "  - name: a\n    objective: 0\n  - name: b\n    objective: 99\n",
			[]string{`slo "a": objective: 0`, `slo "a": sli: missing`, `slo "b": sli: missing`}, nil},
		{"empty file", "", []string{"bad.yaml: the file is empty; want a Sloth spec (version: prometheus/v1), a Kubernetes PrometheusServiceLevel"}, nil},
		{"not YAML", "version: [prometheus/v1\n", []string{"bad.yaml:1: not valid YAML: did not find expected ',' or ']'"}, nil},
		{"no format", "slos: []\n", []string{"bad.yaml:1: not an SLO file Ooda reads (it has neither version: nor apiVersion:); want a Sloth spec (version: prometheus/v1), a Kubernetes PrometheusServiceLevel (apiVersion: sloth.slok.dev/v1) or an OpenSLO SLO (apiVersion: openslo/v1alpha or openslo/v1)"}, nil},
		{"another apiVersion", "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\n", []string{`bad.yaml:1: apiVersion: "monitoring.coreos.com/v1" is not a format Ooda reads; want a Sloth spec`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slos, _, err := slo.Parse("bad.yaml", []byte(tt.yaml))
			require.Error(t, err)
			var ids []string
			for _, s := range slos {
				ids = append(ids, s.ID)
			}
			assert.Equal(t, tt.kept, ids, "what loads despite the problems")
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "slo.", "no Go type in a message")
			var se *slo.SpecError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "bad.yaml", se.File)
		})
	}
}

func TestTheOtherSlothSpellingIsReadWithAWarning(t *testing.T) {
	file := "version: prometheus/v1\nservice: checkout\nslos:\n  - name: a\n    objective: 99\n" +
		"    sli:\n      events:\n        error_query: sum(rate(errors[{{.window}}]))\n        total_query: sum(rate(total[{{.window}}]))\n" +
		"    alerting:\n      name: CheckoutErrors\n      pageAlert:\n        labels:\n          severity: critical\n"
	slos, warns, err := slo.Parse("checkout.yaml", []byte(file))
	require.NoError(t, err)
	require.Len(t, slos, 1)
	assert.Equal(t, "critical", slos[0].Alerting.Page.Labels["severity"], "what the author meant")
	require.Len(t, warns, 1)
	assert.Equal(t, `checkout.yaml: slo "a": alerting.pageAlert (line 12): read as page_alert, as the Sloth prometheus/v1 format spells it (Sloth itself would ignore pageAlert, and everything under it)`, warns[0].String())
}

func TestNinetyPercentCannotPageFast(t *testing.T) {
	slos, warns, err := slo.Parse("batch.yaml", sloFile("batch", 90, "jobs"))
	require.NoError(t, err, "a warning, not an error: the SLO still works")
	require.Len(t, slos, 1)
	require.Len(t, warns, 1)
	w := warns[0]
	assert.Equal(t, "batch.yaml", w.File)
	assert.Equal(t, "jobs", w.SLO)
	assert.Contains(t, w.Message, "at most 10×")
	assert.Contains(t, w.Message, "page-quick (1h/5m above 14.4×)")
	assert.NotContains(t, w.Message, "page-slow", "10× still beats the slow page's 6×")
	assert.Contains(t, w.String(), `batch.yaml: slo "jobs": objective 90%`)

	// 80 % burns at most 5×: the slow page is out of reach too.
	_, warns, err = slo.Parse("batch.yaml", sloFile("batch", 80, "jobs"))
	require.NoError(t, err)
	require.Len(t, warns, 1)
	assert.Contains(t, warns[0].Message, "page-slow")

	// The period decides: at 28 days the fast page is 13.44×.
	s := parseSLOs(t, sloFile("batch", 93, "jobs"))
	assert.NotEmpty(t, slo.DefaultWindows(slo.DefaultPeriod).Warnings(s), "14.29× < 14.4×")
	assert.Empty(t, slo.DefaultWindows(28*slo.Day).Warnings(s), "14.29× > 13.44×")

	_, warns, err = slo.Parse("ok.yaml", sloFile("api", 99.9, "availability"))
	require.NoError(t, err)
	assert.Empty(t, warns)
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	a := write("checkout.yaml", sloFile("checkout", 99.9, "availability", "latency"))
	b := write("search.yaml", []byte(string(sloFile("search", 99.5, "availability"))+"---\n"+string(sloFile("search-batch", 90, "jobs"))))
	set := slo.Load([]string{a, b}, slo.DefaultPeriod)
	require.NoError(t, set.Err())
	var ids []string
	for _, s := range set.SLOs {
		ids = append(ids, s.ID)
	}
	assert.Equal(t, []string{"checkout/availability", "checkout/latency", "search/availability", "search-batch/jobs"}, ids)
	warns := set.Warnings()
	require.Len(t, warns, 1)
	assert.Equal(t, b, warns[0].File)
	assert.Equal(t, "jobs", warns[0].SLO)
	require.Len(t, set.Files, 2)
	assert.Equal(t, []slo.Format{slo.FormatSloth}, set.Files[1].Formats)
	assert.Equal(t, []string{"search/availability", "search-batch/jobs"}, set.Files[1].SLOs)

	// The second SLO of a name is refused; the first, and the rest of
	// the file, stay.
	dup := write("checkout-again.yaml", sloFile("checkout", 99, "latency", "errors"))
	set = slo.Load([]string{a, dup}, slo.DefaultPeriod)
	require.Error(t, set.Err())
	assert.Contains(t, set.Err().Error(), dup+`:6: slo "latency": name: service checkout already has an SLO latency (`+a+`:21)`)
	assert.Equal(t, []string{"checkout/errors"}, set.Files[1].SLOs)
	assert.Len(t, set.SLOs, 3)

	// A file that cannot be read keeps out its own SLOs only.
	set = slo.Load([]string{filepath.Join(dir, "missing.yaml"), a}, slo.DefaultPeriod)
	require.Error(t, set.Err())
	assert.True(t, errors.Is(set.Err(), os.ErrNotExist))
	assert.Contains(t, set.Err().Error(), "missing.yaml: cannot read it: no such file; check the path in slo_files")
	assert.Len(t, set.SLOs, 2)
	assert.False(t, set.Files[0].OK())
	assert.True(t, set.Files[1].OK())
}

func TestWindowQueryReadsZeroErrorsWhenTheErrorSeriesIsMissing(t *testing.T) {
	s := parseSLOs(t, sloFile("checkout", 99.9, "availability"))[0]
	q, err := slo.WindowQuery(s, window(t, "30m"))
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(q, "[30m]"), "error once, total twice")
	assert.Contains(t, q, "or vector(0)")
	assert.Contains(t, q, "* 1800", "requests: the rate times the window in seconds")
}

func TestRatioQueryLeavesTheRequestsOut(t *testing.T) {
	s := parseSLOs(t, sloFile("checkout", 99.9, "availability"))[0]
	q, err := slo.RatioQuery(s, window(t, "30m"))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(q, "[30m]"), "error once, total once")
	assert.Contains(t, q, "or vector(0)")
	assert.NotContains(t, q, slo.SeriesLabel, "one series: nothing to tell apart")
}

func TestSLOValidate(t *testing.T) {
	good := parseSLOs(t, sloFile("checkout", 99.9, "availability"))[0]
	tests := []struct {
		name string
		sli  slo.SLI
		want []string // each in the error; none: valid
	}{
		{name: "parsed events SLI", sli: good.SLI},
		{name: "raw SLI", sli: slo.SLI{ErrorRatioQuery: "ratio[{{.window}}]"}},
		{name: "window missing", sli: slo.SLI{ErrorRatioQuery: "ratio[5m]"}, want: []string{"slo checkout/availability: does not use {{.window}}"}},
		{name: "not a template", sli: slo.SLI{ErrorQuery: "errors[{{.window}]", TotalQuery: "total[{{.window}}]"}, want: []string{"not a valid template"}},
		{name: "events SLI without its total", sli: slo.SLI{ErrorQuery: "errors[{{.window}}]"}, want: []string{"an events SLI needs both queries"}},
		{name: "nothing", want: []string{"slo checkout/availability: an events SLI needs both queries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good
			s.SLI = tt.sli
			err := s.Validate()
			if len(tt.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
