// Package web is Ooda's web UI, served under / beside the API: the
// incidents (filtered, paged), one incident with its minute-by-minute
// timeline kept live through Server-Sent Events, a command box that runs
// /incident commands as the signed-in person (through Commands, the same
// dispatcher as Slack and the API), and its post-mortem; the insights
// over a range of days as charts and tables with CSV downloads; the SLOs
// with their burn rates, budgets, freezes and charts (from the latest
// evaluation, and Prometheus through an SLOSource, whose charts are kept
// a minute); all behind Sign in with Slack (OpenID Connect) and the
// access rule every transport applies (incident.Incident.Admits, for the
// signed-in Slack user).
//
// Pages are server-rendered with html/template from files embedded with
// go:embed, usable without JavaScript; one small script, served from the
// binary, adds live updates. Nothing is fetched from anywhere else, and a
// strict Content-Security-Policy says so. Sessions are records in the
// store, so every replica honours them and revoking one takes effect
// everywhere; live updates come from the store's change feed, so they
// follow commands committed by any replica.
//
// It must never import slack-go, bbolt, etcd, cron or gobreaker, nor bot,
// executor, signals or app.
package web
