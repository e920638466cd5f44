package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/bot"
	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/slo"
)

// demoWorkspace plays the people of the script: it sends Ooda what Slack
// would send when they type, click, post and pin (signed with the app's
// signing secret), and keeps what each of them saw that nobody else did.
type demoWorkspace struct {
	fake     *slacktest.Server
	ooda     string // Ooda's base URL
	clock    *resiliencetest.Clock
	client   *http.Client
	announce string // the announcement channel's id
	// sloChannel is where Ooda posts SLO warnings.
	sloChannel string
	// traffic is what the demo's Prometheus answers from.
	traffic demoTraffic
	// responses stands in for Slack's response_url endpoint, on loopback,
	// so a follow-up never leaves the machine.
	responses *httptest.Server

	// The incident and its channel, once the declaration made them.
	incident uint64
	channel  string
	requests int // numbers trigger and event ids

	mu        sync.Mutex
	did       []demoDeed
	said      []demoSaid
	followUps []demoDeed      // ephemeral follow-ups on response_url
	form      *slacktest.View // the declare form open for submitting
	ticks     []slo.Report    // the SLO monitor's evaluations
}

// demoDeed is something a person did, with the reply only they saw.
type demoDeed struct {
	at         time.Time
	who, where string // where is set when it was not the incident channel
	what       string
	reply      string
}

// demoSaid is a person's message in the incident channel.
type demoSaid struct {
	ts, who, txt string
	pinnedBy     string
}

func newDemoWorkspace(fake *slacktest.Server, ooda string, clock *resiliencetest.Clock, announce, sloChannel string) *demoWorkspace {
	ws := &demoWorkspace{fake: fake, ooda: ooda, clock: clock, announce: announce, sloChannel: sloChannel, client: &http.Client{Timeout: 10 * time.Second}}
	ws.responses = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct{ Text string }
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, "not a message", http.StatusBadRequest)
			return
		}
		ws.mu.Lock()
		ws.followUps = append(ws.followUps, demoDeed{at: clock.Now(), who: strings.TrimPrefix(r.URL.Path, "/"), what: "(follow-up)", reply: msg.Text})
		ws.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	return ws
}

func (ws *demoWorkspace) close() {
	ws.responses.Close()
	ws.client.CloseIdleConnections()
}

// play performs one step of the script.
func (ws *demoWorkspace) play(ctx context.Context, s demoStep) error {
	user := demoID(s.who)
	switch {
	case s.declareFromSLO:
		return ws.declareFromSLO(ctx, user, s.who)
	case s.submitForm:
		return ws.submitForm(ctx, user, s.who)
	case s.cmd != "":
		return ws.command(ctx, user, s.who, s.cmd)
	case s.click != "":
		return ws.takeRole(ctx, user, s.who, s.click)
	case s.say != "":
		return ws.say(ctx, user, s.who, s.say)
	case s.pin:
		return ws.pin(ctx, user, s.who)
	}
	return fmt.Errorf("step of %s does nothing", s.who)
}

// mentionRE finds the @name mentions of the script.
var mentionRE = regexp.MustCompile(`@([a-z]+)`)

// command types /incident text: the slash command form Slack posts, with
// the text escaped as Slack escapes it and mentions as Slack expands them.
func (ws *demoWorkspace) command(ctx context.Context, user, who, text string) error {
	sent := mentionRE.ReplaceAllStringFunc(mrkdwn.Escape(text), func(at string) string {
		if id := demoID(at[1:]); id != "" {
			return "<@" + id + "|" + at[1:] + ">"
		}
		return at
	})
	channel := ws.channel
	if channel == "" {
		return errors.New("there is no incident channel to type in yet")
	}
	form := url.Values{
		"token":                 {demoVerificationToken},
		"team_id":               {demoTeamID},
		"team_domain":           {"ooda-demo"},
		"channel_id":            {channel},
		"channel_name":          {strings.TrimPrefix(ws.channelName(channel), "#")},
		"user_id":               {user},
		"user_name":             {who},
		"command":               {"/incident"},
		"text":                  {sent},
		"api_app_id":            {demoAppID},
		"is_enterprise_install": {"false"},
		"response_url":          {ws.responses.URL + "/" + who},
		"trigger_id":            {ws.triggerID()},
	}
	body, err := ws.send(ctx, "/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if err != nil {
		return err
	}
	var reply bot.SlashReply
	if err := json.Unmarshal(body, &reply); err != nil {
		return fmt.Errorf("reply to /incident %s: %w", text, err)
	}
	ws.record(demoDeed{at: ws.clock.Now(), who: who, what: "/incident " + text, reply: reply.Text})
	return nil
}

