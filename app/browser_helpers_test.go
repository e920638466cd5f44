package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api/web/webtest"
	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/bot"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// The browser tests' workspace and its people. Alice signs in; Bob and
// Carol declare incidents of their own, one of them private.
const (
	webTeam     = "T0TEST"
	webTeamName = "Ooda Browser Test"
	webAlice    = "U0ALICE"
	webBob      = "U0BOB0001"
	webCarol    = "U0CAROL01"
	// webAliceName is Alice's name in her ID token, which the header
	// shows, and in Slack's directory, which the pages show.
	webAliceName = "Alice Example"
)

// webPeople are the fake Slack's members, with full names the pages show.
var webPeople = []slacktest.Member{
	{ID: webAlice, Handle: "alice", RealName: webAliceName},
	{ID: webBob, Handle: "bob", RealName: "Bob Builder"},
	{ID: webCarol, Handle: "carol", RealName: "Carol Danvers"},
}

// The widths every page is checked at: a laptop and a phone.
var webWidths = []int{1280, 390}

// webWait bounds one browser step: a navigation, a poll for a live entry.
// It is a liveness bound for a loaded CI machine, not a speed claim.
const webWait = 30 * time.Second

// screenshotDir is where the browser tests leave a PNG of each page they
// checked, for people and the README to look at.
var screenshotDir = filepath.Join("testdata", "screenshots")

// chromiumNames are the names Debian, Ubuntu and Google give the browser.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// chromiumPath finds the browser on PATH. Without one the test is
// skipped, except under CI=true, where CI installs it and its absence
// is a failure (as slotest does for Prometheus).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("browser tests: none of %s is on PATH; install Debian's chromium (apt-get install chromium), as .ci/run does",
		strings.Join(chromiumNames, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startBrowser starts one headless Chromium for the test and its
// subtests, and stops it when the test ends. It runs as root in CI
// containers, hence no sandbox.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(webWidths[0], 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser to exit
	})
	require.NoError(t, chromedp.Do(ctx), "start %s", path)
	return ctx
}

// webRig is Ooda serving its web UI on a loopback port, as `ooda serve`
// does, with Sign in with Slack pointed at a fake provider, Slack's Web
// API at a fake Slack, and incidents declared through signed slash
// commands.
type webRig struct {
	fake *slacktest.Server
	oidc *webtest.Provider
	db   *storage.DB
	a    *app.App
	// base is the address people open, the PublicURL: localhost, where
	// Chromium keeps Secure cookies over plain http.
	base string
	// general is the channel seeding commands are typed in.
	general string

	mu      sync.Mutex
	trigger int

	// The seeded incidents.
	open         uint64 // public, running: every OODA phase, an action item, an update
	resolved     uint64 // public, resolved: its post-mortem has a blameless finding
	minor        uint64 // public, running, SEV4
	privateMine  uint64 // private, Alice declared it
	privateOther uint64 // private, Bob's, Alice is not in it

	// API tokens of the tokens file: one without the private scope, one
	// with it.
	readToken, privateToken string
}

// newWebRig builds and runs Ooda until the test ends and seeds it.
func newWebRig(t *testing.T) *webRig {
	t.Helper()
	fake := slacktest.New(slacktest.WithTeam(webTeam, webTeamName))
	t.Cleanup(fake.Close)
	for _, m := range webPeople {
		fake.AddMember(m)
	}
	r := &webRig{fake: fake, general: fake.CreateChannel("general", false)}
	announce := fake.CreateChannel("incidents", false)
	r.oidc = webtest.NewProvider(webtest.WithUser(webAliceUser()))
	t.Cleanup(r.oidc.Close)

	// The listener comes first: its port is in the public address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() }) // Run closes it; this covers a failure before Run
	r.base = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	cfg := app.DefaultConfig()
	cfg.SlackBotToken = slackTestBotToken
	cfg.SlackSigningSecret = slackTestSecret
	cfg.SlackAPIURL = fake.URL()
	cfg.AnnounceChannel = announce
	cfg.PublicURL = r.base
	cfg.SlackClientID = r.oidc.ClientID()
	cfg.SlackClientSecret = r.oidc.ClientSecret()
	cfg.OIDCIssuer = r.oidc.URL()
	cfg.APITokensFile = r.tokensFile(t)
	r.db = storagetest.Open(t)
	r.a = newApp(t, cfg, r.db, app.Options{})
	require.NotNil(t, r.a.Site(), "the app serves the web UI")
	_, err = r.a.RefreshPeople(t.Context())
	require.NoError(t, err)
	serveOn(t, r.a, ln)
	r.seed(t)
	return r
}

