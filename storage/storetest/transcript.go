package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
)

func testTranscriptRecordsEachChangeOnce(t *testing.T, b *suite) {
	db := b.open(t)
	n := declare(t, db, "k1", "Checkout down").Incident.Number
	ctx := t.Context()

	changes := []storage.MessageChange{
		{Op: storage.MessagePosted, TS: "1700000000.000100", User: "U1", Text: "latency is up", At: t0},
		{Op: storage.MessageEdited, TS: "1700000000.000100", User: "U1", EditTS: "1700000060.000000", Previous: "latency is up", Text: "p99 latency is up", At: t0.Add(time.Minute)},
		{Op: storage.MessageDeleted, TS: "1700000000.000100", Previous: "p99 latency is up", At: t0.Add(2 * time.Minute)},
	}
	for _, c := range changes {
		for delivery := range 3 {
			changed, err := db.RecordMessage(ctx, n, c)
			require.NoError(t, err)
			require.Equal(t, delivery == 0, changed, "%s delivered %d times", c.Op, delivery+1)
		}
	}

	got, err := db.Transcript(ctx, n)
	require.NoError(t, err)
	require.Equal(t, []storage.TranscriptMessage{{
		TS: "1700000000.000100", User: "U1", PostedAt: time.Unix(1700000000, 100_000).UTC(),
		Text:      "p99 latency is up",
		Edits:     []storage.TranscriptEdit{{TS: "1700000060.000000", At: t0.Add(time.Minute), Before: "latency is up", After: "p99 latency is up"}},
		Deleted:   true,
		DeletedAt: t0.Add(2 * time.Minute),
	}}, got)
}

func testTranscriptToleratesReordering(t *testing.T, b *suite) {
	const ts = "1700000000.000100"
	posted := storage.MessageChange{Op: storage.MessagePosted, TS: ts, User: "U1", Text: "v1", At: t0}
	edit2 := storage.MessageChange{Op: storage.MessageEdited, TS: ts, User: "U1", EditTS: "1700000010.000000", Previous: "v1", Text: "v2", At: t0}
	edit3 := storage.MessageChange{Op: storage.MessageEdited, TS: ts, User: "U1", EditTS: "1700000020.000000", Previous: "v2", Text: "v3", At: t0}
	deleted := storage.MessageChange{Op: storage.MessageDeleted, TS: ts, Previous: "v3", At: t0}

	tests := []struct {
		name    string
		order   []storage.MessageChange
		text    string
		edits   int
		deleted bool
	}{
		{"in order", []storage.MessageChange{posted, edit2, edit3}, "v3", 2, false},
		{"edit before its message", []storage.MessageChange{edit2, posted}, "v2", 1, false},
		{"older edit arrives last", []storage.MessageChange{posted, edit3, edit2}, "v3", 2, false},
		{"deletion before everything", []storage.MessageChange{deleted, posted, edit2}, "v3", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := b.open(t)
			n := declare(t, db, "k1", "Checkout down").Incident.Number
			for _, c := range tt.order {
				_, err := db.RecordMessage(t.Context(), n, c)
				require.NoError(t, err)
			}
			m, ok, err := db.TranscriptMessageAt(t.Context(), n, ts)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, tt.text, m.Text)
			require.Len(t, m.Edits, tt.edits)
			require.Equal(t, tt.deleted, m.Deleted)
			require.Equal(t, "U1", m.User)
			for i := 1; i < len(m.Edits); i++ {
				require.Less(t, m.Edits[i-1].TS, m.Edits[i].TS, "edits are kept in edit order")
			}
		})
	}
}

func testTranscriptRefusals(t *testing.T, b *suite) {
	db := b.open(t)
	n := declare(t, db, "k1", "Checkout down").Incident.Number
	ctx := t.Context()

	_, err := db.RecordMessage(ctx, n+1, storage.MessageChange{Op: storage.MessagePosted, TS: "1.1", Text: "x"})
	require.ErrorIs(t, err, incident.ErrNotFound)
	_, err = db.Transcript(ctx, n+1)
	require.ErrorIs(t, err, incident.ErrNotFound)

	for _, c := range []storage.MessageChange{
		{Op: storage.MessagePosted, Text: "no ts"},
		{Op: storage.MessageEdited, TS: "1.1", Text: "no edit ts"},
		{TS: "1.1", Text: "no op"},
	} {
		_, err := db.RecordMessage(ctx, n, c)
		require.Error(t, err, "%+v", c)
	}
	got, err := db.Transcript(ctx, n)
	require.NoError(t, err)
	require.Empty(t, got)
	_, ok, err := db.TranscriptMessageAt(ctx, n, "1.1")
	require.NoError(t, err)
	require.False(t, ok)
}

func testTranscriptConcurrentWritersAllLand(t *testing.T, b *suite) {
	db := b.open(t)
	n := declare(t, db, "k1", "Checkout down").Incident.Number
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ts := fmt.Sprintf("1700000000.%06d", w*each+i)
				_, err := db.RecordMessage(t.Context(), n, storage.MessageChange{Op: storage.MessagePosted, TS: ts, User: "U1", Text: ts})
				assert.NoError(t, err) // not require: FailNow belongs to the test's goroutine
			}
		})
	}
	wg.Wait()
	got, err := db.Transcript(t.Context(), n)
	require.NoError(t, err)
	require.Len(t, got, writers*each)
	for i, m := range got {
		require.Equal(t, fmt.Sprintf("1700000000.%06d", i), m.TS, "messages come back in ts order")
	}
}

func testTranscriptOrdersTimestampsNumerically(t *testing.T, b *suite) {
	db := b.open(t)
	n := declare(t, db, "k1", "Checkout down").Incident.Number
	for _, ts := range []string{"1700000000.5", "999999999.9", "1700000000.000100"} {
		_, err := db.RecordMessage(t.Context(), n, storage.MessageChange{Op: storage.MessagePosted, TS: ts, Text: ts})
		require.NoError(t, err)
	}
	got, err := db.Transcript(t.Context(), n)
	require.NoError(t, err)
	var order []string
	for _, m := range got {
		order = append(order, m.TS)
	}
	require.Equal(t, []string{"999999999.9", "1700000000.000100", "1700000000.5"}, order)
}
