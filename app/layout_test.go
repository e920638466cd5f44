// This file holds the layout rules of the module and the test that keeps
// them true (STYLE.md rule 12, DESIGN.md section 2). Dependencies point
// inward: app wires everything, the adapters import the domain, and the
// domain imports none of them.
//
// Who may import a library directly (checked over every package of the
// module, production files and test files alike):
//
//   - github.com/slack-go/...: only bot/..., app and internal/demo.
//     cmd/ooda reaches Slack through app, never on its own.
//   - go.etcd.io/bbolt and go.etcd.io/etcd/...: only storage/...
//   - github.com/robfig/cron/...: only app.
//   - github.com/sony/gobreaker/...: only resilience.
//   - github.com/coreos/go-oidc/..., golang.org/x/oauth2/... and
//     github.com/go-jose/...: only api/web/... (Sign in with Slack).
//   - github.com/chromedp/...: only app (the browser tests).
//
// What the domain may reach: incident, timeline, roles, postmortem, people and slo
// (the SLO math, not slo/prom, which queries Prometheus) must not reach,
// directly or through other packages of the module, any adapter (bot/...,
// api/..., app/..., storage/..., resilience/..., slo/prom/..., internal/...)
// nor any I/O library (slack-go, go.etcd.io, cron, gobreaker, Prometheus's
// client_golang, net/http). Only edges between packages of the module are
// followed, and only production imports count: a domain test may start an
// httptest server.
//
// Every package of the module (and the cmd/ooda command) has a package doc
// comment, which says what the package holds and what it must never import.
//
// A failure names the chain of imports that broke a rule, for example
//
//	./slo imports ./resilience imports github.com/slack-go/slack: ...
//
// so the fix is to cut the first edge that should not be there.
package app_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// module is the module whose layout the rules describe.
const module = "github.com/ooda-sre/ooda"

// directRule says which packages of the module may import a library.
type directRule struct {
	name    string   // the sub-test's name
	targets []string // patterns of the library's packages
	allowed []string // patterns of the packages that may import them
	why     string   // ends the failure message
}

// reachRule says what a domain package must not reach, directly or through
// other packages of the module.
type reachRule struct {
	root      string   // the domain package
	forbidden []string // patterns it must not reach
	why       string   // ends the failure message
}

// directRules returns the import rules for libraries, for module m.
func directRules(m string) []directRule {
	return []directRule{
		{
			name:    "slack-go only in bot and app",
			targets: []string{"github.com/slack-go/..."},
			allowed: []string{m + "/bot/...", m + "/app", m + "/internal/demo"},
			why:     "slack-go is allowed only in bot/..., app and internal/demo",
		},
		{
			name:    "bbolt and etcd only in storage",
			targets: []string{"go.etcd.io/bbolt/...", "go.etcd.io/etcd/..."},
			allowed: []string{m + "/storage/..."},
			why:     "bbolt and etcd are allowed only in storage/...",
		},
		{
			name:    "cron only in app",
			targets: []string{"github.com/robfig/cron/..."},
			allowed: []string{m + "/app"},
			why:     "cron is allowed only in app",
		},
		{
			name:    "OpenID Connect only in the web UI",
			targets: []string{"github.com/coreos/go-oidc/...", "golang.org/x/oauth2/...", "github.com/go-jose/..."},
			allowed: []string{m + "/api/web/..."},
			why:     "sign-in (go-oidc, oauth2, go-jose) is allowed only in api/web/...",
		},
		{
			name:    "chromedp only in the browser tests",
			targets: []string{"github.com/chromedp/..."},
			allowed: []string{m + "/app"},
			why:     "chromedp drives the browser tests, in app, and nothing else",
		},
		{
			name:    "go-github only in the GitHub tracker",
			targets: []string{"github.com/google/go-github/..."},
			allowed: []string{m + "/tickets/github"},
			why:     "go-github is allowed only in tickets/github",
		},
		{
			name:    "GitLab's client only in the GitLab tracker",
			targets: []string{"gitlab.com/gitlab-org/api/client-go/..."},
			allowed: []string{m + "/tickets/gitlab"},
			why:     "GitLab's client is allowed only in tickets/gitlab",
		},
		{
			name:    "gobreaker only in resilience",
			targets: []string{"github.com/sony/gobreaker/..."},
			allowed: []string{m + "/resilience"},
			why:     "gobreaker is allowed only in resilience",
		},
	}
}

