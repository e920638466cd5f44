package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/ooda-sre/ooda/app"
)

// runServe reads the configuration and runs Ooda until ctx ends.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := app.LoadConfig(fs, args, os.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	if err := cfg.CheckServe(); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	return app.Serve(ctx, cfg, app.Options{Logger: logger, Version: version}, func(addr net.Addr) {
		fmt.Fprintf(stdout, "ooda %s listening on %s (slack: %s)\n", version, addr, cfg.SlackMode())
	})
}
