package command

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// The people of the seeded history: alice declares everything and so is
// the Commander of the private incident (its only reader, no member having
// been recorded); erin may see only public incidents.
const (
	searchAlice = "U0ALICE0001"
	searchErin  = "U0ERIN00001"
)

// searchRig is a dispatcher over a store holding a small history, with
// the index built from it:
//
//	INC-1 checkout, resolved, post-mortem published: connection pool exhausted
//	INC-2 checkout, private, resolved: the pool's debug logging
//	INC-3 search, resolved: the indexer stuck on a poisoned message
//	INC-4 checkout, open: 502s at peak traffic (the one asked about)
type searchRig struct {
	t   *testing.T
	d   *Dispatcher
	idx *search.Index
	at  time.Time
	key int
}

func newSearchRig(t *testing.T) *searchRig {
	db := storagetest.Open(t)
	r := &searchRig{t: t, d: &Dispatcher{Store: db}, idx: search.New(), at: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)}
	r.run(searchAlice, "declare sev2 --service checkout Checkout API returning 502s")
	r.run(searchAlice, "impact INC-1 38% of checkout attempts fail")
	r.run(searchAlice, "orient INC-1 --cause connection pool exhausted under peak traffic")
	r.run(searchAlice, "resolve INC-1 rolled back")
	r.run(searchAlice, "postmortem publish INC-1 https://wiki.example.com/pm/inc-1")

	r.run(searchAlice, "declare sev3 --private --service checkout Card numbers in checkout logs")
	r.run(searchAlice, "orient INC-2 --cause debug logging of the connection pool left on")
	r.run(searchAlice, "resolve INC-2")

	r.run(searchAlice, "declare sev3 --service search Search results stale")
	r.run(searchAlice, "orient INC-3 --cause indexer stuck on a poisoned message")
	r.run(searchAlice, "resolve INC-3")

	r.run(searchAlice, "declare sev2 --service checkout Checkout 502s at peak traffic")
	require.NoError(t, r.idx.Rebuild(t.Context(), db))
	r.d.Search = r.idx
	return r
}

// run handles text as user, a day after the previous command, and
// requires it to succeed.
func (r *searchRig) run(user, text string) Reply {
	r.t.Helper()
	rep := r.ask(Request{Text: text, User: user, Source: timeline.SourceCommand})
	require.Equal(r.t, http.StatusOK, rep.Code, "%s: %s", text, rep.Text)
	return rep
}

func (r *searchRig) ask(req Request) Reply {
	r.key++
	r.at = r.at.Add(24 * time.Hour)
	req.Key, req.At = fmt.Sprintf("search-%d", r.key), r.at
	return r.d.Handle(r.t.Context(), req)
}

// TestSearchFindsWhatTheCallerMaySee: a search lists the incidents holding
// every word, newest first, with the line that matched; a private incident
// is listed and counted only for whom it admits.
func TestSearchFindsWhatTheCallerMaySee(t *testing.T) {
	r := newSearchRig(t)
	tests := []struct {
		name        string
		req         Request
		want        []string
		notWant     []string
		wantListing []string // the incidents listed, in order
	}{
		{
			name: "a non-member sees the public incident only, and it is counted alone",
			req:  Request{Text: "search connection pool", User: searchErin},
			want: []string{
				"1 incident matches “connection pool”, newest first:",
				"• INC-1 · SEV2 · closed · 2026-11-04 — Checkout API returning 502s\n> connection pool exhausted under peak traffic (root cause)",
			},
			notWant:     []string{"INC-2", "Card numbers", "debug logging", "more"},
			wantListing: []string{"INC-1"},
		},
		{
			name: "the private incident's reader sees it too, newest first",
			req:  Request{Text: "search Connection POOL", User: searchAlice},
			want: []string{
				"2 incidents match “Connection POOL”, newest first:",
				"• INC-2 · SEV3 · resolved · 2026-11-09 · private — Card numbers in checkout logs\n> debug logging of the connection pool left on (root cause)",
			},
			wantListing: []string{"INC-2", "INC-1"},
		},
		{
			name:        "a token with the private scope sees every incident",
			req:         Request{Text: "search pool", User: "api:ci", SeesPrivate: true},
			wantListing: []string{"INC-2", "INC-1"},
		},
		{
			name:        "a token without it sees public incidents only",
			req:         Request{Text: "search pool", User: "api:ci"},
			wantListing: []string{"INC-1"},
		},
		{
			name:    "words nobody wrote",
			req:     Request{Text: "search zebra crossing", User: searchAlice},
			want:    []string{"No incident you may see holds every word of “zebra crossing”. Fewer or other words find more."},
			notWant: []string{"INC-"},
		},
		{
			name:    "a private incident's words find nothing for a non-member",
			req:     Request{Text: "search card numbers", User: searchErin},
			want:    []string{"No incident you may see holds every word of “card numbers”."},
			notWant: []string{"INC-2"},
		},
		{
			name:        "anywhere, no incident needed; find is the same",
			req:         Request{Text: "find stale", User: searchErin, Channel: "C0NOWHERE"},
			wantListing: []string{"INC-3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := r.ask(tt.req)
			require.Equal(t, http.StatusOK, rep.Code, rep.Text)
			for _, w := range tt.want {
				require.Contains(t, rep.Text, w)
			}
			for _, w := range tt.notWant {
				require.NotContains(t, rep.Text, w)
			}
			if tt.wantListing != nil {
				require.Equal(t, tt.wantListing, listed(rep.Text), rep.Text)
			}
		})
	}
}

