// Package storage is the bbolt implementation of the stores the domain
// asks for (incident.Store and incident.Outbox): one file, opened with a
// lock timeout, fsynced on every commit.
//
// The file holds these buckets (numbers are uint64 big-endian, so byte
// order is numeric order; values are JSON):
//
//	meta         schema -> schema version; next_incident -> the next incident number
//	incidents    number -> snapshot: the incident.Incident its events fold to
//	events/<n>   seq -> timeline.Event, binary (eventcodec.go); one nested bucket per incident, seq contiguous from 1
//	channels     Slack channel id -> number, kept in step with snapshots' ChannelID
//	dedupe       idempotency key -> {incident, first_seq, count, first_seen}
//	outbox       outbox seq (bucket sequence) -> incident.Pending
//	effects      effect key -> incident.Outcome of a completed effect
//	transcript/<n>  Slack message ts -> TranscriptMessage (text, edits, deleted flag)
//	slo          SLO id ("service/name") -> slo.State: level, since, last notice, freeze
//	people       Slack member ID -> people.Person: names, time zone, when Slack last described them
//	sessions     session ID (hex SHA-256 of the cookie's secret) -> Session: the web UI's signed-in people
//
// effects is not in the design's table: it keeps what a completed effect
// produced (a channel id, a message ts) under the effect's key after its
// outbox entry is gone, so a later effect can update the message an
// earlier one posted instead of posting again.
//
// A command is one transaction: its events, the snapshot they produce, its
// idempotency key and the effects it queues are committed together or not
// at all (a transactional outbox). Concurrent commands share transactions
// through bbolt's Batch, so many writers cost one fsync per batch; a lone
// writer commits at once rather than wait for a batch to fill.
//
// A commit that changes incidents (their events, snapshots or
// transcripts) tells WatchIncidents which ones after it returns, never
// before: bbolt may run a batched closure twice, and a watcher told of a
// change must find it when it reads. One process owns the file, so these
// in-process notices cover every writer.
//
// Open migrates the file to the current schema in one transaction, running
// the steps listed in migrations() that the file has not had. It refuses a
// file in use by another process, a damaged or foreign file, and a file a
// newer ooda wrote, with errors that say what to do.
package storage
