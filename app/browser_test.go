package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api/web/webtest"
	"github.com/ooda-sre/ooda/incident"
)

// TestBrowser drives the web UI in a real headless Chromium against Ooda
// as `ooda serve` runs it: Sign in with Slack through a fake OpenID
// Connect provider, incidents declared through signed Slack commands.
// One browser and one server serve every subtest; each subtest has a
// browser context of its own (its own cookies). Each leaves screenshots
// of what it checked in app/testdata/screenshots.
func TestBrowser(t *testing.T) {
	browser := startBrowser(t)
	rig := newWebRig(t)

	t.Run("SignIn", func(t *testing.T) {
		tb := newTab(t, browser, rig)
		asked := len(rig.oidc.Authorizations())
		tb.signIn()
		require.Greater(t, len(rig.oidc.Authorizations()), asked, "the browser went through the provider")
		session := sessionCookie(tb.cookies())
		require.NotNil(t, session, "a session cookie is set")
		require.True(t, session.HTTPOnly, "the session cookie is HttpOnly")
		require.True(t, session.Secure, "the session cookie is Secure")
		require.Equal(t, network.CookieSameSiteLax, session.SameSite, "the session cookie is SameSite=Lax")
		tb.screenshot("", webWidths[0])

		// Sign out, from the keyboard: the header's form posts from the
		// site itself, which cross-origin protection lets through, and
		// the session ends in the store, not only in this browser.
		tb.tabTo("the sign-out button", 10, func(f focused) bool { return f.Tag == "button" && f.In != "filters" })
		require.Equal(t, int64(http.StatusOK), tb.navigate(chromedp.KeyEvent(kb.Enter)), "signed out")
		require.Contains(t, tb.text("main h1"), "signed out")
		require.Nil(t, sessionCookie(tb.cookies()), "the browser forgot the session cookie")
		require.Equal(t, http.StatusSeeOther, getWithCookie(t, rig.url("/"), session).StatusCode, "the old cookie signs no one in")
		tb.screenshot("signed-out", webWidths[0])

		// Someone of another workspace gets through the provider, and
		// Ooda refuses their token.
		other := newTab(t, browser, rig)
		require.Equal(t, int64(http.StatusForbidden), other.refused(), "the refusal")
		require.NotEqual(t, webAliceName, other.text("header .who"))
		page := strings.ToLower(other.text("main"))
		require.Contains(t, page, "workspace", "the page says the workspace is the reason: %q", page)
		other.screenshot("refused", webWidths[0])
		require.Nil(t, sessionCookie(other.cookies()), "no session cookie after a refusal")
		// Whatever cookies the refusal left, none of them signs anyone in.
		resp := getWithCookie(t, rig.url("/"), other.cookies()...)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the list sends the refused browser to sign in")
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/signin"), "to sign in: %s", resp.Header.Get("Location"))
	})

	t.Run("List", func(t *testing.T) {
		tb := newTab(t, browser, rig)
		tb.signIn()
		require.ElementsMatch(t, []uint64{rig.open, rig.resolved, rig.minor, rig.privateMine}, tb.rows(),
			"every public incident and Alice's private one, not Bob's")
		body := tb.text("body")
		require.NotContains(t, body, "Payroll export mismatch", "nothing of Bob's private incident")
		for _, n := range tb.rows() {
			require.Equal(t, 1, tb.count(fmt.Sprintf(`#incidents tr[data-incident="%d"] a[href="/incidents/%d"]`, n, n)), "%s links its page", incident.ID(n))
		}
		tb.screenshot("", webWidths[0])

		// Bob's private incident does not exist for Alice, whatever its
		// address.
		hidden := fmt.Sprintf("/incidents/%d", rig.privateOther)
		require.Equal(t, int64(http.StatusNotFound), tb.open(hidden), hidden)
		require.NotContains(t, tb.text("body"), "Payroll", "the 404 says nothing of the incident")
		tb.screenshot("private-404", webWidths[0])
		require.Equal(t, int64(http.StatusNotFound), tb.open(hidden+"/postmortem"), hidden+"/postmortem")
		require.Equal(t, http.StatusNotFound, tb.fetch(hidden+"/live").Status, hidden+"/live streams nothing")

		// The filters, used with the keyboard only: Tab to a control,
		// change it with the arrow keys, Enter submits.
		tb.open("/")
		tb.tabTo("the severity filter", 40, func(f focused) bool { return f.Name == "severity" })
		tb.choose("2")
		tb.tabTo("the service filter", 10, func(f focused) bool { return f.Name == "service" })
		require.Equal(t, int64(http.StatusOK), tb.navigate(chromedp.KeyEvent(kb.Enter)))
		require.Contains(t, tb.location(), "severity=2")
		require.Equal(t, []uint64{rig.open}, tb.rows(), "SEV2: the open incident, not Bob's private SEV2")
		tb.screenshot("severity", webWidths[0])

		tb.open("/")
		tb.tabTo("the status filter", 40, func(f focused) bool { return f.Name == "status" })
		tb.choose(string(incident.StatusResolved))
		tb.tabTo("the filters' submit button", 20, func(f focused) bool { return f.Tag == "button" && f.In == "filters" })
		require.Equal(t, int64(http.StatusOK), tb.navigate(chromedp.KeyEvent(kb.Enter)))
		require.Contains(t, tb.location(), "status=resolved")
		require.Equal(t, []uint64{rig.resolved}, tb.rows(), "resolved: the resolved incident only")
		tb.screenshot("status", webWidths[0])
	})

	t.Run("Live", func(t *testing.T) {
		tb := newTab(t, browser, rig)
		tb.signIn()
		page := fmt.Sprintf("/incidents/%d", rig.open)
		require.Equal(t, int64(http.StatusOK), tb.open(page))
		require.Equal(t, 1, tb.count("ol#timeline[data-seq]"), "the timeline and the seq it shows")
		// Each OODA phase has entries, and each looks different.
		looks := map[string]bool{}
		for _, phase := range []string{"observe", "orient", "decide", "act"} {
			look := eval[string](tb, fmt.Sprintf(`(() => {
				const e = document.querySelector("#timeline li.entry.phase-%s");
				if (!e) return "";
				const s = getComputedStyle(e), l = getComputedStyle(e.querySelector(".phase") || e);
				return [s.borderLeftColor, s.backgroundColor, l.color, l.backgroundColor].join(" ");
			})()`, phase))
			require.NotEmpty(t, look, "an entry of the %s phase", phase)
			looks[look] = true
		}
		require.Len(t, looks, 4, "the four phases are told apart by colour")
		loaded := tb.documents()
		tb.run(chromedp.Evaluate[chromedp.Void](`window.oodaNotReloaded = true`))

		text := "checkout error rate is back under 0.1 percent"
		shown := fmt.Sprintf(`[...document.querySelectorAll("#timeline li.entry.phase-observe")].some(e => e.innerText.includes(%q))`, text)
		require.False(t, eval[bool](tb, shown), "the entry is not there before it is recorded")
		channel := rig.channelOf(t, rig.open)
		rig.slash(t, webAlice, channel, "observe "+text)
		tb.waitFor(shown, "the new entry in the timeline")
		// The other sections follow too: a stakeholder update.
		update := "Checkout is fast again; we are watching it."
		rig.slash(t, webAlice, channel, "update "+update)
		tb.waitFor(fmt.Sprintf(`document.querySelector("#updates")?.innerText.includes(%q)`, update), "the new update in its section")
		require.Empty(t, tb.problemsSince(0), "errors in the browser while the page followed the incident")
		require.Empty(t, eval[[]string](tb, a11yJS), "accessibility basics after the live updates")
		require.True(t, eval[bool](tb, `window.oodaNotReloaded === true`), "the page was not reloaded")
		require.Equal(t, loaded, tb.documents(), "no document was loaded again")
		tb.screenshot("", webWidths[0])
	})

	t.Run("Postmortem", func(t *testing.T) {
		tb := newTab(t, browser, rig)
		tb.signIn()
		page := fmt.Sprintf("/incidents/%d/postmortem", rig.resolved)
		require.Equal(t, int64(http.StatusOK), tb.open(page))
		tb.run(chromedp.WaitVisible(chromedp.CSS("article#postmortem")), chromedp.WaitVisible(chromedp.CSS("aside#findings")))
		require.Contains(t, tb.text("article#postmortem h1"), "Search results stale")
		require.GreaterOrEqual(t, tb.count("article#postmortem section h2"), 5, "the draft's sections")
		require.Contains(t, tb.text("article#postmortem"), "rebuilt the index cache", "the timeline is in the draft")
		require.Contains(t, strings.ToLower(tb.text("aside#findings")), "forgot", "the blameless check flags the blaming phrase")

		hrefs := eval[[]string](tb, `[...document.querySelectorAll('a[href*="/postmortem?format="]')].map(a => a.getAttribute("href"))`)
		want := map[string]string{"md": "text/markdown", "html": "text/html", "json": "application/json"}
		var wantHrefs []string
		for f := range want {
			wantHrefs = append(wantHrefs, fmt.Sprintf("%s?format=%s", page, f))
		}
		require.ElementsMatch(t, wantHrefs, hrefs, "a download link per format")
		for f, ct := range want {
			got := tb.fetch(fmt.Sprintf("%s?format=%s", page, f))
			require.Equal(t, http.StatusOK, got.Status, f)
			require.True(t, strings.HasPrefix(got.ContentType, ct), "%s is %s, not %s", f, ct, got.ContentType)
			require.Contains(t, got.Body, "Search results stale", f)
		}
		tb.screenshot("", webWidths[0])
	})

	t.Run("Insights", func(t *testing.T) { rig.testInsights(t, browser) })
	t.Run("CommandBox", func(t *testing.T) { rig.testCommandBox(t, browser) })
	t.Run("LiveRetry", func(t *testing.T) { rig.testLiveRetry(t, browser) })

	t.Run("Widths", func(t *testing.T) {
		// Every page at a laptop's and a phone's width: nothing makes the
		// page scroll sideways, and the browser reports no error.
		tabs := rig.pageTabs(t, browser)
		for _, p := range rig.pages() {
			tb := tabs.of(p)
			for _, w := range webWidths {
				tb.width(w)
				mark := tb.mark()
				p.check(t, p.load(tb), fmt.Sprintf("%s at %d px", p.name, w))
				m := eval[pageMetrics](tb, metricsJS(w))
				// A phone zooms out to fit a page wider than its screen,
				// which makes the viewport wider than the screen.
				require.Equal(t, w, m.Inner, "%s at %d px: the page is wider than the screen, which zoomed out to %d px; too wide: %s",
					p.name, w, m.Inner, strings.Join(m.Wide, ", "))
				require.LessOrEqual(t, m.Scroll, m.Inner, "%s at %d px scrolls sideways; too wide: %s", p.name, w, strings.Join(m.Wide, ", "))
				require.Empty(t, tb.problemsSince(mark), "%s at %d px: errors in the browser", p.name, w)
				tb.screenshot(p.name, w)
			}
		}
		// An error reported after a page was checked (a live stream that
		// failed later) counts too.
		require.Empty(t, tabs.problems(), "errors in the browser")
	})

	t.Run("Accessibility", func(t *testing.T) {
		// lang, headings in order, a label on every control, and the
		// controls and links a person needs reachable with Tab.
		tabs := rig.pageTabs(t, browser)
		for _, p := range rig.pages() {
			tb := tabs.of(p)
			p.check(t, p.load(tb), p.name)
			require.Empty(t, eval[[]string](tb, a11yJS), "%s: accessibility basics", p.name)
			tb.run(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.oodaReach = %s`, jsStrings(p.reach))))
			path := tb.tabAround(40)
			reached := map[string]bool{}
			var went []string
			for _, f := range path {
				for _, sel := range f.Matches {
					reached[sel] = true
				}
				went = append(went, f.String())
			}
			for _, sel := range p.reach {
				require.True(t, reached[sel], "%s: Tab never reaches %s; it goes through %s", p.name, sel, strings.Join(went, ", "))
			}
			// What the last Tab left focused, as a person would see it.
			tb.viewportShot(p.name, webWidths[0])
		}
	})
}

// getWithCookie GETs url with the browser's cookies, from Go, without
// following a redirect, and returns the answer, its body closed.
func getWithCookie(t *testing.T, url string, cookies ...*network.Cookie) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// sessionCookie finds the session cookie among cookies.
func sessionCookie(cookies []*network.Cookie) *network.Cookie {
	for _, c := range cookies {
		if c.Name == "__Host-ooda_session" {
			return c
		}
	}
	return nil
}

// refused signs in as a member of another workspace, whom the provider
// admits and Ooda must not, and returns the status of the page the
// browser ends on. The provider signs Alice in again afterwards.
func (tb *tab) refused() int64 {
	tb.t.Helper()
	tb.rig.oidc.SetUser(webtest.User{ID: "U0MALLORY", Team: webtest.OtherTeamID, Name: "Mallory Other", Email: "mallory@example.org"})
	defer tb.rig.oidc.SetUser(webAliceUser())
	return tb.open("/")
}

// rows are the incidents the list shows, in order.
func (tb *tab) rows() []uint64 {
	tb.t.Helper()
	return eval[[]uint64](tb, `[...document.querySelectorAll("#incidents tr[data-incident]")].map(r => Number(r.dataset.incident))`)
}

// choose moves the focused <select> to value with the arrow keys.
func (tb *tab) choose(value string) {
	tb.t.Helper()
	options := eval[[]string](tb, `[...document.activeElement.options].map(o => o.value)`)
	at, want := slices.Index(options, tb.active().Value), slices.Index(options, value)
	require.GreaterOrEqual(tb.t, want, 0, "%q among the options %q", value, options)
	key := kb.ArrowDown
	if want < at {
		key = kb.ArrowUp
	}
	for i := 0; i < len(options) && tb.active().Value != value; i++ {
		tb.press(key)
	}
	require.Equal(tb.t, value, tb.active().Value, "the arrow keys choose %q", value)
}

// fetched is an answer to a fetch() made by the page.
type fetched struct {
	Status      int    `json:"status"`
	ContentType string `json:"type"`
	Body        string `json:"body"`
}

// fetch GETs path from the page, with its cookies, as its own script
// would. A stream's body is not read: only its status.
func (tb *tab) fetch(path string) fetched {
	tb.t.Helper()
	return eval[fetched](tb, fmt.Sprintf(`fetch(%q).then(async r => {
		const type = r.headers.get("content-type") || "";
		let body = "";
		if (type.startsWith("text/event-stream")) { r.body?.cancel(); } else { body = await r.text(); }
		return {status: r.status, type, body};
	})`, path))
}

// documents are the documents the tab has loaded so far.
func (tb *tab) documents() []docResponse {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return slices.Clone(tb.docs)
}

// waitFor polls a JavaScript condition until it holds, within webWait.
func (tb *tab) waitFor(cond, what string) {
	tb.t.Helper()
	tb.run(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(webWait))(ctx, t)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		return nil
	}))
}

// webPage is a page the width and accessibility checks visit.
type webPage struct {
	name   string
	path   string // the page a signed-in person opens
	status int64
	how    pageHow
	// reach are selectors of elements Tab must reach.
	reach []string
}

// pageHow is how a page is reached.
type pageHow int

const (
	// opened: a signed-in person opens its path.
	opened pageHow = iota
	// refusal: someone of another workspace signs in, in a tab not
	// signed in.
	refusal
	// signOut: a signed-in person signs out.
	signOut
)

// pages are every kind of page the web UI shows.
func (r *webRig) pages() []webPage {
	links := `main a[href]`
	return []webPage{
		{name: "list", path: "/", status: http.StatusOK, reach: []string{
			`#filters [name="status"]`, `#filters [name="severity"]`, `#filters [name="service"]`,
			`#filters [name="from"]`, `#filters [name="to"]`, `#filters [type="submit"]`,
			`#incidents a[href^="/incidents/"]`, `header form[action="/signout"] button`,
		}},
		{name: "incident", path: fmt.Sprintf("/incidents/%d", r.open), status: http.StatusOK, reach: []string{
			fmt.Sprintf(`a[href="/incidents/%d/postmortem"]`, r.open), `header a[href="/"]`,
		}},
		{name: "incident-resolved", path: fmt.Sprintf("/incidents/%d", r.resolved), status: http.StatusOK, reach: []string{
			fmt.Sprintf(`a[href="/incidents/%d/postmortem"]`, r.resolved),
		}},
		{name: "postmortem", path: fmt.Sprintf("/incidents/%d/postmortem", r.resolved), status: http.StatusOK, reach: []string{
			`a[href$="format=md"]`, `a[href$="format=html"]`, `a[href$="format=json"]`,
		}},
		// The main rig configures no SLOs: the page says how to.
		{name: "slos", path: "/slos", status: http.StatusOK, reach: []string{`header nav a[href="/insights"]`}},
		{name: "insights", path: "/insights", status: http.StatusOK, reach: []string{
			`#insights-range [name="from"]`, `#insights-range [name="to"]`, `#insights-range [type="submit"]`,
			`a.csv[href*="table=weekly"]`, `a.csv[href*="table=load"]`,
		}},
		{name: "list-invalid", path: "/?severity=9&from=yesterday", status: http.StatusBadRequest, reach: []string{
			`#filters [name="severity"]`, `#filters [type="submit"]`,
		}},
		{name: "notfound", path: fmt.Sprintf("/incidents/%d", r.privateOther), status: http.StatusNotFound, reach: []string{links}},
		{name: "refused", status: http.StatusForbidden, how: refusal, reach: []string{links}},
		// Last: it ends the signed-in tab's session.
		{name: "signed-out", status: http.StatusOK, how: signOut, reach: []string{links}},
	}
}

// pageTabs are the tabs the pages are seen in: one signed in as Alice,
// one not signed in for the refusal, each in a browser context of its
// own.
type pageTabs struct{ signedIn, anonymous *tab }

func (r *webRig) pageTabs(t *testing.T, browser context.Context) pageTabs {
	t.Helper()
	signedIn := newTab(t, browser, r)
	signedIn.signIn()
	return pageTabs{signedIn: signedIn, anonymous: newTab(t, browser, r)}
}

// of is the tab p is seen in.
func (pt pageTabs) of(p webPage) *tab {
	if p.how == refusal {
		return pt.anonymous
	}
	return pt.signedIn
}

// problems are what either tab reported since it opened.
func (pt pageTabs) problems() []string {
	return append(pt.signedIn.problemsSince(0), pt.anonymous.problemsSince(0)...)
}

// load opens the page and returns its status.
func (p webPage) load(tb *tab) int64 {
	tb.t.Helper()
	switch p.how {
	case refusal:
		return tb.refused()
	case signOut:
		tb.signIn()
		return tb.navigate(chromedp.Click(chromedp.CSS(`header form[action="/signout"] button`)))
	}
	return tb.open(p.path)
}

// check requires status to be the page's.
func (p webPage) check(t *testing.T, status int64, what string) {
	t.Helper()
	require.Equal(t, p.status, status, what)
}

// pageMetrics is how wide the page is against its viewport.
type pageMetrics struct {
	Inner  int `json:"inner"`
	Scroll int `json:"scroll"`
	// Wide names elements that stick out of the screen on the right,
	// leaving out those inside an element that clips or scrolls them:
	// the ones that widen the page (a phone zooms out to fit them, so
	// the viewport alone would not tell).
	Wide []string `json:"wide"`
}

// metricsJS measures the page on a screen width px wide.
func metricsJS(width int) string {
	return fmt.Sprintf(`(() => {
	const inner = window.innerWidth, screen = %d;
	const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.classList.length ? "." + [...e.classList].join(".") : "");
	const clipped = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) if (getComputedStyle(p).overflowX !== "visible") return true; return false; };
	const wide = [...document.body.querySelectorAll("*")]
		.filter(e => e.getBoundingClientRect().right > screen + 0.5 && !clipped(e))
		.slice(0, 8).map(e => name(e) + " (" + Math.round(e.getBoundingClientRect().right) + " px)");
	return {inner, scroll: document.scrollingElement.scrollWidth, wide};
})()`, width)
}

// a11yJS lists what the page misses of the accessibility basics.
const a11yJS = `(() => {
	const out = [];
	if (!(document.documentElement.getAttribute("lang") || "").trim()) out.push("<html> has no lang");
	const hs = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].filter(h => !h.closest("[hidden]"));
	const h1s = hs.filter(h => h.tagName === "H1").length;
	if (h1s !== 1) out.push("the page has " + h1s + " h1 headings, not one");
	let prev = 0, prevText = "";
	for (const h of hs) {
		const level = Number(h.tagName[1]), text = h.textContent.trim().slice(0, 40);
		if (prev === 0 && level !== 1) out.push("the first heading is h" + level + " \"" + text + "\", not h1");
		if (prev !== 0 && level > prev + 1) out.push("h" + level + " \"" + text + "\" follows h" + prev + " \"" + prevText + "\": a level skipped");
		prev = level; prevText = text;
	}
	const skip = ["hidden", "submit", "button", "reset", "image"];
	for (const e of document.querySelectorAll("input, select, textarea")) {
		if (skip.includes((e.getAttribute("type") || "").toLowerCase())) continue;
		const labelled = (e.labels && [...e.labels].some(l => l.textContent.trim())) ||
			(e.getAttribute("aria-label") || "").trim() ||
			(e.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean).some(id => (document.getElementById(id)?.textContent || "").trim());
		if (!labelled) out.push(e.tagName.toLowerCase() + (e.name ? "[name=" + e.name + "]" : "") + (e.id ? "#" + e.id : "") + " has no label");
	}
	return out;
})()`

// jsStrings is ss as a JavaScript array literal.
func jsStrings(ss []string) string {
	quoted := make([]string, len(ss))
	for i, s := range ss {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
