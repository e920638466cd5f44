package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// apiClient talks to a running `ooda serve`: the way in when Slack itself
// is down.
type apiClient struct {
	base    string
	token   string
	timeout time.Duration
	http    *http.Client
}

func clientFlags(fs *flag.FlagSet) (*string, *time.Duration) {
	url := fs.String("url", cmp.Or(os.Getenv("OODA_URL"), "http://127.0.0.1:8080"), "the ooda server (env OODA_URL)")
	timeout := fs.Duration("timeout", defaultCLITimeout, "give up on the server after this long")
	return url, timeout
}

func newAPIClient(base string, timeout time.Duration) (*apiClient, error) {
	token := os.Getenv("OODA_API_TOKEN")
	if token == "" {
		return nil, usageErr("set OODA_API_TOKEN to the server's API token (or a named token from its tokens file)")
	}
	if timeout <= 0 {
		return nil, usageErr("--timeout must be positive")
	}
	return &apiClient{base: strings.TrimRight(base, "/"), token: token, timeout: timeout, http: &http.Client{Timeout: timeout}}, nil
}

// do sends one request with the client's deadline and decodes JSON into out.
// A server that is down or hangs is an error that says so.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, fmt.Errorf("bad --url %q: %w", c.base, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return 0, fmt.Errorf("the ooda server at %s did not answer within %s", c.base, c.timeout)
		}
		return 0, fmt.Errorf("cannot reach the ooda server at %s (is `ooda serve` running? set OODA_URL): %w", c.base, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("the server at %s answered %s, not Ooda's JSON", c.base, resp.Status)
	}
	return resp.StatusCode, nil
}

// runIncident is `ooda incident <the /incident grammar>`.
func runIncident(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("incident", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ooda incident [--url URL] <command>\n\nThe same commands as /incident in Slack:\n%s\n\nFlags:\n", command.HelpText())
		fs.PrintDefaults()
	}
	base, timeout := clientFlags(fs)
	colour := fs.String("color", "auto", "colour the timeline: auto, always, never")
	if err := parseFlags(fs, args); err != nil {
		return ignoreHelp(err)
	}
	words := fs.Args()
	if len(words) == 0 {
		fs.Usage()
		return usageErr("name a command, e.g. ooda incident declare sev2 \"Checkout is down\"")
	}
	c, err := newAPIClient(*base, *timeout)
	if err != nil {
		return err
	}
	colourOn := useColour(*colour, stdout)
	term := newTerminalWriter(stdout, colourOn)
	defer term.Flush()
	stdout = term
	text := strings.Join(words, " ")
	cmd, err := command.ParseCommand(text)
	if err != nil {
		return usageErr("%s", err.Error())
	}
	switch cmd.Verb {
	case command.VerbTimeline:
		if cmd.Incident == 0 {
			return usageErr("name the incident: ooda incident timeline INC-7")
		}
		return c.printTimeline(ctx, cmd.Incident, stdout, colourOn)
	}
	var rep struct {
		api.CommandReply
		Error string `json:"error"` // authentication and transport refusals
	}
	code, err := c.do(ctx, http.MethodPost, "/api/v1/commands", api.CommandRequest{Text: text}, &rep)
	if err != nil {
		return err
	}
	if !rep.OK {
		msg := rep.Text
		if msg == "" {
			msg = rep.Error
		}
		return &exitError{code: 1, err: fmt.Errorf("%s (HTTP %d)", plainNamed(msg, rep.People), code)}
	}
	fmt.Fprintln(stdout, plainNamed(rep.Text, rep.People))
	return nil
}

// slackMarkup matches Slack's <…> markup: mentions, channels and links,
// with an optional label after |.
var slackMarkup = regexp.MustCompile(`<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>`)

// plain turns the Slack markup of a reply into terminal text: the markup
// first (<@U1|alice> → @alice, <#C1> → #C1), then the escaped characters,
// so a "&gt;" the user typed comes out as ">" and stays.
func plain(s string) string { return plainNamed(s, nil) }

// plainNamed is plain with the people the server named: a mention of one
// reads as their name, "Alice Chen (@alice)"; of anyone else as @U0123ABCD.
func plainNamed(s string, names map[string]string) string {
	s = slackMarkup.ReplaceAllStringFunc(s, func(m string) string {
		g := slackMarkup.FindStringSubmatch(m)
		sigil, target, label := g[1], g[2], g[3]
		switch {
		case sigil == "@" && names[target] != "":
			return names[target]
		case sigil == "@" || sigil == "#":
			if label != "" {
				return sigil + label
			}
			return sigil + target
		case sigil == "!":
			return "@" + target
		case label != "":
			return label + " (" + target + ")"
		}
		return target
	})
	// Cleaned here as well as by the terminal writer, which lets the
	// CLI's own colours through.
	return timeline.Clean(strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s))
}

