package chart_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports keeps the package doc comment true: chart is computation
// only. It reaches no network, no Slack, no store and no adapter of the
// module, and no package that finds fonts on the host: the Liberation
// fonts it draws with are compiled in.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/ooda-sre/ooda/chart").CombinedOutput()
	require.NoError(t, err, "go list: %s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "gonum.org/v1/plot/font/liberation", "the fonts are the embedded Liberation fonts")

	forbidden := []string{
		"net/http", "net",
		"github.com/slack-go/",
		"go.etcd.io/",
		"github.com/ooda-sre/ooda/bot", "github.com/ooda-sre/ooda/api", "github.com/ooda-sre/ooda/app",
		"github.com/ooda-sre/ooda/storage", "github.com/ooda-sre/ooda/internal",
		"github.com/flopp/go-findfont", "github.com/adrg/sysfont", "github.com/adrg/xdg",
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, strings.TrimSuffix(f, "/")+"/") {
				t.Errorf("chart imports %s (through %s): it must stay free of I/O, Slack, storage and host fonts", f, dep)
			}
		}
	}
}
