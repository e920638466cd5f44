package api_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/insights"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// TestInsights: GET /api/v1/insights computes the report over the days
// asked for, only over the incidents the token may see, as JSON or one
// table as CSV, and refuses a range it cannot read with a sentence.
func TestInsights(t *testing.T) {
	db := storagetest.Open(t)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) // a Tuesday
	d := &command.Dispatcher{Store: db}
	n := 0
	run := func(at time.Time, text string) {
		n++
		rep := d.Handle(t.Context(), command.Request{Text: text, User: declarer, Source: timeline.SourceCommand, Key: "k" + strconv.Itoa(n), At: at})
		require.Equal(t, http.StatusOK, rep.Code, "%s: %s", text, rep.Text)
	}
	// INC-1: seen at 08:51, declared at 09:00, monitoring at 09:30,
	// resolved at 10:00, post-mortem published 47 h later.
	run(t0, "declare sev2 --service checkout Checkout down")
	run(t0.Add(time.Minute), "observe INC-1 --at 2026-12-01T08:51Z first 5xx on the dashboard")
	run(t0.Add(30*time.Minute), "status INC-1 monitoring")
	run(t0.Add(time.Hour), "resolve INC-1")
	run(t0.Add(48*time.Hour), "postmortem INC-1 publish https://wiki.example/pm/1")
	// INC-2: private, 11:00 to 12:00.
	run(t0.Add(2*time.Hour), "declare sev1 --private --service payroll Payroll leak")
	run(t0.Add(3*time.Hour), "resolve INC-2")

	now := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	srv, err := api.NewServer(api.ServerConfig{
		Store: db, Now: func() time.Time { return now },
		APITokens: map[string]api.Token{
			"token-without-private-0":  {Name: "oncall", Scopes: []api.Scope{api.ScopeRead}},
			"token-with-private-00000": {Name: "security", Scopes: []api.Scope{api.ScopeRead, api.ScopePrivate}},
			"token-write-only-0000000": {Name: "ci", Scopes: []api.Scope{api.ScopeWrite}},
		},
	})
	require.NoError(t, err)
	const reader, security = "token-without-private-0", "token-with-private-00000"
	get := func(token, query string) (int, api.InsightsAnswer, string) {
		code, body := getJSON(t, srv, token, "/api/v1/insights"+query)
		var out api.InsightsAnswer
		if code == http.StatusOK {
			require.NoError(t, json.Unmarshal(body, &out), string(body))
		}
		return code, out, string(body)
	}
	resolve := func(r api.InsightsAnswer, name string) insights.Duration {
		for _, d := range r.Durations {
			if d.Name == name {
				return d
			}
		}
		t.Fatalf("no %s in the report", name)
		return insights.Duration{}
	}

	tests := []struct {
		name, token        string
		incidents          int
		resolved           int
		declarerHours      float64
		services           []string
		mentionsPrivateOne bool
	}{
		{"a token without the private scope", reader, 1, 1, 1, []string{"checkout"}, false},
		{"a token with the private scope", security, 2, 2, 2, []string{"checkout", "payroll"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, r, body := get(tt.token, "?from=2026-12-01&to=2026-12-07")
			require.Equal(t, http.StatusOK, code, body)
			require.Equal(t, t0.Truncate(24*time.Hour), r.From)
			require.Equal(t, time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC), r.To, "to is included: the range ends the day after")
			require.Equal(t, tt.incidents, r.Incidents)
			require.Equal(t, tt.services, r.Weekly.Services)
			require.Equal(t, tt.resolved, resolve(r, insights.TimeToResolve).Count)
			require.Equal(t, int64(3600), *resolve(r, insights.TimeToResolve).MedianSeconds)
			declare := resolve(r, insights.TimeToDeclare)
			require.Equal(t, 1, declare.Count, "INC-2 had no signal")
			require.Equal(t, int64(9*60), *declare.MedianSeconds)
			require.Equal(t, int64(30*60), *resolve(r, insights.TimeToMitigate).MedianSeconds)
			require.Equal(t, int64(47*3600), *resolve(r, insights.TimeToPublish).MedianSeconds)
			require.Len(t, r.Load.People, 1)
			require.Equal(t, declarer, r.Load.People[0].User)
			require.InDelta(t, tt.declarerHours, r.Load.People[0].CommanderHours, 1e-9)
			require.Equal(t, tt.mentionsPrivateOne, strings.Contains(body, "payroll"))
			require.NotEmpty(t, r.Definition)
		})
	}

	t.Run("the last 90 days by default", func(t *testing.T) {
		code, r, body := get(reader, "")
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, time.Date(2026, 9, 12, 0, 0, 0, 0, time.UTC), r.From)
		require.Equal(t, time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC), r.To)
		require.Equal(t, 1, r.Incidents)
		require.Len(t, r.Weekly.Weeks, 14)
	})

	t.Run("CSV", func(t *testing.T) {
		for _, tt := range []struct {
			token, table string
			want         [][]string
		}{
			{reader, "durations", [][]string{
				{"measure", "title", "count", "median_seconds", "p90_seconds", "median", "p90"},
				{"time_to_declare", "Time to declare", "1", "540", "540", "9 min", "9 min"},
				{"time_to_mitigate", "Time to mitigate", "1", "1800", "1800", "30 min", "30 min"},
				{"time_to_resolve", "Time to resolve", "1", "3600", "3600", "1 h 00 min", "1 h 00 min"},
				{"time_to_publish", "Time to publish the post-mortem", "1", "169200", "169200", "47 h 00 min", "47 h 00 min"},
			}},
			{security, "weekly", [][]string{
				{"week_start", "iso_week", "total", "SEV1", "SEV2", "SEV3", "SEV4", "service:checkout", "service:payroll"},
				{"2026-11-30", "2026-W49", "2", "1", "1", "0", "0", "1", "1"},
			}},
			{reader, "load", [][]string{
				{"user", "zone", "commander_hours", "comms_hours", "ops_hours", "total_hours", "outside_hours", "outside_share"},
				{declarer, "UTC", "1.00", "0.00", "0.00", "1.00", "0.00", "0.000"},
			}},
		} {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/insights?from=2026-12-01&to=2026-12-06&format=csv&table="+tt.table, nil)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
			require.Equal(t, `attachment; filename="ooda-insights-`+tt.table+`-2026-12-01-2026-12-06.csv"`, rec.Header().Get("Content-Disposition"))
			rows, err := csv.NewReader(rec.Body).ReadAll()
			require.NoError(t, err)
			require.Equal(t, tt.want, rows, tt.table)
		}
	})

	for _, bad := range []struct{ query, msg string }{
		{"?from=2026-13-01", `from \"2026-13-01\" is not a day; write it as`},
		{"?to=yesterday", `to \"yesterday\" is not a day`},
		{"?from=2026-12-08&to=2026-12-01", "from 2026-12-08 is after to 2026-12-01; give the earlier day as from"},
		{"?from=2022-01-01&to=2026-12-01", "ask for at most three years (1096 days) at a time"},
		{"?format=xml", `format \"xml\" does not exist; use json (the default) or csv`},
		{"?format=csv", "a CSV holds one table: add table=weekly, table=durations, table=load, table=actions"},
		{"?format=csv&table=people", `table \"people\" does not exist; use weekly, durations, load, actions`},
		{"?table=weekly", "table is for a CSV download"},
	} {
		code, _, body := get(reader, bad.query)
		require.Equal(t, http.StatusBadRequest, code, bad.query)
		require.Contains(t, body, bad.msg, bad.query)
	}
	code, _, _ := get("wrong-token", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _, body := get("token-write-only-0000000", "")
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "lacks the read scope")
}

