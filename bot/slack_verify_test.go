package bot

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Slack's published example ("Verifying requests from Slack").
const (
	slackDocSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	slackDocTimestamp = "1531420618"
	slackDocBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackDocSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerifyRequestSlackExample(t *testing.T) {
	require.Equal(t, slackDocSignature, signature(slackDocSecret, slackDocTimestamp, []byte(slackDocBody)))

	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", slackDocTimestamp)
	h.Set("X-Slack-Signature", slackDocSignature)
	signed := time.Unix(1531420618, 0)
	require.NoError(t, VerifyRequest(slackDocSecret, h, []byte(slackDocBody), signed.Add(90*time.Second)))
}

func TestVerifyRequestRefusals(t *testing.T) {
	signed := time.Unix(1531420618, 0)
	body := []byte(slackDocBody)
	header := func(edit func(http.Header)) http.Header {
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", slackDocTimestamp)
		h.Set("X-Slack-Signature", slackDocSignature)
		if edit != nil {
			edit(h)
		}
		return h
	}
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"five minutes late is still fresh", slackDocSecret, header(nil), body, signed.Add(5 * time.Minute), nil},
		{"five minutes early is still fresh", slackDocSecret, header(nil), body, signed.Add(-5 * time.Minute), nil},
		{"stale", slackDocSecret, header(nil), body, signed.Add(5*time.Minute + time.Second), ErrStaleTimestamp},
		{"from the future", slackDocSecret, header(nil), body, signed.Add(-5*time.Minute - time.Second), ErrStaleTimestamp},
		{"timestamp not a number", slackDocSecret, header(func(h http.Header) { h.Set("X-Slack-Request-Timestamp", "soon") }), body, signed, ErrStaleTimestamp},
		{"no signature", slackDocSecret, header(func(h http.Header) { h.Del("X-Slack-Signature") }), body, signed, ErrMissingSignature},
		{"no timestamp", slackDocSecret, header(func(h http.Header) { h.Del("X-Slack-Request-Timestamp") }), body, signed, ErrMissingSignature},
		{"body changed", slackDocSecret, header(nil), append([]byte(slackDocBody), '&'), signed, ErrBadSignature},
		{"wrong secret", "another-secret", header(nil), body, signed, ErrBadSignature},
		{"timestamp changed", slackDocSecret, header(func(h http.Header) { h.Set("X-Slack-Request-Timestamp", "1531420619") }), body, signed, ErrBadSignature},
		{"not v0", slackDocSecret, header(func(h http.Header) { h.Set("X-Slack-Signature", "v1="+slackDocSignature[3:]) }), body, signed, ErrBadSignature},
		{"upper-case hex", slackDocSecret, header(func(h http.Header) {
			h.Set("X-Slack-Signature", "v0=A2114D57B48EAC39B9AD189DD8316235A7B4A8D21A10BD27519666489C69B503")
		}), body, signed, ErrBadSignature},
		{"no secret configured", "", header(nil), body, signed, ErrNoSigningSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyRequest(tt.secret, tt.header, tt.body, tt.now)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			if tt.secret != "" {
				require.NotContains(t, err.Error(), tt.secret, "errors never carry the secret")
			}
			require.NotContains(t, err.Error(), "token=", "errors never carry the body")
		})
	}
}

func TestSignRequestRoundTrips(t *testing.T) {
	now := time.Now()
	body := []byte(`{"type":"url_verification","challenge":"c"}`)
	h := http.Header{}
	SignRequest(h, slackTestSecret, now, body)
	require.NoError(t, VerifyRequest(slackTestSecret, h, body, now))
	require.ErrorIs(t, VerifyRequest(slackTestSecret, h, body, now.Add(time.Hour)), ErrStaleTimestamp)
}
