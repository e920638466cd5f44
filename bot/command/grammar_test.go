package command

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text string
		want Command
	}{
		{"", Command{Verb: "help"}},
		{"help status", Command{Verb: "help", Topic: "status"}},
		{"declare sev1 --private --service checkout Checkout  is down", Command{Verb: "declare", Severity: 1, Private: true, Service: "checkout", Title: "Checkout  is down"}},
		{"declare --service=api SEV-2 API errors", Command{Verb: "declare", Severity: 2, Service: "api", Title: "API errors"}},
		{"declare Severe latency in checkout", Command{Verb: "declare", Title: "Severe latency in checkout"}},
		{"declare", Command{Verb: "declare"}},
		{"declare\u2003Checkout down", Command{Verb: "declare", Title: "Checkout down"}},
		{"role commander <@U0123ABC|alice>", Command{Verb: "role", Role: roles.Commander, User: "U0123ABC"}},
		{"role INC-7 ops <@U0123ABC>", Command{Verb: "role", Incident: 7, Role: roles.Ops, User: "U0123ABC"}},
		// A handle or display name is kept as typed, for the dispatcher
		// to resolve through the directory.
		{"role comms @alice", Command{Verb: "role", Role: roles.Comms, User: "@alice"}},
		{"role ops @Alice.Chen-2", Command{Verb: "role", Role: roles.Ops, User: "@Alice.Chen-2"}},
		{"declare --commander @alice sev2 Checkout down", Command{Verb: "declare", Commander: "@alice", Severity: 2, Title: "Checkout down"}},
		{"declare sev1 --commander=<@U0ALICE|alice> Checkout down", Command{Verb: "declare", Commander: "U0ALICE", Severity: 1, Title: "Checkout down"}},
		{"declare --commander @U0BOB --private DB down", Command{Verb: "declare", Commander: "U0BOB", Private: true, Title: "DB down"}},
		{"status INC-7 monitoring", Command{Verb: "status", Incident: 7, Status: incident.StatusMonitoring}},
		{"sev sev2", Command{Verb: "sev", Severity: 2}},
		{"severity 4", Command{Verb: "sev", Severity: 4}},
		{"orient --cause pool size default of 2", Command{Verb: "orient", Phase: timeline.PhaseOrient, Cause: true, Text: "pool size default of 2"}},
		{"note\vhello world", Command{Verb: "note", Text: "hello world"}},
		{"observe INC-3 5xx at 38%\nsince 14:02", Command{Verb: "observe", Incident: 3, Phase: timeline.PhaseObserve, Text: "5xx at 38%\nsince 14:02"}},
		{"action Make pool size configurable <@U0CAROL> p1", Command{Verb: "action", Text: "Make pool size configurable", Owner: "U0CAROL", Priority: "P1"}},
		{"action block the scraper at the WAF", Command{Verb: "action", Text: "block the scraper at the WAF"}},
		{"action rotate the key @U0CAROL0001", Command{Verb: "action", Text: "rotate the key", Owner: "U0CAROL0001"}},
		{"action move to the P9 rack P1", Command{Verb: "action", Text: "move to the P9 rack", Priority: "P1"}},
		{"action page @alice about it", Command{Verb: "action", Text: "page @alice about it"}},
		{"action fix the pool @alice P2", Command{Verb: "action", Text: "fix the pool", Owner: "@alice", Priority: "P2"}},
		{"action upgrade the PSU", Command{Verb: "action", Text: "upgrade the PSU"}},
		{"resolve", Command{Verb: "resolve"}},
		{"resolve INC-2 rolled back", Command{Verb: "resolve", Incident: 2, Text: "rolled back"}},
		{"ls", Command{Verb: "list"}},
		{"list sev1", Command{Verb: "list", Severity: 1}},
		{"list page 3", Command{Verb: "list", Page: 3}},
		{"list PAGE 2 SEV-2", Command{Verb: "list", Severity: 2, Page: 2}},
		{"postmortem", Command{Verb: "postmortem"}},
		{"postmortem INC-7", Command{Verb: "postmortem", Incident: 7}},
		{"post-mortem", Command{Verb: "postmortem"}},
		{"postmortem publish https://wiki.example.com/pm/7", Command{Verb: "postmortem publish", Text: "https://wiki.example.com/pm/7"}},
		// Slash commands deliver links wrapped, with or without a label.
		{"postmortem publish <https://wiki.example.com/pm/7?a=1&b=2>", Command{Verb: "postmortem publish", Text: "https://wiki.example.com/pm/7?a=1&b=2"}},
		{"postmortem publish <http://wiki/pm/7|wiki/pm/7>", Command{Verb: "postmortem publish", Text: "http://wiki/pm/7"}},
		{"postmortem INC-7 PUBLISH https://wiki.example.com/pm/7", Command{Verb: "postmortem publish", Incident: 7, Text: "https://wiki.example.com/pm/7"}},
		{"postmortem publish INC-7 https://wiki.example.com/pm/7", Command{Verb: "postmortem publish", Incident: 7, Text: "https://wiki.example.com/pm/7"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := ParseCommand(tt.text)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseCommandErrorsSayWhatToType(t *testing.T) {
	tests := []struct{ text, want string }{
		{"frobnicate", "is not an /incident command"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"declare sev9 Broken", "use sev1 (worst) to sev4"},
		{"declare sev2", "needs a title"},
		{"declare --service", "--service needs a name"},
		{"declare --loud x", "not a declare option"},
		{"role commander alice", "name the person after an @, by their Slack handle, display name or member ID: `role commander @U0123ABCD`"},
		{"role ops URL", "Copy member ID"},
		{"role comms @<alice>", "name the person after an @"},
		{"role comms @", "name the person after an @"},
		{"declare --commander", "--commander needs a person"},
		{"declare --commander alice Checkout down", "--commander names one person"},
		{"declare --commander @U0A --commander @U0B Checkout down", "--commander names one person"},
		{"declare --commander @U0A", "needs a title"},
		{"action fix the pool P9", "priority is P0–P3"},
		{"action fix the pool p4", "priority is P0–P3"},
		{"action fix the pool P10 @U0CAROL", "priority is P0–P3"},
		{"action fix the pool @<alice>", "name the owner after an @"},
		{"role captain <@U0123ABC>", "use commander, comms or ops"},
		{"role commander", "name a role and a person"},
		{"status", "say which status"},
		{"status closed", "set by Ooda"},
		{"status fixed", "is not a status"},
		{"sev 5", "use 1 (worst) to 4"},
		{"observe", "write what you saw"},
		{"update", "write the update"},
		{"roles extra", "takes no text"},
		{"status INC-x monitoring", "not an incident number"},
		{"action <@U0123ABC>", "describe the follow-up"},
		{"postmortem now", "is not a postmortem option"},
		{"postmortem publish", "give the one link"},
		{"postmortem publish https://a.example https://b.example", "give the one link"},
		{"postmortem publish wiki/pm/7", "is not a web link"},
		{"postmortem publish ftp://files.example/pm.md", "is not a web link"},
		{"postmortem publish <javascript:alert(1)>", "is not a web link"},
		{"postmortem publish <!channel>", "is not a web link"},
		{"postmortem publish https://user:pw@wiki.example/pm", "is not a web link"},
		{"postmortem INC-x", "not an incident number"},
		{"list sev7", "use sev1 (worst) to sev4: `/incident list sev1`"},
		{"list page", "say which page: `/incident list page 2`"},
		{"list page 0", "pages count from 1"},
		{"list page two", "is not a page number"},
		{"list page 99999999999999999999999", "is not a page number"},
		{"list page 2 page 3", "is not a list option: `/incident list [sev1..sev4] [page N]`"},
		{"list sev1 sev2", "is not a list option"},
		{"list open", "is not a list option"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := ParseCommand(tt.text)
			var ue *UsageError
			require.ErrorAs(t, err, &ue)
			require.Contains(t, ue.Msg, tt.want)
			require.NotContains(t, ue.Msg, "<!", "user text is echoed escaped")
			require.NotContains(t, ue.Msg, "alice", "an unresolvable handle is not shown back as what to type")
		})
	}
}
