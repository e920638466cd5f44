package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// pmTitleHostile is a title that would run in a page that did not
// escape it.
const pmTitleHostile = `Checkout <script>alert("owned")</script> down`

// pmPeople is a directory that knows names, and remembers the deadline
// of the context each draft's lookups were given.
type pmPeople struct {
	listPeople
	mu        sync.Mutex
	deadlines []time.Duration // from the moment Names was called
}

func (p *pmPeople) Names(ctx context.Context) func(string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	dl, ok := ctx.Deadline()
	if ok {
		p.deadlines = append(p.deadlines, time.Until(dl))
	} else {
		p.deadlines = append(p.deadlines, 0)
	}
	return p.listPeople.Names(ctx)
}

// pmFixture is a store holding an incident whose draft has every
// section filled, a finding of the blameless check, action items in each
// state, a correction and a hostile title; a private incident the viewer
// is not a member of; and one with nothing to flag.
type pmFixture struct {
	db                    *storage.DB
	h                     http.Handler
	cookie                *http.Cookie
	people                *pmPeople
	budgetDeadlines       chan time.Duration
	full, hidden, cleanly uint64
}

func newPMFixture(t *testing.T) *pmFixture {
	t.Helper()
	db := storagetest.Open(t)
	f := &pmFixture{db: db, people: &pmPeople{listPeople: listPeople{listAlice: "Alice Chen", listBob: "Bob Ray"}}, budgetDeadlines: make(chan time.Duration, 16)}
	declared := listNow.Add(-3 * time.Hour)
	f.full = seedListIncident(t, db, listIncident{title: pmTitleHostile, severity: 2, service: "checkout", by: listAlice, declared: declared,
		impact: "Customers could not pay"})
	n := f.full
	step := 0
	apply := func(decide func(*incident.Incident, incident.Meta) (incident.Change, error)) incident.Result {
		t.Helper()
		step++
		m := incident.Meta{At: declared.Add(time.Duration(step) * 5 * time.Minute), Actor: listAlice, Source: timeline.SourceCommand, Key: fmt.Sprintf("pm-%d-%d", n, step)}
		res, err := db.Apply(t.Context(), n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return decide(inc, m) })
		require.NoError(t, err)
		return res
	}
	entry := func(phase timeline.Phase, text string, cause bool) uint64 {
		res := apply(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddEntry(phase, text, cause, m)
		})
		return res.Events[0].Seq
	}
	entry(timeline.PhaseObserve, "Error rate on /pay at 30%", false)
	entry(timeline.PhaseOrient, "The connection pool is exhausted", true)
	wrong := entry(timeline.PhaseDecide, "Roll back the deploy of 11:40", false)
	entry(timeline.PhaseAct, "Bob forgot to raise the pool limit after the migration", false)
	ev, err := db.Event(t.Context(), n, wrong)
	require.NoError(t, err)
	apply(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Amend(wrong, &ev, "Roll back the deploy of 11:45", incident.When{}, m)
	})
	apply(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddAction("Alert on pool saturation", listBob, "P1", m)
	})
	apply(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetActionDue(1, "2026-12-20", m)
	})
	apply(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetActionLink(1, "https://tickets.example.com/OPS-1", m)
	})
	apply(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddAction("Raise the pool limit", listAlice, "P0", m)
	})
	apply(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(2, m)
	})
	apply(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddAction("Rewrite the pool", "", "", m)
	})
	apply(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionWontDo(3, "covered by action 1", m)
	})
	apply(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Resolve("Rolled back and raised the limit", m)
	})

	f.hidden = seedListIncident(t, db, listIncident{title: "Payroll leak", severity: 1, private: true, by: listAlice,
		declared: declared, members: []string{listAlice, listCarol}})
	f.cleanly = seedListIncident(t, db, listIncident{title: "Search slow", severity: 3, by: listAlice, declared: declared, resolved: declared.Add(time.Hour)})

	site, err := New(Config{
		Store: db, People: f.people, Now: func() time.Time { return listNow },
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
		PostmortemBudget: func(ctx context.Context, inc incident.Incident) (*postmortem.BudgetSpent, error) {
			dl, ok := ctx.Deadline()
			if !ok {
				f.budgetDeadlines <- 0
			} else {
				f.budgetDeadlines <- time.Until(dl)
			}
			if inc.Service != "checkout" {
				return nil, nil
			}
			return &postmortem.BudgetSpent{SLO: "checkout-availability", Spent: 0.043}, nil
		},
	})
	require.NoError(t, err)
	t.Cleanup(site.Close)
	mux := http.NewServeMux()
	site.Register(mux)
	f.h = mux
	f.cookie = listSession(t, db, listViewer, listNow)
	return f
}

