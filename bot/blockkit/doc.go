// Package blockkit renders what Ooda posts in Slack as Block Kit: the
// kickoff and its buttons, timeline lines, handovers, updates, the
// catch-up, SLO notices and alert signals, and the action ids the
// inbound side reads back. Every payload stays within Slack's documented
// limits. It only renders: no Slack calls, no store.
//
// It imports slack-go for its block types and the domain; it must never
// import bbolt, etcd, cron, gobreaker, nor the parts of the edge that use
// it (bot, command, slackapi, executor, signals, api, app).
package blockkit
