package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `ooda: an incident-response bot for Slack that runs the OODA loop.

Usage:
  ooda serve   [flags]                     run the bot (Slack, API, metrics)
  ooda demo                                play a scripted incident with nothing configured
  ooda incident <command>                  run an /incident command against a running server
                                           (OODA_URL, OODA_API_TOKEN): works while Slack is down
  ooda status                              the server's dependencies, breakers and queue
  ooda sessions revoke U0123ABCD|@alice    sign a person out of the web UI everywhere (admin token)
  ooda slo check --config FILE... [--prometheus URL]
                                           evaluate the SLOs once and print their burn (exit 1 on page, 2 unknown)
  ooda slo validate FILE...                check SLO files without Prometheus (exit 1 when one is invalid)
  ooda freeze check --service NAME [--url URL]
                                           may NAME deploy? exit 0 yes, 1 frozen, 2 cannot tell
  ooda export  --db PATH|--url URL --incident N [--format json|md|html] [-o FILE]
                                           the incident and its events (json) or its post-mortem draft;
                                           --url asks a running server (its database is locked)
  ooda postmortem lint FILE.md...          check post-mortems for language that blames people
  ooda backup  --db PATH|--url URL [--force] OUT
                                           checked copy of the database, safe while serving; never
                                           replaces a live database, nor any file without --force
  ooda check   --db PATH                   consistency check of the database, read-only
  ooda migrate --from PATH.db --to etcd    copy a database file into etcd (OODA_ETCD_ENDPOINTS) and check the copy
  ooda version                             print the version

Run "ooda COMMAND -h" for a command's flags.
`

// exitError carries a process exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// errUsage is returned for a command line that names no known command; the
// usage text has already been printed.
var errUsage = errors.New("unknown command; see the usage above")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2, err: errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "export":
		return runExport(ctx, rest, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, stdout, stderr)
	case "check":
		return runCheck(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "slo":
		return runSLO(ctx, rest, stdout, stderr)
	case "freeze":
		return runFreeze(ctx, rest, stdout, stderr)
	case "status":
		return runStatus(ctx, rest, stdout, stderr)
	case "postmortem":
		return runPostmortem(ctx, rest, stdout, stderr)
	case "incident":
		return runIncident(ctx, rest, stdout, stderr)
	case "sessions":
		return runSessions(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "ooda %s\n", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitError{code: 2, err: fmt.Errorf("%q: %w", strings.TrimSpace(cmd), errUsage)}
}
