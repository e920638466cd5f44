// Package executor drains the outbox: it performs the effects commands
// queued (create and invite to the incident channel, set its topic, post
// and update messages, upload and bookmark the post-mortem draft, refresh
// the kickoff, catch a channel up after Slack was away) through the Slack
// guard, once each: an effect that may have landed is reconciled by its
// message metadata before it is tried again. Files are split by effect
// kind: channel.go, post.go, upload.go, kickoff.go and catchup.go, with effects.go holding what they share.
//
// It must never import bbolt, etcd, cron or gobreaker directly, nor bot,
// signals, api, app or jobs.
package executor