// listed returns the incidents a search or similar reply lists, in order.
func listed(text string) []string {
	var ids []string
	for _, l := range strings.Split(text, "\n") {
		if id, ok := strings.CutPrefix(l, "• INC-"); ok {
			ids = append(ids, "INC-"+id[:strings.IndexByte(id, ' ')])
		}
	}
	return ids
}

// TestSearchRefusals: what a search says when it cannot answer.
func TestSearchRefusals(t *testing.T) {
	db := storagetest.Open(t)
	tests := []struct {
		name   string
		search Searcher
		text   string
		code   int
		want   string
	}{
		{"no words", search.New(), "search", http.StatusBadRequest,
			"say what to look for: `/incident search <words>`, such as `/incident search connection pool`"},
		{"no index", nil, "search pool", http.StatusServiceUnavailable, "Search is not available on this server."},
		{"the index is still reading", search.New(), "search pool", http.StatusServiceUnavailable,
			"Search is still reading the incidents (0 of 0); try again in a moment."},
		{"similar before the index is read", search.New(), "similar INC-1", http.StatusServiceUnavailable,
			"Search is still reading the incidents (0 of 0); try again in a moment."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Dispatcher{Store: db, Search: tt.search}
			rep := d.Handle(t.Context(), Request{Text: tt.text, User: searchErin})
			require.Equal(t, tt.code, rep.Code, rep.Text)
			require.Equal(t, tt.want, rep.Text)
		})
	}
	require.True(t, ReadsOnly("search pool"), "a read-only token may search")
	require.True(t, ReadsOnly("similar INC-7"), "a read-only token may ask for similar incidents")
}

// TestSimilarListsWhatTheCallerMaySee: `/incident similar` lists past
// incidents of the same service first, with their root cause, post-mortem
// and why; a private one only for whom it admits.
func TestSimilarListsWhatTheCallerMaySee(t *testing.T) {
	r := newSearchRig(t)

	rep := r.ask(Request{Text: "similar INC-4", User: searchErin})
	require.Equal(t, http.StatusOK, rep.Code, rep.Text)
	require.Equal(t, "INC-4", rep.Incident)
	require.Equal(t, []string{"INC-1"}, listed(rep.Text), rep.Text)
	require.Contains(t, rep.Text, "Past incidents like INC-4, most alike first:\n"+
		"• INC-1 · SEV2 · closed · 2026-11-04 — Checkout API returning 502s\n"+
		"   Root cause: connection pool exhausted under peak traffic\n"+
		"   Post-mortem: https://wiki.example.com/pm/inc-1\n"+
		"   Why: same service `checkout`; shared words: ")
	require.NotContains(t, rep.Text, "Card numbers")

	rep = r.ask(Request{Text: "similar INC-4", User: searchAlice})
	require.Equal(t, []string{"INC-1", "INC-2"}, listed(rep.Text), rep.Text)

	rep = r.ask(Request{Text: "similar INC-3", User: searchErin})
	require.Equal(t, "No past incident you may see is like INC-3: none of the same service, and none sharing enough words of the title, impact, trigger or root cause.", rep.Text)

	rep = r.ask(Request{Text: "similar INC-2", User: searchErin})
	require.Equal(t, http.StatusNotFound, rep.Code, "a private incident does not exist for a non-member: %s", rep.Text)

	rep = r.ask(Request{Text: "similar", User: searchErin})
	require.Equal(t, http.StatusBadRequest, rep.Code)
	require.Contains(t, rep.Text, "Which incident?")
}

// TestSearchRepliesStayWithinTheirBound: however long the titles and
// lines and however many incidents match, a search reply is within the
// list's bound, lists searchShown hits and says how many more there are;
// a similar reply keeps its post-mortem links whole.
func TestSearchRepliesStayWithinTheirBound(t *testing.T) {
	hit := search.Hit{
		Number: 1e15, ID: incident.ID(1e15), Severity: 1, Status: incident.StatusClosed, Private: true,
		Title:   strings.Repeat("&", incident.MaxTitle),
		Line:    strings.Repeat("<&> ", incident.MaxText/4),
		Field:   search.FieldTimeline,
		Service: strings.Repeat("&", 100), SameService: true,
		Shared:        []string{"connection", "pool", "exhausted", "checkout", "peak"},
		RootCause:     strings.Repeat("<&>", incident.MaxText),
		PostmortemURL: "https://wiki.example.com/" + strings.Repeat("a", maxShownLink-30),
		DeclaredAt:    time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC),
	}
	res := search.Results{Total: 1234}
	for range searchShown {
		res.Hits = append(res.Hits, hit)
	}
	text := SearchText(strings.Repeat("&", 200), res)
	require.LessOrEqual(t, utf8.RuneCountInString(text), maxListText)
	require.Len(t, listed(text), searchShown)
	require.Contains(t, text, "\n…and 1224 more; narrow the words.")

	text = SimilarText(incident.Incident{ID: "INC-9"}, res.Hits[:similarShown])
	require.LessOrEqual(t, utf8.RuneCountInString(text), maxListText)
	require.Len(t, listed(text), similarShown)
	require.Equal(t, similarShown, strings.Count(text, hit.PostmortemURL+"\n"), "every link whole:\n%s", text)
}