// tokensFile writes the API tokens the browser tests compare pages
// with: "reader" reads public incidents only; "auditor" reads private
// ones too.
func (r *webRig) tokensFile(t *testing.T) string {
	t.Helper()
	r.readToken, r.privateToken = "browser-test-reader-0123456789abcdef", "browser-test-auditor-0123456789abcdef"
	file := filepath.Join(t.TempDir(), "api-tokens.yaml")
	yaml := fmt.Sprintf("reader:\n  token: %s\n  scopes: [read]\nauditor:\n  token: %s\n  scopes: [read, private]\n", r.readToken, r.privateToken)
	require.NoError(t, os.WriteFile(file, []byte(yaml), 0o600))
	return file
}

// apiGet GETs path from the API with token and decodes its JSON answer
// into v, requiring a 200.
func (r *webRig) apiGet(t *testing.T, token, path string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.url(path), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", path)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v), "GET %s", path)
}

// webAliceUser is who the fake provider signs in unless a test says
// otherwise: Alice, of the bot's own workspace.
func webAliceUser() webtest.User {
	return webtest.User{ID: webAlice, Team: webTeam, Name: webAliceName, Email: "alice@example.com"}
}

// serveOn runs a on ln until the test ends, as `ooda serve` does (the
// real http.Server, its timeouts, its shutdown), then checks that it
// stopped cleanly.
func serveOn(t *testing.T, a *app.App, ln net.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "Run stops cleanly when its context ends, live streams open or not")
		case <-time.After(30 * time.Second):
			t.Error("Run did not stop")
		}
	})
}

// url is path on the address people open.
func (r *webRig) url(path string) string { return r.base + path }

// slash sends `/incident text` typed by user in channel to Ooda's Slack
// endpoint over HTTP, signed as Slack signs it, and returns the reply.
func (r *webRig) slash(t *testing.T, user, channel, text string) string {
	t.Helper()
	r.mu.Lock()
	r.trigger++
	trigger := "web-" + strconv.Itoa(r.trigger)
	r.mu.Unlock()
	form := slackForm(t, "slash_command.form", map[string]string{
		"text": text, "channel_id": channel, "trigger_id": trigger, "user_id": user,
		"user_name": strings.ToLower(user), "team_id": webTeam,
	})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.url("/slack/commands"), bytes.NewReader(form))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	bot.SignRequest(req.Header, slackTestSecret, time.Now(), form)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "/incident %s", text)
	var reply bot.SlashReply
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&reply), "/incident %s", text)
	return reply.Text
}

var webDeclaredRE = regexp.MustCompile(`^INC-(\d+) declared`)

// declare declares an incident as user and returns its number.
func (r *webRig) declare(t *testing.T, user, args string) uint64 {
	t.Helper()
	reply := r.slash(t, user, r.general, "declare "+args)
	m := webDeclaredRE.FindStringSubmatch(reply)
	require.NotNil(t, m, "declare %s: %s", args, reply)
	n, err := strconv.ParseUint(m[1], 10, 64)
	require.NoError(t, err)
	return n
}

// on sends commands about incident n, as user, from the general channel.
func (r *webRig) on(t *testing.T, user string, n uint64, commands ...string) {
	t.Helper()
	for _, c := range commands {
		verb, rest, _ := strings.Cut(c, " ")
		r.slash(t, user, r.general, verb+" "+incident.ID(n)+" "+rest)
	}
}

