package search

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{in: "Checkout API returning 502s", want: []string{"checkout", "api", "returning", "502"}},
		{in: "checkout-api v2.31.0, p99=4.2s!", want: []string{"checkout", "api", "v2", "31", "p99", "2s"}},
		{in: "a b c I/O", want: nil},
		{in: "timeouts replicas entries status redis class dns", want: []string{"timeout", "replica", "entry", "status", "redis", "class", "dns"}},
		{in: "Zahlungen fehlgeschlagen: Ärger über Größe", want: []string{"zahlungen", "fehlgeschlagen", "ärger", "über", "größe"}},
		{in: "支付 失败 ok", want: []string{"支付", "失败", "ok"}},
		{in: "<@U0ALICE> see <https://grafana.example/d/pay|the board>", want: []string{"u0alice", "see", "http", "grafana", "example", "pay", "the", "board"}},
		{in: "Pool POOL pool", want: []string{"pool"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, tokens(tt.in))
		})
	}
}

func TestStopWords(t *testing.T) {
	require.True(t, isStopWord("the"))
	require.False(t, isStopWord("down"), "a service down is not a common word here")
	require.False(t, isStopWord("checkout"))
}

func TestQueue(t *testing.T) {
	q := newQueue()
	q.add(3)
	q.add(1)
	q.add(3)
	all, ns := q.take()
	require.False(t, all)
	require.Equal(t, []uint64{1, 3}, ns)
	q.add(2)
	q.add(0)
	q.add(5)
	all, ns = q.take()
	require.True(t, all, "changed(0) asks for everything")
	require.Equal(t, []uint64{5}, ns, "what came after changed(0) is read after the rebuild")
	all, ns = q.take()
	require.False(t, all)
	require.Empty(t, ns)
}
