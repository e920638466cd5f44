package storetest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

// Backend is what the suite needs of a backend: a way to open a new, empty
// store and a way to restart one. Both take the clock the store must use
// for the times it records itself (when an effect was queued, when a key
// was first seen, when an outcome without a time completed); the suite
// moves that clock to prove expiry and ordering without sleeping.
type Backend struct {
	// Open returns a new store that holds nothing, for the test t alone.
	// It arranges for the store to be closed when t ends and, where the
	// backend can, for what it left behind to be checked.
	Open func(t *testing.T, now func() time.Time) storage.Store
	// Reopen closes s, which Open or Reopen returned for t, and returns a
	// store over what s held, as a restarted ooda would see it; it too is
	// closed when t ends.
	Reopen func(t *testing.T, s storage.Store, now func() time.Time) storage.Store
	// Replica, when set, returns a second store over what s holds, as
	// another replica of ooda sharing it sees it; it is closed when t
	// ends. A backend one process owns (the bbolt file) leaves it nil, and
	// the tests of what replicas see of each other are skipped.
	Replica func(t *testing.T, s storage.Store) storage.Store
}

// Run runs the conformance suite against b, one subtest per behaviour:
// every test asks b for its own store. Run it from a test of the backend's
// package:
//
//	func TestConformance(t *testing.T) { storetest.Run(t, storetest.Backend{Open: ..., Reopen: ...}) }
//
// Besides each test's own assertions, the suite checks what every test
// leaves behind: a backup of it must open with storage.Open and pass its
// record check (storage.DB.Check). The model test is skipped with -short.
func Run(t *testing.T, b Backend) {
	require.NotNil(t, b.Open, "storetest: Backend.Open is required")
	require.NotNil(t, b.Reopen, "storetest: Backend.Reopen is required")
	s := &suite{backend: b, retired: map[storage.Store]bool{}}
	for _, tt := range tests() {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, s) })
	}
}

// test is one behaviour of the suite.
type test struct {
	name string
	run  func(t *testing.T, b *suite)
}

// tests lists the suite, by the part of the Store each group proves.
func tests() []test {
	return []test{
		// Incidents and their events (incidents.go).
		{"DeclareAndApplyRoundTrip", testDeclareAndApplyRoundTrip},
		{"NumbersAreSequential", testNumbersAreSequential},
		{"IncidentsListsActiveOnly", testIncidentsListsActiveOnly},
		{"NotFound", testNotFound},
		{"ChannelIndex", testChannelIndex},
		{"RefusalWritesNothing", testRefusalWritesNothing},
		{"DeclareRefusalWritesNothing", testDeclareRefusalWritesNothing},
		{"EmptyChangeWritesNothing", testEmptyChangeWritesNothing},
		{"Idempotency", testIdempotency},
		{"ConcurrentWriters", testConcurrentWriters},
		{"CancelledContext", testCancelledContext},
		{"EventReadsOneEvent", testEventReadsOneEvent},
		{"CorrectionsReplayAfterRestart", testCorrectionsReplayAfterRestart},
		// The outbox (outbox.go).
		{"PendingInCommitOrder", testPendingInCommitOrder},
		{"Complete", testComplete},
		{"Defer", testDefer},
		{"OutboxStats", testOutboxStats},
		// Idempotency keys' expiry (dedupe.go).
		{"ExpireDedupe", testExpireDedupe},
		// Transcripts (transcript.go).
		{"TranscriptRecordsEachChangeOnce", testTranscriptRecordsEachChangeOnce},
		{"TranscriptToleratesReordering", testTranscriptToleratesReordering},
		{"TranscriptRefusals", testTranscriptRefusals},
		{"TranscriptConcurrentWritersAllLand", testTranscriptConcurrentWritersAllLand},
		{"TranscriptOrdersTimestampsNumerically", testTranscriptOrdersTimestampsNumerically},
		// SLO states (slo.go).
		{"SLOStatesRoundTrip", testSLOStatesRoundTrip},
		{"SaveSLOStatesRefusesAnAnonymousState", testSaveSLOStatesRefusesAnAnonymousState},
		{"SLOStatesConcurrently", testSLOStatesConcurrently},
		// The workspace's people (people.go).
		{"PeopleRoundTrip", testPeopleRoundTrip},
		{"SavePeopleRefusesAnAnonymousPerson", testSavePeopleRefusesAnAnonymousPerson},
		{"PeopleLargeWorkspace", testPeopleLargeWorkspace},
		{"PeopleConcurrently", testPeopleConcurrently},
		// The web UI's sessions (session.go).
		{"SessionsRoundTrip", testSessionsRoundTrip},
		{"SaveSessionRefusals", testSaveSessionRefusals},
		{"DeleteSession", testDeleteSession},
		{"DeleteSessionsOfAPerson", testDeleteSessionsOfAPerson},
		{"ExpireSessions", testExpireSessions},
		// The change feed of incidents (feed.go).
		{"IncidentFeed", testIncidentFeed},
		{"IncidentFeedConcurrentWriters", testIncidentFeedConcurrentWriters},
		{"IncidentFeedSeesOtherReplicas", testIncidentFeedSeesOtherReplicas},
		// Backups (backup.go).
		{"BackupWhileWriting", testBackupWhileWriting},
		// Everything at once, against a model (model.go).
		{"Model", testModel},
	}
}

// suite opens the stores of the tests and checks what each leaves behind.
type suite struct {
	backend Backend
	mu      sync.Mutex
	// retired holds the stores a reopen closed, whose leftovers are checked
	// through the store that replaced them.
	retired map[storage.Store]bool
}

