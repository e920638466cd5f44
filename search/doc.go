// Package search holds Ooda's full-text index of incidents: an
// in-process inverted index over what people wrote (titles, impacts, root
// causes, triggers, stakeholder updates, resolutions and timeline
// entries, as corrected), the search that answers `/incident search`,
// the ranking of similar past incidents, and the worker that keeps the
// index in step with the store's change feed.
//
// The index is derived, never a source of truth: it is rebuilt from the
// store at start-up and fed by commits, and each replica keeps its own.
// Access is the caller's rule (incident.Incident.Admits), applied before
// anything is counted, so a private incident is neither listed nor counted
// for someone it does not admit.
//
// It is domain code: it may import incident, timeline, postmortem, people
// and roles, and must never import storage, bot, api, app, internal,
// slack-go, bbolt, etcd or net/http. The store is reached through Source,
// a consumer interface that storage.Store satisfies.
package search
