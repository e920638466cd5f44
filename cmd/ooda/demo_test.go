package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDemoKeepsItsDatabase(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	path := filepath.Join(t.TempDir(), "demo.db")
	_, _, err := runCmd(t, "demo", "--db", path)
	require.NoError(t, err)

	out, _, err := runCmd(t, "export", "--db", path, "--incident", "INC-2", "--format", "md")
	require.NoError(t, err)
	require.Contains(t, out, "checkout SLO burning")
	require.Contains(t, out, "| act | Ops | rollback to v2.30.4 started (deploy \\#8813) (amended) |", "the corrected entry")
	require.Contains(t, out, "\n## Corrections\n", "and its audit note")
	require.Contains(t, out, "was “rollback to v2.30.4 started (deploy \\#8812)”")

	_, _, err = runCmd(t, "demo", "--db", path)
	require.Equal(t, 2, exitCode(err), "a database that saw the script would take it for Slack's retries")
	require.ErrorContains(t, err, "fresh database")
}

// TestDemoServesItsWebUI: `ooda demo --serve` keeps the server up after
// the script and prints an address that signs the person in as the
// Commander and shows the demo's incident; Ctrl-C (the context) stops it.
func TestDemoServesItsWebUI(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"demo", "--serve", "--listen", "127.0.0.1:0"}, out, io.Discard) }()

	var link string
	require.Eventually(t, func() bool {
		link = demoLink.FindString(out.String())
		return link != ""
	}, time.Minute, 50*time.Millisecond, "the demo prints its sign-in address; it said:\n%s", out)
	require.Contains(t, link, "http://localhost:", "a loopback address, where browsers keep the Secure cookie over http")

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(link)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/incidents/2", resp.Header.Get("Location"))
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	require.Equal(t, "__Host-ooda_session", cookies[0].Name)

	base := link[:strings.Index(link, "/demo/")]
	page := func(path string, withCookie bool) (int, string) {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		if withCookie {
			req.AddCookie(&http.Cookie{Name: cookies[0].Name, Value: cookies[0].Value})
		}
		resp, err := noFollow.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	status, body := page("/incidents/2", true)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "checkout SLO burning")
	status, _ = page("/incidents/2", false)
	require.Equal(t, http.StatusSeeOther, status, "without the cookie, sign in first")
	status, _ = page("/demo/signin?key=guess", false)
	require.Equal(t, http.StatusForbidden, status, "only the printed address signs in")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the demo did not stop when its context ended")
	}
}

// demoLink is the sign-in address `ooda demo --serve` prints.
var demoLink = regexp.MustCompile(`http://\S+/demo/signin\?key=[0-9a-f]+`)

// syncBuffer is a bytes.Buffer a goroutine writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
