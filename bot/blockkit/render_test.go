package blockkit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// hostileText is user text that would ping everyone, spoof a link and break
// an entity if the bot echoed it as it is.
const hostileText = "<!channel> see <https://evil.example|status.example.com> & <@U0ADMIN001>"

var renderT0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// renderStep is one command applied to the fixture's incident.
type renderStep func(inc *incident.Incident, m incident.Meta) (incident.Change, error)

// renderFixture declares INC-7 as alice, with hostile text in its
// description and service, applies steps a minute apart, and returns the
// incident (with a channel) and all its events.
func renderFixture(t *testing.T, title string, steps ...renderStep) (incident.Incident, []timeline.Event) {
	t.Helper()
	at := renderT0
	n := 0
	meta := func() incident.Meta {
		n++
		m := incident.Meta{At: at, Actor: alice, Source: timeline.SourceCommand, Key: "k" + strconv.Itoa(n)}
		at = at.Add(time.Minute)
		return m
	}
	ch, err := incident.Declare(7, incident.Declaration{Title: title, Severity: 2, Service: "check<out>", Description: hostileText}, meta())
	require.NoError(t, err)
	inc := incident.Replay(ch.Events)
	evs := ch.Events
	for _, s := range steps {
		c, err := s(&inc, meta())
		require.NoError(t, err)
		for _, e := range c.Events {
			inc.Apply(e)
		}
		evs = append(evs, c.Events...)
	}
	inc.ChannelID = "C0CHAN00001"
	return inc, evs
}

func entryStep(p timeline.Phase, text string, cause bool) renderStep {
	return func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(p, text, cause, m)
	}
}

func assignStep(r roles.Role, u string) renderStep {
	return func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.AssignRole(r, u, m) }
}

func nextMarkup(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '<')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// blocksJSON renders blocks as Slack receives them, without
// encoding/json's HTML escaping, which would hide a stray "<".
func blocksJSON(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(blocks))
	return b.String()
}

func requireNoMarkupFromUsers(t *testing.T, what, s string) {
	t.Helper()
	// The only markup Ooda writes is a mention or a channel link.
	for i := strings.IndexByte(s, '<'); i >= 0; i = nextMarkup(s, i) {
		require.True(t, strings.HasPrefix(s[i:], "<@U") || strings.HasPrefix(s[i:], "<#C"), "%s: stray markup at %q", what, s[i:min(len(s), i+20)])
	}
	require.NotContains(t, s, "<!channel>", what)
	require.NotContains(t, s, "<https://evil", what)
	require.NotContains(t, s, "<@U0ADMIN001>", what)
	require.NotContains(t, s, "<out>", what)
}

func TestRenderEscapesUserText(t *testing.T) {
	full, evs := renderFixture(t, "Checkout "+hostileText,
		entryStep(timeline.PhaseOrient, hostileText, true),
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetImpact(hostileText, m)
		},
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddAction(hostileText, bob, "", m)
		},
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.PostUpdate(hostileText, m)
		},
		assignStep(roles.Commander, carol),
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Resolve(hostileText, m)
		},
	)
	templates := map[timeline.Kind][]string{
		timeline.KindDeclared:     {incident.TemplateKickoff, incident.TemplateAnnounce},
		timeline.KindLoopEntry:    {incident.TemplateLine},
		timeline.KindImpactSet:    {incident.TemplateLine},
		timeline.KindActionAdded:  {incident.TemplateLine},
		timeline.KindUpdatePosted: {incident.TemplateUpdate},
		timeline.KindRoleAssigned: {incident.TemplateHandover, incident.TemplateLine},
		timeline.KindResolved:     {incident.TemplateResolved},
	}
	rendered := 0
	for i, e := range evs {
		for _, tmpl := range templates[e.Kind] {
			for _, announce := range []bool{false, true} {
				msg, err := Render(tmpl, PostContext{Event: e, Incident: full, Recent: evs[:i], Announce: announce})
				require.NoError(t, err)
				what := string(e.Kind) + "/" + tmpl
				require.NotEmpty(t, msg.Text, what)
				requireNoMarkupFromUsers(t, what+" text", msg.Text)
				requireNoMarkupFromUsers(t, what+" blocks", blocksJSON(t, msg.Blocks))
				rendered++
			}
		}
	}
	require.GreaterOrEqual(t, rendered, 20)
	msg, err := Render(incident.TemplateLine, PostContext{Event: evs[2], Incident: full})
	require.NoError(t, err)
	require.Equal(t, "[orient · root cause] <@"+alice+">: &lt;!channel&gt; see &lt;https://evil.example|status.example.com&gt; &amp; &lt;@U0ADMIN001&gt;", msg.Text)
	requireNoMarkupFromUsers(t, "topic", Topic(full))
}

