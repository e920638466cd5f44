// Package bot is Ooda's edge: the HTTP server (health, metrics, the REST
// API and, in later issues, Slack's inbound requests) and the effects
// executor that performs what the domain asks of Slack. It imports the
// domain; the domain never imports it.
package bot
