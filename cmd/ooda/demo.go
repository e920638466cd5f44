package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/ooda-sre/ooda/internal/demo"
)

// runDemo plays a scripted incident with nothing configured.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.String("db", "", "keep the demo database at this path instead of a temporary file")
	if err := parseFlags(fs, args); err != nil {
		return ignoreHelp(err)
	}
	err := demo.Run(ctx, *keep, stdout, stderr)
	if errors.Is(err, demo.ErrUsedDatabase) {
		return usageErr("demo: %v", err)
	}
	return err
}
