package main

import (
	"bytes"
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
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
)

const sloUsage = `Usage: ooda slo check --config FILE... [--prometheus URL] [flags]
       ooda slo validate [--period 30d] FILE...

check evaluates every SLO once and prints its state, the burn rate of each
alert window, the error budget left and when it runs out. validate reads
the files without Prometheus, for CI pipelines that lint SLO files, and
lists every problem.

FILE is an SLO file, in any of the forms Ooda reads: a Sloth spec
(version: prometheus/v1), a Kubernetes PrometheusServiceLevel (apiVersion:
sloth.slok.dev/v1) or an OpenSLO SLO (apiVersion: openslo/v1alpha or
openslo/v1); or an ooda configuration file, whose slo_files, slo_period and
prometheus_url are used. Repeat --config for several, or list the files
after the flags.

Exit status of check: 0 when no SLO pages, 1 when one does, 2 when some
could not be evaluated (a file or an SLO refused, a query Prometheus
refused, Prometheus unreachable).
Exit status of validate: 0 when every file is valid, 1 when one is not.

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

// subcommand reports which of its subcommands args name (`ooda slo check`,
// `ooda freeze check`). Otherwise it prints the usage (to stdout when help
// was asked for) and returns the error to exit with, nil for help.
func subcommand(args []string, usage, short string, stdout, stderr io.Writer, names ...string) (string, error) {
	if len(args) > 0 && slices.Contains(names, args[0]) {
		return args[0], nil
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, usage)
		return "", nil
	}
	fmt.Fprint(stderr, usage)
	return "", usageErr("%s", short)
}

// runSLO is `ooda slo check` and `ooda slo validate`.
func runSLO(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, err := subcommand(args, sloUsage, "usage: ooda slo check --config FILE... [--prometheus URL], or ooda slo validate FILE...", stdout, stderr, "check", "validate")
	if sub == "" {
		return err
	}
	fs := flag.NewFlagSet("slo "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, sloUsage)
		fs.PrintDefaults()
	}
	var configs fileList
	fs.Var(&configs, "config", "SLO file or ooda configuration file; repeat for several")
	period := fs.String("period", "", "SLO period of the files that give none: 30d, 28d, 7d… (default: the configuration's slo_period, else 30d)")
	if sub == "validate" {
		if err := parseFlags(fs, args[1:]); err != nil {
			return ignoreHelp(err)
		}
		return validateSLOs(append(configs, fs.Args()...), *period, stdout)
	}
	promURL := fs.String("prometheus", "", "Prometheus base URL (env PROMETHEUS_URL; default: the configuration's prometheus_url)")
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
	when := time.Now()
	if *at != "" {
		var err error
		if when, err = time.Parse(time.RFC3339, *at); err != nil {
			return usageErr("--at %q: want an RFC 3339 time such as 2026-03-02T10:00:00Z", *at)
		}
	}
	if *minRequests <= 0 {
		*minRequests = -1 // prom.Config's "off"
	}

	src, err := sloSources(configs)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	p, err := sloPeriod(*period, src.period)
	if err != nil {
		return err
	}
	// The files first: what is wrong with them needs no Prometheus.
	set := slo.Load(src.files, p)
	for _, w := range set.Warnings() {
		fmt.Fprintln(stderr, "warning:", w)
	}
	problems := set.Problems()
	for _, e := range problems {
		fmt.Fprintln(stderr, "error:", e)
	}
	if len(set.SLOs) == 0 {
		return &exitError{code: 2, err: fmt.Errorf("no SLO could be loaded from %s; correct the errors above", strings.Join(src.files, ", "))}
	}

	base := cmp.Or(*promURL, os.Getenv("PROMETHEUS_URL"), src.prometheusURL)
	if base == "" {
		return usageErr("no Prometheus to ask: pass --prometheus URL or set PROMETHEUS_URL (ooda slo validate checks the files alone)")
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr("--prometheus %q: want an http(s) URL such as http://prometheus:9090", base)
	}
	windows := slo.DefaultWindows(p)
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
		API: api, Guard: guard, SLOs: set.SLOs, Windows: &windows,
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
		len(set.SLOs), when.UTC().Format(time.RFC3339), slo.FormatWindow(p), resilience.Redact(base), rep.Queries, rep.Took.Round(time.Millisecond))
	if err := slo.WriteTable(stdout, rep); err != nil {
		return err
	}
	var paging, failed, misconfigured []string
	for _, r := range rep.Results {
		switch r.Level {
		case slo.LevelPage:
			paging = append(paging, r.SLO)
		case slo.LevelError:
			failed = append(failed, r.SLO)
		case slo.LevelConfigError:
			misconfigured = append(misconfigured, r.SLO)
		}
	}
	var why []string
	if len(problems) > 0 {
		why = append(why, fmt.Sprintf("%d problem(s) in the SLO files (above)", len(problems)))
	}
	if len(misconfigured) > 0 {
		why = append(why, "Prometheus refused the queries of "+strings.Join(misconfigured, ", ")+" (configuration errors: correct them in their files)")
	}
	if len(failed) > 0 {
		why = append(why, "could not evaluate "+strings.Join(failed, ", "))
	}
	switch {
	case len(paging) > 0:
		return &exitError{code: 1, err: fmt.Errorf("paging: %s", strings.Join(paging, ", "))}
	case len(why) > 0:
		return &exitError{code: 2, err: errors.New(strings.Join(why, "; "))}
	}
	return nil
}

// sloPeriod is the --period flag, else the configuration's slo_period,
// else 30 days.
func sloPeriod(flagValue, configured string) (time.Duration, error) {
	v := cmp.Or(flagValue, configured)
	if v == "" {
		return slo.DefaultPeriod, nil
	}
	p, err := slo.ParsePeriod(v)
	if err != nil {
		return 0, usageErr("--period: %w", err)
	}
	return p, nil
}

// validateSLOs is `ooda slo validate`: every file read as Ooda would read
// it, what it was read as, its SLOs and every problem.
func validateSLOs(paths []string, period string, stdout io.Writer) error {
	if len(paths) == 0 {
		return usageErr("name the SLO files: ooda slo validate checkout.yaml [more.yaml…]")
	}
	src, err := sloSources(paths)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	p, err := sloPeriod(period, src.period)
	if err != nil {
		return err
	}
	set := slo.Load(src.files, p)
	slos := map[string]slo.SLO{}
	for _, s := range set.SLOs {
		slos[s.ID] = s
	}
	invalid, problems := 0, 0
	for _, f := range set.Files {
		var b strings.Builder
		b.WriteString(f.Path + ": ")
		if len(f.Formats) > 0 {
			var forms []string
			for _, fm := range f.Formats {
				forms = append(forms, string(fm))
			}
			b.WriteString(strings.Join(forms, " and ") + ": ")
		}
		var ids []string
		for _, id := range f.SLOs {
			s := slos[id]
			if s.Period > 0 {
				id += " (period " + slo.FormatWindow(s.Period) + ")"
			}
			ids = append(ids, id)
		}
		switch {
		case len(ids) > 0:
			fmt.Fprintf(&b, "%d SLO(s): %s", len(ids), strings.Join(ids, ", "))
		default:
			b.WriteString("no SLO")
		}
		if !f.OK() {
			invalid++
			problems += len(f.Problems)
			fmt.Fprintf(&b, "; INVALID, %d problem(s):", len(f.Problems))
		}
		fmt.Fprintln(stdout, b.String())
		for _, e := range f.Problems {
			fmt.Fprintln(stdout, "  error:", e)
		}
		for _, w := range f.Warnings {
			fmt.Fprintln(stdout, "  warning:", w)
		}
	}
	fmt.Fprintf(stdout, "\n%d of %d file(s) valid, %d SLO(s), period %s unless a file gives its own. PromQL beyond brackets and quotes is Prometheus's to judge: ooda slo check sends every query.\n",
		len(set.Files)-invalid, len(set.Files), len(set.SLOs), slo.FormatWindow(p))
	if invalid > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d SLO file(s) invalid, %d problem(s): correct them as listed above", invalid, len(set.Files), problems)}
	}
	return nil
}

// sloFileSet is what the --config files name: SLO files, and from ooda
// configuration files, their slo_files, slo_period and prometheus_url.
type sloFileSet struct {
	files         []string
	period        string
	prometheusURL string
}

// sloSources sorts the --config files into SLO files and ooda
// configuration files, whose slo_files join the list and whose
// slo_period and prometheus_url are returned (the first given).
func sloSources(paths []string) (sloFileSet, error) {
	var out sloFileSet
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			// Loading it reports the problem, with the other files'.
			out.files = append(out.files, p)
			continue
		}
		if !oodaConfigShaped(b) {
			// An SLO file, or neither: loading it says which.
			out.files = append(out.files, p)
			continue
		}
		c, err := app.ReadConfigFile(p)
		if err != nil {
			// Neither an SLO file nor a configuration: loading it says
			// which forms it could have been.
			out.files = append(out.files, p)
			continue
		}
		if len(c.SLOFiles) == 0 {
			return out, fmt.Errorf("--config %s: an ooda configuration without slo_files; list the SLO files there or name them here", p)
		}
		out.files = append(out.files, c.SLOFiles...)
		out.period = cmp.Or(out.period, c.SLOPeriod)
		out.prometheusURL = cmp.Or(out.prometheusURL, c.PrometheusURL)
	}
	return out, nil
}

// oodaConfigShaped reports whether b reads as an ooda configuration: a
// single YAML document, a mapping with none of the SLO formats' header
// keys. It looks at every document, as slo.Load does, so that a file
// serve reads as SLOs validate reads as SLOs too: Helm output opening
// with an empty document (---), an SLO document after one that is not, an
// empty file (which Load reports as empty).
func oodaConfigShaped(b []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	docs := 0
	for first := true; ; first = false {
		var top map[string]any
		err := dec.Decode(&top)
		switch {
		case errors.Is(err, io.EOF):
			return docs == 1
		case err != nil, hasSLOHeader(top):
			// Not YAML, not a mapping, or an SLO document.
			return false
		case len(top) > 0:
			docs++
		case first:
			// app.ReadConfigFile reads the first document alone.
			return false
		}
	}
}

// hasSLOHeader reports whether a YAML document has the header of one of
// the SLO file formats rather than an ooda configuration's keys.
func hasSLOHeader(top map[string]any) bool {
	for _, k := range []string{"version", "apiVersion", "kind"} {
		if _, ok := top[k]; ok {
			return true
		}
	}
	return false
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
	if sub, err := subcommand(args, freezeUsage, "usage: ooda freeze check --service NAME [--url URL]", stdout, stderr, "check"); sub == "" {
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
