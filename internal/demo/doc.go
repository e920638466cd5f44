// Package demo plays `ooda demo`: a scripted incident through the wiring
// `ooda serve` runs (package app), against a fake Slack Web API and a fake
// Prometheus on loopback, with a simulated clock, and shows what people
// would have seen. It links the test fakes, so only cmd/ooda's demo
// command imports it: `ooda serve` never reaches it.
package demo