// TestPostmortemPage: the draft as a page in the site's markup, every
// section in it, the blameless check's findings beside it and links to
// its downloads; user text is escaped, and nothing inline breaks the
// site's Content-Security-Policy.
func TestPostmortemPage(t *testing.T) {
	f := newPMFixture(t)
	code, body, hd := listGet(t, f.h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem", f.full))
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, ContentSecurityPolicy, hd.Get("Content-Security-Policy"))
	require.Equal(t, "text/html; charset=utf-8", hd.Get("Content-Type"))

	article := pmBetween(t, body, `<article id="postmortem"`, `</article>`)
	for i, s := range []string{"summary", "impact", "root-cause", "trigger", "timeline", "lessons-learned", "action-items", "corrections"} {
		heading := "Corrections"
		if i < len(postmortem.Sections()) {
			heading = postmortem.Sections()[i]
		}
		require.Contains(t, article, `<section id="`+s+`"`, "section %s", heading)
		require.Regexp(t, `<h2 id="pm-[a-z-]+">`+regexp.QuoteMeta(heading)+`</h2>`, article)
	}
	for _, want := range []string{
		"Post-mortem: INC-1 — Checkout &lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt; down",
		"Customers could not pay",
		"4.3% of the checkout-availability error budget",
		"Marked as the root cause during the incident:",
		"The connection pool is exhausted",
		"Error rate on /pay at 30%",
		"Roll back the deploy of 11:45",
		"Rolled back and raised the limit",
		// Action items: owner by name, due day, ticket, each state.
		`<tr data-action="1" class="action-open">`, "Bob Ray", "2026-12-20", `<a href="https://tickets.example.com/OPS-1" rel="noreferrer">`,
		`<span class="badge state state-open">open</span>`,
		`<span class="badge state state-done">done</span>`,
		"won&#39;t do: covered by action 1",
		"P0 (default)",
		// The correction, in the note.
		"amended by Alice Chen (Commander)",
		`class="cards pm-timeline"`, `phase-observe`, `phase-act`,
	} {
		require.Contains(t, article, want)
	}
	require.NotContains(t, body, "<script>", "the hostile title is text")
	require.NotContains(t, body, "style=", "no inline style")
	require.NotContains(t, body, "<style", "no inline style sheet")

	aside := pmBetween(t, body, `<aside id="findings" aria-labelledby="findings-title">`, `</aside>`)
	md, _, err := postmortem.Export(t.Context(), f.db, f.full, postmortem.FormatMarkdown, postmortem.Options{Now: listNow, Names: f.people.listPeople.Names(t.Context())})
	require.NoError(t, err)
	findings := postmortem.Lint(string(md))
	require.NotEmpty(t, findings, "the fixture has blame in it")
	require.Contains(t, aside, `<ol class="findings">`)
	require.Equal(t, len(findings), strings.Count(aside, `<li class="finding">`))
	for _, fd := range findings {
		require.Contains(t, aside, "line "+strconv.Itoa(fd.Line)+" of the Markdown")
		require.Contains(t, aside, `<strong class="phrase">`+fd.Phrase+`</strong>`)
	}
	require.Contains(t, aside, "Timeline, line", "a finding names its section")
	require.Contains(t, aside, `“<span class="text">Bob forgot to raise the pool limit after the migration</span>”`,
		"a timeline finding quotes its entry, not the Markdown table row")
	require.Contains(t, aside, "1 phrase puts the focus on a person. Reword it")
	for _, format := range postmortem.Formats() {
		require.Contains(t, aside, fmt.Sprintf(`<a href="/incidents/%d/postmortem?format=%s" download data-format="%s">`, f.full, format, format))
	}

	t.Run("nothing to flag", func(t *testing.T) {
		code, body, _ := listGet(t, f.h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem", f.cleanly))
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `<p id="no-findings">No blame-prone wording found.</p>`)
		require.Contains(t, body, "No entry was amended, struck or backdated.")
		require.Contains(t, body, "unknown: no SLO is known for this service")
	})
	t.Run("the list escapes the title too", func(t *testing.T) {
		_, body, _ := listGet(t, f.h, f.cookie, "/")
		require.NotContains(t, body, "<script>")
		require.Contains(t, body, "Checkout &lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt; down")
	})
	t.Run("lookups are bounded", func(t *testing.T) {
		f.people.mu.Lock()
		defer f.people.mu.Unlock()
		require.NotEmpty(t, f.people.deadlines)
		for _, d := range f.people.deadlines {
			require.Greater(t, d, time.Duration(0), "names are looked up under a deadline")
			require.LessOrEqual(t, d, postmortemNamesTimeout)
		}
		require.NotEmpty(t, f.budgetDeadlines)
		for len(f.budgetDeadlines) > 0 {
			d := <-f.budgetDeadlines
			require.Greater(t, d, time.Duration(0), "the budget is looked up under a deadline")
			require.LessOrEqual(t, d, postmortemBudgetTimeout)
		}
	})
}

