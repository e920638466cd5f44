// Package app builds Ooda from its validated configuration and runs it:
// New wires every part (store, guards, dispatcher, API, Slack handler,
// executor, SLO monitor, alert receiver); Run serves HTTP and supervises
// every long-lived worker (Socket Mode, the executor, the scheduler, the
// alert receiver), restarting one that fails with backoff. Work that must
// run in one process only is gated by a Leadership: Always with the
// embedded bbolt store.
//
// It is the one place that knows every part, and the only importer of
// cron. Nothing imports app but cmd/ooda and internal/demo.
package app
