package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/people"
)

func TestPersonZones(t *testing.T) {
	dir := people.NewDirectory([]people.Person{
		{ID: "U0TOKYO", Handle: "kenji", TZ: "Asia/Tokyo"},
		{ID: "U0NOWHERE", Handle: "nobody", TZ: "Mars/Olympus_Mons"},
		{ID: "U0NOZONE", Handle: "ann"},
	})
	zones := newPersonZones(func() *people.Directory { return dir })
	require.Equal(t, "Asia/Tokyo", zones.Of("U0TOKYO").String())
	require.Same(t, zones.Of("U0TOKYO"), zones.Of("U0TOKYO"), "loaded once")
	for _, u := range []string{"U0NOWHERE", "U0NOZONE", "U0UNKNOWN", ""} {
		require.Equal(t, time.UTC, zones.Of(u), u)
	}
}
