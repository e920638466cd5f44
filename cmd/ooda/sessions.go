package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/ooda-sre/ooda/api"
)

// runSessions is `ooda sessions revoke USER`: it ends a person's web UI
// sessions on every replica, through a running server (OODA_URL) with an
// admin token.
func runSessions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "revoke" {
		return usageErr("sessions: the command is `ooda sessions revoke U0123ABCD|@alice`")
	}
	fs := flag.NewFlagSet("sessions revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ooda sessions revoke [--url URL] U0123ABCD|@alice\n\nSigns the person out of the web UI everywhere (needs an admin token in OODA_API_TOKEN).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	base, timeout := clientFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return ignoreHelp(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("sessions revoke: name one person, by member ID or @name")
	}
	c, err := newAPIClient(*base, *timeout)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	code, err := c.do(ctx, http.MethodDelete, "/api/v1/sessions?user="+url.QueryEscape(fs.Arg(0)), nil, &raw)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		var refusal struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &refusal)
		return &exitError{code: 1, err: fmt.Errorf("the server refused (HTTP %d): %s", code, plain(refusal.Error))}
	}
	var out api.Revoked
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	who := out.User
	if out.Name != "" {
		who = out.Name
	}
	term := newTerminalWriter(stdout, false)
	defer term.Flush()
	fmt.Fprintf(term, "Ended %d web session(s) of %s; every replica refuses them from their next request.\n", out.Revoked, plain(who))
	return nil
}
