package tickets_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports keeps the package doc's promise: tickets imports none of
// the libraries it names (gobreaker comes only inside resilience), and
// reaches none of the module's adapters nor its own subpackages, which
// import it.
func TestImports(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the imports are read with the go command, which is not installed: %v", err)
	}
	list := func(format string) []string {
		out, err := exec.Command(goCmd, "list", "-f", format, "github.com/ooda-sre/ooda/tickets").Output()
		require.NoError(t, err, "go list")
		return strings.Fields(string(out))
	}
	const m = "github.com/ooda-sre/ooda/"
	for _, imp := range list(`{{join .Imports "\n"}}`) {
		for _, f := range []string{"github.com/slack-go/", "go.etcd.io/", "github.com/robfig/cron", "github.com/sony/gobreaker"} {
			if strings.HasPrefix(imp, f) {
				t.Errorf("tickets imports %s; it must not (see doc.go)", imp)
			}
		}
	}
	for _, dep := range list(`{{join .Deps "\n"}}`) {
		for _, f := range []string{"github.com/slack-go/", "go.etcd.io/", "github.com/robfig/cron", m + "bot", m + "api", m + "app", m + "storage", m + "internal", m + "tickets/"} {
			if strings.HasPrefix(dep, f) {
				t.Errorf("tickets reaches %s; it must not (see doc.go)", dep)
			}
		}
	}
}
