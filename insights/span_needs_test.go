package insights

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
)

// TestNeedsEvents: the incidents whose events a range needs, the one
// rule the API and the web page read them by.
func TestNeedsEvents(t *testing.T) {
	from := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, time.UTC) }
	for _, tt := range []struct {
		name               string
		declared, resolved time.Time
		want               bool
	}{
		{"declared in the range", day(9, 10), day(9, 11), true},
		{"declared after it", day(10, 2), time.Time{}, false},
		{"declared before, still open", day(8, 20), time.Time{}, true},
		{"declared before, resolved in it", day(8, 20), day(9, 2), true},
		{"declared and resolved before it", day(8, 20), day(8, 21), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, NeedsEvents(incident.Incident{DeclaredAt: tt.declared, ResolvedAt: tt.resolved}, from, to))
		})
	}
}
