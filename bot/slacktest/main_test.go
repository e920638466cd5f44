package slacktest_test

import (
	"net/http"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ooda-sre/ooda/bot/slacktest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const token = "xoxb-test-token"

// start runs a fake Slack for one test and returns it with a real slack-go
// client pointed at it. The client has its own transport, closed with the
// test, so that no idle connection outlives it.
func start(t *testing.T, opts ...slacktest.Option) (*slacktest.Server, *slack.Client) {
	t.Helper()
	s := slacktest.New(opts...)
	t.Cleanup(s.Close)
	return s, client(t, s, token)
}

func client(t *testing.T, s *slacktest.Server, tok string, opts ...slack.Option) *slack.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	base := []slack.Option{slack.OptionAPIURL(s.URL()), slack.OptionHTTPClient(&http.Client{Transport: tr})}
	return slack.New(tok, append(base, opts...)...)
}

// slackError returns the ok:false code inside err.
func slackError(t *testing.T, err error) string {
	t.Helper()
	var e slack.SlackErrorResponse
	require.ErrorAs(t, err, &e, "want an ok:false answer, got %v", err)
	return e.Err
}