// reachRules returns, for module m, one rule per domain package.
func reachRules(m string) []reachRule {
	forbidden := []string{
		m + "/bot/...",
		m + "/api/...",
		m + "/app/...",
		m + "/storage/...",
		m + "/resilience/...",
		m + "/slo/prom/...",
		m + "/internal/...",
		"github.com/slack-go/...",
		"go.etcd.io/...",
		"github.com/robfig/cron/...",
		"github.com/sony/gobreaker/...",
		"github.com/prometheus/client_golang/...",
		"net/http/...",
	}
	var rules []reachRule
	for _, name := range []string{"incident", "timeline", "roles", "postmortem", "slo", "people", "search", "insights", "chart"} {
		rules = append(rules, reachRule{
			root:      m + "/" + name,
			forbidden: forbidden,
			why:       "the domain reaches no adapter and no I/O library",
		})
	}
	// The grammar and dispatcher serve every transport, so no transport's
	// library or package may come with them; the text they write is
	// mrkdwn's, which is as plain.
	for _, name := range []string{"bot/command", "bot/mrkdwn"} {
		rules = append(rules, reachRule{
			root: m + "/" + name,
			forbidden: []string{
				"github.com/slack-go/...", "go.etcd.io/...", "github.com/robfig/cron/...",
				m + "/bot", m + "/bot/blockkit", m + "/bot/slackapi", m + "/bot/executor", m + "/bot/signals",
				m + "/api/...", m + "/app/...", m + "/storage/...", m + "/internal/...",
			},
			why: "the command layer is the same for Slack, the API and the CLI",
		})
	}
	// The web UI reads the store and renders; Slack and the wiring stay
	// out of it, so it serves the same pages on every replica and in
	// tests without them.
	rules = append(rules, reachRule{
		root: m + "/api/web",
		forbidden: []string{
			"github.com/slack-go/...", "github.com/robfig/cron/...", "github.com/sony/gobreaker/...",
			m + "/bot/...", m + "/app/...", m + "/internal/...", m + "/resilience/...",
		},
		why: "the web UI reaches no Slack, no wiring and no outbound guard",
	})
	// The tickets core speaks to trackers through tickets.Tracker only:
	// the adapters, their client libraries and Slack stay out of it.
	rules = append(rules, reachRule{
		root: m + "/tickets",
		forbidden: []string{
			// gobreaker comes with resilience, whose guards it calls
			// through.
			"github.com/slack-go/...", "go.etcd.io/...", "github.com/robfig/cron/...",
			"github.com/google/go-github/...", "gitlab.com/gitlab-org/...",
			m + "/tickets/github", m + "/tickets/gitlab", m + "/tickets/jira", m + "/tickets/trackertest",
			m + "/bot/...", m + "/api/...", m + "/app/...", m + "/storage/...", m + "/internal/...",
		},
		why: "the tickets core knows trackers by their interface, and no Slack, wiring or storage",
	})
	return rules
}

// matches reports whether import path p matches pattern, where "x/..."
// matches x and every package below it, as in the go command.
func matches(pattern, p string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == prefix || strings.HasPrefix(p, prefix+"/")
	}
	return p == pattern
}

func matchesAny(patterns []string, p string) (string, bool) {
	for _, pattern := range patterns {
		if matches(pattern, p) {
			return pattern, true
		}
	}
	return "", false
}

// inModule reports whether p is a package of module m.
func inModule(m, p string) bool { return matches(m+"/...", p) }

// short names a package of module m the way the go command accepts it from
// the module root ("./bot/slacktest"), and leaves other paths alone.
func short(m, p string) string {
	if p == m {
		return "."
	}
	if rest, ok := strings.CutPrefix(p, m+"/"); ok {
		return "./" + rest
	}
	return p
}

// chain spells out a path of imports: "./a imports ./b imports lib".
func chain(m string, path []string) string {
	names := make([]string, len(path))
	for i, p := range path {
		names[i] = short(m, p)
	}
	return strings.Join(names, " imports ")
}

