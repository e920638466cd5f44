package demo

import (
	"time"

	"github.com/ooda-sre/ooda/roles"
)

// demoPerson is someone in the demo workspace: their handle, and the full
// name the post-mortem shows.
type demoPerson struct{ id, name, realName string }

// demoCast are the responders of the scripted incident.
var demoCast = []demoPerson{
	{"U0DEMOALICE", "alice", "Alice Chen"}, {"U0DEMOBOB", "bob", "Bob Okafor"},
	{"U0DEMOCAROL", "carol", "Carol Diaz"}, {"U0DEMODAVE", "dave", "Dave Lindqvist"},
}

// demoName shows a user id as the name people know; Ooda's own id and
// unknown ids stay as they are.
func demoName(id string) string {
	if id == demoBotUserID {
		return "ooda"
	}
	for _, p := range demoCast {
		if p.id == id {
			return p.name
		}
	}
	return id
}

// demoID is the user id of a cast member's name, or "".
func demoID(name string) string {
	for _, p := range demoCast {
		if p.name == name {
			return p.id
		}
	}
	return ""
}

// demoStep is one thing a person does in Slack, or Ooda's SLO monitor
// does on its own, at an offset from the declaration. Exactly one of tick,
// declareFromSLO, submitForm, cmd, click, say and pin is set.
type demoStep struct {
	at  time.Duration
	who string
	// tick is a turn of the SLO monitor, as `ooda serve` runs every minute.
	tick bool
	// declareFromSLO presses "Declare incident" on the SLO warning.
	declareFromSLO bool
	// submitForm submits the declare form the press opened, as prefilled.
	submitForm bool
	// cmd is an /incident command as typed in the incident's channel;
	// @name mentions a cast member.
	cmd string
	// click presses "I'll take it" for this role on the kickoff message.
	click roles.Role
	// say is a message posted in the incident channel.
	say string
	// pin pins the last message said.
	pin bool
}

// demoPostmortemURL is where the team publishes the demo's post-mortem.
const demoPostmortemURL = "https://wiki.example.com/pm/inc-2"

var demoScript = []demoStep{
	{at: -30 * time.Second, who: "ooda", tick: true},
	{at: -20 * time.Second, who: "alice", declareFromSLO: true},
	{at: 0, who: "alice", submitForm: true},
	{at: 1 * time.Minute, who: "alice", cmd: "observe 5xx rate on checkout-api at 38%, p99 latency 4.2s; started 14:02 per the dashboard"},
	{at: 2 * time.Minute, who: "bob", click: roles.Comms},
	{at: 3 * time.Minute, who: "alice", cmd: "role ops @carol"},
	{at: 4 * time.Minute, who: "alice", cmd: "orient only checkout-api is failing; payments and cart are healthy"},
	{at: 5*time.Minute + 30*time.Second, who: "carol", say: "5xx by pod: all failing pods run v2.31.0 (the 14:00 deploy); v2.30.4 pods are clean"},
	{at: 6 * time.Minute, who: "alice", pin: true},
	{at: 6*time.Minute + 30*time.Second, who: "carol", cmd: "orient errors are all from pods on the 14:00 deploy (v2.31.0); older pods are healthy"},
	{at: 7 * time.Minute, who: "bob", cmd: "update Checkout is failing for about a third of customers. We are investigating a recent deploy."},
	{at: 8 * time.Minute, who: "alice", cmd: "impact about 38% of checkout attempts fail with 502"},
	{at: 9 * time.Minute, who: "alice", cmd: "status identified"},
	{at: 10 * time.Minute, who: "alice", cmd: "decide roll back checkout-api to v2.30.4 rather than fix forward"},
	{at: 11 * time.Minute, who: "carol", cmd: "act rollback to v2.30.4 started (deploy #8812)"},
	{at: 12 * time.Minute, who: "carol", cmd: "act paused the checkout-api deploy pipeline"},
	// #15 is the number `/incident timeline` shows for carol's rollback
	// entry at 11 min: she corrects the deploy's number, and the
	// post-mortem ends with the audit note.
	{at: 13 * time.Minute, who: "carol", cmd: "amend #15 rollback to v2.30.4 started (deploy #8813)"},
	{at: 14 * time.Minute, who: "carol", cmd: "observe rollback complete; 5xx rate falling, 4% and dropping"},
	{at: 15 * time.Minute, who: "alice", cmd: "status monitoring"},
	{at: 16 * time.Minute, who: "alice", cmd: "role commander @dave"},
	{at: 18 * time.Minute, who: "dave", cmd: "orient --cause v2.31.0 shipped a connection-pool default of 2; the pool exhausts under lunch traffic"},
	{at: 20 * time.Minute, who: "bob", cmd: "update A rollback has restored checkout. We are monitoring."},
	{at: 22 * time.Minute, who: "bob", cmd: "observe support tickets about failed checkouts have stopped coming in"},
	{at: 41 * time.Minute, who: "carol", cmd: "observe error rate at baseline (0.02%) for 20 minutes"},
	{at: 42 * time.Minute, who: "dave", cmd: "decide keep v2.31.0 off production until the pool size is configurable"},
	{at: 43 * time.Minute, who: "dave", cmd: "action Make the connection-pool size a config value with a load-tested default @carol"},
	{at: 43*time.Minute + 30*time.Second, who: "dave", cmd: "action Add a load test of checkout to the deploy pipeline @alice P1 due +14d"},
	{at: 44*time.Minute + 30*time.Second, who: "dave", cmd: "note thanks all; post-mortem draft to follow"},
	{at: 45 * time.Minute, who: "dave", cmd: "resolve Rolled back checkout-api v2.31.0; its connection-pool default exhausted under load."},
	{at: 46 * time.Minute, who: "dave", cmd: "postmortem"},
	{at: 75 * time.Minute, who: "dave", cmd: "postmortem publish " + demoPostmortemURL},
}
