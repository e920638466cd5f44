package slacktest_test

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

// modal is a declare-incident modal such as the bot opens.
func modal(callbackID string) slack.ModalViewRequest {
	title := slack.NewTextBlockObject(slack.PlainTextType, "Declare incident", false, false)
	input := slack.NewInputBlock("title",
		slack.NewTextBlockObject(slack.PlainTextType, "Title", false, false), nil,
		slack.NewPlainTextInputBlockElement(nil, "title_input"))
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           title,
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Declare", false, false),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{input}},
		CallbackID:      callbackID,
		PrivateMetadata: "C0ANNOUNCE1",
	}
}

func TestViewsOpenAndUpdate(t *testing.T) {
	s, api := start(t)

	resp, err := api.OpenViewContext(t.Context(), "1337.42.abcd", modal("declare"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(resp.ID, "V"), resp.ID)
	require.Equal(t, "declare", resp.CallbackID)
	require.Equal(t, "C0ANNOUNCE1", resp.PrivateMetadata)
	require.Equal(t, "Declare incident", resp.Title.Text)
	require.NotEmpty(t, resp.Hash)
	require.Len(t, resp.Blocks.BlockSet, 1)

	views := s.Views()
	require.Len(t, views, 1)
	require.Equal(t, resp.ID, views[0].ID)
	require.Equal(t, "modal", views[0].Type)
	require.Equal(t, "1337.42.abcd", views[0].TriggerID)

	updated, err := api.UpdateViewContext(t.Context(), modal("declare-step-2"), "", resp.Hash, resp.ID)
	require.NoError(t, err)
	require.Equal(t, resp.ID, updated.ID)
	require.NotEqual(t, resp.Hash, updated.Hash)
	require.Equal(t, "declare-step-2", s.Views()[0].CallbackID)
	require.Equal(t, 1, s.Views()[0].Updates)

	_, err = api.UpdateViewContext(t.Context(), modal("x"), "", resp.Hash, resp.ID)
	require.Equal(t, "hash_conflict", slackError(t, err), "the first hash is stale now")
	_, err = api.UpdateViewContext(t.Context(), modal("x"), "", "", "V404")
	require.Equal(t, "not_found", slackError(t, err))
}

func TestViewsPublish(t *testing.T) {
	s, api := start(t)
	s.AddUser("U1", "alice")
	home := slack.HomeTabViewRequest{
		Type:   slack.VTHomeTab,
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}},
	}

	first, err := api.PublishViewContext(t.Context(), slack.PublishViewContextRequest{UserID: "U1", View: home})
	require.NoError(t, err)
	second, err := api.PublishViewContext(t.Context(), slack.PublishViewContextRequest{UserID: "U1", View: home})
	require.NoError(t, err)
	require.Equal(t, first.ID, second.ID, "one Home tab per user")

	views := s.Views()
	require.Len(t, views, 1)
	require.Equal(t, "home", views[0].Type)
	require.Equal(t, "U1", views[0].UserID)

	_, err = api.PublishViewContext(t.Context(), slack.PublishViewContextRequest{UserID: "U404", View: home})
	require.Equal(t, "user_not_found", slackError(t, err))
}
