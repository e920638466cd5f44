package tickets_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ooda-sre/ooda/tickets"
)

func TestConfigParsesTheDocumentedShape(t *testing.T) {
	const doc = `
trackers:
  - name: github
    kind: github
    url: https://github.example.com/api/v3/
    token_file: /run/secrets/github-token
    webhook_secret_file: /run/secrets/github-webhook
  - name: jira
    kind: jira
    url: https://acme.atlassian.net
    flavor: cloud
    email: ooda@acme.example
    token_env: JIRA_TOKEN
    issue_type: Bug
default: {tracker: github, project: acme/ops}
services:
  checkout: {tracker: jira, project: PAY}
accounts_file: /etc/ooda/accounts.yaml
poll_interval: 2m
`
	var c tickets.Config
	require.NoError(t, yaml.Unmarshal([]byte(doc), &c))
	require.NoError(t, c.Validate())
	assert.True(t, c.Enabled())
	assert.Equal(t, 2*time.Minute, c.Interval())
	j, ok := c.Tracker("jira")
	require.True(t, ok)
	assert.Equal(t, "Bug", j.JiraIssueType())
	assert.Equal(t, tickets.FlavorCloud, j.JiraFlavor())
	assert.Equal(t, "/etc/ooda/accounts.yaml", c.AccountsFile)

	var off tickets.Config
	require.NoError(t, off.Validate(), "nothing configured: tickets off")
	assert.False(t, off.Enabled())
	assert.Equal(t, tickets.DefaultPollInterval, off.Interval())
}

