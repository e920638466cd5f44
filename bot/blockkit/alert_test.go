package blockkit

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
)

// alertOn is a HighErrorRate alert of checkout on instance i.
func alertOn(i int, resolved bool) Alert {
	a := Alert{
		Name: "HighErrorRate", Summary: "5xx ratio above 5% on checkout", Service: "checkout",
		StartsAt:     renderT0.Add(time.Duration(i) * time.Minute),
		GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=up",
		Labels: map[string]string{"alertname": "HighErrorRate", "service": "checkout", "severity": "critical",
			"instance": fmt.Sprintf("checkout-%d:8080", i)},
	}
	if resolved {
		a.Resolved, a.Span = true, "fired 09:00–09:30 UTC"
	}
	return a
}

// sectionText is the text of a message's first block.
func sectionText(t *testing.T, m Message) string {
	t.Helper()
	b, err := json.Marshal(m.Blocks)
	require.NoError(t, err)
	var blocks []struct {
		Text struct{ Text string } `json:"text"`
	}
	require.NoError(t, json.Unmarshal(b, &blocks))
	require.NotEmpty(t, blocks)
	return blocks[0].Text.Text
}

func TestAlertGroupSignal(t *testing.T) {
	tests := []struct {
		name    string
		group   AlertGroup
		text    string   // the fallback text
		section []string // in the first block
		absent  []string
		button  bool
	}{
		{
			name:    "one alert reads as one",
			group:   AlertGroup{Alerts: []Alert{alertOn(1, false)}},
			text:    "Alert firing: HighErrorRate (service checkout)",
			section: []string{":bell: *Alert firing: HighErrorRate* · service `checkout` · severity critical", "> 5xx ratio above 5% on checkout"},
			absent:  []string{"• "},
			button:  true,
		},
		{
			name:    "a group lists what tells its alerts apart",
			group:   AlertGroup{Alerts: []Alert{alertOn(1, false), alertOn(2, false), alertOn(3, true)}},
			text:    "Alerts firing: HighErrorRate, 2 firing, 1 resolved (service checkout): instance=checkout-1:8080; instance=checkout-2:8080",
			section: []string{"*Alerts firing: HighErrorRate* · 2 firing, 1 resolved", "• `instance=checkout-1:8080` since 09:01 UTC", "• :white_check_mark: `instance=checkout-3:8080` fired 09:00–09:30 UTC"},
			absent:  []string{"severity=critical`"},
			button:  true,
		},
		{
			name: "alerts of several names are named",
			group: AlertGroup{Alerts: []Alert{alertOn(1, false), func() Alert {
				a := alertOn(2, false)
				a.Name, a.Labels["alertname"] = "HighLatency", "HighLatency"
				return a
			}()}},
			text:    "Alerts firing: HighErrorRate and HighLatency, 2 firing (service checkout): HighErrorRate instance=checkout-1:8080; HighLatency instance=checkout-2:8080",
			section: []string{"• `HighLatency instance=checkout-2:8080`"},
			button:  true,
		},
		{
			name:    "alerts known by id only are counted",
			group:   AlertGroup{Alerts: []Alert{alertOn(1, false)}, UnnamedFiring: 3, UnnamedResolved: 1},
			section: []string{"4 firing, 1 resolved", "…and 4 more (3 firing)"},
			button:  true,
		},
		{
			name:    "all resolved",
			group:   AlertGroup{Alerts: []Alert{alertOn(1, true), alertOn(2, true)}},
			text:    "Resolved: HighErrorRate (service checkout)",
			section: []string{":white_check_mark: *Resolved: HighErrorRate* · all 2 alerts"},
		},
		{
			name:    "an open incident takes the button's place",
			group:   AlertGroup{Alerts: []Alert{alertOn(1, false), alertOn(2, false)}, Open: []incident.Incident{{ID: "INC-7", ChannelID: "C0INC7"}}},
			section: []string{"2 firing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := AlertGroupSignal(tt.group)
			if tt.text != "" {
				require.Equal(t, tt.text, m.Text)
			}
			s := sectionText(t, m)
			for _, want := range tt.section {
				require.Contains(t, s, want)
			}
			for _, not := range tt.absent {
				require.NotContains(t, s, not)
			}
			b, err := json.Marshal(m.Blocks)
			require.NoError(t, err)
			require.Equal(t, tt.button, strings.Contains(string(b), ActionDeclareFromSignal))
			if len(tt.group.Alerts) > 0 {
				require.Contains(t, string(b), `\u003chttp://prometheus.example:9090/graph?g0.expr=up|Source\u003e`, "the source is linked")
			}
			if len(tt.group.Open) > 0 {
				require.Contains(t, string(b), "Open for `checkout`: INC-7 \\u003c#C0INC7\\u003e")
			}
		})
	}
}

func TestAlertGroupTitle(t *testing.T) {
	g := AlertGroup{Alerts: []Alert{alertOn(1, false), alertOn(2, false), alertOn(3, true)}}
	require.Equal(t, "checkout: HighErrorRate firing (2 alerts)", g.Title())
	require.Equal(t, "checkout: HighErrorRate firing (2 alerts)", SignalTitle(signalBlockPrefix+"alert:"+g.Title(), "checkout"))
	g.Alerts[1].Service = "search"
	require.Equal(t, "HighErrorRate firing (2 alerts)", g.Title(), "no service: the group spans two")
}

func TestAlertGroupResolved(t *testing.T) {
	g := AlertGroup{Alerts: []Alert{alertOn(1, true), alertOn(2, false), alertOn(3, true)}}
	one := AlertGroupResolved(g, []Alert{alertOn(1, true)})
	require.Equal(t, "Resolved: HighErrorRate instance=checkout-1:8080 (fired 09:00–09:30 UTC).", one.Text)

	two := AlertGroupResolved(g, []Alert{alertOn(1, true), alertOn(3, true)})
	require.Equal(t, "2 alerts of HighErrorRate resolved, 1 still firing.", two.Text)
	require.Contains(t, sectionText(t, two), "• :white_check_mark: `instance=checkout-3:8080` fired 09:00–09:30 UTC")

	g.Alerts[1] = alertOn(2, true)
	all := AlertGroupResolved(g, []Alert{alertOn(2, true)})
	require.Equal(t, "Resolved: HighErrorRate instance=checkout-2:8080 (fired 09:00–09:30 UTC).", all.Text)
	all = AlertGroupResolved(g, g.Alerts)
	require.Equal(t, "All alerts of HighErrorRate resolved.", all.Text)
}

// TestAlertGroupLimits: however many alerts and however long their
// labels, the message stays within Slack's limits with its list intact.
func TestAlertGroupLimits(t *testing.T) {
	g := AlertGroup{}
	for i := range 500 {
		a := alertOn(i, i%3 == 0)
		a.Labels["pod"] = strings.Repeat("x", 1000) + hostileText
		a.Summary = strings.Repeat("long summary ", 400)
		g.Alerts = append(g.Alerts, a)
	}
	for _, m := range []Message{AlertGroupSignal(g), AlertGroupResolved(g, g.Alerts[:200])} {
		require.LessOrEqual(t, utf8.RuneCountInString(m.Text), maxFallbackText)
		require.LessOrEqual(t, len(m.Blocks), 50)
		s := sectionText(t, m)
		require.LessOrEqual(t, utf8.RuneCountInString(s), maxSectionText)
		require.Contains(t, s, "…and ", "the rest counted, not clipped away")
		requireNoMarkupFromUsers(t, "alert group", s)
	}
}