func TestRenderKickoffOffersEmptyRolesOnly(t *testing.T) {
	inc, evs := renderFixture(t, "Checkout is down", assignStep(roles.Ops, bob))
	msg, err := Render(incident.TemplateKickoff, PostContext{Event: evs[0], Incident: inc})
	require.NoError(t, err)
	require.Equal(t, "INC-7 declared by <@"+alice+">: SEV2 “Checkout is down”. Commander: <@"+alice+">.", msg.Text)

	var buttons []*slack.ButtonBlockElement
	var menus []*slack.SelectBlockElement
	for _, b := range msg.Blocks {
		s, ok := b.(*slack.SectionBlock)
		if !ok || s.Accessory == nil {
			continue
		}
		if s.Accessory.ButtonElement != nil {
			buttons = append(buttons, s.Accessory.ButtonElement)
		}
		if s.Accessory.SelectElement != nil {
			menus = append(menus, s.Accessory.SelectElement)
		}
	}
	require.Len(t, buttons, 1, "Commander and Ops are held; only Comms is offered")
	require.Equal(t, ActionTakeRole, buttons[0].ActionID)
	require.Equal(t, "7:comms", buttons[0].Value)
	require.Len(t, menus, 1)
	require.Equal(t, ActionSetStatus, menus[0].ActionID)
	var values []string
	for _, o := range menus[0].Options {
		values = append(values, o.Value)
	}
	require.Equal(t, []string{"7:investigating", "7:identified", "7:monitoring", "7:resolved"}, values)
	require.Equal(t, "7:investigating", menus[0].InitialOption.Value)

	j := blocksJSON(t, msg.Blocks)
	for _, want := range []string{"/incident observe", "/incident orient", "/incident decide", "/incident act", "/incident update", "/incident resolve", "*Commander*: <@" + alice + ">", "*Ops*: <@" + bob + ">"} {
		require.Contains(t, j, want)
	}
	require.LessOrEqual(t, len(msg.Blocks), 50)
}

func TestRenderKickoffAllRolesEmpty(t *testing.T) {
	m := incident.Meta{At: renderT0, Actor: incident.Bot, Source: timeline.SourceAlert, Key: "alert"}
	ch, err := incident.Declare(3, incident.Declaration{Title: "HighErrorRate", Status: incident.StatusTriage}, m)
	require.NoError(t, err)
	inc := incident.Replay(ch.Events)
	msg, err := Render(incident.TemplateKickoff, PostContext{Event: ch.Events[0], Incident: inc})
	require.NoError(t, err)
	j := blocksJSON(t, msg.Blocks)
	require.Equal(t, 3, strings.Count(j, `"action_id":"ooda_take_role"`))
	require.NotContains(t, j, `"initial_option"`, "triage is not one of the menu's statuses")
	require.Contains(t, msg.Text, "Commander: nobody")
}

func TestRenderLines(t *testing.T) {
	inc, evs := renderFixture(t, "Checkout is down",
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.SetStatus(incident.StatusIdentified, m)
		},
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.SetSeverity(1, m) },
		entryStep(timeline.PhaseOrient, "db pool exhausted", false),
		entryStep(timeline.PhaseNone, "coffee", false),
		assignStep(roles.Ops, bob),
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddAction("add pool alert", bob, "P1", m)
		},
	)
	want := []string{
		"<@" + alice + "> set status: investigating → identified",
		"<@" + alice + "> set severity: SEV2 → SEV1",
		"[orient] <@" + alice + ">: db pool exhausted",
		"[note] <@" + alice + ">: coffee",
		"<@" + alice + "> made <@" + bob + "> Ops",
		"<@" + alice + "> added action 1 (P1, owner <@" + bob + ">): add pool alert",
	}
	var got []string
	for _, e := range evs[2:] {
		msg, err := Render(incident.TemplateLine, PostContext{Event: e, Incident: inc})
		require.NoError(t, err)
		got = append(got, msg.Text)
	}
	require.Equal(t, want, got)

	ann, err := Render(incident.TemplateLine, PostContext{Event: evs[2], Incident: inc, Announce: true})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ann.Text, "*INC-7* “Checkout is down” (<#C0CHAN00001>): "), ann.Text)
}

func TestRenderHandoverBrief(t *testing.T) {
	steps := []renderStep{}
	for _, s := range []string{"one", "two", "three", "four", "five", "six"} {
		steps = append(steps, entryStep(timeline.PhaseObserve, s, false))
	}
	steps = append(steps,
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddAction("add pool alert", "", "", m)
		},
		assignStep(roles.Commander, carol))
	inc, evs := renderFixture(t, "Checkout is down", steps...)
	last := evs[len(evs)-1]
	msg, err := Render(incident.TemplateHandover, PostContext{Event: last, Incident: inc, Recent: evs[:len(evs)-1]})
	require.NoError(t, err)
	require.Equal(t, "Handover: <@"+carol+"> is now Commander of INC-7 (investigating, SEV2).", msg.Text)
	j := blocksJSON(t, msg.Blocks)
	require.Contains(t, j, "taking over from <@"+alice+">")
	require.NotContains(t, j, "observe] <@"+alice+">: one", "only the last few entries")
	require.Contains(t, j, "[observe] <@"+alice+">: six")
	require.Contains(t, j, "1 (P2, no owner yet): add pool alert")
}

