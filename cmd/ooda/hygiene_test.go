package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/timeline"
)

// hostileText is what a person (or an attacker with a token) might type:
// terminal escapes that set the window title or clear the screen, C1
// controls, NUL, bidirectional overrides, separators, and the ordinary
// text around them.
var hostileText = []string{
	"\x1b]0;pwned\x07Checkout is down",
	"\x1b[2J\x1b[HAll clear, nothing to see",
	"disk \x00full",
	"\u009b31mred via C1\u009b0m",
	"invoice \u202egpj.exe",
	"\u2066isolated\u2069 text",
	"line\u2028separator",
	"bell\x07 and backspace\x08\x08",
	"carriage\rreturn",
	"two\nlines\tand a tab",
	"plain words, p99 > 2s & rising <!channel>",
	"ünïcödé and emoji 👩‍🚒",
}

// FuzzTypedTextReachesNoOutputWithAControlCharacter sends what people type
// through the API, as a declaration and as a note, and checks every place
// the text can come out: the titles the store keeps, every payload Ooda
// sends to Slack, and the CLI's output. Each either refuses the text with
// a sentence or shows it without a single control character.
func FuzzTypedTextReachesNoOutputWithAControlCharacter(f *testing.F) {
	for _, s := range hostileText {
		f.Add(s)
	}
	rig := newAccessRig(f)
	out := rig.apiCommand(adminToken, "declare sev3 A safe title")
	require.True(f, strings.HasPrefix(out, "200 "), out)

	f.Fuzz(func(t *testing.T, typed string) {
		r := rig.with(t)
		declared := r.apiCommand(adminToken, "declare sev3 "+typed)
		noted := r.apiCommand(adminToken, "note INC-1 "+typed)
		for _, reply := range []string{declared, noted} {
			if !strings.HasPrefix(reply, "200 ") {
				require.Regexp(t, `^(400|413) `, reply, "refused as bad input, not a failure")
			}
			requireNoControl(t, "the reply", reply)
		}

		code, body := r.apiGet(adminToken, "/api/v1/incidents?all=true&limit=500")
		require.Equal(t, http.StatusOK, code, body)
		var page api.IncidentPage
		require.NoError(t, json.Unmarshal([]byte(body), &page))
		for _, inc := range page.Incidents {
			requireNoControl(t, "a stored title", inc.Title)
			require.NotContains(t, inc.Title, "\n", "a title is one line")
		}
		inc1 := r.incident(1)
		for _, e := range inc1.Events {
			require.False(t, timeline.HasControl(e.Text), "a stored note: %q", e.Text)
		}

		// Every Slack payload sent so far, its JSON decoded, as Slack
		// would show it.
		for _, c := range r.fake.Calls() {
			for name, v := range c.Args {
				requireNoControl(t, c.Method+" "+name, v)
				var decoded any
				if json.Unmarshal([]byte(v), &decoded) == nil {
					walkStrings(decoded, func(s string) { requireNoControl(t, c.Method+" "+name, s) })
				}
			}
		}

		for _, args := range [][]string{
			{"incident", "--color", "never", "list"},
			{"incident", "--color", "never", "timeline", "INC-1"},
			{"incident", "--color", "always", "timeline", "INC-1"},
		} {
			out := r.cli(adminToken, args...)
			if args[2] == "always" {
				out = sgr.ReplaceAllString(out, "")
			}
			requireNoControl(t, strings.Join(args, " "), out)
		}
	})
}

// sgr matches the colour sequences the CLI writes itself with --color
// always (timeline's reset, bold, dim and phase colours), and no other.
var sgr = regexp.MustCompile("\x1b\\[(0|1|2|3[2356])m")

// requireNoControl fails when s holds a control character other than a
// newline or a tab.
func requireNoControl(t testing.TB, where, s string) {
	t.Helper()
	require.False(t, timeline.HasControl(s), "%s carries a control character: %q", where, s)
}

func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	case map[string]any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	}
}

