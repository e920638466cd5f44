// Package etcd keeps everything Ooda stores (storage.Store: incidents and
// their events, the outbox and effect results, idempotency keys, channel
// transcripts, SLO states, the workspace's people, the web UI's sessions)
// in etcd, so that several replicas of Ooda can share one store. The
// embedded bbolt file (package storage) stays the default; this backend
// keeps bbolt's guarantees, proved by the same conformance suite
// (storage/storetest).
//
// # Keys
//
// Every key lives under a prefix (default "/ooda/"). Numbers are 20-digit
// zero-padded decimals, so the byte order of keys is numeric order and a
// range read walks incidents and events in sequence. Values are JSON.
//
//	meta/schema                 layout version of the keys below
//	meta/next_incident          the number the next declaration gets
//	incidents/<n>               snapshot: the incident.Incident its events fold to
//	events/<n>/<seq>            timeline.Event; seq contiguous from 1
//	channels/<channel id>       incident number, kept in step with snapshots' ChannelID
//	dedupe/<idempotency key>    {incident, first_seq, count, first_seen, token}
//	outbox/<batch>/<index>      incident.Pending, one per queued effect
//	effects/<effect key>        incident.Outcome of a completed effect, and a token
//	transcript/<n>/<Slack ts>   storage.TranscriptMessage
//	slo/<SLO id>                slo.State
//	people/<member id>          people.Person, as Slack last described them
//	sessions/<session id>       storage.Session of the web UI; the id is the hex SHA-256 of the cookie's secret
//
// # Commands
//
// A command (Declare, Apply, and Complete with a Decide) is read, decided
// and written in one etcd transaction: its events, the snapshot they
// produce, the channel index, its idempotency key and the effects it
// queues. The transaction compares the snapshot's mod revision with the
// one the decision was made on and requires the idempotency key to be new
// (create revision 0); a declaration also compares the counter's revision,
// so it takes the number by compare-and-swap. When a compare fails, the
// whole read-decide-write runs again, a bounded number of times
// (ErrContention after that). Because every event continues the snapshot
// it was decided on, sequences stay contiguous whatever the number of
// writers and processes. Commands on one incident are also serialized
// within a process, so optimistic retries only happen between replicas.
//
// The idempotency key's record names the events the command appended, so
// a key seen before returns the original events (and the current
// snapshot) with Duplicate set, from whichever replica answers. It also
// carries a random token per attempt: a write whose outcome is unknown (a
// deadline after sending) is resolved by reading the key back. Re-sending
// such a write is never blind: its compares make a second copy fail when
// the first one landed, and the token then tells whether it was this
// attempt's. That is why commits are marked idempotent for the guard.
//
// # Outbox
//
// The outbox is ordered by commit: by the create revision of an entry's
// key, then by the effect's index within its transaction (never by mod
// revision, which Defer changes). An effect's OutboxSeq is that pair,
// create revision << 8 | index, so sequences grow in commit order but are
// not contiguous. WatchOutbox tells a worker the moment any replica queues
// an effect.
//
// # Change feed
//
// WatchIncidents follows incidents/ and transcript/ with etcd watches from
// the revision current when it starts, so a web page served by one
// replica hears of a command another ran. Every command rewrites its
// incident's snapshot, so the snapshots stand for the events. A watch
// that fails (compacted away, cancelled, no leader) ends the call with its
// error; the caller re-reads and watches again.
//
// # Limits
//
// etcd allows 128 operations and 1.5 MiB per request; a command larger
// than that is refused before anything is sent, listings are read in
// pages at one revision, and SaveSLOStates writes more than 128 states in
// several transactions. Idempotency keys expire by a sweep (ExpireDedupe),
// as in bbolt, not by leases.
//
// # Backups and moving data
//
// Dump and Load carry storage.Items, the form every backend reads and
// writes (ooda migrate). Backup reads every key at one revision, in pages,
// and writes a bbolt file in storage's format, built with storage.DB.Load,
// so a backup of etcd is what a backup of bbolt is: `ooda check` accepts
// it and `ooda serve --db` starts from it.
//
// # Failures
//
// Every call to etcd goes through a resilience.Guard (deadline, retries of
// idempotent calls, circuit breaker). When etcd cannot be reached the
// calls fail fast with errors matching ErrUnreachable; nothing is
// acknowledged that was not committed.
//
// It must never import slack-go, cron, gobreaker (only through
// resilience), bot, api or app.
package etcd
