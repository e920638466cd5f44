package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// A year of a busy team: yearIncidents incidents, every third still open,
// every tenth private. Each incident's shape follows from its number, so
// the fixture is the same however the concurrent declarations interleave.
const yearIncidents = 1000

// yearT0 is when the year's incidents were declared and resolved (a
// Monday); yearNow is a week later, when their post-mortems are overdue.
var (
	yearT0  = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	yearNow = yearT0.Add(7 * 24 * time.Hour)
)

const (
	declarer = "U0ALICE0001" // declared every incident: sees the private ones
	outsider = "U0BOB000001" // member of none: sees no private one
)

func yearOpen(n uint64) bool      { return n%3 == 0 }
func yearPrivate(n uint64) bool   { return n%10 == 0 }
func yearSeverity(n uint64) int   { return 1 + int(n%4) }
func yearPublished(n uint64) bool { return n%5 != 0 }

// seedYear declares the year's incidents through the store, as the
// dispatcher does, eight at a time so the store's batching keeps it fast;
// resolves the closed ones and publishes most of their post-mortems.
func seedYear(t *testing.T, db *storage.DB) {
	t.Helper()
	ctx := context.Background()
	jobs := make(chan int)
	errs := make(chan error, yearIncidents)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				errs <- seedIncident(ctx, db, i)
			}
		}()
	}
	for i := range yearIncidents {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func seedIncident(ctx context.Context, db *storage.DB, i int) error {
	m := incident.Meta{At: yearT0, Actor: declarer, Source: timeline.SourceCommand, Key: fmt.Sprintf("seed-%d", i)}
	res, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{
			Title: fmt.Sprintf("Checkout errors in region %d", n), Severity: yearSeverity(n), Private: yearPrivate(n),
		}, m)
	})
	if err != nil {
		return fmt.Errorf("declare: %w", err)
	}
	n := res.Incident.Number
	if yearOpen(n) {
		return nil
	}
	apply := func(key string, at time.Time, decide func(*incident.Incident, incident.Meta) (incident.Change, error)) error {
		m := incident.Meta{At: at, Actor: declarer, Source: timeline.SourceCommand, Key: fmt.Sprintf("%s-%d", key, n)}
		_, err := db.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return decide(inc, m) })
		return err
	}
	if err := apply("resolve", yearT0.Add(time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Resolve("rolled back", m)
	}); err != nil {
		return fmt.Errorf("resolve %s: %w", incident.ID(n), err)
	}
	if !yearPublished(n) {
		return nil
	}
	return apply("publish", yearT0.Add(2*time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Close("https://wiki.example.com/pm", m)
	})
}

// yearExpect is what the year's fixture holds for a viewer, counted from
// the same rules that built it.
type yearExpect struct {
	open, overdue []uint64 // newest first
	all           []uint64 // newest first
}

func expectYear(seesPrivate bool) yearExpect {
	var e yearExpect
	for n := uint64(yearIncidents); n >= 1; n-- {
		if yearPrivate(n) && !seesPrivate {
			continue
		}
		e.all = append(e.all, n)
		switch {
		case yearOpen(n):
			e.open = append(e.open, n)
		case !yearPublished(n) && roles.PostmortemRequired(yearSeverity(n), false):
			e.overdue = append(e.overdue, n)
		}
	}
	return e
}

