package app

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api/web"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// TestWebCommandBox drives the real dispatcher through the real site: a
// command typed into an incident page's box is recorded once, as the
// signed-in person's, and the page's live stream shows it.
func TestWebCommandBox(t *testing.T) {
	const (
		user = "U0WEBCMD01"
		team = "T0WEBCMD"
	)
	db := storagetest.Open(t)
	d := &command.Dispatcher{Store: db}
	site, err := web.New(web.Config{
		Store: db, Commands: webCommands{d},
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	site.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(site.Close) // before srv.Close: it ends the live stream

	rec := httptest.NewRecorder()
	require.NoError(t, site.Admit(context.Background(), rec, user, team, "Web Person"))
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	cookie := cookies[0].Name + "=" + cookies[0].Value

	reply := d.Handle(context.Background(), command.Request{
		Text: "declare sev2 Checkout down", User: user, Source: timeline.SourceCommand, Key: "slack-trigger-1", At: time.Now().UTC(),
	})
	require.Equal(t, http.StatusOK, reply.Code, reply.Text)
	require.Equal(t, "INC-1", reply.Incident)

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, srv.URL+path, body)
		require.NoError(t, err)
		req.Header.Set("Cookie", cookie)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}

	resp, page := do(http.MethodGet, "/incidents/1", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, key, "the page has a command box")
	seq := regexp.MustCompile(`data-seq="(\d+)"`).FindStringSubmatch(page)
	require.NotNil(t, seq)

	// The page's live stream, open before the command runs.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	streamReq, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/incidents/1/live?since="+seq[1], nil)
	require.NoError(t, err)
	streamReq.Header.Set("Cookie", cookie)
	stream, err := http.DefaultClient.Do(streamReq)
	require.NoError(t, err)
	defer stream.Body.Close()
	require.Equal(t, http.StatusOK, stream.StatusCode)

	form := url.Values{"text": {"observe p99 is back under 300 ms"}, "key": {key[1]}}
	resp, page = do(http.MethodPost, "/incidents/1/commands", form)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Contains(t, page, `class="command-reply ran"`)
	require.Contains(t, page, "p99 is back under 300 ms", "the timeline of the page answering shows it")

	// The browser submits the form again: recorded once.
	resp, page = do(http.MethodPost, "/incidents/1/commands", form)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)

	evs, err := db.Events(context.Background(), 1, 1)
	require.NoError(t, err)
	var entries []timeline.Event
	for _, e := range evs {
		if e.Kind == timeline.KindLoopEntry {
			entries = append(entries, e)
		}
	}
	require.Len(t, entries, 1, "recorded once")
	e := entries[0]
	require.Equal(t, user, e.Actor)
	require.Equal(t, timeline.SourceCommand, e.Source)
	require.Equal(t, timeline.PhaseObserve, e.Phase)
	require.Equal(t, "p99 is back under 300 ms", e.Text)
	require.True(t, strings.HasPrefix(e.Key, "web:"), e.Key)

	// The live stream carries the entry.
	lines := bufio.NewScanner(stream.Body)
	lines.Buffer(make([]byte, 0, 64<<10), 1<<20)
	found := false
	for !found && lines.Scan() {
		found = strings.HasPrefix(lines.Text(), "data:") && strings.Contains(lines.Text(), "p99 is back under 300 ms")
	}
	require.True(t, found, "the live stream shows the entry (%v)", lines.Err())

	// A command refused by the grammar says what to type instead.
	resp, page = do(http.MethodPost, "/incidents/1/commands", url.Values{"text": {"status sideways"}, "key": {key[1]}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, page, `class="command-reply refused"`)

	// A declare leads to the new incident's page.
	resp, _ = do(http.MethodPost, "/incidents/1/commands", url.Values{"text": {"declare sev3 Search slow"}, "key": {key[1]}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/incidents/2", resp.Header.Get("Location"))
	inc, err := db.Incident(context.Background(), 2)
	require.NoError(t, err)
	require.Equal(t, "Search slow", inc.Title)
	require.Equal(t, user, inc.DeclaredBy)
}