// TestConfigValidate: every mistake is named, all at once, with what to
// write instead.
func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *tickets.Config)
		want   []string
	}{
		{name: "unknown kind", change: func(c *tickets.Config) { c.Trackers[0].Kind = "gitea" },
			want: []string{`tickets: trackers[0] "github": kind "gitea" is not known; write github, gitlab or jira`}},
		{name: "no kind", change: func(c *tickets.Config) { c.Trackers[0].Kind = "" },
			want: []string{`trackers[0] "github": kind is missing; write kind: github, gitlab or jira`}},
		{name: "duplicate name", change: func(c *tickets.Config) { c.Trackers[1].Name = "github"; c.Services = nil },
			want: []string{`trackers[1] "github": two trackers are named github; give each its own name`}},
		{name: "bad name", change: func(c *tickets.Config) { c.Trackers[0].Name = "GitHub_EU"; c.Default.Tracker = "GitHub_EU" },
			want: []string{`trackers[0] "GitHub_EU": a name is lower-case letters, digits and dashes (it is part of the webhook URL); write, say, "github-eu"`}},
		{name: "empty name", change: func(c *tickets.Config) { c.Trackers[0].Name = "" },
			want: []string{"trackers[0]: name is empty; name it in lower case, such as name: github", `default: tracker "github" is not configured; write one of jira`}},
		{name: "route to an unknown tracker", change: func(c *tickets.Config) {
			c.Services["search"] = tickets.Route{Tracker: "gitlab", Project: "ops/search"}
		},
			want: []string{`services.search: tracker "gitlab" is not configured; write one of github, jira`}},
		{name: "route without a tracker", change: func(c *tickets.Config) { c.Default.Tracker = "" },
			want: []string{"default: tracker is missing; write tracker: and the name of one under trackers:"}},
		{name: "GitHub project not owner/repo", change: func(c *tickets.Config) { c.Default.Project = "ops" },
			want: []string{`default: project "ops" is not a GitHub repository; write owner/repo, such as acme/ops`}},
		{name: "no project", change: func(c *tickets.Config) { c.Default.Project = "" },
			want: []string{"default: project is missing; write the project tickets go to"}},
		{name: "Jira project not a key", change: func(c *tickets.Config) { c.Services["checkout"] = tickets.Route{Tracker: "jira", Project: "pay"} },
			want: []string{`services.checkout: project "pay" is not a Jira project key; write the key in capitals, such as OPS`}},
		{name: "GitLab project neither path nor id", change: func(c *tickets.Config) {
			c.Trackers = append(c.Trackers, tickets.TrackerConfig{Name: "gitlab", Kind: tickets.KindGitLab, TokenEnv: "GITLAB_TOKEN"})
			c.Services["search"] = tickets.Route{Tracker: "gitlab", Project: "search"}
		}, want: []string{`services.search: project "search" is not a GitLab project; write its path (group/project) or its numeric id`}},
		{name: "same service twice", change: func(c *tickets.Config) { c.Services["CHECKOUT"] = tickets.Route{Tracker: "jira", Project: "PAY"} },
			want: []string{`services: "CHECKOUT" and "checkout" are the same service (names match in any case); keep one`}},
		{name: "jira without url", change: func(c *tickets.Config) { c.Trackers[1].URL = "" },
			want: []string{`trackers[1] "jira": a Jira tracker needs url: the site, such as https://acme.atlassian.net`}},
		{name: "jira cloud without email", change: func(c *tickets.Config) { c.Trackers[1].Email = "" },
			want: []string{`trackers[1] "jira": Jira Cloud signs in with an email and an API token; add email: the account's address (or flavor: datacenter for a personal access token)`}},
		{name: "jira data center with email", change: func(c *tickets.Config) { c.Trackers[1].Flavor = "datacenter" },
			want: []string{`trackers[1] "jira": Jira Data Center signs in with a personal access token alone; remove email (or write flavor: cloud)`}},
		{name: "jira unknown flavor", change: func(c *tickets.Config) { c.Trackers[1].Flavor = "server" },
			want: []string{`trackers[1] "jira": flavor "server" is not known; write flavor: cloud or flavor: datacenter`}},
		{name: "jira settings on github", change: func(c *tickets.Config) { c.Trackers[0].IssueType = "Bug" },
			want: []string{`trackers[0] "github": flavor, email and issue_type are Jira's; remove them from a github tracker`}},
		{name: "both token sources", change: func(c *tickets.Config) { c.Trackers[0].TokenFile = "/run/secrets/gh" },
			want: []string{`trackers[0] "github": both token_file and token_env are set; keep one`}},
		{name: "no token", change: func(c *tickets.Config) { c.Trackers[0].TokenEnv = "" },
			want: []string{`trackers[0] "github": no token; write token_file: (a file holding it) or token_env: (an environment variable holding it), never the token itself`}},
		{name: "a token where its variable's name goes", change: func(c *tickets.Config) { c.Trackers[0].TokenEnv = "ghp_abc-123" },
			want: []string{`trackers[0] "github": token_env "ghp_abc-123" is not an environment variable's name; write the variable's name, such as GITHUB_TOKEN, not its value`}},
		{name: "both webhook secret sources", change: func(c *tickets.Config) { c.Trackers[0].WebhookSecretFile = "/run/secrets/hook" },
			want: []string{`trackers[0] "github": both webhook_secret_file and webhook_secret_env are set; keep one`}},
		{name: "http to another host", change: func(c *tickets.Config) { c.Trackers[0].URL = "http://github.example.com/api/v3/" },
			want: []string{`trackers[0] "github": url "http://github.example.com/api/v3/": http:// would send the token in the clear; write https:// (http is allowed only to localhost)`}},
		{name: "not a URL", change: func(c *tickets.Config) { c.Trackers[0].URL = "github.example.com" },
			want: []string{`trackers[0] "github": url "github.example.com": want an https URL, such as https://github.example.com/api/v3/`}},
		{name: "credentials in the URL", change: func(c *tickets.Config) { c.Trackers[1].URL = "https://bot:hunter2@acme.atlassian.net" },
			want: []string{`url "https://bot:hunter2@acme.atlassian.net": the URL carries credentials; remove them and use token_file or token_env`}},
		{name: "nothing routed", change: func(c *tickets.Config) { c.Default = nil; c.Services = nil },
			want: []string{"trackers are configured but nothing routes to them; add default: {tracker: github, project: …} or routes under services:"}},
		{name: "routes without trackers", change: func(c *tickets.Config) { c.Trackers = nil },
			want: []string{`default: tracker "github" is not configured; add it under trackers: (name, kind, token_file)`}},
		{name: "poll interval too short", change: func(c *tickets.Config) { c.PollInterval = "10s" },
			want: []string{`poll_interval "10s": polling cannot be turned off or run more often than every 30s (trackers rate-limit; webhooks bring changes sooner); write 30s or more, such as 5m`}},
		{name: "poll interval off", change: func(c *tickets.Config) { c.PollInterval = "0" },
			want: []string{`poll_interval "0": polling cannot be turned off`}},
		{name: "poll interval not a duration", change: func(c *tickets.Config) { c.PollInterval = "off" },
			want: []string{`poll_interval "off": want a duration such as 5m`}},
		{name: "several at once", change: func(c *tickets.Config) {
			c.Trackers[0].Kind = "gitea"
			c.Trackers[1].URL = ""
			c.PollInterval = "1s"
		}, want: []string{`kind "gitea" is not known`, "a Jira tracker needs url", `poll_interval "1s"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			c.Services = map[string]tickets.Route{"checkout": {Tracker: "jira", Project: "PAY"}}
			tc.change(&c)
			err := c.Validate()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}

	t.Run("loopback http is allowed", func(t *testing.T) {
		for _, u := range []string{"http://127.0.0.1:8080/", "http://localhost:9000", "http://[::1]:80/api"} {
			c := defaultConfig()
			c.Trackers[0].URL = u
			require.NoError(t, c.Validate(), u)
		}
	})
}

// TestSecrets: read once from a file (trailing newline trimmed) or the
// environment; errors name the file or the variable; no secret ever
// prints.
func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "github-token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("ghp_FileToken123\n"), 0o600))
	env := map[string]string{"JIRA_TOKEN": "jira-env-token-456", "GITHUB_WEBHOOK": "hook-secret-789"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	c := defaultConfig()
	c.Trackers[0].TokenEnv, c.Trackers[0].TokenFile = "", tokenFile
	require.NoError(t, c.Validate())
	creds, err := c.LoadSecrets(lookup)
	require.NoError(t, err)
	require.Len(t, creds, 2)
	assert.Equal(t, "github", creds[0].Name)
	assert.Equal(t, "ghp_FileToken123", creds[0].Token.Reveal())
	assert.Equal(t, "hook-secret-789", creds[0].WebhookSecret.Reveal())
	assert.Equal(t, "jira-env-token-456", creds[1].Token.Reveal())
	assert.Empty(t, creds[1].WebhookSecret.Reveal(), "no webhook")

	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("loaded", "creds", creds[0], "token", creds[0].Token)
	js, err := json.Marshal(creds)
	require.NoError(t, err)
	y, err := yaml.Marshal(creds[0])
	require.NoError(t, err)
	for _, out := range []string{
		fmt.Sprint(creds), fmt.Sprintf("%v %+v %#v %s %q", creds[0], creds[0], creds[0], creds[0].Token, creds[0].Token),
		creds[0].String(), logs.String(), string(js), string(y), fmt.Sprintf("%#v", creds[1].Token),
	} {
		for _, secret := range []string{"ghp_FileToken123", "hook-secret-789", "jira-env-token-456"} {
			assert.NotContains(t, out, secret)
		}
	}
	assert.Contains(t, creds[0].String(), "[redacted]")

	t.Run("errors name the source, never a value", func(t *testing.T) {
		empty := filepath.Join(dir, "empty")
		require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
		c := defaultConfig()
		c.Trackers[0].TokenEnv, c.Trackers[0].TokenFile = "", filepath.Join(dir, "missing")
		c.Trackers[0].WebhookSecretEnv, c.Trackers[0].WebhookSecretFile = "", empty
		_, err := c.LoadSecrets(func(k string) (string, bool) {
			if k == "JIRA_TOKEN" {
				return "", false
			}
			return "jira-env-token-456", true
		})
		require.Error(t, err)
		msg := err.Error()
		assert.Contains(t, msg, "tickets: tracker github: token_file: open "+filepath.Join(dir, "missing"))
		assert.Contains(t, msg, "tickets: tracker github: webhook_secret_file "+empty+" is empty; write the webhook_secret into it")
		assert.Contains(t, msg, "tickets: tracker jira: token_env: the environment variable JIRA_TOKEN is not set or empty; set it, or use token_file")
		assert.NotContains(t, msg, "jira-env-token-456")
	})

	t.Run("from the process environment", func(t *testing.T) {
		t.Setenv("OODA_TEST_GITHUB_TOKEN", "ghp_from_env\r\n")
		c := tickets.Config{
			Trackers: []tickets.TrackerConfig{{Name: "github", Kind: tickets.KindGitHub, TokenEnv: "OODA_TEST_GITHUB_TOKEN"}},
			Default:  &tickets.Route{Tracker: "github", Project: "acme/ops"},
		}
		creds, err := c.LoadSecrets(nil)
		require.NoError(t, err)
		assert.Equal(t, "ghp_from_env", creds[0].Token.Reveal())
	})
}

func TestRoutes(t *testing.T) {
	c := defaultConfig()
	c.Services["Search API"] = tickets.Route{Tracker: "github", Project: "acme/search"}
	routes := c.Routes()
	for _, tc := range []struct{ service, tracker, project string }{
		{"checkout", "jira", "PAY"},
		{"CHECKOUT", "jira", "PAY"},
		{" Checkout ", "jira", "PAY"},
		{"search api", "github", "acme/search"},
		{"billing", "github", "acme/ops"},
		{"", "github", "acme/ops"},
	} {
		r, err := routes.Route(tc.service)
		require.NoError(t, err, tc.service)
		assert.Equal(t, tickets.Route{Tracker: tc.tracker, Project: tc.project}, r, tc.service)
		assert.True(t, routes.Routed(tc.service), tc.service)
	}

	c.Default = nil
	routes = c.Routes()
	_, err := routes.Route("billing")
	require.ErrorIs(t, err, tickets.ErrNotRouted)
	assert.False(t, routes.Routed("billing"))
	assert.True(t, routes.Routed("checkout"))
	assert.EqualError(t, err, "no tracker route for service billing and no default route; add one under tickets: in the config")
	_, err = routes.Route("")
	require.ErrorIs(t, err, tickets.ErrNotRouted)
	assert.True(t, strings.HasPrefix(err.Error(), "no tracker route for an incident without a service"))
	assert.False(t, errors.Is(err, os.ErrNotExist))
}
