package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// seedLongIncident declares an incident and records entries until it
// holds events events: the loop's four phases and notes by three people,
// three a minute, with a long silence every few hundred. They are
// committed a few hundred per command, each built by the incident's own
// AddEntry on the state the one before left.
func seedLongIncident(tb testing.TB, db *storage.DB, events int) uint64 {
	tb.Helper()
	s := declare(tb, db, pageT0, pageAlice, incident.Declaration{Title: "Checkout down", Severity: 2, Service: "checkout"})
	inc, err := db.Incident(context.Background(), s.n)
	require.NoError(tb, err)
	phases := []timeline.Phase{timeline.PhaseObserve, timeline.PhaseOrient, timeline.PhaseDecide, timeline.PhaseAct, timeline.PhaseNone}
	actors := []string{pageAlice, pageBob, pageCarol}
	at := pageT0
	for i := int(inc.LastSeq); i < events; {
		batch := min(500, events-i)
		from := i
		m := pageMeta(at, pageAlice)
		res, err := db.Apply(context.Background(), s.n, m.Key, func(cur *incident.Incident) (incident.Change, error) {
			st := cur.Clone()
			var all incident.Change
			t := at
			for j := range batch {
				k := from + j
				t = t.Add(20 * time.Second)
				if k%400 == 399 {
					t = t.Add(30 * time.Minute)
				}
				em := incident.Meta{At: t, Actor: actors[k%len(actors)], Source: timeline.SourceCommand, Key: m.Key + "-" + strconv.Itoa(j)}
				ch, err := st.AddEntry(phases[k%len(phases)], fmt.Sprintf("Entry %d: p99 latency at %d ms on checkout-%d", k, 200+k%900, k%7), false, em)
				if err != nil {
					return incident.Change{}, err
				}
				for _, e := range ch.Events {
					st.Apply(e)
				}
				all.Events = append(all.Events, ch.Events...)
			}
			return all, nil
		})
		require.NoError(tb, err)
		at = res.Events[len(res.Events)-1].At
		i += batch
	}
	return s.n
}

// BenchmarkIncidentPage is the server's render of an incident's page, from
// the store to the bytes, at 100, 1,000 and 10,000 events (aim: 10,000
// under 100 ms).
func BenchmarkIncidentPage(b *testing.B) {
	for _, events := range []int{100, 1000, 10000} {
		b.Run(strconv.Itoa(events)+"-events", func(b *testing.B) {
			db := storagetest.Open(b)
			n := seedLongIncident(b, db, events)
			p := newPageSite(b, db, func() time.Time { return pageNow })
			cookie := p.session(b, pageViewer)
			path := "/incidents/" + strconv.FormatUint(n, 10)
			code, body := p.get(b, cookie, path)
			require.Equal(b, http.StatusOK, code)
			require.Equal(b, events, strings.Count(body, `<li class="entry`))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				p.get(b, cookie, path)
			}
			b.ReportMetric(float64(len(body)), "bytes/page")
		})
	}
}

// BenchmarkLiveFanout is the time from one entry's commit until the last
// of 200 viewers of the incident has it on their stream.
func BenchmarkLiveFanout(b *testing.B) {
	const viewers = 200
	db := storagetest.Open(b)
	t0 := time.Now().UTC().Add(-time.Hour)
	s := declare(b, db, t0, pageAlice, incident.Declaration{Title: "Checkout down", Severity: 2})
	seq := s.entry(t0.Add(time.Minute), pageAlice, timeline.PhaseObserve, "Error rate at 12%")

	site, err := New(Config{Store: db, People: pagePeople, PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret"})
	require.NoError(b, err)
	mux := http.NewServeMux()
	site.Register(mux)
	srv := &http.Server{Handler: mux, WriteTimeout: 30 * time.Second}
	srv.RegisterOnShutdown(site.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	client := &http.Client{Transport: tr}
	// One cleanup, in order: the server ends the streams, the readers
	// see their ends, the client lets its connections go.
	var bodies []io.Closer
	readers := make(chan struct{}, viewers)
	started := 0
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		require.NoError(b, srv.Shutdown(ctx))
		<-served
		for _, c := range bodies {
			c.Close()
		}
		for range started {
			<-readers
		}
		tr.CloseIdleConnections()
	})
	p := &pageSite{site: site, h: mux, db: db, now: time.Now()}
	// Each viewer's reader reports every timeline seq it reads on got.
	// Two hundred people, each signed in once (a session may hold only a
	// few streams).
	got := make(chan uint64, viewers*4)
	for i := range viewers {
		req, err := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+livePath(s.n, seq), nil)
		require.NoError(b, err)
		secret := fmt.Sprintf("viewer-%d-secret", i)
		require.NoError(b, db.SaveSession(context.Background(), storage.Session{
			ID: sessionID(secret), User: pageViewer, Team: pageTeam,
			CreatedAt: p.now.Add(-time.Hour), ExpiresAt: p.now.Add(2 * time.Hour),
		}))
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
		resp, err := client.Do(req)
		require.NoError(b, err)
		bodies = append(bodies, resp.Body)
		require.Equal(b, http.StatusOK, resp.StatusCode)
		started++
		go func() {
			defer func() { readers <- struct{}{} }()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
			timelineEvent := false
			for sc.Scan() {
				line := sc.Text()
				switch {
				case line == "event: timeline":
					timelineEvent = true
				case timelineEvent && strings.HasPrefix(line, "data: "):
					var u timelineUpdate
					if json.Unmarshal([]byte(line[len("data: "):]), &u) == nil {
						select {
						case got <- u.Seq:
						default: // the benchmark has given up waiting
						}
					}
					timelineEvent = false
				}
			}
		}()
	}
	// commitAndWait commits one entry and waits until every viewer has
	// it; it returns how long that took after the commit returned.
	commitAndWait := func(i int) time.Duration {
		want := s.entry(time.Now(), pageAlice, timeline.PhaseAct, "Step "+strconv.Itoa(i))
		start := time.Now()
		deadline := time.NewTimer(within)
		defer deadline.Stop()
		for seen := 0; seen < viewers; {
			select {
			case sq := <-got:
				if sq == want {
					seen++
				}
			case <-deadline.C:
				b.Fatalf("%d of %d viewers had entry %d after %s", seen, viewers, want, within)
			}
		}
		return time.Since(start)
	}
	// Every stream is in its loop once it has had one entry.
	commitAndWait(-1)
	var total, worst time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		d := commitAndWait(i)
		total += d
		worst = max(worst, d)
		i++
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(i), "ms-to-last-viewer")
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}