// BenchmarkInsightsAPI times GET /api/v1/insights over a real bbolt
// store of generated incidents of 30 events each, declared over the 90
// days the default range covers, and the store reads alone: those are
// most of the answer's time.
func BenchmarkInsightsAPI(b *testing.B) {
	for _, size := range []int{2_000, 10_000} {
		db := storagetest.Open(b)
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		items := []storage.Item{{NextIncident: uint64(size + 1)}}
		for i := range size {
			items = append(items, storage.Item{Log: &storage.IncidentLog{Number: uint64(i + 1), Events: benchLog(uint64(i+1), now.Add(-time.Duration(i)*(89*24*time.Hour/time.Duration(size))))}})
		}
		require.NoError(b, db.Load(b.Context(), items))
		srv, err := api.NewServer(api.ServerConfig{Store: db, APIToken: "admin-token-for-the-bench", Now: func() time.Time { return now }})
		require.NoError(b, err)
		req := httptest.NewRequest(http.MethodGet, "/api/v1/insights", nil)
		req.Header.Set("Authorization", "Bearer admin-token-for-the-bench")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		require.Equal(b, http.StatusOK, rec.Code)
		var r api.InsightsAnswer
		require.NoError(b, json.Unmarshal(rec.Body.Bytes(), &r))
		require.Equal(b, size, r.Incidents, "every incident is in the default range")
		b.Run(strconv.Itoa(size)+"/request", func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/insights", nil)
				req.Header.Set("Authorization", "Bearer admin-token-for-the-bench")
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
		b.Run(strconv.Itoa(size)+"/store-reads", func(b *testing.B) {
			for b.Loop() {
				incs, err := db.Incidents(b.Context(), true)
				require.NoError(b, err)
				for _, inc := range incs {
					_, err := db.Events(b.Context(), inc.Number, 1)
					require.NoError(b, err)
				}
			}
		})
	}
}

// benchLog is incident n's log: declared at at, a Commander, Comms and
// Ops, 20 observations, a handover, monitoring, resolved after 2 h.
func benchLog(n uint64, at time.Time) []timeline.Event {
	var evs []timeline.Event
	add := func(after time.Duration, kind timeline.Kind, phase timeline.Phase, attrs map[string]string) {
		evs = append(evs, timeline.Event{Seq: uint64(len(evs) + 1), At: at.Add(after), Kind: kind, Phase: phase,
			Actor: declarer, Source: timeline.SourceCommand, Text: "the error rate is up on the checkout pods", Attrs: attrs})
	}
	add(0, timeline.KindDeclared, timeline.PhaseNone, map[string]string{"number": strconv.FormatUint(n, 10),
		timeline.AttrTitle: "Checkout down", timeline.AttrSeverity: strconv.Itoa(1 + int(n%4)), timeline.AttrService: "checkout",
		timeline.AttrPrivate: "false", timeline.AttrStatus: "investigating"})
	for _, r := range []string{"commander", "comms", "ops"} {
		add(time.Minute, timeline.KindRoleAssigned, timeline.PhaseDecide, map[string]string{timeline.AttrRole: r, timeline.AttrUser: declarer})
	}
	for i := range 20 {
		add(time.Duration(2+i)*time.Minute, timeline.KindLoopEntry, timeline.PhaseObserve, nil)
	}
	add(30*time.Minute, timeline.KindRoleAssigned, timeline.PhaseDecide, map[string]string{timeline.AttrRole: "commander", timeline.AttrUser: outsider, timeline.AttrPrevious: declarer})
	add(60*time.Minute, timeline.KindStatusChanged, timeline.PhaseAct, map[string]string{timeline.AttrStatus: "monitoring", timeline.AttrPrevious: "investigating"})
	add(2*time.Hour, timeline.KindResolved, timeline.PhaseNone, nil)
	return evs
}
