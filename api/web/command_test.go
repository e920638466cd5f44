package web

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// fakeCommands records the commands the box sends and answers each with
// reply (200 "ok" when nil).
type fakeCommands struct {
	mu    sync.Mutex
	got   []CommandRequest
	reply func(CommandRequest) CommandReply
}

var _ Commands = (*fakeCommands)(nil)

func (f *fakeCommands) Run(_ context.Context, c CommandRequest) CommandReply {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, c)
	if f.reply == nil {
		return CommandReply{Text: "ok", Code: http.StatusOK}
	}
	return f.reply(c)
}

func (f *fakeCommands) requests() []CommandRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]CommandRequest(nil), f.got...)
}

// commandSite is the page fixture's site with cmds as its Commands (none
// when nil).
func commandSite(t *testing.T, db *storage.DB, cmds Commands) *pageSite {
	t.Helper()
	cfg := Config{
		Store: db, People: pagePeople, Now: func() time.Time { return pageNow },
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
	}
	if cmds != nil {
		cfg.Commands = cmds
	}
	site, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(site.Close)
	mux := http.NewServeMux()
	site.Register(mux)
	return &pageSite{site: site, h: mux, db: db, now: pageNow}
}

// post submits form to path as a same-origin browser does, with cookie
// when it is not nil, and returns the answer.
func (p *pageSite) post(t *testing.T, cookie *http.Cookie, path string, form url.Values, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://ooda.example.com"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Header.Set("Origin", "https://ooda.example.com")
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, r)
	return w.Result()
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// formKeyOf is the idempotency key of the command box on a page.
var formKeyOf = regexp.MustCompile(`<input type="hidden" name="key" value="([^"]+)">`)

func formKey(t *testing.T, body string) string {
	t.Helper()
	m := formKeyOf.FindStringSubmatch(body)
	require.NotNil(t, m, "the page has no command box:\n%s", body)
	return m[1]
}

// commandPath is where incident n's box posts.
func commandPath(n uint64) string { return "/incidents/" + strconv.FormatUint(n, 10) + "/commands" }

func incidentPath(n uint64) string { return "/incidents/" + strconv.FormatUint(n, 10) }

// openIncident is an incident anyone may see, declared by Alice.
func openIncident(t *testing.T, db *storage.DB) uint64 {
	t.Helper()
	return declare(t, db, pageT0, pageAlice, incident.Declaration{Title: "Checkout down", Severity: 2}).n
}

func TestCommandBoxShows(t *testing.T) {
	db := storagetest.Open(t)
	n := openIncident(t, db)
	p := commandSite(t, db, &fakeCommands{})
	cookie := p.session(t, pageViewer)

	code, body := p.get(t, cookie, incidentPath(n))
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`<form id="command" class="command" method="post" action="/incidents/1/commands#command">`,
		`<label for="command-text">Run a command</label>`,
		`name="text" type="text" value="" placeholder="observe p99 is back under 300 ms"`,
		`It is about INC-1 unless it names another incident`,
	} {
		require.Contains(t, body, want)
	}
	require.Less(t, strings.Index(body, `<section id="summary"`), strings.Index(body, `<form id="command"`), "the box is under the header")
	require.Less(t, strings.Index(body, `<form id="command"`), strings.Index(body, `<section id="timeline-section"`))
	first := formKey(t, body)
	require.Regexp(t, formKeyRE, first)
	_, again := p.get(t, cookie, incidentPath(n))
	require.NotEqual(t, first, formKey(t, again), "every render has its own key")
}

