package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"

	"github.com/ooda-sre/ooda/internal/demo"
)

// runDemo plays a scripted incident with nothing configured.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.String("db", "", "keep the demo database at this path instead of a temporary file")
	serve := fs.Bool("serve", false, "after the script, keep the server up with the web UI and print an address that signs you in (Ctrl-C stops it)")
	listen := fs.String("listen", "127.0.0.1:8080", "with --serve, the address to serve on")
	if err := parseFlags(fs, args); err != nil {
		return ignoreHelp(err)
	}
	opts := demo.Options{KeepDB: *keep}
	if *serve {
		// Bound before the script plays, so a port in use is said at once
		// and the web UI knows its address.
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return usageErr("demo --serve: %v; pick another address with --listen 127.0.0.1:PORT", err)
		}
		defer ln.Close()
		opts.Serve = ln
	}
	err := demo.Run(ctx, opts, stdout, stderr)
	if errors.Is(err, demo.ErrUsedDatabase) {
		return usageErr("demo: %v", err)
	}
	return err
}