// TestCapturedMessagesAreKeptAsSentAndCleanedOnOutput: a message captured
// from Slack is the record of what was said, so it is stored as it was
// sent, and cleaned wherever Ooda shows it.
func TestCapturedMessagesAreKeptAsSentAndCleanedOnOutput(t *testing.T) {
	r := newAccessRig(t)
	out := r.apiCommand(adminToken, "declare sev2 Checkout is down")
	require.True(t, strings.HasPrefix(out, "200 "), out)
	var channel string
	require.Eventually(t, func() bool {
		channel = r.incident(1).ChannelID
		return channel != ""
	}, accessDeadline, 10*time.Millisecond)

	said := "deploy \x1b]0;pwned\x07done \u202eevil"
	// Someone says it in the channel, through Slack's Web API as a
	// client would.
	resp, err := http.PostForm(r.fake.URL()+"chat.postMessage", url.Values{"token": {"xoxb-test-token"}, "channel": {channel}, "text": {said}})
	require.NoError(t, err)
	var posted struct {
		OK bool   `json:"ok"`
		TS string `json:"ts"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&posted))
	resp.Body.Close()
	require.True(t, posted.OK)
	ts := posted.TS
	body, err := json.Marshal(map[string]any{
		"type": "event_callback", "team_id": "T0ACCESS01", "api_app_id": "A0ACCESS01",
		"event_id": "Ev0CAPTURE1", "event_time": time.Now().Unix(),
		"event": map[string]any{
			"type": "pin_added", "user": alice, "channel_id": channel, "event_ts": fmt.Sprintf("%d.000200", time.Now().Unix()),
			"item": map[string]any{"type": "message", "channel": channel, "message": map[string]any{"type": "message", "user": bob, "text": said, "ts": ts}},
		},
	})
	require.NoError(t, err)
	r.postSlack("/slack/events", "application/json", body, nil)

	var captured timeline.Event
	require.Eventually(t, func() bool {
		for _, e := range r.incident(1).Events {
			if e.Kind == timeline.KindMessageCaptured {
				captured = e
				return true
			}
		}
		return false
	}, accessDeadline, 10*time.Millisecond)
	require.Equal(t, said, captured.Text, "stored as it was sent")

	for _, args := range [][]string{{"incident", "--color", "never", "timeline", "INC-1"}} {
		out := r.cli(adminToken, args...)
		require.Contains(t, out, "deploy \uFFFD]0;pwned\uFFFDdone \uFFFDevil", "shown cleaned")
		requireNoControl(t, "the CLI", out)
	}
	reply := r.slashCommand(alice, "timeline INC-1")
	require.Contains(t, reply, "pwned")
	requireNoControl(t, "/incident timeline", reply)

	code, pm := r.apiGet(adminToken, "/api/v1/incidents/1/postmortem?format=md")
	require.Equal(t, http.StatusOK, code, pm)
	require.Contains(t, pm, "pwned")
	requireNoControl(t, "the post-mortem", pm)
}

func TestTerminalWriter(t *testing.T) {
	tests := []struct {
		name   string
		sgr    bool
		writes []string
		want   string
	}{
		{"plain text passes", false, []string{"INC-1 — Checkout ünïcode 👩‍🚒\n\tindented\n"}, "INC-1 — Checkout ünïcode 👩‍🚒\n\tindented\n"},
		{"a title escape is disarmed", false, []string{"\x1b]0;pwned\x07x"}, "\uFFFD]0;pwned\uFFFDx"},
		{"colours are dropped without sgr", false, []string{"\x1b[36mobserve\x1b[0m"}, "\uFFFD[36mobserve\uFFFD[0m"},
		{"colours pass with sgr", true, []string{"\x1b[36mobserve\x1b[0m"}, "\x1b[36mobserve\x1b[0m"},
		{"other sequences never pass", true, []string{"\x1b[2J\x1b]0;t\x07\x1bc"}, "\uFFFD[2J\uFFFD]0;t\uFFFD\uFFFDc"},
		{"a colour split across writes", true, []string{"a\x1b[3", "6mb"}, "a\x1b[36mb"},
		{"a character split across writes", false, []string{"\xf0\x9f", "\x91\xa9!"}, "👩!"},
		{"C1 and bidi controls", false, []string{"\u009b2J \u202eevil \u2066x\u2069"}, "\uFFFD2J \uFFFDevil \uFFFDx\uFFFD"},
		{"carriage return and NUL", false, []string{"ok\rFAKE\x00"}, "okFAKE\uFFFD"},
		{"invalid UTF-8", false, []string{"a\xffb"}, "a\uFFFDb"},
		{"an unfinished tail is flushed harmless", true, []string{"x\x1b["}, "x\uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := newTerminalWriter(&b, tt.sgr)
			for _, s := range tt.writes {
				n, err := w.Write([]byte(s))
				require.NoError(t, err)
				require.Equal(t, len(s), n)
			}
			require.NoError(t, w.Flush())
			require.Equal(t, tt.want, b.String())
		})
	}
}

// TestCLIShowsNoControlCharacterFromTheServer: a server (an older one, or
// one that stored text before the input rules) sends titles, notes,
// replies and errors with terminal escapes in them; the CLI prints none.
func TestCLIShowsNoControlCharacterFromTheServer(t *testing.T) {
	evil := "\x1b]0;pwned\x07 \x1b[2J \u009b31m \u202eevil"
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	srv := httptestServer(t, map[string]any{
		"POST /api/v1/commands": api.CommandReply{OK: true, Text: "INC-1 " + evil},
		"GET /api/v1/incidents/1": map[string]any{
			"number": 1, "id": "INC-1", "title": evil, "status": "investigating\x1b[31m", "declared_at": at,
			"events": []timeline.Event{
				{Seq: 1, At: at, Kind: timeline.KindDeclared, Phase: timeline.PhaseObserve, Actor: "U1\x1b[5m", Text: evil, Source: timeline.SourceCommand,
					Attrs: map[string]string{timeline.AttrTitle: evil, timeline.AttrSeverity: "2"}},
				{Seq: 2, At: at.Add(time.Minute), Kind: timeline.KindLoopEntry, Phase: timeline.PhaseOrient, Actor: "U1", Text: evil, Source: timeline.SourceCommand},
			},
		},
		"GET /api/v1/status": map[string]any{"version": "1\x1b[2J", "store": map[string]any{"backend": evil, "healthy": false, "error": evil},
			"slo_errors": []string{"checkout/availability (checkout.yaml): Prometheus refused its query " + evil}},
	})
	t.Setenv("OODA_API_TOKEN", "token-0123456789abcdef")
	for _, args := range [][]string{
		{"incident", "--url", srv, "--color", "never", "list"},
		{"incident", "--url", srv, "--color", "never", "timeline", "INC-1"},
		{"incident", "--url", srv, "--color", "always", "timeline", "INC-1"},
		{"status", "--url", srv},
	} {
		var out, errb bytes.Buffer
		err := run(t.Context(), args, &out, &errb)
		require.NoError(t, err, errb.String())
		text := out.String()
		require.Contains(t, text, "pwned", "the text is shown")
		if slices.Contains(args, "always") {
			require.Contains(t, text, "\x1b[", "with its own colours")
			text = sgr.ReplaceAllString(text, "")
		}
		requireNoControl(t, strings.Join(args, " "), text)
		if args[0] == "status" {
			require.Contains(t, text, "slo         NOT EVALUATED: checkout/availability (checkout.yaml): Prometheus refused its query")
		}
	}

	// A refusal carries the server's words into the error.
	bad := httptestServer(t, map[string]any{"POST /api/v1/commands": api.CommandReply{OK: false, Text: evil}})
	err := run(t.Context(), []string{"incident", "--url", bad, "note", "x"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	var printed bytes.Buffer
	printError(&printed, err)
	require.Contains(t, printed.String(), "pwned")
	requireNoControl(t, "the error", printed.String())
}

// httptestServer answers each "METHOD /path" with its JSON.
func httptestServer(t *testing.T, routes map[string]any) string {
	t.Helper()
	mux := http.NewServeMux()
	for pattern, v := range routes {
		status := http.StatusOK
		if r, ok := v.(api.CommandReply); ok && !r.OK {
			status = http.StatusBadRequest
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(v)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}
