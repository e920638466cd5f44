package slo_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
)

// formFile is one of testdata/forms: checkout's availability in one of the
// forms Ooda reads.
func formFile(name string) string { return filepath.Join("testdata", "forms", name) }

// loadForm reads one form of the checkout SLO, which must load alone.
func loadForm(t *testing.T, files ...string) slo.SLO {
	t.Helper()
	var paths []string
	for _, f := range files {
		paths = append(paths, formFile(f))
	}
	set := slo.Load(paths, slo.DefaultPeriod)
	require.NoError(t, set.Err())
	require.Len(t, set.SLOs, 1)
	return set.SLOs[0]
}

// comparable leaves out of an SLO what says where and how it was written:
// its file, line and format, its period when the configured one applies,
// and the alert name, which only Sloth's forms have.
func comparable(s slo.SLO) slo.SLO {
	s.File, s.Line, s.Format = "", 0, ""
	s.Period = s.PeriodOr(slo.DefaultPeriod)
	s.Alerting.Name = ""
	return s
}

func TestEveryFormMapsIntoTheSameSLO(t *testing.T) {
	sloth := loadForm(t, "sloth.yaml")
	assert.Equal(t, slo.FormatSloth, sloth.Format)
	assert.Equal(t, "checkout/availability-0", sloth.ID)
	assert.Zero(t, sloth.Period, "Sloth's spec has no period: the configured one applies")

	k8s := loadForm(t, "kubernetes.yaml")
	assert.Equal(t, slo.FormatKubernetes, k8s.Format)
	assert.Equal(t, comparable(sloth), comparable(k8s))
	assert.Equal(t, sloth.Alerting, k8s.Alerting)

	// OpenSLO v1 counts bad events as Sloth does: the same SLO, its period
	// from the file. Its indicator is in another file.
	v1 := loadForm(t, "openslo-v1.yaml", "openslo-v1-sli.yaml")
	assert.Equal(t, slo.FormatOpenSLOv1, v1.Format)
	assert.Equal(t, 30*slo.Day, v1.Period)
	assert.Equal(t, comparable(sloth), comparable(v1))

	// OpenSLO v1alpha counts good events: the same SLO but for the SLI,
	// which the evaluation holds to the same numbers (slo/prom).
	v1a := loadForm(t, "openslo-v1alpha.yaml")
	assert.Equal(t, slo.FormatOpenSLOv1alpha, v1a.Format)
	assert.Equal(t, slo.SLI{
		GoodQuery:  `sum(rate(http_requests_total{service="checkout",code!~"5.."}[{{.window}}]))`,
		TotalQuery: sloth.SLI.TotalQuery,
	}, v1a.SLI)
	want := comparable(sloth)
	want.SLI = v1a.SLI
	assert.Equal(t, want, comparable(v1a))
	assert.Equal(t, 0.001, v1a.ErrorBudget(), "target 0.999 is exactly 99.9 %")

	// Together they are one SLO four times over: the later ones are
	// refused as duplicates, naming the first.
	set := slo.Load([]string{formFile("sloth.yaml"), formFile("kubernetes.yaml")}, slo.DefaultPeriod)
	require.Len(t, set.SLOs, 1)
	assert.ErrorContains(t, set.Err(), `kubernetes.yaml:10: slo "availability-0": name: service checkout already has an SLO availability-0 (testdata/forms/sloth.yaml:9)`)
}
