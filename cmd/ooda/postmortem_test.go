package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

func runPM(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := runPostmortem(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestPostmortemLint(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	clean := write("clean.md", "# Post-mortem\n\nThe deploy failed to start; the health check failed to detect it.\n\n```\nhuman error\n```\n")
	blaming := write("blaming.md", "# Post-mortem\n\nIt was human error.\nThe on-call engineer failed to page the DBA.\n")

	tests := []struct {
		name     string
		args     []string
		code     int // exit status; 0 means no error
		stdout   []string
		stderr   string
		noStdout bool
	}{
		{name: "clean file", args: []string{"lint", clean}, stdout: []string{"no language that blames people in 1 file\n"}},
		{name: "blaming file", args: []string{"lint", blaming}, code: 1, stdout: []string{
			blaming + ":3: human error — ",
			blaming + ":4: failed to — ",
		}},
		{name: "several files report all findings", args: []string{"lint", clean, blaming}, code: 1, stdout: []string{blaming + ":3: human error", blaming + ":4: failed to"}},
		{name: "no subcommand", args: nil, code: 2, stderr: "Usage:", noStdout: true},
		{name: "unknown subcommand", args: []string{"publish"}, code: 2, stderr: "Usage:", noStdout: true},
		{name: "lint without a file", args: []string{"lint"}, code: 2, stderr: "Usage:", noStdout: true},
		{name: "missing file", args: []string{"lint", filepath.Join(dir, "nope.md")}, code: 2, noStdout: true},
		{name: "help", args: []string{"help"}, stdout: []string{"ooda postmortem lint FILE.md"}},
		{name: "lint help", args: []string{"lint", "-h"}, stdout: []string{"Exit status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runPM(t, tt.args...)
			if tt.code == 0 {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				require.Equal(t, tt.code, exitCode(err), "exit status for %v: %v", tt.args, err)
			}
			for _, want := range tt.stdout {
				require.Contains(t, out, want)
			}
			if tt.noStdout {
				require.Empty(t, out)
			}
			require.Contains(t, errOut, tt.stderr)
		})
	}
}

func TestPostmortemLintOutputFormat(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pm.md")
	require.NoError(t, os.WriteFile(p, []byte("ok\nWe should have rolled back.\n"), 0o600))
	out, _, err := runPM(t, "lint", p)
	require.Equal(t, 1, exitCode(err))
	require.EqualError(t, err, "postmortem lint: 1 phrase that blames people in 1 of 1 file")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 1)
	require.Regexp(t, `^.+/pm\.md:2: should have — Hindsight: `, lines[0])
}

// TestLintPassesOnAnOodaDraft: a fresh draft's own words pass, and its
// review note is skipped, so only what people wrote is reported.
func TestLintPassesOnAnOodaDraft(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	n := declareForExport(t, db, "Search is slow")
	md, err := exportPostmortem(ctx, db, n, "md")
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "draft.md")
	require.NoError(t, os.WriteFile(p, md, 0o600))
	_, _, err = runPM(t, "lint", p)
	require.NoError(t, err)
}

func declareForExport(t *testing.T, store incident.Store, title string) uint64 {
	t.Helper()
	m := incident.Meta{At: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "declare"}
	res, err := store.Declare(context.Background(), m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: title, Severity: 2, Service: "search"}, m)
	})
	require.NoError(t, err)
	return res.Incident.Number
}

func TestExportPostmortem(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	n := declareForExport(t, db, "Search is slow")

	md, err := exportPostmortem(ctx, db, n, "md")
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(md, []byte("# Post-mortem: INC-1 — Search is slow\n")), "%s", md)

	page, err := exportPostmortem(ctx, db, n, "html")
	require.NoError(t, err)
	require.Contains(t, string(page), "<!DOCTYPE html>")

	js, err := exportPostmortem(ctx, db, n, "json")
	require.NoError(t, err)
	require.Contains(t, string(js), `"incident": "INC-1"`)

	_, err = exportPostmortem(ctx, db, n, "pdf")
	require.Equal(t, 2, exitCode(err), "an unknown format is a usage error")
	require.ErrorIs(t, err, postmortem.ErrFormat)
	require.Contains(t, err.Error(), "md, html, json")

	_, err = exportPostmortem(ctx, db, 99, "md")
	require.ErrorIs(t, err, incident.ErrNotFound)
}
