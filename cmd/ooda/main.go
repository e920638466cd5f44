// Command ooda is the Ooda incident-response bot and its tools.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		printError(os.Stderr, err)
		os.Exit(exitCode(err))
	}
}

// printError writes the error a command ended with. It can carry the
// server's words, so it is made harmless like the rest of what the CLI
// prints.
func printError(w io.Writer, err error) {
	tw := newTerminalWriter(w, false)
	fmt.Fprintln(tw, "ooda:", err)
	_ = tw.Flush()
}
