// Package signals is what tells people something is wrong before anyone
// declared an incident: Alertmanager's webhook in (AlertReceiver) and SLO
// notices out (SLODeliverer). A signal for a service with an open
// incident becomes an observe entry in it; otherwise it is posted once
// (by metadata) with a "Declare incident" button. Alerts are shown one
// message per Alertmanager group, kept current with chat.update.
//
// It must never import bbolt, etcd, cron or gobreaker, nor bot, executor,
// api, app or jobs.
package signals