func TestCommandBoxHidden(t *testing.T) {
	t.Run("without Commands", func(t *testing.T) {
		db := storagetest.Open(t)
		n := openIncident(t, db)
		p := commandSite(t, db, nil)
		cookie := p.session(t, pageViewer)
		code, body := p.get(t, cookie, incidentPath(n))
		require.Equal(t, http.StatusOK, code)
		require.NotContains(t, body, `id="command"`)
		resp := p.post(t, cookie, commandPath(n), url.Values{"text": {"observe x"}, "key": {newFormKey()}})
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.Contains(t, readBody(t, resp), "This site runs no commands")
	})
	t.Run("closed", func(t *testing.T) {
		db := storagetest.Open(t)
		s := declare(t, db, pageT0, pageAlice, incident.Declaration{Title: "Checkout down", Severity: 2})
		s.do(pageT0.Add(time.Hour), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Resolve("rolled back", m)
		})
		s.do(pageT0.Add(48*time.Hour), pageAlice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Close("https://wiki.example.com/pm/1", m)
		})
		cmds := &fakeCommands{}
		p := commandSite(t, db, cmds)
		cookie := p.session(t, pageViewer)
		code, body := p.get(t, cookie, incidentPath(s.n))
		require.Equal(t, http.StatusOK, code)
		require.NotContains(t, body, `id="command"`)
		resp := p.post(t, cookie, commandPath(s.n), url.Values{"text": {"reopen"}, "key": {newFormKey()}})
		require.Equal(t, http.StatusConflict, resp.StatusCode)
		body = readBody(t, resp)
		require.Contains(t, body, "INC-1 is closed")
		require.Contains(t, body, "its page runs no more commands")
		require.Empty(t, cmds.requests())
	})
}