// TestPostmortemDownloads: each format downloads the bytes the API and
// the CLI export, as an attachment named for the incident; the HTML
// draft comes with its own policy instead of the site's.
func TestPostmortemDownloads(t *testing.T) {
	f := newPMFixture(t)
	for _, format := range postmortem.Formats() {
		t.Run(format, func(t *testing.T) {
			code, body, hd := listGet(t, f.h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem?format=%s", f.full, format))
			require.Equal(t, http.StatusOK, code, body)
			want, contentType, err := postmortem.Export(t.Context(), f.db, f.full, format, postmortem.Options{
				Now: listNow, Names: f.people.listPeople.Names(t.Context()),
				Budget: &postmortem.BudgetSpent{SLO: "checkout-availability", Spent: 0.043},
			})
			require.NoError(t, err)
			require.Equal(t, string(want), body, "the same bytes as an export")
			require.Equal(t, contentType, hd.Get("Content-Type"))
			require.Equal(t, `attachment; filename="inc-1-postmortem.`+format+`"`, hd.Get("Content-Disposition"))
			require.Equal(t, "nosniff", hd.Get("X-Content-Type-Options"))
			require.Equal(t, "no-store", hd.Get("Cache-Control"))
			csp := ContentSecurityPolicy
			if format == postmortem.FormatHTML {
				csp = postmortem.ContentSecurityPolicy + "; frame-ancestors 'none'"
				require.NotContains(t, body, "<script>", "the draft escapes the title")
			}
			require.Equal(t, []string{csp}, hd.Values("Content-Security-Policy"))
		})
	}
	t.Run("an unknown format", func(t *testing.T) {
		code, body, _ := listGet(t, f.h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem?format=pdf", f.full))
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, body, "format=md (Markdown), format=html or format=json")
	})
}

// TestPostmortemAccess: a private incident the viewer is not a member of
// answers exactly as a number nobody declared, page and downloads alike;
// its members get it; a bad number is a 400.
func TestPostmortemAccess(t *testing.T) {
	f := newPMFixture(t)
	unknown := f.hidden + 100
	for _, query := range []string{"", "?format=md", "?format=html"} {
		t.Run("hidden"+query, func(t *testing.T) {
			code, hiddenBody, _ := listGet(t, f.h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem%s", f.hidden, query))
			require.Equal(t, http.StatusNotFound, code)
			require.Contains(t, hiddenBody, "There is no "+incident.ID(f.hidden))
			require.NotContains(t, hiddenBody, "Payroll")
			code, unknownBody, _ := listGet(t, f.h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem%s", unknown, query))
			require.Equal(t, http.StatusNotFound, code)
			require.Equal(t, unknownBody, strings.ReplaceAll(hiddenBody, incident.ID(f.hidden), incident.ID(unknown)),
				"the hidden incident answers word for word as an unknown one")
		})
	}
	t.Run("a member sees it", func(t *testing.T) {
		carol := listSession(t, f.db, listCarol, listNow)
		code, body, _ := listGet(t, f.h, carol, fmt.Sprintf("/incidents/%d/postmortem", f.hidden))
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, "Payroll leak")
		require.Contains(t, body, "Private incident.")
	})
	t.Run("not a number", func(t *testing.T) {
		code, body, _ := listGet(t, f.h, f.cookie, "/incidents/seven/postmortem")
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, body, "That is not an incident number")
	})
	t.Run("INC-1 is 1", func(t *testing.T) {
		code, _, _ := listGet(t, f.h, f.cookie, fmt.Sprintf("/incidents/INC-%d/postmortem", f.full))
		require.Equal(t, http.StatusOK, code)
	})
}

// pmBetween is the part of s from the first start to the end that follows
// it, end included.
func pmBetween(t *testing.T, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	require.GreaterOrEqual(t, i, 0, "no %s in\n%s", start, s)
	j := strings.Index(s[i:], end)
	require.Greater(t, j, 0, "no %s after %s", end, start)
	return s[i : i+j+len(end)]
}

// eventsCounter counts the event reads of a store and can hide every
// incident's events, as a store restored from snapshots alone holds none.
type eventsCounter struct {
	Store
	reads    atomic.Int32
	noEvents bool
}

func (e *eventsCounter) Events(ctx context.Context, n uint64, from uint64) ([]timeline.Event, error) {
	e.reads.Add(1)
	if e.noEvents {
		return nil, nil
	}
	return e.Store.Events(ctx, n, from)
}

// pmSiteOver is the post-mortem fixture's site reading through store.
func pmSiteOver(t *testing.T, store Store) http.Handler {
	t.Helper()
	site, err := New(Config{
		Store: store, Now: func() time.Time { return listNow },
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
	})
	require.NoError(t, err)
	t.Cleanup(site.Close)
	mux := http.NewServeMux()
	site.Register(mux)
	return mux
}

// TestPostmortemHiddenReadsNoEvents: a hidden incident is refused on its
// snapshot, before its events are read, so its 404 costs what an unknown
// number's does and its timing tells nothing.
func TestPostmortemHiddenReadsNoEvents(t *testing.T) {
	f := newPMFixture(t)
	store := &eventsCounter{Store: f.db}
	h := pmSiteOver(t, store)
	for _, n := range []uint64{f.hidden, f.hidden + 100} {
		code, _, _ := listGet(t, h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem", n))
		require.Equal(t, http.StatusNotFound, code)
	}
	require.Zero(t, store.reads.Load(), "no events are read for an incident the viewer may not see")
	code, _, _ := listGet(t, h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem", f.full))
	require.Equal(t, http.StatusOK, code)
	require.NotZero(t, store.reads.Load())
}

// TestPostmortemSnapshotWithoutEvents: an incident the list shows whose
// store holds its snapshot but no events has a post-mortem page, not a
// 404; a hidden one is still refused.
func TestPostmortemSnapshotWithoutEvents(t *testing.T) {
	f := newPMFixture(t)
	h := pmSiteOver(t, &eventsCounter{Store: f.db, noEvents: true})
	code, body, _ := listGet(t, h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem", f.cleanly))
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "Search slow")
	code, _, _ = listGet(t, h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem?format=md", f.cleanly))
	require.Equal(t, http.StatusOK, code)
	code, _, _ = listGet(t, h, f.cookie, fmt.Sprintf("/incidents/%d/postmortem", f.hidden))
	require.Equal(t, http.StatusNotFound, code)
}