// TestListsOverAYearOfIncidents: over 1,000 incidents, a third open,
// `/incident list` answers a page within Slack's limits that says how
// many more there are and how to see them, and every page together shows
// each incident the caller may see once; GET /api/v1/incidents pages
// through them with limit and cursor, each incident once, newest first,
// with the right total. Private incidents are neither shown nor counted
// for those who may not see them.
func TestListsOverAYearOfIncidents(t *testing.T) {
	db := storagetest.Open(t)
	seedYear(t, db)
	d := &command.Dispatcher{Store: db}
	srv, err := api.NewServer(api.ServerConfig{Store: db, Dispatcher: d, APITokens: map[string]api.Token{
		"token-without-private-0":  {Name: "oncall", Scopes: []api.Scope{api.ScopeRead}},
		"token-with-private-00000": {Name: "security", Scopes: []api.Scope{api.ScopeRead, api.ScopePrivate}},
	}})
	require.NoError(t, err)

	t.Run("slash command", func(t *testing.T) {
		for _, viewer := range []struct {
			name    string
			user    string
			private bool
		}{{"declarer", declarer, true}, {"outsider", outsider, false}} {
			t.Run(viewer.name, func(t *testing.T) {
				want := expectYear(viewer.private)
				require.Len(t, want.all, map[bool]int{true: 1000, false: 900}[viewer.private])
				require.Len(t, want.open, map[bool]int{true: 333, false: 300}[viewer.private])
				require.NotEmpty(t, want.overdue)

				list := func(text string) string {
					r := d.Handle(t.Context(), command.Request{Text: text, User: viewer.user, Source: timeline.SourceCommand, Key: text, At: yearNow})
					require.Equal(t, http.StatusOK, r.Code, r.Text)
					// The reply goes out as the message text.
					require.LessOrEqual(t, utf8.RuneCountInString(r.Text), 3000, "a page stays short: %d characters", utf8.RuneCountInString(r.Text))
					return r.Text
				}
				first := list("list")
				t.Logf("%s: /incident list answers %d characters (%d bytes)", viewer.name, utf8.RuneCountInString(first), len(first))
				require.Contains(t, first, fmt.Sprintf("%d open incident(s), newest first (1–15):\n• %s SEV", len(want.open), incident.ID(want.open[0])))
				require.Contains(t, first, fmt.Sprintf("\n…and %d more open incident(s) and %d overdue post-mortem(s). See the next 15 with `/incident list page 2`, or one severity with `/incident list sev1`.",
					len(want.open)-15, len(want.overdue)))

				// Following "page N+1" to the end shows each open incident,
				// then each overdue post-mortem, once, in order.
				var seen []uint64
				next := regexp.MustCompile("`/incident list page ([0-9]+)`")
				for page, text := 1, first; ; {
					seen = append(seen, listed(t, text)...)
					m := next.FindStringSubmatch(text)
					if m == nil {
						break
					}
					p, err := strconv.Atoi(m[1])
					require.NoError(t, err)
					require.Equal(t, page+1, p)
					page = p
					text = list(fmt.Sprintf("list page %d", p))
				}
				require.Equal(t, append(append([]uint64{}, want.open...), want.overdue...), seen)

				sev1 := list("list sev1")
				var open1 int
				for _, n := range want.open {
					if yearSeverity(n) == 1 {
						open1++
					}
				}
				require.Contains(t, sev1, fmt.Sprintf("%d open SEV1 incident(s), newest first (1–15):", open1))
				require.Contains(t, sev1, "`/incident list sev1 page 2`")
				for _, n := range listed(t, sev1) {
					require.Equal(t, 1, yearSeverity(n), "%s is SEV1", incident.ID(n))
				}
			})
		}
	})

	t.Run("command through the API", func(t *testing.T) {
		for tok, open := range map[string]int{"token-without-private-0": 300, "token-with-private-00000": 333} {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/commands", strings.NewReader(`{"text": "list page 2"}`))
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			var reply api.CommandReply
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &reply))
			require.True(t, strings.HasPrefix(reply.Text, fmt.Sprintf("%d open incident(s), newest first (16–30):", open)), reply.Text)
			require.Contains(t, reply.Text, fmt.Sprintf("…and %d more open incident(s)", open-30))
		}
	})

	t.Run("API", func(t *testing.T) {
		for _, tc := range []struct {
			token   string
			private bool
			query   string
			limit   int
		}{
			{"token-with-private-00000", true, "all=true", 0},
			{"token-without-private-0", false, "all=true", 0},
			{"token-with-private-00000", true, "", 0},
			{"token-without-private-0", false, "all=true&limit=500", 500},
			{"token-without-private-0", false, "limit=7", 7},
		} {
			t.Run(tc.token+"?"+tc.query, func(t *testing.T) {
				want := expectYear(tc.private)
				wantAll := want.all
				if tc.query == "" || tc.query == "limit=7" {
					wantAll = want.open
				}
				limit := tc.limit
				if limit == 0 {
					limit = 50
				}
				var seen []uint64
				cursor := ""
				for pages := 0; ; pages++ {
					require.Less(t, pages, 1000, "paging ends")
					q, err := url.ParseQuery(tc.query)
					require.NoError(t, err)
					if cursor != "" {
						q.Set("cursor", cursor)
					}
					code, body := getJSON(t, srv, tc.token, "/api/v1/incidents?"+q.Encode())
					require.Equal(t, http.StatusOK, code, string(body))
					var page api.IncidentPage
					require.NoError(t, json.Unmarshal(body, &page))
					require.Equal(t, len(wantAll), page.Total, "total on every page")
					require.LessOrEqual(t, len(page.Incidents), limit)
					for _, inc := range page.Incidents {
						seen = append(seen, inc.Number)
					}
					if page.NextCursor == "" {
						break
					}
					require.Len(t, page.Incidents, limit, "only the last page is short")
					cursor = page.NextCursor
				}
				require.Equal(t, wantAll, seen, "each incident once, newest first")
			})
		}
	})

	t.Run("API cursor survives new declarations", func(t *testing.T) {
		const tok = "token-with-private-00000"
		code, body := getJSON(t, srv, tok, "/api/v1/incidents?all=true&limit=10")
		require.Equal(t, http.StatusOK, code)
		var first api.IncidentPage
		require.NoError(t, json.Unmarshal(body, &first))
		m := incident.Meta{At: yearNow, Actor: declarer, Source: timeline.SourceCommand, Key: "declared-between-pages"}
		_, err := db.Declare(t.Context(), m.Key, func(n uint64) (incident.Change, error) {
			return incident.Declare(n, incident.Declaration{Title: "Declared between two pages", Severity: 2}, m)
		})
		require.NoError(t, err)
		code, body = getJSON(t, srv, tok, "/api/v1/incidents?all=true&limit=10&cursor="+url.QueryEscape(first.NextCursor))
		require.Equal(t, http.StatusOK, code)
		var second api.IncidentPage
		require.NoError(t, json.Unmarshal(body, &second))
		require.Equal(t, first.Incidents[9].Number-1, second.Incidents[0].Number, "the page after the first, unmoved")
		require.Equal(t, yearIncidents+1, second.Total)
	})

	t.Run("API refusals", func(t *testing.T) {
		for query, want := range map[string]string{
			"limit=0":                "limit must be a whole number from 1 to 500",
			"limit=501":              "limit must be a whole number from 1 to 500",
			"limit=ten":              "limit must be a whole number from 1 to 500",
			"cursor=not-a-cursor":    "cursor is not one this API gave",
			"cursor=djE6YmVmb3JlOjA": "cursor is not one this API gave", // v1:before:0
			"all=maybe":              "all must be true or false",
		} {
			code, body := getJSON(t, srv, "token-with-private-00000", "/api/v1/incidents?"+query)
			require.Equal(t, http.StatusBadRequest, code, query)
			var e struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
			}
			require.NoError(t, json.Unmarshal(body, &e), query)
			require.Contains(t, e.Error, want, query)
		}
	})
}

// listIDRE finds the incidents a list reply shows, one a line.
var listIDRE = regexp.MustCompile(`(?m)^• INC-([0-9]+) `)

// listed returns the numbers of the incidents a list reply shows, in order.
func listed(t *testing.T, text string) []uint64 {
	t.Helper()
	var out []uint64
	for _, m := range listIDRE.FindAllStringSubmatch(text, -1) {
		n, err := strconv.ParseUint(m[1], 10, 64)
		require.NoError(t, err)
		out = append(out, n)
	}
	return out
}

func getJSON(t *testing.T, srv http.Handler, token, path string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}
