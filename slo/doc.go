// Package slo is the math of service level objectives, without I/O: it
// reads SLO files in the forms teams already write them (Load, Read, Parse:
// Sloth's prometheus/v1 spec, its Kubernetes PrometheusServiceLevel,
// OpenSLO v1alpha and v1), each problem said in words and keeping out only
// the SLO it names; it works out the multiwindow multi-burn-rate windows
// of the SRE Workbook ("Alerting on SLOs") and the PromQL that measures an
// SLO over each (WindowQuery), and
// from those measurements decides, per SLO, whether someone should be
// paged, given a ticket, or told that the data is missing (Assess). It also
// keeps the error-budget policy: Track folds each evaluation into an SLO's
// State and says what to announce, and a service whose budget over the
// period is spent is frozen until the budget comes back (ServiceFreeze).
// WriteTable and the Format functions render the results; OwnSpec and
// OwnStatus are Ooda's SLO on itself.
//
// Checking a query's PromQL beyond its template, its {{.window}}, its
// brackets and its quotes is Prometheus's: a query it refuses is a
// configuration error of its SLO (LevelConfigError, ErrBadQuery), never
// an outage. Prometheus's own parser would bring its module into every
// build.
//
// Sending the queries is package slo/prom's: its Evaluator measures the
// SLOs through Prometheus and its Monitor runs evaluate, track, announce
// and save every minute. This package defines what they exchange with the
// rest of Ooda (Report, Snapshot, State, StateStore, Notice, Deliver,
// Spent and the errors callers test for), so that storage and the Slack
// layer depend on the math, not on Prometheus.
//
// It must never import slo/prom, resilience, storage, bot, api or app, nor
// an I/O library: Prometheus's client_golang or common modules, gobreaker,
// slack-go, bbolt, cron, net/http. Reading SLO files with os and yaml is
// all the I/O it does; the freeze's HTTP handler is api's.
//
// # Windows and the SLO period
//
// Alerting windows follow Sloth's catalog of "SLO period windows". Each of
// the four alerts (page quick, page slow, ticket quick, ticket slow) is a
// long window, a short window and the share of the period's error budget
// it takes to fire, and its burn-rate threshold is derived from them:
//
//	threshold = budget share × period / long window
//
// For the 30-day period the Workbook's windows give 2 % × 720h / 1h = 14.4,
// 5 % × 720h / 6h = 6, 10 % × 720h / 1d = 3 and 10 % × 720h / 3d = 1. Sloth
// ships the same windows for 28 days, so its thresholds become 13.44, 5.6,
// 2.8 and 0.933: the budget each alert stands for is what stays fixed. For
// any other period Sloth needs a catalog entry of its own; Ooda instead
// scales the 30-day windows with the period (DESIGN.md: "windows scale with
// the SLO period"), which keeps both the budget shares and the 14.4/6/3/1
// thresholds. prom.Config.Windows takes a hand-written entry, with the same
// fields as Sloth's AlertWindows spec, when neither suits.
//
// # Levels
//
// Comparisons are strict (>). A window whose query returns nothing, or NaN,
// has no data: its burn is unknown, never 0, and an alert needs both of its
// windows known to fire. Events SLIs also count the requests in each window
// (the total query, a per-second rate in Sloth's convention, times the
// window: the increase); an alert whose long window saw fewer requests than
// the configured minimum does not fire, and the SLO is reported as low
// traffic instead of paging on one failed request.
package slo