// seed declares the incidents the tests look at, through Slack
// commands, and checks the store holds what they said.
func (r *webRig) seed(t *testing.T) {
	t.Helper()
	bob := "<@" + webBob + ">"
	r.resolved = r.declare(t, webBob, "sev3 --service search Search results stale")
	r.on(t, webBob, r.resolved,
		"observe search results are two hours old",
		"orient --cause the on-call engineer forgot to renew the index cache TTL",
		"decide rebuild the index cache",
		"act rebuilt the index cache",
		"action alert when the index is older than an hour "+bob+" P1",
		"resolve cache TTL restored; results are fresh again",
	)
	r.minor = r.declare(t, webCarol, "sev4 --service docs Docs search shows a typo")
	r.privateOther = r.declare(t, webBob, "sev2 --private Payroll export mismatch")
	r.privateMine = r.declare(t, webAlice, "sev1 --private Credential leak in CI logs")
	r.open = r.declare(t, webAlice, "sev2 --service checkout Checkout latency spike")
	r.on(t, webAlice, r.open,
		"observe p99 latency on /pay is 4 s",
		"orient the connection pool is saturated by the new retry loop",
		"decide roll checkout back to v41",
		"act rolled checkout back to v41",
		"note support has been told",
		"impact card payments are slow for a third of customers",
		"role ops "+bob,
		"action alert on connection pool saturation "+bob+" P1",
		"update Payments are slow; a rollback is under way.",
	)

	ctx := t.Context()
	for _, w := range []struct {
		n             uint64
		open, private bool
	}{
		{r.resolved, false, false}, {r.minor, true, false}, {r.privateOther, true, true},
		{r.privateMine, true, true}, {r.open, true, false},
	} {
		inc, err := r.db.Incident(ctx, w.n)
		require.NoError(t, err)
		require.Equal(t, w.private, inc.Private, "%s private", inc.ID)
		require.Equal(t, w.open, inc.Status.Active(), "%s open (%s)", inc.ID, inc.Status)
	}
	open, err := r.db.Incident(ctx, r.open)
	require.NoError(t, err)
	require.Len(t, open.Actions, 1, "the open incident's action item")
	require.True(t, open.Admits(webAlice))
	other, err := r.db.Incident(ctx, r.privateOther)
	require.NoError(t, err)
	require.False(t, other.Admits(webAlice), "Alice is not in Bob's private incident")
}

// channelOf waits until the executor has created incident n's channel
// and returns its ID.
func (r *webRig) channelOf(t *testing.T, n uint64) string {
	t.Helper()
	var ch string
	pollUntil(t, webWait, fmt.Sprintf("the channel of %s", incident.ID(n)), func() bool {
		inc, err := r.db.Incident(t.Context(), n)
		require.NoError(t, err)
		ch = inc.ChannelID
		return ch != ""
	})
	return ch
}

// tab is one browser tab in a browser context of its own (its own
// cookies), recording what its pages report as errors and the status of
// every document it loads.
type tab struct {
	t    *testing.T
	ctx  context.Context
	rig  *webRig
	name string // the screenshots' prefix

	mu       sync.Mutex
	problems []pageProblem
	docs     []docResponse
}

// pageProblem is something a page reported as an error: an uncaught
// exception, a console.error call, an error entry of the browser's log
// (a failed load, a Content-Security-Policy violation).
type pageProblem struct {
	Source string // "exception", "console", or the log entry's source
	Text   string
	URL    string
}

func (p pageProblem) String() string {
	if p.URL == "" {
		return p.Source + ": " + p.Text
	}
	return p.Source + ": " + p.Text + " (" + p.URL + ")"
}

// docResponse is the answer to a document the tab loaded.
type docResponse struct {
	URL    string
	Status int64
}

// newTab opens a tab in a fresh browser context of browser, closed when
// the test ends. Its screenshots are named after the test.
func newTab(t *testing.T, browser context.Context, rig *webRig) *tab {
	t.Helper()
	tb := &tab{t: t, rig: rig, name: screenshotName(t)}
	// The listener is there before the tab's first command, so it sees
	// every event; chromedp enables the Log domain as it attaches, which
	// is where Content-Security-Policy violations and failed loads are
	// reported.
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.listen))
	t.Cleanup(cancel)
	tb.ctx = ctx
	// The first call opens the tab: it gets no deadline, which would
	// close the tab with it.
	require.NoError(t, chromedp.Do(ctx), "open a tab")
	return tb
}

// screenshotName is the test's name as a file name: TestBrowser/SignIn
// is "signin".
func screenshotName(t *testing.T) string {
	name := t.Name()
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, name))
}

// listen records the tab's events. It runs in the tab's event loop: it
// only appends.
func (tb *tab) listen(ev any) {
	var p *pageProblem
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		p = &pageProblem{Source: "exception", Text: text, URL: d.URL}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			p = &pageProblem{Source: "console.error", Text: strings.Join(parts, " ")}
		}
	case *cdplog.EventEntryAdded:
		if ev.Entry != nil && ev.Entry.Level == cdplog.EntryLevelError {
			p = &pageProblem{Source: string(ev.Entry.Source), Text: ev.Entry.Text, URL: ev.Entry.URL}
		}
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument && ev.Response != nil {
			tb.mu.Lock()
			tb.docs = append(tb.docs, docResponse{URL: ev.Response.URL, Status: ev.Response.Status})
			tb.mu.Unlock()
		}
	}
	if p != nil {
		tb.mu.Lock()
		tb.problems = append(tb.problems, *p)
		tb.mu.Unlock()
	}
}

