// Package prom measures the SLOs of package slo through Prometheus and
// keeps watching them: the Evaluator sends each SLO's window queries as
// instant queries through the Prometheus guard of package resilience (its
// timeout, breaker and bulkhead), at most Config.Concurrency at once, and
// remembers the last report so that readers get an answer at once
// whatever Prometheus is doing; it also measures the budget an interval
// spent (BudgetSpent) and, for charts, an SLO's error ratio and budget
// over a range, one range query each (ErrorRatioRange, BudgetRange), and
// draws them as package chart's lines (Charts, RecentChart). The
// Monitor is the long-lived worker around it: Tick evaluates, folds each
// result into the SLO's stored state with slo.Track, delivers the notices
// and saves the states.
// OwnSLO and OwnCollector measure Ooda's own SLO on a histogram of its own,
// through client_golang's registry.
//
// The math (windows, burn rates, levels, the freeze policy) is package
// slo's, and so are the types this package returns; this package only adds
// what talks to Prometheus or runs. It must never import slack-go, bbolt,
// cron, gobreaker (it reaches the breaker through resilience only), nor
// Ooda's adapters (bot, api, app, storage): the Slack layer is a
// slo.Deliver and the store a slo.StateStore, both given to it.
package prom
