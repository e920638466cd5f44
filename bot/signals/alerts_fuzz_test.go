package signals

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// FuzzAlertmanagerWebhook feeds the receiver any body: it answers 200
// with every alert accounted for, or refuses with a 4xx, and never
// panics; what it would post stays within Slack's limits.
func FuzzAlertmanagerWebhook(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "alertmanager", "*.json"))
	require.NoError(f, err)
	for _, p := range files {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"<!channel>","service":"a&b"},"annotations":{"summary":"\u0000\u202e"}}]}`))
	db := storagetest.Open(f)
	recv, err := NewAlertReceiver(AlertsConfig{Store: db})
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		recv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/alerts", bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, rec.Code, rec.Body.String())
			return
		}
		msg, err := parseAlertmanager(body)
		require.NoError(t, err, "answered 200")
		var reply AlertsReply
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &reply))
		require.Equal(t, len(msg.Alerts), reply.Observed+reply.Queued+reply.Duplicates+reply.Unposted, "every alert accounted for")

		g := blockkit.AlertGroup{}
		for _, al := range msg.Alerts {
			g.Alerts = append(g.Alerts, groupAlert{alert: al, service: recv.serviceOf(al)}.view())
		}
		for _, m := range []blockkit.Message{blockkit.AlertGroupSignal(g), blockkit.AlertGroupResolved(g, g.Alerts)} {
			require.LessOrEqual(t, utf8.RuneCountInString(m.Text), 4000)
			b, err := json.Marshal(m.Blocks)
			require.NoError(t, err)
			var blocks []struct {
				BlockID string                 `json:"block_id"`
				Text    *struct{ Text string } `json:"text"`
			}
			require.NoError(t, json.Unmarshal(b, &blocks))
			for _, blk := range blocks {
				require.LessOrEqual(t, utf8.RuneCountInString(blk.BlockID), 255)
				if blk.Text != nil {
					require.LessOrEqual(t, utf8.RuneCountInString(blk.Text.Text), 3000)
				}
			}
		}
	})
}
