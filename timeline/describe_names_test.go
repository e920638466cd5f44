package timeline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDescribeNames(t *testing.T) {
	names := map[string]string{"U1": "Alice", "U2": "Bob"}
	name := func(id string) string { return names[id] }
	at := time.Date(2026, 11, 26, 14, 5, 0, 0, time.UTC)
	tests := []struct {
		name      string
		e         Event
		describe  string // DescribeNames
		unmarked  string // DescribeEntry
		nilLookup string // DescribeNames with a nil name
	}{
		{
			name:      "handover resolves both people",
			e:         Event{Kind: KindRoleAssigned, Attrs: map[string]string{AttrRole: "commander", AttrUser: "U1", AttrPrevious: "U2"}},
			describe:  "Alice is Commander (handover from Bob)",
			unmarked:  "Alice is Commander (handover from Bob)",
			nilLookup: "U1 is Commander (handover from U2)",
		},
		{
			name:      "an unknown id shows as itself",
			e:         Event{Kind: KindActionAdded, Text: "Add an alert", Attrs: map[string]string{AttrActionID: "3", AttrPriority: "P1", AttrOwner: "U9"}},
			describe:  "Action 3 (P1, owner U9): Add an alert",
			unmarked:  "Action 3 (P1, owner U9): Add an alert",
			nilLookup: "Action 3 (P1, owner U9): Add an alert",
		},
		{
			name: "a struck root cause loses its marks unmarked",
			e: Event{Kind: KindLoopEntry, Phase: PhaseOrient, Text: "DNS", Attrs: map[string]string{
				AttrCause: "true", AttrStruck: "true", AttrStruckBy: "U2", AttrReason: "wrong incident", AttrAmended: "true",
			}},
			describe:  "Root cause: DNS (amended) (struck by Bob: wrong incident)",
			unmarked:  "Root cause: DNS",
			nilLookup: "Root cause: DNS (amended) (struck by U2: wrong incident)",
		},
		{
			name:      "a backdated note",
			e:         Event{Kind: KindLoopEntry, At: at, Text: "paged", Attrs: map[string]string{AttrWrittenAt: FormatTime(at.Add(5 * time.Minute))}},
			describe:  "Note: paged (written 14:10 UTC)",
			unmarked:  "Note: paged",
			nilLookup: "Note: paged (written 14:10 UTC)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := len(tt.e.Attrs)
			require.Equal(t, tt.describe, DescribeNames(tt.e, name))
			require.Equal(t, tt.unmarked, DescribeEntry(tt.e, name))
			require.Equal(t, tt.nilLookup, DescribeNames(tt.e, nil))
			require.Equal(t, Describe(tt.e), DescribeNames(tt.e, nil), "a nil name is Describe")
			require.Len(t, tt.e.Attrs, attrs, "the event's attributes are left alone")
		})
	}
}
