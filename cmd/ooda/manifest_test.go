package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ooda-sre/ooda/bot"
)

// appManifest is the part of Slack's app manifest schema Ooda uses; the
// test also checks that no key outside Slack's known top-level keys slips in.
type appManifest struct {
	DisplayInformation struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
	} `yaml:"display_information"`
	Features struct {
		BotUser struct {
			DisplayName string `yaml:"display_name"`
		} `yaml:"bot_user"`
		SlashCommands []struct {
			Command      string `yaml:"command"`
			Description  string `yaml:"description"`
			UsageHint    string `yaml:"usage_hint"`
			ShouldEscape bool   `yaml:"should_escape"`
		} `yaml:"slash_commands"`
		Shortcuts []struct {
			Name        string `yaml:"name"`
			Type        string `yaml:"type"`
			CallbackID  string `yaml:"callback_id"`
			Description string `yaml:"description"`
		} `yaml:"shortcuts"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			BotEvents []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled bool `yaml:"is_enabled"`
		} `yaml:"interactivity"`
		SocketModeEnabled bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

func TestManifestFollowsSlackRules(t *testing.T) {
	raw, err := os.ReadFile("../../manifest.yaml")
	require.NoError(t, err)

	var top map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &top))
	known := []string{"_metadata", "display_information", "features", "oauth_config", "settings", "functions", "workflows", "datastores", "outgoing_domains", "types", "external_auth_providers", "compliance", "app_directory"}
	for k := range top {
		require.Contains(t, known, k, "unknown top-level manifest key")
	}

	var m appManifest
	require.NoError(t, yaml.Unmarshal(raw, &m))
	name := m.DisplayInformation.Name
	require.NotEmpty(t, name)
	require.LessOrEqual(t, utf8.RuneCountInString(name), 35, "Slack limits app names to 35 characters")
	require.LessOrEqual(t, utf8.RuneCountInString(m.DisplayInformation.Description), 140)
	require.LessOrEqual(t, utf8.RuneCountInString(m.Features.BotUser.DisplayName), 80)

	require.Len(t, m.Features.SlashCommands, 1)
	cmd := m.Features.SlashCommands[0]
	require.Equal(t, "/incident", cmd.Command)
	require.True(t, strings.HasPrefix(cmd.Command, "/"))
	require.LessOrEqual(t, utf8.RuneCountInString(cmd.Command), 32, "Slack limits command names to 32 characters")
	require.NotEmpty(t, cmd.Description)
	require.LessOrEqual(t, utf8.RuneCountInString(cmd.Description), 2000)
	require.LessOrEqual(t, utf8.RuneCountInString(cmd.UsageHint), 1000)
	require.True(t, cmd.ShouldEscape, "mentions must arrive as <@U…> for `role` and `action` to parse them")

	// The message shortcut is the one the handler answers (bot.messageShortcut).
	require.Len(t, m.Features.Shortcuts, 1)
	sc := m.Features.Shortcuts[0]
	require.Equal(t, "Declare incident from this message", sc.Name)
	require.Equal(t, "message", sc.Type, "a message shortcut, in the message's menu; a global one carries no message")
	require.Equal(t, bot.DeclareFromMessageCallbackID, sc.CallbackID)
	require.NotEmpty(t, sc.Description)
	require.LessOrEqual(t, utf8.RuneCountInString(sc.CallbackID), 255, "Slack limits callback ids to 255 characters")

	require.True(t, m.Settings.SocketModeEnabled, "the README's default is Socket Mode")
	require.True(t, m.Settings.Interactivity.IsEnabled, "buttons and the declare form need interactivity")

	// Every event needs its scope, and no scope is asked for without a use.
	scopes := m.OAuthConfig.Scopes.Bot
	needs := map[string]string{
		"message.channels": "channels:history", "message.groups": "groups:history",
		"pin_added": "pins:read", "reaction_added": "reactions:read", "member_joined_channel": "channels:read", "member_left_channel": "channels:read",
	}
	for _, ev := range m.Settings.EventSubscriptions.BotEvents {
		scope, ok := needs[ev]
		require.True(t, ok, "event %s is not one Ooda handles", ev)
		require.Contains(t, scopes, scope, "event %s needs scope %s", ev, scope)
	}
	used := []string{"commands", "chat:write", "chat:write.public", "channels:manage", "groups:write", "channels:read", "groups:read",
		"channels:history", "groups:history", "pins:read", "reactions:read", "bookmarks:write", "files:write", "users:read", "users:read.email"}
	for _, s := range scopes {
		require.True(t, slices.Contains(used, s), "scope %s is not used by Ooda; ask for no more than it needs", s)
	}
	require.Len(t, scopes, len(slices.Compact(slices.Sorted(slices.Values(scopes)))), "duplicate scope")
	require.Contains(t, scopes, "users:read", "the directory of people calls users.list and users.info")
	require.Contains(t, scopes, "users:read.email", "an action item's owner is found in a tracker by email, to assign the ticket")
	require.Contains(t, scopes, "chat:write.public", "the shortcut's thread reply lands in public channels Ooda was never invited to")
}