func TestRunCommand(t *testing.T) {
	db := storagetest.Open(t)
	n := openIncident(t, db)
	cmds := &fakeCommands{reply: func(c CommandRequest) CommandReply {
		return CommandReply{
			Text:     "INC-1: <@" + pageAlice + "> noted *" + c.Text + "* &lt;b&gt; in <#C0PCHAN0001|inc-1-checkout>; fix it with `/incident amend #3 &lt;text&gt;` (<https://ooda.example.com/x|the docs>)",
			Incident: "INC-1", Code: http.StatusOK,
		}
	}}
	p := commandSite(t, db, cmds)
	cookie := p.session(t, pageViewer)
	_, page := p.get(t, cookie, incidentPath(n))
	key := formKey(t, page)

	resp := p.post(t, cookie, commandPath(n), url.Values{"text": {"  /incident observe p99 is back under 300 ms "}, "key": {key}})
	body := readBody(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	got := cmds.requests()
	require.Len(t, got, 1)
	require.Equal(t, CommandRequest{
		Text: "observe p99 is back under 300 ms", User: pageViewer, Incident: n,
		Key: commandKey(sessionID("page-secret-of-"+pageViewer), key, "observe p99 is back under 300 ms"), At: pageNow,
	}, got[0])
	require.True(t, strings.HasPrefix(got[0].Key, "web:"+sessionID("page-secret-of-" + pageViewer)[:16]+":"+key+":"), got[0].Key)
	require.NotContains(t, got[0].Key, "#")
	require.NotContains(t, got[0].Key, "@")

	require.Contains(t, body, `<div id="command-reply" class="command-reply ran" role="status">`)
	require.Contains(t, body, `<p class="command-reply-text">INC-1: Alice Liddell noted observe p99 is back under 300 ms &lt;b&gt; in #inc-1-checkout; fix it with <code>/incident amend #3 &lt;text&gt;</code> (the docs)</p>`)
	require.Contains(t, body, `value=""`, "the box is empty for the next command")
	require.NotEqual(t, key, formKey(t, body), "the page answering has a new key")

	// The browser resubmits the form: the same key, so the dispatcher
	// records nothing twice.
	resp = p.post(t, cookie, commandPath(n), url.Values{"text": {"observe p99 is back under 300 ms"}, "key": {key}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got = cmds.requests()
	require.Len(t, got, 2)
	require.Equal(t, got[0].Key, got[1].Key)

	// The same form sent again with other words is another command.
	resp = p.post(t, cookie, commandPath(n), url.Values{"text": {"observe p99 is at 250 ms"}, "key": {key}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got = cmds.requests()
	require.Len(t, got, 3)
	require.NotEqual(t, got[0].Key, got[2].Key)

	// Another person's key differs even for the same form key and text.
	other := p.session(t, pageAlice)
	resp = p.post(t, other, commandPath(n), url.Values{"text": {"observe p99 is back under 300 ms"}, "key": {key}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got = cmds.requests()
	require.Len(t, got, 4)
	require.Equal(t, pageAlice, got[3].User)
	require.NotEqual(t, got[0].Key, got[3].Key)

	// A reload of the address the reply was rendered at leads back to
	// the page.
	r := httptest.NewRequest(http.MethodGet, "https://ooda.example.com"+commandPath(n), nil)
	r.AddCookie(cookie)
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, r)
	require.Equal(t, http.StatusSeeOther, w.Code)
	require.Equal(t, "/incidents/1#command", w.Header().Get("Location"))
}

func TestRunCommandRefused(t *testing.T) {
	db := storagetest.Open(t)
	n := openIncident(t, db)
	cmds := &fakeCommands{reply: func(CommandRequest) CommandReply {
		return CommandReply{Text: "INC-1 is investigating, not resolved; there is nothing to reopen", Incident: "INC-1", Code: http.StatusConflict}
	}}
	p := commandSite(t, db, cmds)
	cookie := p.session(t, pageViewer)
	resp := p.post(t, cookie, commandPath(n), url.Values{"text": {`reopen "<now>"`}, "key": {newFormKey()}})
	body := readBody(t, resp)
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, body, `<div id="command-reply" class="command-reply refused" role="alert">`)
	require.Contains(t, body, `<p class="command-reply-head">Not run:</p>`)
	require.Contains(t, body, "INC-1 is investigating, not resolved; there is nothing to reopen")
	require.Contains(t, body, `value="reopen &#34;&lt;now&gt;&#34;"`, "what was typed stays, to be fixed")
	require.Contains(t, body, `aria-describedby="command-hint command-reply"`)
	require.Len(t, cmds.requests(), 1)
}

// TestRunCommandChecked: what the site refuses before the dispatcher
// sees anything.
func TestRunCommandChecked(t *testing.T) {
	db := storagetest.Open(t)
	n := openIncident(t, db)
	private := declare(t, db, pageT0, pageAlice, incident.Declaration{Title: "Payroll leak", Severity: 1, Private: true}).n
	cmds := &fakeCommands{}
	p := commandSite(t, db, cmds)
	cookie := p.session(t, pageViewer)
	ok := url.Values{"text": {"observe x"}, "key": {newFormKey()}}
	tests := []struct {
		name   string
		cookie *http.Cookie
		path   string
		form   url.Values
		hdr    []string
		code   int
		has    string
	}{
		{"signed out", nil, commandPath(n), ok, nil, http.StatusSeeOther, ""},
		{"not admitted", cookie, commandPath(private), ok, nil, http.StatusNotFound, "There is no INC-2 for you to see"},
		{"no such incident", cookie, commandPath(99), ok, nil, http.StatusNotFound, "There is no INC-99 for you to see"},
		{"not a number", cookie, "/incidents/x/commands", ok, nil, http.StatusBadRequest, "That is not an incident number"},
		{"cross-site", cookie, commandPath(n), ok, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, ""},
		{"foreign origin", cookie, commandPath(n), ok, []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}, http.StatusForbidden, ""},
		{"empty", cookie, commandPath(n), url.Values{"text": {"  "}, "key": {newFormKey()}}, nil, http.StatusBadRequest, "Type a command, such as <code>observe p99 is back under 300 ms</code>"},
		{"only /incident", cookie, commandPath(n), url.Values{"text": {"/incident"}, "key": {newFormKey()}}, nil, http.StatusBadRequest, "Type a command"},
		{"too long", cookie, commandPath(n), url.Values{"text": {"observe " + strings.Repeat("x", maxCommandText)}, "key": {newFormKey()}}, nil, http.StatusBadRequest, "keep it under 8000"},
		{"body too large", cookie, commandPath(n), url.Values{"text": {strings.Repeat("x", maxCommandBody)}, "key": {newFormKey()}}, nil, http.StatusRequestEntityTooLarge, "That command is too long"},
		{"no key", cookie, commandPath(n), url.Values{"text": {"observe x"}}, nil, http.StatusBadRequest, "This form was out of date"},
		{"a key not made here", cookie, commandPath(n), url.Values{"text": {"observe x"}, "key": {"abc#1@sha256:x-long-enough"}}, nil, http.StatusBadRequest, "This form was out of date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := p.post(t, tt.cookie, tt.path, tt.form, tt.hdr...)
			body := readBody(t, resp)
			require.Equal(t, tt.code, resp.StatusCode, body)
			if tt.has != "" {
				require.Contains(t, html.UnescapeString(body), html.UnescapeString(tt.has))
			}
			if tt.code == http.StatusSeeOther {
				require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/signin"), resp.Header.Get("Location"))
			}
			require.Empty(t, cmds.requests(), "nothing reached the dispatcher")
		})
	}
}

// TestRunCommandElsewhere: a command about another incident, a declare
// above all, leads to that incident's page.
func TestRunCommandElsewhere(t *testing.T) {
	db := storagetest.Open(t)
	n := openIncident(t, db)
	other := openIncident(t, db)
	cmds := &fakeCommands{reply: func(c CommandRequest) CommandReply {
		switch {
		case strings.HasPrefix(c.Text, "declare"):
			return CommandReply{Text: "INC-42 declared: SEV2 “Search down”.", Incident: "INC-42", Code: http.StatusOK}
		case strings.Contains(c.Text, "INC-2"):
			return CommandReply{Text: "INC-2 is monitoring.", Incident: "INC-2", Code: http.StatusOK}
		}
		return CommandReply{Text: "There is no INC-3 for you to see", Incident: "INC-3", Code: http.StatusNotFound}
	}}
	p := commandSite(t, db, cmds)
	cookie := p.session(t, pageViewer)
	for _, tt := range []struct {
		text string
		code int
		loc  string
	}{
		{"declare sev2 Search down", http.StatusSeeOther, "/incidents/42"},
		{"status INC-2 monitoring", http.StatusSeeOther, incidentPath(other)},
		{"status INC-3 monitoring", http.StatusNotFound, ""},
	} {
		resp := p.post(t, cookie, commandPath(n), url.Values{"text": {tt.text}, "key": {newFormKey()}})
		body := readBody(t, resp)
		require.Equal(t, tt.code, resp.StatusCode, tt.text)
		require.Equal(t, tt.loc, resp.Header.Get("Location"), tt.text)
		if tt.loc == "" {
			require.Contains(t, body, "There is no INC-3 for you to see", "a refusal shows on the page it was typed on")
			require.Contains(t, body, `<h1 id="incident-title"><span class="incident-id">INC-1</span>`)
		}
	}
}

func TestReplyParts(t *testing.T) {
	db := storagetest.Open(t)
	p := commandSite(t, db, &fakeCommands{})
	tests := []struct {
		in   string
		want []replyPart
	}{
		{"plain", []replyPart{{Text: "plain"}}},
		{"*INC-7* is _resolved_ after 2 h.", []replyPart{{Text: "INC-7 is resolved after 2 h."}}},
		{"*a* *b* 2*3*4 snake_case_name", []replyPart{{Text: "a b 2*3*4 snake_case_name"}}},
		{"<@" + pageAlice + "> and <@U0UNKNOWN1> and <@U0UNKNOWN2|bob>", []replyPart{{Text: "Alice Liddell and U0UNKNOWN1 and @bob"}}},
		{"<#C1|ops> <#C2> <!here> <https://x.example/a|label> <https://x.example/b>", []replyPart{{Text: "#ops #C2 @here label https://x.example/b"}}},
		{"type `role INC-7 commander @alice` now", []replyPart{{Text: "type "}, {Text: "role INC-7 commander @alice", Code: true}, {Text: " now"}}},
		{"table:\n```\nSLO   ok\n```", []replyPart{{Text: "table:\n"}, {Text: "SLO   ok\n", Code: true}}},
		{"&lt;script&gt; &amp;lt;", []replyPart{{Text: "<script> &lt;"}}},
		{":warning: 1 failed", []replyPart{{Text: "⚠ 1 failed"}}},
		{"bell\x07", []replyPart{{Text: "bell\uFFFD"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, p.site.replyParts(tt.in))
		})
	}
}