// run runs actions in the tab within webWait.
func (tb *tab) run(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, webWait)
	defer cancel()
	require.NoError(tb.t, chromedp.Do(ctx, actions...))
}

// eval evaluates a JavaScript expression in the tab's page; promises are
// awaited.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, webWait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(tb.t, err, "evaluate %s", expr)
	return v
}

// open loads path and returns the status of the document it ends on,
// after any redirects.
func (tb *tab) open(path string) int64 {
	tb.t.Helper()
	return tb.navigate(chromedp.Navigate(tb.rig.url(path)))
}

// navigate runs actions that load a page (a navigation, a key that
// submits a form) and returns the status of the document it ends on.
func (tb *tab) navigate(actions ...chromedp.Action[chromedp.Void]) int64 {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, webWait)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	require.NoError(tb.t, err)
	require.NotNil(tb.t, resp, "a document answered")
	return resp.Status
}

// location is the page's address.
func (tb *tab) location() string {
	tb.t.Helper()
	return eval[string](tb, `location.href`)
}

// text is the visible text of the first element sel matches, "" when
// none does.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%q)?.innerText ?? "").trim()`, sel))
}

// count is how many elements sel matches.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return eval[int](tb, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// signIn opens the list, which sends the browser through the fake
// provider, and requires it to come back to the list signed in as Alice.
func (tb *tab) signIn() {
	tb.t.Helper()
	status := tb.open("/")
	require.Equal(tb.t, int64(http.StatusOK), status, "the list after signing in")
	require.Equal(tb.t, tb.rig.url("/"), tb.location(), "sign-in returns to the page asked for")
	require.Equal(tb.t, webAliceName, tb.text("header .who"), "the header names who is signed in")
}

// signInAs signs u in, as signIn does Alice; the provider signs Alice in
// again afterwards.
func (tb *tab) signInAs(u webtest.User) {
	tb.t.Helper()
	tb.rig.oidc.SetUser(u)
	defer tb.rig.oidc.SetUser(webAliceUser())
	require.Equal(tb.t, int64(http.StatusOK), tb.open("/"), "the list after %s signed in", u.Name)
	require.Equal(tb.t, tb.rig.url("/"), tb.location(), "sign-in returns to the page asked for")
	require.Equal(tb.t, u.Name, tb.text("header .who"), "the header names who is signed in")
}

// width makes the viewport w pixels wide; below 600 it is a phone's
// (mobile emulation: the page's viewport meta applies).
func (tb *tab) width(w int) {
	tb.t.Helper()
	if w < 600 {
		tb.run(chromedp.EmulateViewport(int64(w), 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
		return
	}
	tb.run(chromedp.EmulateViewport(int64(w), 900))
}

// screenshot saves the whole page as <test>[-what]-<width>.png.
func (tb *tab) screenshot(what string, width int) {
	tb.t.Helper()
	require.NoError(tb.t, os.MkdirAll(screenshotDir, 0o755))
	name := tb.name
	if what != "" {
		name += "-" + what
	}
	name += "-" + strconv.Itoa(width) + ".png"
	ctx, cancel := context.WithTimeout(tb.ctx, webWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(tb.t, err)
	require.NoError(tb.t, os.WriteFile(filepath.Join(screenshotDir, name), png, 0o644))
}

// mark is where the tab's record of problems stands, for problemsSince.
func (tb *tab) mark() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return len(tb.problems)
}

// problemsSince returns the problems reported since mark, leaving out
// the browser's note that a document answered with an error status: a
// 404 page is the answer the test asked for, not a fault of the page.
func (tb *tab) problemsSince(mark int) []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	failed := map[string]bool{}
	for _, d := range tb.docs {
		if d.Status >= 400 {
			failed[d.URL] = true
		}
	}
	var out []string
	for _, p := range tb.problems[mark:] {
		if p.Source == string(cdplog.EntrySourceNetwork) && failed[p.URL] {
			continue
		}
		out = append(out, p.String())
	}
	return out
}

// cookies are the browser's cookies for the site.
func (tb *tab) cookies() []*network.Cookie {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, webWait)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.rig.url("/")}})
	require.NoError(tb.t, err)
	return res.Cookies
}

