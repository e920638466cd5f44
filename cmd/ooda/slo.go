package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
)

const sloUsage = `Usage: ooda slo check --config FILE... [--prometheus URL] [flags]

Evaluates every SLO once and prints its state, the burn rate of each alert
window, the error budget left and when it runs out. FILE is a Sloth
prometheus/v1 SLO file, or an ooda configuration file whose slo_files and
prometheus_url are used; repeat --config for several.

Exit status: 0 when no SLO pages, 1 when one does, 2 when the SLOs could
not be evaluated (bad files, Prometheus unreachable, a query refused).

Flags:
`

// fileList is a flag that may be repeated, each time with one or more
// comma-separated paths.
type fileList []string

func (f *fileList) String() string { return strings.Join(*f, ",") }

func (f *fileList) Set(v string) error {
	*f = append(*f, app.SplitList(v)...)
	return nil
}

// checkSubcommand reports whether args name the one subcommand, check, of
// `ooda slo` and `ooda freeze`. Otherwise it prints the usage (to stdout
// when help was asked for) and returns the error to exit with, nil for help.
func checkSubcommand(args []string, usage, short string, stdout, stderr io.Writer) (bool, error) {
	if len(args) > 0 && args[0] == "check" {
		return true, nil
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, usage)
		return false, nil
	}
	fmt.Fprint(stderr, usage)
	return false, usageErr("%s", short)
}

// runSLO is `ooda slo check`.
func runSLO(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if ok, err := checkSubcommand(args, sloUsage, "usage: ooda slo check --config FILE... [--prometheus URL]", stdout, stderr); !ok {
		return err
	}
	fs := flag.NewFlagSet("slo check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, sloUsage)
		fs.PrintDefaults()
	}
	var configs fileList
	fs.Var(&configs, "config", "Sloth SLO file or ooda configuration file; repeat for several")
	promURL := fs.String("prometheus", "", "Prometheus base URL (env PROMETHEUS_URL; default: the configuration's prometheus_url)")
	period := fs.String("period", "30d", "SLO period: 30d, 28d, 7d…")
	minRequests := fs.Float64("min-requests", prom.DefaultMinRequests, "fewest requests in an alert's long window for it to fire; 0 turns the check off")
	at := fs.String("at", "", "evaluate at this instant (RFC 3339) instead of now")
	timeout := fs.Duration("timeout", time.Minute, "give up on the evaluation after this long")
	if err := parseFlags(fs, args[1:]); err != nil {
		return ignoreHelp(err)
	}
	configs = append(configs, fs.Args()...)
	if len(configs) == 0 {
		return usageErr("name the SLO files: ooda slo check --config checkout.yaml [--prometheus http://prometheus:9090]")
	}
	p, err := model.ParseDuration(*period)
	if err != nil || p <= 0 {
		return usageErr("--period %q: want a duration such as 30d or 28d", *period)
	}
	when := time.Now()
	if *at != "" {
		if when, err = time.Parse(time.RFC3339, *at); err != nil {
			return usageErr("--at %q: want an RFC 3339 time such as 2026-03-02T10:00:00Z", *at)
		}
	}
	if *minRequests <= 0 {
		*minRequests = -1 // prom.Config's "off"
	}

	files, fromConfig, err := sloSources(configs)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	base := cmp.Or(*promURL, os.Getenv("PROMETHEUS_URL"), fromConfig)
	if base == "" {
		return usageErr("no Prometheus to ask: pass --prometheus URL or set PROMETHEUS_URL")
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr("--prometheus %q: want an http(s) URL such as http://prometheus:9090", base)
	}
	slos, _, err := slo.LoadFiles(files)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("SLO files:\n%w", err)}
	}
	windows := slo.DefaultWindows(time.Duration(p))
	for _, w := range windows.Warnings(slos) {
		fmt.Fprintln(stderr, "warning:", w)
	}

	guard, err := resilience.New(resilience.DefaultPolicy(resilience.DependencyPrometheus))
	if err != nil {
		return err
	}
	defer guard.HTTPClient().CloseIdleConnections()
	api, err := prom.NewPrometheusAPI(base, guard)
	if err != nil {
		return usageErr("--prometheus: %w", err)
	}
	ev, err := prom.NewEvaluator(prom.Config{
		API: api, Guard: guard, SLOs: slos, Windows: &windows,
		MinRequests: *minRequests, Timeout: *timeout,
	})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	rep, err := ev.Evaluate(ctx, when)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("could not evaluate against %s: %w", resilience.Redact(base), err)}
	}
	fmt.Fprintf(stdout, "%d SLOs at %s, period %s, from %s (%d queries in %s)\n\n",
		len(slos), when.UTC().Format(time.RFC3339), *period, resilience.Redact(base), rep.Queries, rep.Took.Round(time.Millisecond))
	if err := slo.WriteTable(stdout, rep); err != nil {
		return err
	}
	var paging, failed []string
	for _, r := range rep.Results {
		switch r.Level {
		case slo.LevelPage:
			paging = append(paging, r.SLO)
		case slo.LevelError:
			failed = append(failed, r.SLO)
		}
	}
	switch {
	case len(paging) > 0:
		return &exitError{code: 1, err: fmt.Errorf("paging: %s", strings.Join(paging, ", "))}
	case len(failed) > 0:
		return &exitError{code: 2, err: fmt.Errorf("could not evaluate %s", strings.Join(failed, ", "))}
	}
	return nil
}

