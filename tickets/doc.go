// Package tickets turns action items into tickets in the trackers teams
// track work in (GitHub, GitLab, Jira) and keeps the two in step.
//
// It holds the Tracker contract the adapters (tickets/github,
// tickets/gitlab, tickets/jira) implement; the tickets: configuration
// (Config, validated once, secrets read once by LoadSecrets and never
// printed); the routing of a service's tickets (Routes); the accounts
// file (AccountMap); the rendering of a ticket (Render), which keeps a
// private incident's title, impact, service and channel out of it; and
// Service, which performs the create_ticket and close_ticket effects of
// the outbox for the executor, hears of changes by webhook (Deliver) and
// by polling (Poller: one search per tracker project per poll), and
// records them on the items.
//
// Exactly once: a ticket carries its effect's key (Marker), and every
// attempt at a create_ticket effect asks the tracker for the key before
// creating, so a lost response, a timeout after the request landed or a
// kill before the effect completed ends with one ticket.
//
// tickets speaks to the store through incident.Store and to the trackers
// through their resilience guards. It must never import slack-go, bbolt,
// etcd, cron or gobreaker, nor bot/..., api/..., app/... or storage/...:
// the app wires it to them.
package tickets
