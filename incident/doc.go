// Package incident is Ooda's domain: an incident is an append-only log of
// events and its current state is a fold over that log. Commands validate
// against the state and return the events they add plus the effects those
// events require (create a channel, post a message, set a topic). The
// package performs no I/O: adapters store the events and perform the
// effects.
package incident