// open returns a new, empty store on the clock now, time.Now when none is
// given, for the test t alone.
func (b *suite) open(t *testing.T, now ...func() time.Time) storage.Store {
	t.Helper()
	db := b.backend.Open(t, clock(t, now))
	require.NotNil(t, db, "storetest: Backend.Open returned no store")
	b.checkWhenDone(t, db)
	return db
}

// reopen restarts db, as a restarted ooda would.
func (b *suite) reopen(t *testing.T, db storage.Store, now ...func() time.Time) storage.Store {
	t.Helper()
	b.mu.Lock()
	b.retired[db] = true
	b.mu.Unlock()
	again := b.backend.Reopen(t, db, clock(t, now))
	require.NotNil(t, again, "storetest: Backend.Reopen returned no store")
	b.checkWhenDone(t, again)
	return again
}

// checkWhenDone checks what db holds when t ends, unless a reopen retired
// it. The check is registered after the backend's own cleanup, so it runs
// while db is still open.
func (b *suite) checkWhenDone(t *testing.T, db storage.Store) {
	t.Cleanup(func() {
		b.mu.Lock()
		retired := b.retired[db]
		delete(b.retired, db)
		b.mu.Unlock()
		if retired || t.Failed() {
			return
		}
		// t's context is cancelled before cleanups run.
		ctx := context.Background()
		inBackup(t, ctx, db, func(backup *storage.DB) {
			require.NoError(t, backup.Check(ctx), "record check of a backup of what the test left")
		})
	})
}

func clock(t *testing.T, now []func() time.Time) func() time.Time {
	t.Helper()
	switch len(now) {
	case 0:
		return time.Now
	case 1:
		return now[0]
	}
	t.Fatalf("storetest: pass at most one clock, not %d", len(now))
	return nil
}

// inBackup writes a backup of s to a file of its own, opens it with
// storage.Open, as `ooda serve --db` would, and runs fn on it. The copy is
// closed and removed when fn returns.
func inBackup(t testing.TB, ctx context.Context, s storage.Store, fn func(backup *storage.DB)) {
	t.Helper()
	// Not t.TempDir: this also runs in a cleanup, and the copy is gone
	// when fn returns anyway.
	dir, err := os.MkdirTemp("", "storetest-backup-*")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "backup.db")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	n, err := s.Backup(ctx, f)
	require.NoError(t, err, "backup")
	require.NoError(t, f.Close())
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, st.Size(), n, "Backup reports the bytes it wrote")
	backup, err := storage.Open(path, storage.Options{})
	require.NoError(t, err, "storage.Open reads the backup")
	defer backup.Close()
	fn(backup)
}

var t0 = time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)

func meta(key string) incident.Meta {
	return incident.Meta{At: t0, Actor: "U1", Source: timeline.SourceCommand, Key: key}
}

func declareDecider(title string, key string) func(uint64) (incident.Change, error) {
	return func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: title, Severity: 2}, meta(key))
	}
}

func declare(t testing.TB, db storage.Store, key, title string) incident.Result {
	t.Helper()
	res, err := db.Declare(t.Context(), key, declareDecider(title, key))
	require.NoError(t, err)
	return res
}

func observe(text, key string) incident.Decider {
	return func(inc *incident.Incident) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseObserve, text, false, meta(key))
	}
}

func apply(t testing.TB, db storage.Store, n uint64, key string, d incident.Decider) incident.Result {
	t.Helper()
	res, err := db.Apply(t.Context(), n, key, d)
	require.NoError(t, err)
	return res
}

// RequireConsistent asserts what every state of every store must satisfy:
// each incident's events run 1..n and its snapshot is their fold. A
// backend's own tests (a crash, writers in several processes) call it on
// what they leave behind.
func RequireConsistent(t testing.TB, s storage.Store) {
	t.Helper()
	all, err := s.Incidents(t.Context(), true)
	require.NoError(t, err)
	for _, inc := range all {
		events, err := s.Events(t.Context(), inc.Number, 1)
		require.NoError(t, err)
		for i, e := range events {
			require.Equal(t, uint64(i+1), e.Seq, "%s: sequences contiguous from 1", inc.ID)
		}
		requireSameState(t, incident.Replay(events), inc, "%s: snapshot is the fold of its events", inc.ID)
	}
}

// requireSameState compares incidents as they are stored and served: as
// JSON, where a nil and an empty list are the same state.
func requireSameState(t testing.TB, want, got incident.Incident, msg ...any) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g), msg...)
}

// counts returns how many of each kind of record s holds: "incidents",
// "events" (of every incident), "dedupe" (idempotency keys), "outbox",
// "effects" (completed effects' results), "transcript" (messages of every
// incident), "slo", "people" and "sessions". A Store lists neither its
// keys nor its effect results, so they are counted in a backup, which
// holds everything (storage.Store's Backup): its Dump names every record,
// and s is left as it was.
func counts(t testing.TB, s storage.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	inBackup(t, t.Context(), s, func(backup *storage.DB) {
		require.NoError(t, backup.Dump(t.Context(), func(it storage.Item) error {
			switch {
			case it.Log != nil:
				out["incidents"]++
				out["events"] += len(it.Log.Events)
			case it.Dedupe != nil:
				out["dedupe"]++
			case it.Pending != nil:
				out["outbox"]++
			case it.Effect != nil:
				out["effects"]++
			case it.Message != nil:
				out["transcript"]++
			case it.SLO != nil:
				out["slo"]++
			case it.Person != nil:
				out["people"]++
			case it.Session != nil:
				out["sessions"]++
			}
			return nil
		}))
	})
	return out
}
