package api_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
)

func TestStatusReportsTheSocketModeConnection(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	socket := api.SocketStatus{Since: now.Add(-time.Minute), LastFrame: now.Add(-90 * time.Second), Silence: time.Minute}
	src := api.StatusSource{SlackMode: "socket", SocketMode: func() api.SocketStatus { return socket }, Now: func() time.Time { return now }}

	rep, err := src.Report(t.Context())
	require.NoError(t, err)
	require.NotNil(t, rep.Slack.SocketMode)
	require.False(t, rep.Slack.SocketMode.Connected, "silent past the limit: not connected")
	require.Equal(t, 90.0, rep.Slack.SocketMode.LastFrameAgeSeconds)
	require.Equal(t, 60.0, rep.Slack.SocketMode.SilenceLimitSeconds)

	socket = api.SocketStatus{Connected: true, Since: now, LastFrame: now, Silence: time.Minute}
	rep, err = src.Report(t.Context())
	require.NoError(t, err)
	require.True(t, rep.Slack.SocketMode.Connected, "and healthy again")

	rep, err = api.StatusSource{SlackMode: "http"}.Report(t.Context())
	require.NoError(t, err)
	require.Nil(t, rep.Slack.SocketMode, "no Socket Mode section outside Socket Mode")
}