// checkDirect returns one message per import of graph that breaks rule.
// graph maps each package of module m to the packages it imports.
func checkDirect(m string, graph map[string][]string, rule directRule) []string {
	var broken []string
	for _, pkg := range sortedKeys(graph) {
		if !inModule(m, pkg) {
			continue
		}
		if _, ok := matchesAny(rule.allowed, pkg); ok {
			continue
		}
		for _, imp := range graph[pkg] {
			if _, ok := matchesAny(rule.targets, imp); ok {
				broken = append(broken, fmt.Sprintf("%s: %s", chain(m, []string{pkg, imp}), rule.why))
			}
		}
	}
	return broken
}

// checkReach walks graph breadth first from rule.root, following only
// packages of module m, and returns one message per forbidden package it
// reaches, naming the shortest chain of imports that reaches it. It does
// not walk past a forbidden package: the first bad edge is the one to cut.
func checkReach(m string, graph map[string][]string, rule reachRule) []string {
	if _, ok := graph[rule.root]; !ok {
		return []string{fmt.Sprintf("%s is not in the module: its rule would pass without checking anything", short(m, rule.root))}
	}
	parent := map[string]string{rule.root: ""}
	queue := []string{rule.root}
	var broken []string
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		for _, imp := range graph[pkg] {
			if _, seen := parent[imp]; seen {
				continue
			}
			parent[imp] = pkg
			if pattern, ok := matchesAny(rule.forbidden, imp); ok {
				broken = append(broken, fmt.Sprintf("%s: %s must not reach %s; %s",
					chain(m, pathTo(parent, imp)), short(m, rule.root), short(m, pattern), rule.why))
				continue
			}
			if inModule(m, imp) {
				queue = append(queue, imp)
			}
		}
	}
	return broken
}

// pathTo follows parent links back from p to the root of the walk.
func pathTo(parent map[string]string, p string) []string {
	var path []string
	for ; p != ""; p = parent[p] {
		path = append(path, p)
	}
	slices.Reverse(path)
	return path
}

