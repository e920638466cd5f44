package directory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/people"
)

type noStore struct{}

func (noStore) SavePeople(context.Context, []people.Person) error { return nil }
func (noStore) People(context.Context) ([]people.Person, error)   { return nil, nil }

// A flood of unknown ids within MissTTL (asked, or missed) remembers at
// most maxAsked of them.
func TestAskedStaysBounded(t *testing.T) {
	at := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	d, err := New(Config{Store: noStore{}, Now: func() time.Time { return at }, MissTTL: time.Hour})
	require.NoError(t, err)
	for i := range 3 * maxAsked {
		at = at.Add(time.Millisecond)
		id := fmt.Sprintf("U%08d", i)
		require.True(t, d.shouldAsk(id, false), id)
		if i%2 == 0 {
			d.missed(id)
		}
		require.LessOrEqual(t, len(d.asked), maxAsked)
	}
	newest := fmt.Sprintf("U%08d", 3*maxAsked-1)
	assert.False(t, d.shouldAsk(newest, false), "a recent ask is remembered")
}
