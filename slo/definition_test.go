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
	events := "    sli:\n      events:\n        error_query: sum(rate(errors[{{.window}}]))\n        total_query: sum(rate(total[{{.window}}]))\n"
	tests := []struct {
		name string
		yaml string
		want []string // each must appear in one line of the error
	}{
		{"wrong version", "version: prometheus/v2\nservice: checkout\nslos:\n  - name: a\n    objective: 99\n" + events,
			[]string{`bad.yaml: version: "prometheus/v2" is not supported; want "prometheus/v1"`}},
		{"no service", "version: prometheus/v1\nslos:\n  - name: a\n    objective: 99\n" + events,
			[]string{"bad.yaml: service: missing"}},
		{"no slos", "version: prometheus/v1\nservice: checkout\n",
			[]string{"bad.yaml: slos: no SLOs"}},
		{"objective out of range", header + "  - name: availability\n    objective: 120\n" + events,
			[]string{`bad.yaml: slo "availability": objective: 120: want a percentage above 0 and below 100`}},
		{"objective of 100 leaves no budget", header + "  - name: availability\n    objective: 100\n" + events,
			[]string{`slo "availability": objective: 100`}},
		{"objective missing", header + "  - name: availability\n" + events,
			[]string{`slo "availability": objective: missing`}},
		{"query without the window", header + "  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(errors[5m]))\n        total_query: sum(rate(total[{{.window}}]))\n",
			[]string{`slo "availability": sli.events.error_query: does not use {{.window}}`}},
		{"broken template", header + "  - name: availability\n    objective: 99.9\n    sli:\n      raw:\n        error_ratio_query: errors[{{.window}]\n",
			[]string{`slo "availability": sli.raw.error_ratio_query: not a valid template`}},
		{"unknown template variable", header + "  - name: availability\n    objective: 99.9\n    sli:\n      raw:\n        error_ratio_query: errors[{{.windows}}]\n",
			[]string{`slo "availability": sli.raw.error_ratio_query: not a valid template: the only variable is {{.window}}`}},
		{"no sli", header + "  - name: availability\n    objective: 99.9\n",
			[]string{`slo "availability": sli: missing`}},
		{"plugin sli", header + "  - name: availability\n    objective: 99.9\n    sli:\n      plugin:\n        id: sloth-common/kubernetes/apiserver/availability\n",
			[]string{`slo "availability": sli.plugin: SLI plugins are not supported`}},
		{"both sli kinds", header + "  - name: availability\n    objective: 99.9\n" + events + "      raw:\n        error_ratio_query: x[{{.window}}]\n",
			[]string{`slo "availability": sli: has both events and raw`}},
		{"duplicate names", header + "  - name: a\n    objective: 99\n" + events + "  - name: a\n    objective: 99\n" + events,
			[]string{`slo "a": name: appears twice`}},
		{"a name with a slash", header + "  - name: a/b\n    objective: 99\n" + events,
			[]string{`slo "a/b": name: "a/b": use letters`}},
		{"nameless slo is numbered", header + "  - objective: 99\n" + events,
			[]string{`slo "#1": name: missing`}},
		{"typo in a field", header + "  - name: a\n    objetive: 99\n" + events,
			[]string{"bad.yaml: not a valid Sloth file: line 5: field objetive not found in the Sloth prometheus/v1 format"}},
		{"every problem at once", header + "  - name: a\n    objective: 0\n  - name: b\n    objective: 99\n",
			[]string{`slo "a": objective: 0`, `slo "a": sli: missing`, `slo "b": sli: missing`}},
		{"empty file", "", []string{"bad.yaml: the file is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slos, _, err := slo.Parse("bad.yaml", []byte(tt.yaml))
			require.Error(t, err)
			assert.Nil(t, slos, "nothing is half-loaded")
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			var se *slo.SpecError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "bad.yaml", se.File)
		})
	}
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

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	a := write("checkout.yaml", sloFile("checkout", 99.9, "availability", "latency"))
	b := write("search.yaml", []byte(string(sloFile("search", 99.5, "availability"))+"---\n"+string(sloFile("search-batch", 90, "jobs"))))
	slos, warns, err := slo.LoadFiles([]string{a, b})
	require.NoError(t, err)
	var ids []string
	for _, s := range slos {
		ids = append(ids, s.ID)
	}
	assert.Equal(t, []string{"checkout/availability", "checkout/latency", "search/availability", "search-batch/jobs"}, ids)
	require.Len(t, warns, 1)
	assert.Equal(t, b+" (document 2)", warns[0].File)

	dup := write("checkout-again.yaml", sloFile("checkout", 99, "latency"))
	_, _, err = slo.LoadFiles([]string{a, dup})
	require.Error(t, err)
	assert.Contains(t, err.Error(), dup+`: slo "latency": name: service checkout already has an SLO latency in `+a)

	_, _, err = slo.LoadFiles([]string{filepath.Join(dir, "missing.yaml"), a})
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrNotExist))
	assert.Contains(t, err.Error(), "missing.yaml")
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
