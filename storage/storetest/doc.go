// Package storetest holds the conformance suite of Ooda's stores: every
// behaviour a storage.Store promises (incidents and their events,
// idempotency keys, the outbox and effect results, dedupe expiry,
// transcripts, SLO states, the workspace's people, backups), proved once, as subtests that each
// backend runs against stores it opens (Run). It is to the backends what
// Alertmanager's notify/test is to its receivers: one table they are all
// held to, so a second backend keeps the first one's guarantees by passing
// the same tests, not by having its own.
//
// The suite speaks to a store only through storage.Store and reads a
// store's backup only through storage.Open, so it holds every backend to
// the interface and none to another's layout. It must never import a
// backend's library — go.etcd.io/bbolt, go.etcd.io/etcd/... — nor
// storagetest, which opens bbolt files; nor slack-go, cron or gobreaker.
// What is particular to one backend (bbolt's file format, its lock,
// schema migrations, crashes of the process holding the file) is tested
// beside that backend, not here.
package storetest
