// Package jobs holds the scheduled work that has no Slack in it: the
// reminders and nudges the roles policy asks for (Reminders), the daily
// reminder of overdue action items to their owners (ActionReminders), and
// the bookkeeping of what an incident spent of its service's error budget
// (IncidentBudget). Each job is a plain function of (ctx, now); app's
// scheduler decides when it runs.
//
// It must never import slack-go, bbolt, etcd, cron or gobreaker, nor the
// Slack edge (bot/...), api or app.
package jobs
