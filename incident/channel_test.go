package incident_test

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
)

func TestChannelName(t *testing.T) {
	tests := []struct {
		name   string
		number uint64
		title  string
		want   string
	}{
		{name: "plain", number: 7, title: "Checkout down", want: "inc-7-checkout-down"},
		{name: "uppercase", number: 7, title: "API 5XX", want: "inc-7-api-5xx"},
		{name: "punctuation collapses", number: 7, title: "Checkout: down!! (EU) -- again", want: "inc-7-checkout-down-eu-again"},
		{name: "underscores kept", number: 7, title: "db_primary lag", want: "inc-7-db_primary-lag"},
		{name: "leading and trailing junk", number: 7, title: "  --[Checkout]--  ", want: "inc-7-checkout"},
		{name: "accents become separators", number: 12, title: "Paiement échoué", want: "inc-12-paiement-chou"},
		{name: "emoji between words", number: 7, title: "🔥 Checkout 🔥 down 🔥", want: "inc-7-checkout-down"},
		{name: "emoji only", number: 7, title: "🔥🔥🔥", want: "inc-7"},
		{name: "non-Latin only", number: 7, title: "決済が失敗", want: "inc-7"},
		{name: "empty", number: 7, title: "", want: "inc-7"},
		{name: "punctuation only", number: 7, title: "!!! ???", want: "inc-7"},
		{name: "Kelvin sign lowers to k", number: 7, title: "\u212Aafka lag", want: "inc-7-kafka-lag"},
		{name: "invalid UTF-8", number: 7, title: "bad\xffbyte", want: "inc-7-bad-byte"},
		{name: "tabs and newlines", number: 7, title: "a\tb\nc", want: "inc-7-a-b-c"},
		// "inc-7-" leaves 74 of Slack's 80 characters for the slug.
		{name: "long title cut at a word", number: 7,
			title: "Checkout and payments are down in every region because the primary database ran out of connections",
			want:  "inc-7-checkout-and-payments-are-down-in-every-region-because-the-primary"},
		{name: "long word cut hard", number: 7, title: strings.Repeat("a", 200), want: "inc-7-" + strings.Repeat("a", 74)},
		{name: "cut lands on a hyphen", number: 7, title: strings.Repeat("a", 72) + " bcd", want: "inc-7-" + strings.Repeat("a", 72)},
		{name: "word boundary too early is ignored", number: 7, title: "ab " + strings.Repeat("c", 200), want: "inc-7-ab-" + strings.Repeat("c", 71)},
		{name: "largest number", number: math.MaxUint64, title: strings.Repeat("x", 100), want: "inc-18446744073709551615-" + strings.Repeat("x", 55)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := incident.ChannelName(tt.number, tt.title)
			require.Equal(t, tt.want, got)
			requireValidChannelName(t, tt.number, got)
		})
	}
}

// requireValidChannelName checks what Slack and people need of a channel
// name: at most 80 characters of [a-z0-9_-], starting with the incident's
// "inc-<n>" and no stray hyphens.
func requireValidChannelName(t *testing.T, n uint64, name string) {
	t.Helper()
	prefix := "inc-" + strconv.FormatUint(n, 10)
	require.LessOrEqual(t, len(name), incident.MaxChannelName, name)
	require.True(t, name == prefix || strings.HasPrefix(name, prefix+"-"), "%q does not start with %q", name, prefix)
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		require.True(t, ok, "%q has %q", name, r)
	}
	require.False(t, strings.HasSuffix(name, "-"), name)
	require.NotContains(t, name, "--")
}

func FuzzChannelName(f *testing.F) {
	for _, s := range []string{"", "Checkout down", "🔥", "Paiement échoué", strings.Repeat("ab ", 40), "--x--", "\xff\xfe", "a_b-c"} {
		f.Add(uint64(7), s)
	}
	f.Add(uint64(0), "zero")
	f.Add(uint64(math.MaxUint64), strings.Repeat("long-", 30))
	f.Fuzz(func(t *testing.T, n uint64, title string) {
		name := incident.ChannelName(n, title)
		requireValidChannelName(t, n, name)
		require.True(t, utf8.ValidString(name))
		require.Equal(t, name, incident.ChannelName(n, title), "deterministic")
	})
}
