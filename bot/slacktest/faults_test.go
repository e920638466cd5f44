package slacktest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slacktest"
)

// clientTimeout is how long a client waits on a call that will never answer.
const clientTimeout = 50 * time.Millisecond

func requireStatus(code int) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var sce slack.StatusCodeError
		require.ErrorAs(t, err, &sce)
		require.Equal(t, code, sce.Code)
		require.True(t, sce.Retryable())
	}
}

func requireRateLimited(after time.Duration) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var rle *slack.RateLimitedError
		require.ErrorAs(t, err, &rle)
		require.Equal(t, after, rle.RetryAfter)
	}
}

func requireDeadline(t *testing.T, err error) {
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// requireTransport checks for an error that came from the connection, not from
// an answer: the client cannot tell whether the call took effect.
func requireTransport(t *testing.T, err error) {
	require.Error(t, err)
	var sce slack.StatusCodeError
	var ser slack.SlackErrorResponse
	require.False(t, errors.As(err, &sce), "no status was sent: %v", err)
	require.False(t, errors.As(err, &ser), "no body was sent: %v", err)
}

func requireSlackError(code string) func(*testing.T, error) {
	return func(t *testing.T, err error) { require.Equal(t, code, slackError(t, err)) }
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name    string
		fault   slacktest.Fault
		timeout time.Duration // client deadline; 0 for none
		check   func(*testing.T, error)
		landed  bool // whether the message was posted
		status  int  // recorded HTTP status; 0 when none was sent
		callErr string
	}{
		{
			name:    "500",
			fault:   slacktest.Fault{Kind: slacktest.FaultStatus, Status: 500},
			check:   requireStatus(500),
			status:  500,
			callErr: "status",
		},
		{
			name:    "status defaults to 500",
			fault:   slacktest.Fault{Kind: slacktest.FaultStatus},
			check:   requireStatus(500),
			status:  500,
			callErr: "status",
		},
		{
			name:    "429 with Retry-After",
			fault:   slacktest.Fault{Kind: slacktest.FaultRateLimit, RetryAfter: 7 * time.Second},
			check:   requireRateLimited(7 * time.Second),
			status:  429,
			callErr: "ratelimited",
		},
		{
			name:    "Retry-After rounds up to whole seconds",
			fault:   slacktest.Fault{Kind: slacktest.FaultRateLimit, RetryAfter: 1500 * time.Millisecond},
			check:   requireRateLimited(2 * time.Second),
			status:  429,
			callErr: "ratelimited",
		},
		{
			// slack-go builds a RateLimitedError only from a Retry-After header;
			// without one a 429 is a plain StatusCodeError (Retryable, no delay).
			name:    "429 without Retry-After",
			fault:   slacktest.Fault{Kind: slacktest.FaultRateLimit},
			check:   requireStatus(429),
			status:  429,
			callErr: "ratelimited",
		},
		{
			name:    "hang until the client gives up",
			fault:   slacktest.Fault{Kind: slacktest.FaultHang},
			timeout: clientTimeout,
			check:   requireDeadline,
			callErr: "hang",
		},
		{
			name:   "short delay then success",
			fault:  slacktest.Fault{Kind: slacktest.FaultDelay, Delay: 5 * time.Millisecond},
			check:  func(t *testing.T, err error) { require.NoError(t, err) },
			landed: true,
			status: 200,
		},
		{
			name:    "delay longer than the client waits",
			fault:   slacktest.Fault{Kind: slacktest.FaultDelay, Delay: time.Hour},
			timeout: clientTimeout,
			check:   requireDeadline,
			callErr: "delay",
		},
		{
			name:    "lost response",
			fault:   slacktest.Fault{Kind: slacktest.FaultLostResponse},
			check:   requireTransport,
			landed:  true,
			callErr: "lost_response",
		},
		{
			name:    "reset",
			fault:   slacktest.Fault{Kind: slacktest.FaultReset},
			check:   requireTransport,
			callErr: "reset",
		},
		{
			name:    "ok:false",
			fault:   slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "fatal_error"},
			check:   requireSlackError("fatal_error"),
			status:  200,
			callErr: "fatal_error",
		},
		{
			name:    "ok:false defaults to internal_error",
			fault:   slacktest.Fault{Kind: slacktest.FaultSlackError},
			check:   requireSlackError("internal_error"),
			status:  200,
			callErr: "internal_error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, api := start(t)
			ch := s.CreateChannel("inc-1", false)
			s.Fault("chat.postMessage", tt.fault)

			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			_, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("Incident declared", false))
			tt.check(t, err)

			if tt.landed {
				require.Len(t, s.Messages(ch), 1, "the call took effect")
			} else {
				require.Empty(t, s.Messages(ch), "the call took no effect")
			}
			// The server learns that a client gave up a moment after the client does.
			require.Eventually(t, func() bool {
				calls := s.CallsTo("chat.postMessage")
				if len(calls) == 0 {
					return false // the handler has not finished recording it
				}
				c := calls[0]
				return c.Status == tt.status && c.Err == tt.callErr
			}, time.Second, time.Millisecond, "recorded %+v", s.CallsTo("chat.postMessage"))

			_, _, err = api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("again", false))
			require.NoError(t, err, "a fault with Times 0 affects one call")
		})
	}
}