// sloSources sorts the --config files into Sloth files and ooda
// configuration files, whose slo_files join the list and whose
// prometheus_url is returned.
func sloSources(paths []string) (files []string, prometheusURL string, err error) {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, "", fmt.Errorf("--config: %w", err)
		}
		var top map[string]any
		if err := yaml.Unmarshal(b, &top); err != nil {
			return nil, "", fmt.Errorf("--config %s: not valid YAML: %w", p, err)
		}
		if _, sloth := top["version"]; sloth {
			files = append(files, p)
			continue
		}
		c, err := app.ReadConfigFile(p)
		if err != nil {
			return nil, "", fmt.Errorf("--config %s: neither a Sloth SLO file (no version:) nor an ooda configuration: %w", p, err)
		}
		if len(c.SLOFiles) == 0 {
			return nil, "", fmt.Errorf("--config %s: an ooda configuration without slo_files", p)
		}
		files = append(files, c.SLOFiles...)
		if prometheusURL == "" {
			prometheusURL = c.PrometheusURL
		}
	}
	return files, prometheusURL, nil
}

const freezeUsage = `Usage: ooda freeze check --service NAME [--url URL] [flags]

Asks a running ooda server whether NAME may deploy under the error-budget
policy, for CI pipelines to gate on. The token is OODA_API_TOKEN.

Exit status: 0 when deploys may go, 1 while the service is frozen (its
error budget is spent), 2 when it could not tell (server unreachable or
slow, unknown service, an evaluation older than --max-age): the pipeline
decides what unknown means.

Flags:
`

// defaultFreezeMaxAge is how old a freeze status may be before `ooda
// freeze check` calls it unknown: the server evaluates every minute, so
// an older status means it cannot reach Prometheus.
const defaultFreezeMaxAge = 15 * time.Minute

// runFreeze is `ooda freeze check`.
func runFreeze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if ok, err := checkSubcommand(args, freezeUsage, "usage: ooda freeze check --service NAME [--url URL]", stdout, stderr); !ok {
		return err
	}
	fs := flag.NewFlagSet("freeze check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, freezeUsage)
		fs.PrintDefaults()
	}
	service := fs.String("service", "", "the service about to deploy, as named in its SLO files")
	base, timeout := clientFlags(fs)
	maxAge := fs.Duration("max-age", defaultFreezeMaxAge, "an evaluation older than this is unknown (exit 2); 0 accepts any age")
	if err := parseFlags(fs, args[1:]); err != nil {
		return ignoreHelp(err)
	}
	if strings.TrimSpace(*service) == "" || fs.NArg() > 0 {
		return usageErr("usage: ooda freeze check --service NAME [--url URL]")
	}
	c, err := newAPIClient(*base, *timeout)
	if err != nil {
		return err
	}
	term := newTerminalWriter(stdout, false)
	defer term.Flush()
	stdout = term
	var resp struct {
		slo.FreezeStatus
		Error string `json:"error"`
	}
	code, err := c.do(ctx, http.MethodGet, "/api/v1/freeze?service="+url.QueryEscape(*service), nil, &resp)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("cannot tell whether %s is frozen: %w", *service, err)}
	}
	switch {
	case code == http.StatusNotFound:
		return &exitError{code: 2, err: fmt.Errorf("cannot tell whether %s is frozen: %s", *service, resp.Error)}
	case code != http.StatusOK:
		return &exitError{code: 2, err: fmt.Errorf("cannot tell whether %s is frozen: the server answered %d: %s", *service, code, resp.Error)}
	case resp.EvaluatedAt.IsZero():
		return &exitError{code: 2, err: fmt.Errorf("cannot tell whether %s is frozen: its SLOs have not been evaluated yet", *service)}
	}
	fz := resp.FreezeStatus
	age := time.Since(fz.EvaluatedAt).Round(time.Second)
	if *maxAge > 0 && age > *maxAge {
		return &exitError{code: 2, err: fmt.Errorf("cannot tell whether %s is frozen: the latest evaluation is %s old (more than --max-age %s); is Prometheus reachable from ooda?", *service, age, *maxAge)}
	}
	budget := "unknown"
	if fz.BudgetRemaining != nil && !math.IsNaN(*fz.BudgetRemaining) {
		budget = slo.FormatBudget(*fz.BudgetRemaining)
	}
	if fz.Frozen {
		since := "now"
		if fz.Since != nil {
			since = fz.Since.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "%s is frozen since %s: its error budget is spent (%s left, evaluated %s ago). Deploy fixes for reliability only.\n", fz.Service, since, budget, age)
		return &exitError{code: 1, err: errors.New(fz.Service + " is frozen")}
	}
	fmt.Fprintf(stdout, "%s may deploy: %s of its error budget left (evaluated %s ago)\n", fz.Service, budget, age)
	return nil
}
