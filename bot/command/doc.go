// Package command holds the /incident grammar and the dispatcher that runs
// it against the domain, identical for every transport: Slack (HTTP and
// Socket Mode), the REST API and the CLI all call Dispatcher, so a command
// exists once. The verbs are one typed table (Verb), with their help.
// Replies are Slack mrkdwn text, written with bot/mrkdwn.
//
// It must never import slack-go, bbolt, etcd, cron or gobreaker, nor the
// other parts of the edge (bot, blockkit, slackapi, executor, signals,
// api, app): they import it.
package command