// takeRole clicks "I'll take it" for role r on the kickoff message.
func (ws *demoWorkspace) takeRole(ctx context.Context, user, who string, r roles.Role) error {
	value := strconv.FormatUint(ws.incident, 10) + ":" + string(r)
	msg, blockID, button, ok := ws.findButton(ws.channel, blockkit.ActionTakeRole, value)
	if !ok {
		return fmt.Errorf("no %q button offers %s in the incident channel", "I'll take it", r.Title())
	}
	if _, err := ws.click(ctx, user, who, msg, blockID, button); err != nil {
		return err
	}
	ws.record(demoDeed{at: ws.clock.Now(), who: who, what: "clicks " + controlLabel(button) + " on the kickoff message"})
	return nil
}

// click presses a button of a message: the block_actions payload Slack
// posts, built from the button as posted. It returns the interaction's
// trigger id, which lets Ooda open a form.
func (ws *demoWorkspace) click(ctx context.Context, user, who string, msg slacktest.Message, blockID string, button map[string]any) (string, error) {
	trigger := ws.triggerID()
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": demoTeamID, "domain": "ooda-demo"},
		"user":         map[string]any{"id": user, "username": who, "name": who, "team_id": demoTeamID},
		"api_app_id":   demoAppID,
		"token":        demoVerificationToken,
		"container":    map[string]any{"type": "message", "message_ts": msg.TS, "channel_id": msg.Channel, "is_ephemeral": false},
		"trigger_id":   trigger,
		"channel":      map[string]any{"id": msg.Channel, "name": strings.TrimPrefix(ws.channelName(msg.Channel), "#")},
		"message":      map[string]any{"type": "message", "user": msg.User, "text": msg.Text, "ts": msg.TS},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": ws.responses.URL + "/" + who,
		"actions": []map[string]any{{
			"action_id": button["action_id"], "block_id": blockID, "text": button["text"],
			"value": button["value"], "type": "button", "action_ts": slackTS(ws.clock.Now()),
		}},
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	form := url.Values{"payload": {string(b)}}
	_, err = ws.send(ctx, "/slack/interactivity", "application/x-www-form-urlencoded", []byte(form.Encode()))
	return trigger, err
}

// declareFromSLO presses "Declare incident" on the SLO warning, and waits
// for the declare form Ooda opens in the background with the trigger.
func (ws *demoWorkspace) declareFromSLO(ctx context.Context, user, who string) error {
	msg, blockID, button, ok := ws.findButton(ws.sloChannel, blockkit.ActionDeclareFromSignal, "")
	if !ok {
		return fmt.Errorf("no %q button in %s", "Declare incident", ws.channelName(ws.sloChannel))
	}
	trigger, err := ws.click(ctx, user, who, msg, blockID, button)
	if err != nil {
		return err
	}
	view, err := ws.awaitView(ctx, trigger)
	if err != nil {
		return err
	}
	fields, err := prefilled(view)
	if err != nil {
		return err
	}
	ws.mu.Lock()
	ws.form = &view
	ws.mu.Unlock()
	var shown []string
	for _, f := range fields {
		if f.shown != "" {
			shown = append(shown, f.label+" "+f.shown)
		}
	}
	ws.record(demoDeed{at: ws.clock.Now(), who: who, where: ws.channelName(ws.sloChannel),
		what: "clicks " + controlLabel(button) + " on the SLO warning", reply: "a declare form, prefilled: " + strings.Join(shown, " · ")})
	return nil
}

// awaitView waits for the modal Ooda opens with trigger: it opens it in
// the background of the click's acknowledgement, as Slack wants within
// three seconds.
func (ws *demoWorkspace) awaitView(ctx context.Context, trigger string) (slacktest.View, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, v := range ws.fake.Views() {
			if v.TriggerID == trigger {
				return v, nil
			}
		}
		select {
		case <-ctx.Done():
			return slacktest.View{}, errors.New("no form opened for the click within 5s")
		case <-tick.C:
		}
	}
}

