package blockkit

import (
	"fmt"
	"time"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/timeline"
)

// correctionLine is the channel's line for an amendment or a strike, so
// everyone following the incident sees what changed in the record:
// "<@U1> amended #12: “rolled back to v41” (was “…v42”)".
func correctionLine(e timeline.Event, who string) string {
	n := "#" + mrkdwn.Escape(e.Attr(timeline.AttrEntry))
	was := mrkdwn.Quote(e.Attr(timeline.AttrPrevious))
	if e.Kind == timeline.KindEntryStruck {
		s := fmt.Sprintf("%s struck %s, which said %s", who, n, was)
		if e.Text != "" {
			s += ": " + mrkdwn.Escape(e.Text)
		}
		return s
	}
	s := fmt.Sprintf("%s amended %s", who, n)
	if e.Text != "" {
		s += fmt.Sprintf(": %s (was %s)", mrkdwn.Quote(e.Text), was)
	}
	if at := attrTime(e, timeline.AttrAt); !at.IsZero() {
		s += fmt.Sprintf(", now dated %s (was %s)", mrkdwn.Clock(at), mrkdwn.Clock(attrTime(e, timeline.AttrPreviousAt)))
	}
	return s
}

// backdated says when a loop entry written after the fact happened, for
// its channel line; "" for an entry written as it happened.
func backdated(e timeline.Event) string {
	if e.Attr(timeline.AttrWrittenAt) == "" {
		return ""
	}
	return " _(at " + mrkdwn.Clock(e.At) + ")_"
}

func attrTime(e timeline.Event, k string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, e.Attr(k))
	if err != nil {
		return time.Time{}
	}
	return t
}
