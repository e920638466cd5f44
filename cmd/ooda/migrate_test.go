package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/etcd"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// sourceFile writes a bbolt file with three incidents, their notes, a
// completed effect, a transcript message and two people of the directory,
// and closes it.
func sourceFile(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ooda.db")
	db := storagetest.OpenPath(t, path)
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	m := func(key string) incident.Meta {
		return incident.Meta{At: at, Actor: "U0ALICE", Source: timeline.SourceCommand, Key: key}
	}
	for i, title := range []string{"Checkout is down", "Search is slow", "Breach at the vendor"} {
		key := "declare-" + title
		_, err := db.Declare(ctx, key, func(n uint64) (incident.Change, error) {
			return incident.Declare(n, incident.Declaration{Title: title, Severity: i + 1, Private: i == 2}, m(key))
		})
		require.NoError(t, err)
		_, err = db.Apply(ctx, uint64(i+1), "note-"+title, func(inc *incident.Incident) (incident.Change, error) {
			return inc.AddEntry(timeline.PhaseOrient, "a finding about "+title, false, m("note-"+title))
		})
		require.NoError(t, err)
	}
	pending, err := db.Pending(ctx, 1)
	require.NoError(t, err)
	_, err = db.Complete(ctx, pending[0].OutboxSeq, incident.Outcome{Result: map[string]string{"channel": "C0CHECKOUT1"}, At: at, Key: pending[0].Effect.Key,
		Decide: func(inc *incident.Incident) (incident.Change, error) {
			return inc.ChannelCreated("C0CHECKOUT1", m(pending[0].Effect.Key))
		}})
	require.NoError(t, err)
	_, err = db.RecordMessage(ctx, 1, storage.MessageChange{Op: storage.MessagePosted, TS: "1764666000.000100", User: "U0BOB", Text: "rolling back"})
	require.NoError(t, err)
	require.NoError(t, db.SavePeople(ctx, sourcePeople()))
	require.NoError(t, db.Close())
	return path
}

// sourcePeople are the people sourceFile's directory holds.
func sourcePeople() []people.Person {
	at := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	return []people.Person{
		{ID: "U0ALICE", Handle: "alice", RealName: "Alice Chen", DisplayName: "alice", TZ: "Europe/Paris", SeenAt: at},
		{ID: "U0BOB", Handle: "bob", RealName: "Bob Kowalski", SeenAt: at},
	}
}

// folds reads every incident of a store as the fold of its events.
func folds(t *testing.T, s storage.Store, n int) []incident.Incident {
	t.Helper()
	var out []incident.Incident
	for i := 1; i <= n; i++ {
		evs, err := s.Events(t.Context(), uint64(i), 1)
		require.NoError(t, err)
		out = append(out, incident.Replay(evs))
	}
	return out
}

// TestMigrateRoundTrip: bbolt → etcd (ooda migrate) → backup file → bbolt,
// every incident folding the same all the way; a migration cut short
// resumes; a prefix holding other data, or migrated already, is refused.
func TestMigrateRoundTrip(t *testing.T) {
	endpoints := etcdtest.Start(t)
	prefix := etcdtest.NewPrefix()
	source := sourceFile(t)
	src := storagetest.OpenPath(t, source)
	want := folds(t, src, 3)
	require.NoError(t, src.Close())

	migrateArgs := []string{"migrate", "--from", source, "--to", "etcd", "--etcd-endpoints", endpoints[0], "--etcd-prefix", prefix}
	out, _, err := runCmd(t, migrateArgs...)
	require.NoError(t, err)
	require.Contains(t, out, "migrated 3 incidents")

	dst := etcdtest.OpenPrefix(t, endpoints, prefix, nil)
	require.Equal(t, want, folds(t, dst, 3), "etcd folds as the file did")
	ps, err := dst.People(t.Context())
	require.NoError(t, err)
	require.Equal(t, sourcePeople(), ps, "the directory moves with the incidents")
	_, _, err = runCmd(t, migrateArgs...)
	require.ErrorContains(t, err, "was migrated into "+prefix+" already")

	// The backup of the etcd store is a file ooda check accepts and serve
	// could start from, folding the same.
	backup := filepath.Join(t.TempDir(), "backup.db")
	t.Setenv("OODA_ETCD_ENDPOINTS", endpoints[0])
	t.Setenv("OODA_ETCD_PREFIX", prefix)
	out, _, err = runCmd(t, "backup", backup)
	require.NoError(t, err)
	require.Contains(t, out, "from etcd "+prefix)
	t.Setenv("OODA_ETCD_ENDPOINTS", "")
	_, _, err = runCmd(t, "check", "--db", backup)
	require.NoError(t, err)
	restored := storagetest.OpenPath(t, backup)
	require.Equal(t, want, folds(t, restored, 3), "the backup folds as the source")
	ps, err = restored.People(t.Context())
	require.NoError(t, err)
	require.Equal(t, sourcePeople(), ps, "the backup holds the directory")

	// A migration cut short (its marker unfinished, half of it loaded)
	// starts again into the same prefix and completes.
	cut := etcdtest.NewPrefix()
	half := etcdtest.OpenPrefix(t, endpoints, cut, nil)
	require.NoError(t, half.SetMigration(t.Context(), etcd.Migration{Source: source, Started: time.Now().UTC()}))
	var items []storage.Item
	require.NoError(t, restored.Dump(t.Context(), func(it storage.Item) error { items = append(items, it); return nil }))
	require.NoError(t, restored.Close())
	require.NoError(t, half.Load(t.Context(), items[:len(items)/2]))
	out, _, err = runCmd(t, "migrate", "--from", source, "--to", "etcd", "--etcd-endpoints", endpoints[0], "--etcd-prefix", cut)
	require.NoError(t, err)
	require.Contains(t, out, "resuming the migration")
	require.Equal(t, want, folds(t, half, 3))

	// Anything else in the prefix is never loaded into.
	_, _, err = runCmd(t, "migrate", "--from", backup, "--to", "etcd", "--etcd-endpoints", endpoints[0], "--etcd-prefix", prefix)
	require.ErrorContains(t, err, "holds other data")
}
