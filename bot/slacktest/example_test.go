package slacktest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/slacktest"
)

// A test seeds the workspace, points the real client at the fake, scripts a
// failure, and then inspects both what the client saw and what landed.
func Example() {
	s := slacktest.New()
	defer s.Close()
	announce := s.CreateChannel("incidents", false)
	api := slack.New("xoxb-test-token", slack.OptionAPIURL(s.URL()))

	s.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultRateLimit, RetryAfter: 2 * time.Second})
	_, _, err := api.PostMessageContext(context.Background(), announce, slack.MsgOptionText("SEV2 declared", false))
	fmt.Println(err)

	_, _, err = api.PostMessageContext(context.Background(), announce, slack.MsgOptionText("SEV2 declared", false))
	fmt.Println(err)
	for _, m := range s.Messages(announce) {
		fmt.Println(m.Text)
	}
	for _, c := range s.CallsTo("chat.postMessage") {
		fmt.Println(c.Status, c.Err)
	}
	// Output:
	// slack rate limit exceeded, retry after 2s
	// <nil>
	// SEV2 declared
	// 429 ratelimited
	// 200
}