func useColour(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a terminal (not a pipe or a file).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (c *apiClient) printTimeline(ctx context.Context, n uint64, w io.Writer, colour bool) error {
	var inc api.IncidentWithEvents
	code, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/incidents/%d", n), nil, &inc)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return &exitError{code: 1, err: fmt.Errorf("%s does not exist or cannot be read (HTTP %d)", incident.ID(n), code)}
	}
	fmt.Fprintf(w, "%s — %s\n\n", timeline.Clean(inc.Label()), timeline.Clean(string(inc.Status)))
	// Struck entries stay, marked, and the others carry the number
	// `amend` and `strike` take: a terminal is where people correct them.
	view := timeline.Build(inc.Events, inc.DeclaredAt, timeline.Options{IncludeStruck: true})
	// The server names the people it knows; the others stay ids.
	return view.WriteText(w, timeline.TextOptions{Color: colour, Numbers: true, Name: func(id string) string { return inc.People[id] }})
}

// defaultCLITimeout bounds every CLI call: a responder at a terminal during
// an outage needs an answer or an error, never a hang.
const defaultCLITimeout = 10 * time.Second

// runStatus is `ooda status`: the server's view of its dependencies.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base, timeout := clientFlags(fs)
	asJSON := fs.Bool("json", false, "print the raw JSON")
	if err := parseFlags(fs, args); err != nil {
		return ignoreHelp(err)
	}
	c, err := newAPIClient(*base, *timeout)
	if err != nil {
		return err
	}
	term := newTerminalWriter(stdout, false)
	defer term.Flush()
	stdout = term
	var rep api.StatusReport
	code, err := c.do(ctx, http.MethodGet, "/api/v1/status", nil, &rep)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return &exitError{code: 1, err: fmt.Errorf("the server refused the request (HTTP %d); check OODA_API_TOKEN", code)}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	slackLine := "reachable"
	if rep.Slack.Unreachable {
		slackLine = "UNREACHABLE since " + rep.Slack.Since.Format("2006-01-02 15:04 UTC")
	}
	if rep.Slack.Mode == "off" {
		slackLine = "not configured"
	}
	fmt.Fprintf(stdout, "ooda %s at %s\n", rep.Version, c.base)
	store := rep.Store.Backend
	if !rep.Store.Healthy {
		store += " NOT ANSWERING: " + rep.Store.Error
	}
	fmt.Fprintf(stdout, "store       %s\n", store)
	if r := rep.Replica; r != nil {
		role := "follower"
		if r.Leading {
			role = "leader"
		}
		leader := "no leader elected"
		if l := rep.Leader; l != nil {
			leader = "leader " + l.Name + " since " + l.Since.Format("2006-01-02 15:04:05 UTC")
		}
		fmt.Fprintf(stdout, "replica     %s (%s); %s\n", r.Name, role, leader)
	}
	fmt.Fprintf(stdout, "slack       %s (%s mode)\n", slackLine, rep.Slack.Mode)
	if sm := rep.Slack.SocketMode; sm != nil {
		fmt.Fprintf(stdout, "socket      %s\n", socketLine(*sm, rep.Now))
	}
	for _, d := range rep.Dependencies {
		fmt.Fprintf(stdout, "%-11s breaker %s\n", d.Name, d.Breaker)
	}
	age := "none waiting"
	if rep.Outbox.Depth > 0 {
		age = "oldest " + (time.Duration(rep.Outbox.OldestAgeSeconds) * time.Second).String() + " old"
	}
	fmt.Fprintf(stdout, "outbox      %d effects (%s)\n", rep.Outbox.Depth, age)
	for _, e := range rep.SLOErrors {
		fmt.Fprintf(stdout, "slo         NOT EVALUATED: %s\n", e)
	}
	if rep.LastSLOEvaluation.IsZero() {
		fmt.Fprintln(stdout, "slo         no evaluation yet")
	} else {
		fmt.Fprintf(stdout, "slo         last evaluated %s ago\n", rep.Now.Sub(rep.LastSLOEvaluation).Round(time.Second))
	}
	return nil
}

// socketLine says whether Slack's commands and events reach Ooda over
// Socket Mode.
func socketLine(sm api.SocketModeStatus, now time.Time) string {
	heard := "nothing heard yet"
	if !sm.LastFrame.IsZero() {
		heard = "last frame " + time.Duration(sm.LastFrameAgeSeconds*float64(time.Second)).Round(time.Second).String() + " ago"
	}
	since := ""
	if !sm.Since.IsZero() {
		since = " for " + now.Sub(sm.Since).Round(time.Second).String()
	}
	if sm.Connected {
		return "connected" + since + " (" + heard + ")"
	}
	return "NOT CONNECTED" + since + ": Slack's commands and events are not reaching Ooda (" + heard + ")"
}