// press sends keys to the focused element, one at a time.
func (tb *tab) press(keys ...string) {
	tb.t.Helper()
	for _, k := range keys {
		tb.run(chromedp.KeyEvent(k))
	}
}

// focused describes document.activeElement.
type focused struct {
	Tag   string `json:"tag"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Href  string `json:"href"`
	Value string `json:"value"`
	Type  string `json:"type"`
	// In is the id of the nearest ancestor with one: the element's region.
	In string `json:"in"`
	// Key tells elements apart: the page numbers each one focus reaches.
	Key string `json:"key"`
	// Matches are the selectors of window.oodaReach the element matches.
	Matches []string `json:"matches"`
}

func (f focused) String() string {
	s := f.Tag
	if f.ID != "" {
		s += "#" + f.ID
	}
	if f.Name != "" {
		s += "[name=" + f.Name + "]"
	}
	if f.Href != "" {
		s += "[href=" + f.Href + "]"
	}
	return s
}

// describeJS is a JavaScript function describing an element as focused.
const describeJS = `(e) => {
	if (!e || e === document.body || e === document.documentElement) return {tag: "body", key: "body", matches: []};
	if (!e.dataset.oodaFocus) e.dataset.oodaFocus = String((window.oodaFocusSeq = (window.oodaFocusSeq || 0) + 1));
	return {tag: e.tagName.toLowerCase(), id: e.id || "", name: e.getAttribute("name") || "",
		href: e.getAttribute("href") || "", value: ("value" in e) ? String(e.value) : "", type: e.getAttribute("type") || "",
		in: e.parentElement?.closest("[id]")?.id || "", key: e.dataset.oodaFocus,
		matches: (window.oodaReach || []).filter(s => e.matches(s))};
}`

// activeElementJS describes document.activeElement.
const activeElementJS = "(" + describeJS + ")(document.activeElement)"

// recordFocusJS starts recording every element focus moves to, in
// window.oodaFocusPath, from the top of the page with nothing focused.
const recordFocusJS = `(() => {
	const describe = ` + describeJS + `;
	document.activeElement?.blur();
	window.scrollTo(0, 0);
	window.oodaFocusPath = [];
	document.addEventListener("focusin", ev => window.oodaFocusPath.push(describe(ev.target)), true);
})()`

// active is the focused element.
func (tb *tab) active() focused {
	tb.t.Helper()
	return eval[focused](tb, activeElementJS)
}

// tabTo presses Tab until the focused element satisfies ok, at most
// limit times, and returns it; it fails the test when none did.
func (tb *tab) tabTo(what string, limit int, ok func(focused) bool) focused {
	tb.t.Helper()
	var seen []string
	for range limit {
		tb.press(kb.Tab)
		f := tb.active()
		if ok(f) {
			return f
		}
		seen = append(seen, f.String())
	}
	tb.t.Fatalf("%d presses of Tab never reached %s; focus went through %s", limit, what, strings.Join(seen, ", "))
	return focused{}
}

// tabAround presses Tab from the top of the page, at most presses
// times, and returns every element focus went through, in order, until
// it came back to the first one.
func (tb *tab) tabAround(presses int) []focused {
	tb.t.Helper()
	tb.run(chromedp.Evaluate[chromedp.Void](recordFocusJS))
	const batch = 8 // presses per call; the page records where focus goes
	var out []focused
	for pressed := 0; pressed < presses; pressed += batch {
		tb.run(chromedp.KeyEvent(strings.Repeat(kb.Tab, batch)))
		out = out[:0]
		for _, f := range eval[[]focused](tb, `window.oodaFocusPath`) {
			if len(out) > 0 && f.Key == out[0].Key {
				return out // round the page and back
			}
			if len(out) == 0 || out[len(out)-1].Key != f.Key {
				out = append(out, f)
			}
		}
	}
	return out
}

// viewportShot saves what the viewport shows as <test>-<what>-<width>.png.
func (tb *tab) viewportShot(what string, width int) {
	tb.t.Helper()
	require.NoError(tb.t, os.MkdirAll(screenshotDir, 0o755))
	ctx, cancel := context.WithTimeout(tb.ctx, webWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(tb.t, err)
	name := tb.name + "-" + what + "-" + strconv.Itoa(width) + ".png"
	require.NoError(tb.t, os.WriteFile(filepath.Join(screenshotDir, name), png, 0o644))
}
