package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/storage"
)

func person(id, handle, name string) people.Person {
	return people.Person{ID: id, Handle: handle, RealName: name, DisplayName: handle, TZ: "Europe/Paris", SeenAt: t0}
}

// The directory is saved whole by a refresh, read whole at start-up, and
// survives a restart and a backup: that is what keeps names while Slack
// is down.
func testPeopleRoundTrip(t *testing.T, b *suite) {
	db := b.open(t)
	ctx := t.Context()

	got, err := db.People(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)

	carol, alice := person("U0CAROL", "carol", "Carol Diaz"), person("U0ALICE", "alice", "Alice Chen")
	gone := person("U0DAVE", "dave", "Dave Old")
	gone.Deleted = true
	bot := people.Person{ID: "U0BOT", Handle: "ooda", Bot: true, SeenAt: t0}
	require.NoError(t, db.SavePeople(ctx, []people.Person{carol, alice, gone, bot}))
	require.NoError(t, db.SavePeople(ctx, nil), "saving nobody does nothing")

	got, err = db.People(ctx)
	require.NoError(t, err)
	assert.Equal(t, []people.Person{alice, bot, carol, gone}, got, "ordered by member ID, every field kept")

	// A rename replaces the person under the same id.
	alice.RealName, alice.SeenAt = "Alice Wong", t0.Add(time.Hour)
	require.NoError(t, db.SavePeople(ctx, []people.Person{alice}))
	got, err = db.People(ctx)
	require.NoError(t, err)
	require.Len(t, got, 4)
	assert.Equal(t, alice, got[0])

	// It survives a restart, and a backup holds it.
	db = b.reopen(t, db)
	again, err := db.People(ctx)
	require.NoError(t, err)
	assert.Equal(t, got, again)
	assert.Equal(t, 4, counts(t, db)["people"])
	inBackup(t, ctx, db, func(backup *storage.DB) {
		copied, err := backup.People(ctx)
		require.NoError(t, err)
		assert.Equal(t, got, copied)
	})
}

func testSavePeopleRefusesAnAnonymousPerson(t *testing.T, b *suite) {
	db := b.open(t)
	err := db.SavePeople(t.Context(), []people.Person{person("U0ALICE", "alice", "Alice Chen"), {Handle: "nobody"}})
	require.ErrorContains(t, err, "needs their member ID")
	got, err := db.People(t.Context())
	require.NoError(t, err)
	assert.Empty(t, got, "all or nothing")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, db.SavePeople(ctx, []people.Person{person("U0ALICE", "alice", "Alice Chen")}), context.Canceled)
	_, err = db.People(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

// A workspace is thousands of people; one refresh saves them all, more
// than one etcd transaction holds.
func testPeopleLargeWorkspace(t *testing.T, b *suite) {
	db := b.open(t)
	const n = 1000
	ps := make([]people.Person, n)
	for i := range ps {
		ps[i] = person(fmt.Sprintf("U%08d", i), fmt.Sprintf("user%d", i), fmt.Sprintf("User %d", i))
	}
	require.NoError(t, db.SavePeople(t.Context(), ps))
	got, err := db.People(t.Context())
	require.NoError(t, err)
	assert.Equal(t, ps, got)
	assert.Equal(t, n, counts(t, db)["people"])
}

// The hourly refresh and lookups of unknown ids save at once.
func testPeopleConcurrently(t *testing.T, b *suite) {
	db := b.open(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				p := person(fmt.Sprintf("U%d%02d", w, i%5), fmt.Sprintf("w%d-%d", w, i), "")
				assert.NoError(t, db.SavePeople(t.Context(), []people.Person{p}))
				_, err := db.People(t.Context())
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	got, err := db.People(t.Context())
	require.NoError(t, err)
	require.Len(t, got, 40)
	for _, p := range got {
		assert.Equal(t, fmt.Sprintf("w%c-%d", p.ID[1], 5+int(p.ID[3]-'0')), p.Handle, "the last write of %s", p.ID)
	}
}
