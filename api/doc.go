// Package api is Ooda's HTTP surface outside Slack: the REST API under
// /api/v1 (commands through the same dispatcher as Slack, incidents,
// post-mortems, the freeze, status, backups), /healthz, /readyz and
// /metrics, with bearer-token authentication. Slack's endpoints and the
// Alertmanager webhook are registered on the same mux by their owners.
//
// It must never import slack-go, bbolt, etcd, cron or gobreaker, nor bot,
// executor, signals or app.
package api
