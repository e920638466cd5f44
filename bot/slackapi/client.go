package slackapi

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/resilience"
)

// SlackAPI is the part of slack-go's *slack.Client the effects executor
// calls. Tests substitute it to inject faults a wire-level fake cannot
// express.
type SlackAPI interface {
	CreateConversationContext(ctx context.Context, params slack.CreateConversationParams) (*slack.Channel, error)
	GetConversationsContext(ctx context.Context, params *slack.GetConversationsParameters) (channels []slack.Channel, nextCursor string, err error)
	InviteUsersToConversationContext(ctx context.Context, channelID string, users ...string) (*slack.Channel, error)
	GetUsersInConversationContext(ctx context.Context, params *slack.GetUsersInConversationParameters) (members []string, nextCursor string, err error)
	SetTopicOfConversationContext(ctx context.Context, channelID, topic string) (*slack.Channel, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (channel, timestamp string, err error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (channel, newTimestamp, text string, err error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	// GetConversationRepliesContext reads a thread: a reply Ooda posted
	// is found there, not in the channel's history.
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) (msgs []slack.Message, hasMore bool, nextCursor string, err error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (timestamp string, err error)
	// UploadFileContext is Slack's current upload flow in one call:
	// files.getUploadURLExternal, the POST of the bytes, and
	// files.completeUploadExternal, which shares the file.
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
	AddBookmarkContext(ctx context.Context, channelID string, params slack.AddBookmarkParameters) (slack.Bookmark, error)
}

var _ SlackAPI = (*slack.Client)(nil)

// NewSlackClient returns a Slack Web API client whose requests go through
// guard's HTTP client (dial, TLS and header timeouts). apiURL overrides
// Slack's own (a fake in tests, GovSlack); empty keeps Slack's.
//
// It deliberately leaves slack-go's own retry (OptionRetry,
// OptionRetryConfig) off: callers wrap each call in guard.Do, which
// retries, and two retry layers would multiply attempts behind the
// breaker's back.
func NewSlackClient(token, apiURL string, guard *resilience.Guard, extra ...slack.Option) *slack.Client {
	opts := append([]slack.Option{slack.OptionHTTPClient(guard.HTTPClient())}, extra...)
	if apiURL != "" {
		// slack-go joins the method name straight onto the URL.
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return slack.New(token, opts...)
}

// NewSocketClient is the client Socket Mode connects with: the bot token
// for Web API calls and the app-level token for apps.connections.open,
// with the same URL handling and timeouts as every other Slack call.
func NewSocketClient(botToken, appToken, apiURL string, guard *resilience.Guard) *slack.Client {
	return NewSlackClient(botToken, apiURL, guard, slack.OptionAppLevelToken(appToken))
}

// HistoryReader reads a channel's messages.
type HistoryReader interface {
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
}
