package postmortem

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/ooda-sre/ooda/timeline"
)

// Elapsed is a measured stretch of time that may be unknown. Its zero
// value is unknown, so a measure nobody could take is never shown as zero.
type Elapsed struct {
	D     time.Duration
	Known bool
}

// known wraps a duration that was measured.
func known(d time.Duration) Elapsed { return Elapsed{D: d, Known: true} }

// between measures from → to when both are known and to is not earlier.
func between(from, to time.Time) Elapsed {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return Elapsed{}
	}
	return known(to.Sub(from))
}

// String renders the stretch as people say it: "45 s", "9 min",
// "1 h 05 min", or "unknown".
func (e Elapsed) String() string {
	if !e.Known {
		return "unknown"
	}
	return string(appendElapsed(nil, e.D))
}

func appendElapsed(b []byte, d time.Duration) []byte {
	if d < time.Minute {
		b = strconv.AppendInt(b, int64(d/time.Second), 10)
		return append(b, " s"...)
	}
	return timeline.AppendMinutes(b, d)
}

// MarshalJSON encodes the stretch as whole seconds, or null when unknown.
func (e Elapsed) MarshalJSON() ([]byte, error) {
	if !e.Known {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, int64(e.D/time.Second), 10), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Elapsed) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*e = Elapsed{}
		return nil
	}
	s, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("elapsed: %q is not a number of seconds", b)
	}
	*e = known(time.Duration(s) * time.Second)
	return nil
}
