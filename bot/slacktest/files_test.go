package slacktest_test

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slacktest"
)

const postmortem = "# Post-mortem: database failover\n\n## Timeline\n- 10:02 declared\n"

func upload(t *testing.T, api *slack.Client, channel string) (*slack.FileSummary, error) {
	t.Helper()
	return api.UploadFileContext(t.Context(), slack.UploadFileParameters{
		Filename:       "postmortem.md",
		FileSize:       len(postmortem),
		Reader:         strings.NewReader(postmortem),
		Title:          "Post-mortem draft",
		Channel:        channel,
		InitialComment: "Draft post-mortem for INC-7",
	})
}

func TestUploadFileEndToEnd(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-7", true)

	sum, err := upload(t, api, ch)
	require.NoError(t, err)
	require.Equal(t, "Post-mortem draft", sum.Title)

	var methods []string
	for _, c := range s.Calls() {
		methods = append(methods, c.Method)
	}
	require.Equal(t, []string{"files.getUploadURLExternal", slacktest.UploadMethod, "files.completeUploadExternal"}, methods)

	files := s.Files()
	require.Len(t, files, 1)
	f := files[0]
	require.Equal(t, sum.ID, f.ID)
	require.Equal(t, "postmortem.md", f.Name)
	require.Equal(t, len(postmortem), f.Length)
	require.Equal(t, postmortem, string(f.Content))
	require.True(t, f.Uploaded)
	require.True(t, f.Completed)
	require.Equal(t, []string{ch}, f.Channels)

	msgs := s.Messages(ch)
	require.Len(t, msgs, 1, "sharing posts one message")
	require.Equal(t, []string{sum.ID}, msgs[0].Files)
	require.Equal(t, "Draft post-mortem for INC-7", msgs[0].Text)

	hist, err := api.GetConversationHistoryContext(t.Context(), &slack.GetConversationHistoryParameters{ChannelID: ch})
	require.NoError(t, err)
	require.Equal(t, "file_share", hist.Messages[0].SubType)
	require.Equal(t, "postmortem.md", hist.Messages[0].Files[0].Name)
	require.Equal(t, len(postmortem), hist.Messages[0].Files[0].Size)
	require.Equal(t, []string{ch}, hist.Messages[0].Files[0].Groups, "private channels are listed as groups")
}

func TestCompleteUploadErrors(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-7", false)

	_, err := upload(t, api, "C404")
	require.Equal(t, "invalid_channel", slackError(t, err), "not channel_not_found: this method has its own code")

	sum, err := upload(t, api, ch)
	require.NoError(t, err)
	_, err = api.CompleteUploadExternalContext(t.Context(), slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{*sum}, Channel: ch,
	})
	require.Equal(t, "file_not_found", slackError(t, err), "an upload ticket completes once")

	_, err = api.CompleteUploadExternalContext(t.Context(), slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{{ID: "F404"}}, Channel: ch,
	})
	require.Equal(t, "file_not_found", slackError(t, err))
	require.Len(t, s.Messages(ch), 1)
}

func TestUploadURLFault(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-7", false)
	s.Fault(slacktest.UploadMethod, slacktest.Fault{Kind: slacktest.FaultStatus, Status: 500})

	_, err := upload(t, api, ch)
	var sce slack.StatusCodeError
	require.ErrorAs(t, err, &sce)
	require.Equal(t, 500, sce.Code)
	require.ErrorContains(t, err, "UploadToURL")

	files := s.Files()
	require.Len(t, files, 1)
	require.False(t, files[0].Uploaded)
	require.Empty(t, s.Messages(ch))
	require.Empty(t, s.CallsTo("files.completeUploadExternal"))
}
