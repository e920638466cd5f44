package command_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// The Slack handler of these tests verifies requests signed with this
// secret.
const slackTestSecret = "ooda-test-signing-secret"

// slackRig is bot's Slack handler on a fresh database, its routes on a
// mux: the transport that times slash commands with transport "http".
type slackRig struct {
	t          testing.TB
	db         *storage.DB
	dispatcher *command.Dispatcher
	mux        *http.ServeMux
}

func newSlackRig(t testing.TB, tweaks ...func(*bot.SlackConfig)) *slackRig {
	t.Helper()
	db := storagetest.Open(t)
	cfg := bot.SlackConfig{
		SigningSecret: slackTestSecret,
		Dispatcher:    &command.Dispatcher{Store: db},
		Store:         db,
		Transcript:    db,
		BotUserID:     "U0BOT000001",
		Registerer:    prometheus.NewRegistry(),
	}
	for _, tw := range tweaks {
		tw(&cfg)
	}
	h, err := bot.NewSlackHandler(cfg)
	require.NoError(t, err)
	t.Cleanup(h.Close)
	mux := http.NewServeMux()
	h.Register(mux)
	return &slackRig{t: t, db: db, dispatcher: cfg.Dispatcher, mux: mux}
}

// command posts a slash command typed in channel, signed now.
func (r *slackRig) command(text, channel, trigger string) *httptest.ResponseRecorder {
	r.t.Helper()
	body := []byte(url.Values{
		"team_id": {"T0001"}, "channel_id": {channel}, "user_id": {"U0ALICE"}, "user_name": {"alice"},
		"command": {"/incident"}, "text": {text}, "trigger_id": {trigger},
	}.Encode())
	req := httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	bot.SignRequest(req.Header, slackTestSecret, time.Now(), body)
	rec := httptest.NewRecorder()
	r.mux.ServeHTTP(rec, req)
	return rec
}

// slashReply decodes a command's answer.
func slashReply(t testing.TB, rec *httptest.ResponseRecorder) bot.SlashReply {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var reply bot.SlashReply
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &reply), rec.Body.String())
	require.Equal(t, "ephemeral", reply.ResponseType)
	return reply
}

// TestAckHistogramIsTheOneOwnSLOReads: the Slack handler and the API time
// their answers in one histogram, and Ooda's own SLO is measured on it.
func TestAckHistogramIsTheOneOwnSLOReads(t *testing.T) {
	reg := prometheus.NewRegistry()
	ack := command.NewAckHistogram()
	reg.MustRegister(ack, prom.NewOwnCollector(ack, slo.DefaultOwnSpec()))
	r := newSlackRig(t, func(c *bot.SlackConfig) { c.Registerer, c.AckHistogram = reg, ack })
	srv, err := api.NewServer(api.ServerConfig{Store: r.db, APIToken: "tok", Dispatcher: r.dispatcher, Gatherer: reg, AckHistogram: ack})
	require.NoError(t, err)

	slashReply(t, r.command("list", "C0GENERAL", "trigger-ack-1"))
	req := httptest.NewRequest(http.MethodPost, "/api/v1/commands", bytes.NewReader([]byte(`{"text": "list"}`)))
	req.Header.Set("Authorization", "Bearer tok")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	families, err := reg.Gather()
	require.NoError(t, err)
	var ackFamilies int
	transports := map[string]uint64{}
	own := map[string]float64{}
	for _, f := range families {
		switch f.GetName() {
		case slo.AckMetric:
			ackFamilies++
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "transport" {
						transports[l.GetValue()] += m.GetHistogram().GetSampleCount()
					}
				}
			}
		case "ooda_own_slo_events", "ooda_own_slo_good_events":
			own[f.GetName()] = f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	require.Equal(t, 1, ackFamilies, "one histogram of that name")
	require.Equal(t, map[string]uint64{command.TransportHTTP: 1, command.TransportSocket: 0, command.TransportAPI: 1}, transports)
	require.Equal(t, map[string]float64{"ooda_own_slo_events": 2, "ooda_own_slo_good_events": 2}, own, "the exported own SLO counts both")

	st, err := prom.OwnSLO(reg, slo.DefaultOwnSpec())
	require.NoError(t, err)
	require.InDelta(t, 2, st.Total, 0)
	require.InDelta(t, 3, st.Bound, 0, "3 s is a bucket bound")

	body, err := json.Marshal(st.Spec)
	require.NoError(t, err)
	require.Contains(t, string(body), slo.AckMetric)
}
