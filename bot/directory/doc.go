// Package directory is the Slack side of the workspace's people: it reads
// them from Slack (users.list, a page at a time, and users.info for one
// unknown member ID), through the Slack guard, keeps them in the store so
// names survive a Slack outage and a restart, and serves them from memory
// (a people.Directory) to everything that shows a person or resolves a
// typed @name.
//
// It must never import bbolt, etcd, cron, gobreaker, nor the parts of the
// edge that use it (bot, command, executor, signals, api, app).
package directory
