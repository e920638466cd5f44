package storage

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/timeline"
)

func TestEventCodecRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 26, 14, 5, 7, 123456789, time.UTC)
	tests := []timeline.Event{
		{Seq: 1, At: at, Kind: timeline.KindDeclared, Phase: timeline.PhaseObserve, Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "slack:t1",
			Attrs: map[string]string{timeline.AttrTitle: "Checkout “down” — 5xx", timeline.AttrSeverity: "2", "number": "7"}},
		{Seq: 1 << 40, At: at.Add(-72 * time.Hour), Kind: timeline.KindLoopEntry, Phase: timeline.PhaseNone, Actor: "api:oncall", Text: "multi\nline ✓ and \x00 bytes", Source: timeline.SourceAPI},
		{Seq: 3, At: time.Unix(0, 0).UTC(), Kind: timeline.KindParticipant, Attrs: map[string]string{}},
	}
	for _, e := range tests {
		got, err := decodeEvent(encodeEvent(e))
		require.NoError(t, err)
		if len(e.Attrs) == 0 {
			e.Attrs = nil
		}
		require.Equal(t, e, got)
		require.Equal(t, encodeEvent(e), encodeEvent(got), "the encoding is deterministic")
	}
}

func TestEventCodecReadsJSON(t *testing.T) {
	e := timeline.Event{Seq: 4, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Kind: timeline.KindResolved, Text: "ok", Attrs: map[string]string{"a": "b"}}
	b, err := json.Marshal(e)
	require.NoError(t, err)
	got, err := decodeEvent(b)
	require.NoError(t, err)
	require.Equal(t, e, got)
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(encodeEvent(timeline.Event{Seq: 9, At: time.Unix(1700000000, 5).UTC(), Kind: timeline.KindLoopEntry, Text: "x", Attrs: map[string]string{"cause": "true"}}))
	f.Add([]byte{eventCodecV1, 0xff, 0xff})
	f.Add([]byte{})
	f.Add([]byte(`{"seq":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEvent(b) // must never panic
		if err == nil && len(b) > 0 && b[0] == eventCodecV1 {
			again, err := decodeEvent(encodeEvent(e))
			require.NoError(t, err)
			require.Equal(t, e.Seq, again.Seq)
			require.Equal(t, e.Text, again.Text)
		}
	})
}