func TestLostResponseIsReconciledByMetadata(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", false)
	s.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultLostResponse})
	meta := slack.SlackMetadata{EventType: "ooda_effect", EventPayload: map[string]any{"key": "inc-1/post/1"}}

	_, _, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("declared", false), slack.MsgOptionMetadata(meta))
	require.Error(t, err)

	// What the effects executor does before retrying an ambiguous post.
	hist, err := api.GetConversationHistoryContext(t.Context(), &slack.GetConversationHistoryParameters{
		ChannelID: ch, IncludeAllMetadata: true, Limit: 50,
	})
	require.NoError(t, err)
	require.Len(t, hist.Messages, 1)
	require.Equal(t, "inc-1/post/1", hist.Messages[0].Metadata.EventPayload["key"])
}

func TestFaultTimesAndClear(t *testing.T) {
	s, api := start(t)
	authErr := func() error {
		_, err := api.AuthTestContext(t.Context())
		return err
	}

	s.Fault("auth.test", slacktest.Fault{Kind: slacktest.FaultStatus, Status: 503, Times: 2})
	require.Error(t, authErr())
	require.Error(t, authErr())
	require.NoError(t, authErr())

	s.Fault("auth.test", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "service_unavailable", Times: -1})
	for range 5 {
		require.Equal(t, "service_unavailable", slackError(t, authErr()))
	}
	s.ClearFaults()
	require.NoError(t, authErr())
}

func TestFaultOrder(t *testing.T) {
	s, api := start(t)
	s.Fault("*", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "from_wildcard"})
	s.Fault("auth.test", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "first"})
	s.Fault("auth.test", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "second"})

	for _, want := range []string{"first", "second", "from_wildcard"} {
		_, err := api.AuthTestContext(t.Context())
		require.Equal(t, want, slackError(t, err))
	}
	_, err := api.AuthTestContext(t.Context())
	require.NoError(t, err)

	require.Panics(t, func() { s.Fault("auth.test", slacktest.Fault{}) }, "a fault without a Kind is a test bug")
}

func TestSetDown(t *testing.T) {
	s, api := start(t)
	s.Fault("auth.test", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "after_outage"})

	s.SetDown(true)
	for range 3 {
		_, err := api.AuthTestContext(t.Context())
		requireStatus(http.StatusServiceUnavailable)(t, err)
	}
	s.SetDown(false)

	_, err := api.AuthTestContext(t.Context())
	require.Equal(t, "after_outage", slackError(t, err), "an outage leaves queued faults alone")
	_, err = api.AuthTestContext(t.Context())
	require.NoError(t, err)
}

func TestCloseUnblocksHangingCalls(t *testing.T) {
	s := slacktest.New()
	api := client(t, s, token)
	s.Fault("*", slacktest.Fault{Kind: slacktest.FaultHang, Times: -1})

	errc := make(chan error, 1)
	go func() {
		_, err := api.AuthTestContext(context.Background()) // no deadline: only Close can end it
		errc <- err
	}()
	require.Eventually(t, func() bool { return len(s.CallsTo("auth.test")) == 1 }, time.Second, time.Millisecond)

	s.Close()
	requireTransport(t, <-errc)
}

// TestSlackGoRetryReplaysBody shows that slack-go's own retry (one of the two
// retry layers DESIGN.md allows) works against the fake: the form body is sent
// again intact.
func TestSlackGoRetryReplaysBody(t *testing.T) {
	s := slacktest.New()
	t.Cleanup(s.Close)
	cfg := slack.RetryConfig{MaxRetries: 2, BackoffInitial: time.Millisecond, BackoffMax: time.Millisecond}
	cfg.Handlers = []slack.RetryHandler{slack.NewServerErrorRetryHandler(cfg)}
	api := client(t, s, token, slack.OptionRetryConfig(cfg))
	ch := s.CreateChannel("inc-1", false)
	s.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultStatus, Status: 502})

	_, _, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("declared", false))
	require.NoError(t, err)

	calls := s.CallsTo("chat.postMessage")
	require.Len(t, calls, 2)
	require.Equal(t, 502, calls[0].Status)
	require.Equal(t, calls[0].Args, calls[1].Args)
	require.Len(t, s.Messages(ch), 1)
}
