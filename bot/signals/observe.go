package signals

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// openIncidentsOf returns the active incidents declared for service. The
// comparison ignores case and surrounding space: people type service
// names into the declare form, machines write them into labels.
func openIncidentsOf(ctx context.Context, store incident.Store, service string) ([]incident.Incident, error) {
	service = strings.TrimSpace(service)
	if service == "" {
		return nil, nil
	}
	incs, err := store.Incidents(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("open incidents of %s: %w", service, err)
	}
	var out []incident.Incident
	for _, inc := range incs {
		if inc.Status.Active() && strings.EqualFold(strings.TrimSpace(inc.Service), service) {
			out = append(out, inc)
		}
	}
	return out, nil
}

// observeIn records text as an observe entry of inc by Ooda. key names the
// signal; the entry's own key adds the incident, since one signal may be
// recorded in two incidents of the same service and keys are global. It
// reports whether the entry is new (a repeat records nothing).
// attrs are kept on the entry beside its text.
func observeIn(ctx context.Context, store incident.Store, inc incident.Incident, text string, src timeline.Source, key string, at time.Time, attrs map[string]string) (bool, error) {
	k := key + "@" + inc.ID
	m := incident.Meta{At: at, Actor: incident.Bot, Source: src, Key: k}
	res, err := store.Apply(ctx, inc.Number, k, func(i *incident.Incident) (incident.Change, error) {
		ch, err := i.AddEntry(timeline.PhaseObserve, mrkdwn.Clip(text, incident.MaxText), false, m)
		for j := range ch.Events {
			if ch.Events[j].Kind != timeline.KindLoopEntry {
				continue
			}
			for name, v := range attrs {
				if ch.Events[j].Attrs == nil {
					ch.Events[j].Attrs = map[string]string{}
				}
				ch.Events[j].Attrs[name] = v
			}
		}
		return ch, err
	})
	if err != nil {
		return false, fmt.Errorf("observe in %s: %w", inc.ID, err)
	}
	return !res.Duplicate, nil
}

// attrAlerts is the attribute of an alert entry that lists the alert
// states it records (alertID:status, space-separated): what the next
// notification of any group reads to tell what is new to the incident.
const attrAlerts = "alerts"

// recordedAlerts are the alert states incident n's entries record, and,
// when it was declared from a signal posted in channel, that signal's ts.
func recordedAlerts(ctx context.Context, store incident.Store, n uint64, channel string) (map[string]bool, string, error) {
	evs, err := store.Events(ctx, n, 1)
	if err != nil {
		return nil, "", fmt.Errorf("alerts recorded in incident %d: %w", n, err)
	}
	out, from := map[string]bool{}, ""
	for _, e := range evs {
		if e.Kind == timeline.KindDeclared && channel != "" {
			if ts, ok := strings.CutPrefix(incident.CommandKey(e), blockkit.SignalKey(channel, "")); ok {
				from = ts
			}
		}
		if e.Source != timeline.SourceAlert {
			continue
		}
		for _, s := range strings.Fields(e.Attr(attrAlerts)) {
			out[s] = true
		}
	}
	return out, from, nil
}
