package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/postmortem"
)

const postmortemUsage = `Usage:
  ooda postmortem lint FILE.md...   check post-mortems for language that blames people

lint prints each finding as FILE:LINE: phrase — suggestion. Exit status:
0 when nothing is found, 1 when something is, 2 for a usage error or a file
it cannot read. Fenced code, code spans, URLs and the review note of an
Ooda draft are not checked.
`

// runPostmortem runs `ooda postmortem SUBCOMMAND`.
func runPostmortem(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, postmortemUsage)
		return usageErr("postmortem needs a subcommand: lint")
	}
	switch args[0] {
	case "lint":
		return runPostmortemLint(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, postmortemUsage)
		return nil
	}
	fmt.Fprint(stderr, postmortemUsage)
	return usageErr("postmortem %q: the subcommand is lint", args[0])
}

// runPostmortemLint checks each file and reports every finding, so a CI
// log shows all of them at once.
func runPostmortemLint(files []string, stdout, stderr io.Writer) error {
	if len(files) == 1 && (files[0] == "-h" || files[0] == "--help") {
		fmt.Fprint(stdout, postmortemUsage)
		return nil
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, postmortemUsage)
		return usageErr("postmortem lint needs a file: ooda postmortem lint FILE.md")
	}
	found, flagged := 0, 0
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("postmortem lint: %w", err)}
		}
		fs := postmortem.Lint(string(b))
		for _, f := range fs {
			fmt.Fprintf(stdout, "%s:%d: %s — %s\n", name, f.Line, f.Phrase, f.Suggestion)
		}
		if len(fs) > 0 {
			found += len(fs)
			flagged++
		}
	}
	if found > 0 {
		return &exitError{code: 1, err: fmt.Errorf("postmortem lint: %d %s in %d of %d %s",
			found, lintPlural(found, "phrase that blames people", "phrases that blame people"), flagged, len(files), lintPlural(len(files), "file", "files"))}
	}
	fmt.Fprintf(stdout, "no language that blames people in %d %s\n", len(files), lintPlural(len(files), "file", "files"))
	return nil
}

func lintPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// exportSource is what an export reads: the incident's events, and the
// workspace's people as the server last kept them (*storage.DB).
type exportSource interface {
	incident.Store
	People(ctx context.Context) ([]people.Person, error)
}

// storedPeople is the directory the store keeps: the names Slack gave
// the server, as of its last refresh. An export reads no Slack.
func storedPeople(ctx context.Context, store exportSource) (*people.Directory, error) {
	ps, err := store.People(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return people.NewDirectory(ps), nil
}

// exportPostmortem drafts incident n's post-mortem, dated now, and renders
// it in format (md, html or json). The export command calls it; the HTTP
// API and Slack use the same postmortem.Export, so all three agree.
func exportPostmortem(ctx context.Context, store exportSource, n uint64, format string) ([]byte, error) {
	dir, err := storedPeople(ctx, store)
	if err != nil {
		return nil, err
	}
	b, _, err := postmortem.Export(ctx, store, n, format, postmortem.Options{Now: time.Now().UTC(), Names: dir.Name})
	if errors.Is(err, postmortem.ErrFormat) {
		return nil, usageErr("--format: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return b, nil
}