// formField is one input of a form as Ooda prefilled it: the state Slack
// would send for it untouched, and how it reads.
type formField struct {
	block, action string
	label, shown  string
	state         map[string]any
}

// prefilled reads the inputs of a modal with the values Ooda put in them.
func prefilled(v slacktest.View) ([]formField, error) {
	var view struct {
		Blocks []struct {
			Type    string `json:"type"`
			BlockID string `json:"block_id"`
			Label   struct {
				Text string `json:"text"`
			} `json:"label"`
			Element struct {
				Type           string           `json:"type"`
				ActionID       string           `json:"action_id"`
				InitialValue   *string          `json:"initial_value"`
				InitialOption  map[string]any   `json:"initial_option"`
				InitialOptions []map[string]any `json:"initial_options"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(v.JSON, &view); err != nil {
		return nil, fmt.Errorf("the form Ooda opened: %w", err)
	}
	var fields []formField
	for _, b := range view.Blocks {
		if b.Type != "input" {
			continue
		}
		el := b.Element
		f := formField{block: b.BlockID, action: el.ActionID, label: b.Label.Text, state: map[string]any{"type": el.Type}}
		switch el.Type {
		case "plain_text_input":
			f.state["value"] = el.InitialValue
			if el.InitialValue != nil {
				f.shown = "“" + *el.InitialValue + "”"
			}
		case "static_select":
			f.state["selected_option"] = el.InitialOption
			if el.InitialOption != nil {
				text, _ := el.InitialOption["text"].(map[string]any)
				label, _ := text["text"].(string)
				label, _, _ = strings.Cut(label, " — ")
				f.shown = label
			}
		case "checkboxes":
			f.state["selected_options"] = append([]map[string]any{}, el.InitialOptions...)
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// submitForm submits the form the last press opened, with the values Ooda
// prefilled: the view_submission payload Slack posts.
func (ws *demoWorkspace) submitForm(ctx context.Context, user, who string) error {
	ws.mu.Lock()
	form := ws.form
	ws.form = nil
	ws.mu.Unlock()
	if form == nil {
		return errors.New("no form is open")
	}
	fields, err := prefilled(*form)
	if err != nil {
		return err
	}
	values := map[string]any{}
	for _, f := range fields {
		values[f.block] = map[string]any{f.action: f.state}
	}
	view := map[string]any{}
	if err := json.Unmarshal(form.JSON, &view); err != nil {
		return fmt.Errorf("the form Ooda opened: %w", err)
	}
	view["id"], view["hash"], view["team_id"], view["app_id"] = form.ID, form.Hash, demoTeamID, demoAppID
	view["state"] = map[string]any{"values": values}
	b, err := json.Marshal(map[string]any{
		"type":                  "view_submission",
		"team":                  map[string]any{"id": demoTeamID, "domain": "ooda-demo"},
		"user":                  map[string]any{"id": user, "username": who, "name": who, "team_id": demoTeamID},
		"api_app_id":            demoAppID,
		"token":                 demoVerificationToken,
		"trigger_id":            ws.triggerID(),
		"view":                  view,
		"response_urls":         []any{},
		"is_enterprise_install": false,
	})
	if err != nil {
		return err
	}
	answer, err := ws.send(ctx, "/slack/interactivity", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(b)}}.Encode()))
	if err != nil {
		return err
	}
	// An empty acknowledgement closes the form; anything else keeps it
	// open with a complaint beside a field.
	if len(bytes.TrimSpace(answer)) > 0 {
		return fmt.Errorf("the declare form was refused: %s", bytes.TrimSpace(answer))
	}
	ws.record(demoDeed{at: ws.clock.Now(), who: who, what: "submits the declare form as prefilled"})
	return nil
}

// findButton finds the button with actionID, and value unless it is
// empty, among a channel's messages, with the message and block that
// hold it.
func (ws *demoWorkspace) findButton(channel, actionID, value string) (slacktest.Message, string, map[string]any, bool) {
	for _, msg := range ws.fake.Messages(channel) {
		var blocks []map[string]any
		if json.Unmarshal(msg.Blocks, &blocks) != nil {
			continue
		}
		for _, b := range blocks {
			for _, el := range blockElements(b) {
				if el["action_id"] == actionID && (value == "" || el["value"] == value) {
					id, _ := b["block_id"].(string)
					return msg, id, el, true
				}
			}
		}
	}
	return slacktest.Message{}, "", nil, false
}

// blockElements are a block's interactive elements: its accessory and,
// in an actions block, its elements.
func blockElements(b map[string]any) []map[string]any {
	var out []map[string]any
	if a, ok := b["accessory"].(map[string]any); ok {
		out = append(out, a)
	}
	if els, ok := b["elements"].([]any); ok {
		for _, e := range els {
			if el, ok := e.(map[string]any); ok && el["action_id"] != nil {
				out = append(out, el)
			}
		}
	}
	return out
}

// say posts a person's message in the incident channel. Slack delivers
// it to Ooda as a message event, which goes into the transcript.
func (ws *demoWorkspace) say(ctx context.Context, user, who, text string) error {
	now := ws.clock.Now()
	ts := slackTS(now)
	event := map[string]any{
		"type": "message", "channel": ws.channel, "user": user, "text": mrkdwn.Escape(text),
		"ts": ts, "event_ts": ts, "channel_type": "channel",
	}
	if err := ws.sendEvent(ctx, event, now); err != nil {
		return err
	}
	ws.mu.Lock()
	ws.said = append(ws.said, demoSaid{ts: ts, who: who, txt: text})
	ws.mu.Unlock()
	ws.record(demoDeed{at: now, who: who, what: "says: “" + text + "”"})
	return nil
}

// pin pins the last message said: a pin_added event carrying the message,
// as Slack sends it.
func (ws *demoWorkspace) pin(ctx context.Context, user, who string) error {
	ws.mu.Lock()
	if len(ws.said) == 0 {
		ws.mu.Unlock()
		return errors.New("nothing was said to pin")
	}
	said := &ws.said[len(ws.said)-1]
	said.pinnedBy = who
	msg := *said
	ws.mu.Unlock()
	now := ws.clock.Now()
	event := map[string]any{
		"type": "pin_added", "user": user, "channel_id": ws.channel,
		"item": map[string]any{
			"type": "message", "channel": ws.channel,
			"message": map[string]any{
				"type": "message", "user": demoID(msg.who), "text": mrkdwn.Escape(msg.txt), "ts": msg.ts,
				"permalink": "https://ooda-demo.slack.com/archives/" + ws.channel + "/p" + strings.ReplaceAll(msg.ts, ".", ""),
				"pinned_to": []string{ws.channel},
			},
			"created": now.Unix(), "created_by": user,
		},
		"event_ts": slackTS(now),
	}
	if err := ws.sendEvent(ctx, event, now); err != nil {
		return err
	}
	ws.record(demoDeed{at: now, who: who, what: "pins " + msg.who + "'s message"})
	return nil
}

// sendEvent wraps an event in the Events API envelope and posts it.
func (ws *demoWorkspace) sendEvent(ctx context.Context, event map[string]any, at time.Time) error {
	ws.requests++
	b, err := json.Marshal(map[string]any{
		"token": demoVerificationToken, "team_id": demoTeamID, "api_app_id": demoAppID,
		"event": event, "type": "event_callback", "authed_users": []string{demoBotUserID},
		"event_id": fmt.Sprintf("Ev0DEMO%04d", ws.requests), "event_time": at.Unix(),
	})
	if err != nil {
		return err
	}
	_, err = ws.send(ctx, "/slack/events", "application/json", b)
	return err
}

// send posts a body to Ooda signed as Slack signs it, at the simulated
// time, and returns the answer of a 200.
func (ws *demoWorkspace) send(ctx context.Context, path, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ws.ooda+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	bot.SignRequest(req.Header, demoSigningSecret, ws.clock.Now(), body)
	resp, err := ws.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(answer))
	}
	return answer, nil
}

// triggerID is a fresh trigger id shaped like Slack's.
func (ws *demoWorkspace) triggerID() string {
	ws.requests++
	return fmt.Sprintf("%d.%d.0demo%04d", ws.clock.Now().Unix(), 738474920, ws.requests)
}

func (ws *demoWorkspace) record(d demoDeed) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.did = append(ws.did, d)
}

// channelName is "#name" of a channel id, or the id.
func (ws *demoWorkspace) channelName(id string) string {
	if ch, ok := ws.fake.Channel(id); ok {
		return "#" + ch.Name
	}
	return id
}

// slackTS is a Slack timestamp ("1764165900.000000") of t.
func slackTS(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}
