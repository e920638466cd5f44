// Package bot is Ooda's Slack edge, inbound only: the HTTP endpoints Slack
// calls (slash commands, events, interactivity) and Socket Mode, request
// verification, event capture into the timeline and transcript, and the
// declare forms. It verifies, parses, commits through the command
// dispatcher and answers within Slack's three seconds; what Ooda then
// says in Slack is the executor's (bot/executor).
//
// Its subpackages are the rest of the Slack side: command (the /incident
// grammar and dispatcher, shared with the API and the CLI), blockkit
// (every Block Kit rendering), slackapi (the client seam and
// post-once-by-metadata), executor (the outbox), signals (Alertmanager in,
// SLO notices out) and mrkdwn (escaping and clipping text).
//
// It must never import bbolt, etcd, cron or gobreaker, nor api, app or
// jobs; the domain (incident, timeline, roles, postmortem) never imports
// it.
package bot
