// Package slackapi is the seam to Slack's Web API: the client (built
// without slack-go's own retry, since every call goes through a
// resilience guard), the small interfaces its callers declare against,
// the classifier that tells a guard what slack-go's errors mean, and the
// post-once-by-metadata step: a message carries its key in Slack message
// metadata, so a post whose answer was lost is found in the channel's
// history (ScanHistory, FindMarked) instead of being posted twice.
//
// It must never import bbolt, etcd, cron, gobreaker, nor the parts of the
// edge that use it (bot, command, executor, signals, api, app).
package slackapi