func sortedKeys(graph map[string][]string) []string {
	keys := make([]string, 0, len(graph))
	for k := range graph {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// listedPackage holds the fields of `go list -json` the test reads.
type listedPackage struct {
	ImportPath   string
	Name         string
	Doc          string
	Standard     bool
	GoFiles      []string
	CgoFiles     []string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Module       *struct {
		Path string
		Main bool
	}
	Error *struct{ Err string }
}

// goList runs `go list -e -deps -json ./...` at the module root and returns
// the packages of the main module. -e keeps packages that do not build: the
// layout is checked even while the tree is mid-refactor.
func goList(t *testing.T) []listedPackage {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the layout is read with the go command, which is not installed: %v", err)
	}
	out, err := exec.Command(goCmd, "env", "GOMOD").Output()
	require.NoError(t, err, "go env GOMOD")
	gomod := strings.TrimSpace(string(out))
	require.True(t, filepath.IsAbs(gomod), "the test must run inside the module, got GOMOD=%q", gomod)

	cmd := exec.Command(goCmd, "list", "-e", "-deps", "-json", "./...")
	cmd.Dir = filepath.Dir(gomod)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	require.NoError(t, err, "go list in %s: %s", cmd.Dir, stderr.String())

	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "decode go list output")
		if p.Module == nil || !p.Module.Main {
			continue
		}
		require.Equal(t, module, p.Module.Path, "the layout rules are written for module %s", module)
		if p.Error != nil {
			t.Logf("%s does not load, its imports may be incomplete: %s", short(module, p.ImportPath), p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs, "go list found no package of %s", module)
	return pkgs
}

// TestLayout checks the real module against the rules at the top of this
// file.
func TestLayout(t *testing.T) {
	pkgs := goList(t)

	prod := map[string][]string{}  // production imports
	tests := map[string][]string{} // imports of _test.go files
	for _, p := range pkgs {
		prod[p.ImportPath] = p.Imports
		tests[p.ImportPath] = append(slices.Clone(p.TestImports), p.XTestImports...)
	}

	for _, rule := range directRules(module) {
		t.Run(rule.name, func(t *testing.T) {
			for _, msg := range checkDirect(module, prod, rule) {
				t.Error(msg)
			}
		})
		t.Run(rule.name+" (test files)", func(t *testing.T) {
			for _, msg := range checkDirect(module, tests, rule) {
				t.Error(strings.Replace(msg, " imports ", " test imports ", 1))
			}
		})
	}
	for _, rule := range reachRules(module) {
		// No "/" in the name, so -run can select it.
		name := strings.TrimPrefix(rule.root, module+"/") + " reaches no adapter or IO library"
		t.Run(name, func(t *testing.T) {
			for _, msg := range checkReach(module, prod, rule) {
				t.Error(msg)
			}
		})
	}
	t.Run("every package has a doc comment", func(t *testing.T) {
		for _, p := range pkgs {
			if len(p.GoFiles)+len(p.CgoFiles) == 0 {
				continue // only test files: nothing to document
			}
			if p.Name == "main" && p.ImportPath != module+"/cmd/ooda" {
				continue
			}
			if p.Doc == "" {
				t.Errorf("%s has no package doc comment: say what it holds and what it must never import", short(module, p.ImportPath))
			}
		}
	})
}

// TestLayoutCheckers proves the checkers on small graphs, so that a green
// TestLayout means the module is clean, not that the checkers see nothing.
func TestLayoutCheckers(t *testing.T) {
	const m = module
	clean := map[string][]string{
		m + "/timeline":            {"fmt", "time"},
		m + "/roles":               {m + "/timeline"},
		m + "/incident":            {m + "/roles", m + "/timeline", "net/url"},
		m + "/postmortem":          {m + "/incident", "html/template"},
		m + "/people":              {m + "/timeline", "strings"},
		m + "/search":              {m + "/incident", m + "/timeline", "strings"},
		m + "/insights":            {"sort", "time"},
		m + "/chart":               {"gonum.org/v1/plot", "time"},
		m + "/slo":                 {"github.com/prometheus/common/model", "math"},
		m + "/slo/prom":            {m + "/slo", "github.com/prometheus/client_golang/api", "net/http"},
		m + "/resilience":          {"github.com/sony/gobreaker/v2", "net/http"},
		m + "/storage":             {m + "/incident", m + "/slo", "go.etcd.io/bbolt"},
		m + "/storage/storagetest": {m + "/storage", "go.etcd.io/bbolt"},
		m + "/bot/mrkdwn":          {m + "/incident", "strings"},
		m + "/bot/command":         {m + "/bot/mrkdwn", m + "/incident", m + "/slo"},
		m + "/bot/blockkit":        {m + "/bot/mrkdwn", "github.com/slack-go/slack"},
		m + "/api/web":             {m + "/incident", m + "/storage", "github.com/coreos/go-oidc/v3/oidc", "golang.org/x/oauth2"},
		m + "/bot":                 {m + "/bot/command", m + "/bot/blockkit", m + "/incident", m + "/resilience", "github.com/slack-go/slack"},
		m + "/app":                 {m + "/bot", m + "/storage", m + "/slo/prom", "github.com/robfig/cron/v3", "github.com/slack-go/slack/socketmode"},
		m + "/cmd/ooda":            {m + "/app"},
		m + "/tickets":             {m + "/incident", m + "/resilience", "net/http"},
		m + "/tickets/github":      {m + "/tickets", "github.com/google/go-github/v89/github"},
	}
	// with returns clean with pkg importing imps as well.
	with := func(pkg string, imps ...string) map[string][]string {
		g := map[string][]string{}
		for k, v := range clean {
			g[k] = slices.Clone(v)
		}
		g[pkg] = append(g[pkg], imps...)
		return g
	}

	tests := []struct {
		name  string
		graph map[string][]string
		want  []string
	}{
		{
			name:  "clean layout",
			graph: clean,
		},
		{
			name:  "the command imports slack-go",
			graph: with(m+"/cmd/ooda", "github.com/slack-go/slack"),
			want: []string{
				"./cmd/ooda imports github.com/slack-go/slack: slack-go is allowed only in bot/..., app and internal/demo",
			},
		},
		{
			name:  "incident imports gobreaker",
			graph: with(m+"/incident", "github.com/sony/gobreaker/v2"),
			want: []string{
				"./incident imports github.com/sony/gobreaker/v2: gobreaker is allowed only in resilience",
				"./incident imports github.com/sony/gobreaker/v2: ./incident must not reach github.com/sony/gobreaker/...; the domain reaches no adapter and no I/O library",
				"./postmortem imports ./incident imports github.com/sony/gobreaker/v2: ./postmortem must not reach github.com/sony/gobreaker/...; the domain reaches no adapter and no I/O library",
				"./search imports ./incident imports github.com/sony/gobreaker/v2: ./search must not reach github.com/sony/gobreaker/...; the domain reaches no adapter and no I/O library",
				"./api/web imports ./incident imports github.com/sony/gobreaker/v2: ./api/web must not reach github.com/sony/gobreaker/...; the web UI reaches no Slack, no wiring and no outbound guard",
			},
		},
		{
			name:  "resilience imports slack-go",
			graph: with(m+"/resilience", "github.com/slack-go/slack"),
			want: []string{
				"./resilience imports github.com/slack-go/slack: slack-go is allowed only in bot/..., app and internal/demo",
				"./tickets imports ./resilience imports github.com/slack-go/slack: ./tickets must not reach github.com/slack-go/...; the tickets core knows trackers by their interface, and no Slack, wiring or storage",
			},
		},
		{
			name: "the domain reaches resilience through a chain",
			graph: func() map[string][]string {
				g := with(m+"/timeline", m+"/slo")
				g[m+"/slo"] = append(g[m+"/slo"], m+"/resilience")
				return g
			}(),
			want: []string{
				"./api/web imports ./storage imports ./slo imports ./resilience: ./api/web must not reach ./resilience/...; the web UI reaches no Slack, no wiring and no outbound guard",
				"./incident imports ./timeline imports ./slo imports ./resilience: ./incident must not reach ./resilience/...; the domain reaches no adapter and no I/O library",
				"./people imports ./timeline imports ./slo imports ./resilience: ./people must not reach ./resilience/...; the domain reaches no adapter and no I/O library",
				"./search imports ./timeline imports ./slo imports ./resilience: ./search must not reach ./resilience/...; the domain reaches no adapter and no I/O library",
				"./postmortem imports ./incident imports ./timeline imports ./slo imports ./resilience: ./postmortem must not reach ./resilience/...; the domain reaches no adapter and no I/O library",
				"./roles imports ./timeline imports ./slo imports ./resilience: ./roles must not reach ./resilience/...; the domain reaches no adapter and no I/O library",
				"./slo imports ./resilience: ./slo must not reach ./resilience/...; the domain reaches no adapter and no I/O library",
				"./timeline imports ./slo imports ./resilience: ./timeline must not reach ./resilience/...; the domain reaches no adapter and no I/O library",
			},
		},
		{
			name:  "the dispatcher renders Block Kit",
			graph: with(m+"/bot/command", m+"/bot/blockkit"),
			want: []string{
				"./bot/command imports ./bot/blockkit: ./bot/command must not reach ./bot/blockkit; the command layer is the same for Slack, the API and the CLI",
			},
		},
		{
			name:  "the web UI calls Slack through the bot",
			graph: with(m+"/api/web", m+"/bot"),
			want: []string{
				"./api/web imports ./bot: ./api/web must not reach ./bot/...; the web UI reaches no Slack, no wiring and no outbound guard",
			},
		},
		{
			name:  "a browser outside the browser tests",
			graph: with(m+"/bot/blockkit", "github.com/chromedp/chromedp"),
			want: []string{
				"./bot/blockkit imports github.com/chromedp/chromedp: chromedp drives the browser tests, in app, and nothing else",
			},
		},
		{
			name:  "slo imports an HTTP client",
			graph: with(m+"/slo", "net/http"),
			want: []string{
				"./slo imports net/http: ./slo must not reach net/http/...; the domain reaches no adapter and no I/O library",
			},
		},
		{
			name:  "the tickets core reaches an adapter",
			graph: with(m+"/tickets", m+"/tickets/github"),
			want: []string{
				"./tickets imports ./tickets/github: ./tickets must not reach ./tickets/github; the tickets core knows trackers by their interface, and no Slack, wiring or storage",
			},
		},
		{
			name:  "go-github outside its tracker",
			graph: with(m+"/app", "github.com/google/go-github/v89/github"),
			want:  []string{"./app imports github.com/google/go-github/v89/github: go-github is allowed only in tickets/github"},
		},
		{
			name: "a domain package is missing",
			graph: func() map[string][]string {
				g := with(m + "/roles")
				delete(g, m+"/roles")
				return g
			}(),
			want: []string{
				"./roles is not in the module: its rule would pass without checking anything",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, rule := range directRules(m) {
				got = append(got, checkDirect(m, tt.graph, rule)...)
			}
			for _, rule := range reachRules(m) {
				got = append(got, checkReach(m, tt.graph, rule)...)
			}
			assert.ElementsMatch(t, tt.want, got)
		})
	}
}