func TestRenderResolvedAndUpdate(t *testing.T) {
	inc, evs := renderFixture(t, "Checkout is down",
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.PostUpdate("Mitigated", m)
		},
		func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.Resolve("Rolled back v42", m)
		},
	)
	upd, err := Render(incident.TemplateUpdate, PostContext{Event: evs[2], Incident: inc, Announce: true})
	require.NoError(t, err)
	require.Equal(t, "INC-7 update (SEV2, resolved): Mitigated", upd.Text)
	require.Contains(t, blocksJSON(t, upd.Blocks), "<#C0CHAN00001>")
	res, err := Render(incident.TemplateResolved, PostContext{Event: evs[3], Incident: inc})
	require.NoError(t, err)
	require.Equal(t, "INC-7 resolved after 2 min. Summary: Rolled back v42", res.Text)
	require.Contains(t, blocksJSON(t, res.Blocks), "SEV2: a post-mortem is expected; `/incident postmortem` writes the draft.")
	ann, err := Render(incident.TemplateResolved, PostContext{Event: evs[3], Incident: inc, Announce: true})
	require.NoError(t, err)
	require.Contains(t, blocksJSON(t, ann.Blocks), "SEV2: a post-mortem is expected.", "no command hint outside the incident channel")

	inc.CustomerImpacting = true
	res, err = Render(incident.TemplateResolved, PostContext{Event: evs[3], Incident: inc})
	require.NoError(t, err)
	require.Contains(t, blocksJSON(t, res.Blocks), "Customer-impacting: a post-mortem is expected;")

	inc.CustomerImpacting, inc.Severity = false, 3
	res, err = Render(incident.TemplateResolved, PostContext{Event: evs[3], Incident: inc})
	require.NoError(t, err)
	require.NotContains(t, blocksJSON(t, res.Blocks), "post-mortem", "a SEV3 without customer impact owes none")
}

func TestRenderUnknownTemplate(t *testing.T) {
	_, err := Render("sonnet", PostContext{})
	require.ErrorContains(t, err, `unknown message template "sonnet"`)
}

func TestTopic(t *testing.T) {
	long := strings.Repeat("Checkout & payments <down> ", 10)[:incident.MaxTitle]
	longID := "W" + strings.Repeat("Z", 40)
	cases := []struct {
		name   string
		inc    incident.Incident
		prefix string
	}{
		{"short", incident.Incident{Title: "Checkout is down", Status: incident.StatusInvestigating, Severity: 2,
			Roles: roles.Holders{Commander: alice, Ops: bob}},
			"Investigating · SEV2 · Commander <@" + alice + "> · Comms — · Ops <@" + bob + "> · Checkout is down"},
		{"long title", incident.Incident{Title: long, Status: incident.StatusMonitoring, Severity: 1,
			Roles: roles.Holders{Commander: alice, Comms: carol, Ops: bob}},
			"Monitoring · SEV1 · Commander <@" + alice + "> · Comms <@" + carol + "> · Ops <@" + bob + "> · Checkout &amp; payments &lt;down&gt;"},
		{"long ids", incident.Incident{Title: long, Status: incident.StatusIdentified, Severity: 3,
			Roles: roles.Holders{Commander: longID, Comms: longID + "A", Ops: longID + "B"}},
			"Identified · SEV3 · Commander <@" + longID + "> · Comms <@" + longID + "A> · Ops <@" + longID + "B> · Checkout"},
		{"no title", incident.Incident{Status: incident.StatusInvestigating, Severity: 4},
			"Investigating · SEV4 · Commander — · Comms — · Ops —"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Topic(c.inc)
			require.LessOrEqual(t, utf8.RuneCountInString(got), MaxTopic, got)
			require.True(t, strings.HasPrefix(got, c.prefix), got)
			require.Equal(t, strings.Count(got, "<"), strings.Count(got, ">"), "no mention cut: %s", got)
			requireWholeEntities(t, got)
		})
	}
}

func TestClipNeverCutsMarkup(t *testing.T) {
	s := "abc <@U0ALICE0001> &amp; &lt;x&gt; done"
	for limit := 1; limit <= utf8.RuneCountInString(s)+1; limit++ {
		got := mrkdwn.Clip(s, limit)
		require.LessOrEqual(t, utf8.RuneCountInString(got), limit)
		require.Equal(t, strings.Count(got, "<"), strings.Count(got, ">"), "limit %d: %q", limit, got)
		requireWholeEntities(t, got)
	}
	require.Equal(t, s, mrkdwn.Clip(s, 100))
}

// requireWholeEntities fails if s ends an &…; entity early.
func requireWholeEntities(t *testing.T, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			continue
		}
		rest := s[i:]
		require.True(t, strings.HasPrefix(rest, "&amp;") || strings.HasPrefix(rest, "&lt;") || strings.HasPrefix(rest, "&gt;"),
			"cut entity in %q", s)
	}
}
