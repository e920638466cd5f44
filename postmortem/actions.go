package postmortem

import (
	"slices"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// timelineEvents are the events the draft's timeline tells: all but the
// changes to action items, which the Action Items section shows as they
// stand. A follow-up done weeks later is not part of the response, and
// would end the timeline with a silence of weeks.
func timelineEvents(events []timeline.Event) []timeline.Event {
	if !slices.ContainsFunc(events, isActionUpdate) {
		return events
	}
	return slices.DeleteFunc(slices.Clone(events), isActionUpdate)
}

func isActionUpdate(e timeline.Event) bool { return e.Kind == timeline.KindActionUpdated }

// stateLabel is an item's state as the draft shows it: "open", "open,
// overdue", "done", "won't do: the reason".
func stateLabel(it ActionItem) string {
	switch it.Status {
	case incident.ActionWontDo:
		if it.Reason != "" {
			return "won't do: " + it.Reason
		}
		return "won't do"
	case incident.ActionOpen:
		if it.Overdue {
			return "open, overdue"
		}
	}
	return it.Status
}

// dueLabel is an item's due day, or a dash.
func dueLabel(it ActionItem) string {
	if it.Due == "" {
		return "—"
	}
	return it.Due
}

// autolinkable reports whether a ticket link can go into Markdown as an
// autolink, <https://…>, as it is: a web address with nothing that could
// end the autolink or the table cell (incident.IsWebLink). The domain
// accepts no other, but an imported log might hold one; that is escaped
// as text.
func autolinkable(link string) bool { return incident.IsWebLink(link) }
