package app

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/tickets"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/slo"
	"github.com/stretchr/testify/require"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return LoadConfig(fs, args, envMap(env))
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ooda.yaml")
	require.NoError(t, os.WriteFile(file, []byte("db: /from/file.db\nlisten: \":9000\"\nannounce_channel: C0FILE0001\nslo_files: [a.yaml, b.yaml]\nslo_period: 28d\nprometheus_url: http://prometheus:9090\n"), 0o600))
	secret := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(secret, []byte("xoxb-from-file\n"), 0o600))

	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"defaults", nil, nil, func(t *testing.T, c Config) {
			require.Equal(t, "ooda.db", c.DB)
			require.Equal(t, ":8080", c.Listen)
			require.Equal(t, "off", c.slackMode())
		}},
		{"file over defaults", []string{"--config", file}, nil, func(t *testing.T, c Config) {
			require.Equal(t, "/from/file.db", c.DB)
			require.Equal(t, ":9000", c.Listen)
			require.Equal(t, []string{"a.yaml", "b.yaml"}, c.SLOFiles)
		}},
		{"env over file", nil, map[string]string{"OODA_CONFIG": file, "OODA_DB": "/from/env.db", "OODA_SLO_FILES": "x.yaml, y.yaml"}, func(t *testing.T, c Config) {
			require.Equal(t, "/from/env.db", c.DB)
			require.Equal(t, ":9000", c.Listen)
			require.Equal(t, []string{"x.yaml", "y.yaml"}, c.SLOFiles)
		}},
		{"flag over env", []string{"--db", "/from/flag.db"}, map[string]string{"OODA_CONFIG": file, "OODA_DB": "/from/env.db"}, func(t *testing.T, c Config) {
			require.Equal(t, "/from/flag.db", c.DB)
		}},
		{"the SLO period: 30 days by default, then the file, the environment, the flag", nil, nil, func(t *testing.T, c Config) {
			require.Equal(t, 30*slo.Day, c.sloPeriod())
			for _, tc := range []struct {
				args []string
				env  map[string]string
				want time.Duration
			}{
				{[]string{"--config", file}, nil, 28 * slo.Day},
				{[]string{"--config", file}, map[string]string{"OODA_SLO_PERIOD": "7d"}, 7 * slo.Day},
				{[]string{"--config", file, "--slo-period", "2w"}, map[string]string{"OODA_SLO_PERIOD": "7d"}, 14 * slo.Day},
			} {
				c, err := load(t, tc.args, tc.env)
				require.NoError(t, err)
				require.Equal(t, tc.want, c.sloPeriod(), "%v %v", tc.args, tc.env)
			}
		}},
		{"secret from env file", nil, map[string]string{"SLACK_BOT_TOKEN_FILE": secret, "SLACK_SIGNING_SECRET": "s"}, func(t *testing.T, c Config) {
			require.Equal(t, "xoxb-from-file", c.SlackBotToken)
			require.Equal(t, "http", c.slackMode())
		}},
		{"etcd instead of the DB file", nil, map[string]string{"OODA_ETCD_ENDPOINTS": "https://etcd-1:2379, etcd-2:2379", "OODA_ETCD_PASSWORD": "p", "OODA_ETCD_USERNAME": "ooda"}, func(t *testing.T, c Config) {
			require.Equal(t, []string{"https://etcd-1:2379", "etcd-2:2379"}, c.EtcdEndpoints)
			require.Equal(t, "/ooda/", c.EtcdPrefix)
		}},
		{"socket mode with app token", []string{"--slack-app-token", "xapp-1"}, map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, func(t *testing.T, c Config) {
			require.Equal(t, "socket", c.slackMode())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, tt.args, tt.env)
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestConfigErrorsNameTheValue(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.yaml")
	require.NoError(t, os.WriteFile(unknown, []byte("slack_token: x\n"), 0o600))
	broken := filepath.Join(dir, "broken.yaml")
	require.NoError(t, os.WriteFile(broken, []byte("db: [unclosed\n"), 0o600))

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad listen", []string{"--listen", "8080"}, nil, "listen \"8080\""},
		{"bad url", nil, map[string]string{"PROMETHEUS_URL": "localhost:9090"}, "prometheus_url"},
		{"channel name not id", []string{"--announce-channel", "#incidents"}, nil, "announce_channel"},
		{"user token", nil, map[string]string{"SLACK_BOT_TOKEN": "xoxp-123"}, "slack_bot_token"},
		{"unknown yaml key", []string{"--config", unknown}, nil, "unknown key \"slack_token\""},
		{"broken yaml", []string{"--config", broken}, nil, "not valid YAML"},
		{"missing secret file", nil, map[string]string{"OODA_API_TOKEN_FILE": filepath.Join(dir, "nope")}, "OODA_API_TOKEN_FILE"},
		{"stray argument", []string{"extra"}, nil, "unexpected argument"},
		{"short admin token", nil, map[string]string{"OODA_API_TOKEN": "secret"}, "api_token: shorter than 16"},
		{"slo files without prometheus", nil, map[string]string{"OODA_SLO_FILES": "a.yaml"}, "set PROMETHEUS_URL"},
		{"slo period not a duration", nil, map[string]string{"OODA_SLO_PERIOD": "a month"}, `slo_period "a month": want a duration such as 30d, 4w or 720h`},
		{"slo period under a day", []string{"--slo-period", "6h"}, nil, "slo_period 6h: an SLO period must be a day or more"},
		{"a DB file and etcd", []string{"--db", "/var/lib/ooda.db"}, map[string]string{"OODA_ETCD_ENDPOINTS": "etcd-1:2379"}, "db and etcd_endpoints are both set"},
		{"bad etcd endpoint", nil, map[string]string{"OODA_ETCD_ENDPOINTS": "etcd-1"}, `etcd_endpoints "etcd-1"`},
		{"bad etcd prefix", nil, map[string]string{"OODA_ETCD_ENDPOINTS": "etcd-1:2379", "OODA_ETCD_PREFIX": "ooda"}, `etcd_prefix "ooda"`},
		{"etcd cert without key", nil, map[string]string{"OODA_ETCD_ENDPOINTS": "etcd-1:2379", "OODA_ETCD_CERT": "c.pem"}, "etcd_cert and etcd_key go together"},
		{"sign-in without its secret", nil, signIn(map[string]string{"SLACK_CLIENT_SECRET": ""}), "SLACK_CLIENT_SECRET missing"},
		{"sign-in over plain http", nil, signIn(map[string]string{"OODA_PUBLIC_URL": "http://ooda.example.com"}), "only over https"},
		{"public url with a path", nil, signIn(map[string]string{"OODA_PUBLIC_URL": "https://example.com/ooda"}), "(no path)"},
		{"sign-in without Slack", nil, signIn(map[string]string{"SLACK_BOT_TOKEN": ""}), "set SLACK_BOT_TOKEN too"},
		{"issuer alone", nil, map[string]string{"OODA_OIDC_ISSUER": "https://idp.example.com"}, "OODA_OIDC_ISSUER (oidc_issuer): set only with Sign in with Slack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.args, tt.env)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// signIn is a valid Sign in with Slack environment with change applied
// (an empty value removes the variable).
func signIn(change map[string]string) map[string]string {
	env := map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
		"OODA_PUBLIC_URL": "https://ooda.example.com", "SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "shh",
	}
	for k, v := range change {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	return env
}

// TestSignInSettings: the three settings together are accepted, over
// https or on this machine over http.
func TestSignInSettings(t *testing.T) {
	for _, env := range []map[string]string{
		signIn(nil),
		signIn(map[string]string{"OODA_PUBLIC_URL": "http://localhost:8080"}),
		signIn(map[string]string{"OODA_PUBLIC_URL": "http://127.0.0.1:8080/", "OODA_OIDC_ISSUER": "http://127.0.0.1:9999"}),
	} {
		c, err := load(t, nil, env)
		require.NoError(t, err, "%v", env)
		require.Equal(t, env["OODA_PUBLIC_URL"], c.PublicURL)
	}
}

// TestServeNeedsAWayIn: a server with neither Slack nor an API token
// could serve no one, and says what to set.
func TestServeNeedsAWayIn(t *testing.T) {
	c, err := load(t, nil, nil)
	require.NoError(t, err, "tools such as migrate read the configuration without serving")
	require.ErrorIs(t, c.CheckServe(), ErrUnreachable)
	require.ErrorContains(t, c.CheckServe(), "set OODA_API_TOKEN to run with the REST API and the CLI only")
	for _, env := range []map[string]string{
		{"OODA_API_TOKEN": "0123456789abcdef"},
		{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
	} {
		c, err := load(t, nil, env)
		require.NoError(t, err)
		require.NoError(t, c.CheckServe())
	}
}

func TestConfigErrorsNeverEchoSecrets(t *testing.T) {
	_, err := load(t, nil, map[string]string{"SLACK_BOT_TOKEN": "xoxp-very-secret-value"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "very-secret")
}

func TestAPITokensFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) Config {
		path := filepath.Join(dir, "tokens.yaml")
		require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
		return Config{APITokensFile: path, APIToken: "admin-token-0123456789"}
	}
	tests := []struct {
		name, body string
		want       map[string]api.Token
		err        string
	}{
		{"today's form: read and write", "deploy-bot: deploy-token-0123456789\n",
			map[string]api.Token{"deploy-token-0123456789": {Name: "deploy-bot", Scopes: []api.Scope{api.ScopeRead, api.ScopeWrite}}}, ""},
		{"scopes named", "security:\n  token: security-token-01234\n  scopes: [read, write, private]\nbackups:\n  token: backup-token-0123456\n  scopes: [admin]\n",
			map[string]api.Token{
				"security-token-01234": {Name: "security", Scopes: []api.Scope{api.ScopeRead, api.ScopeWrite, api.ScopePrivate}},
				"backup-token-0123456": {Name: "backups", Scopes: []api.Scope{api.ScopeAdmin}},
			}, ""},
		{"both forms in one file", "ci: ci-token-0123456789abc\nsecurity: {token: security-token-01234, scopes: [read, private]}\n",
			map[string]api.Token{
				"ci-token-0123456789abc": {Name: "ci", Scopes: []api.Scope{api.ScopeRead, api.ScopeWrite}},
				"security-token-01234":   {Name: "security", Scopes: []api.Scope{api.ScopeRead, api.ScopePrivate}},
			}, ""},
		{"unknown scope", "ci: {token: ci-token-0123456789abc, scopes: [read, root]}\n", nil, `scope "root" does not exist; use read, write, private, admin`},
		{"no scopes", "ci: {token: ci-token-0123456789abc}\n", nil, "no scopes: list them"},
		{"unknown key", "ci: {token: ci-token-0123456789abc, scope: [read]}\n", nil, `unknown key "scope"`},
		{"short token", "ci: {token: short, scopes: [read]}\n", nil, "shorter than 16 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := write(tt.body).apiTokens()
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestTicketsSection: the tickets: section of the YAML file is read
// strictly, validated with the rest, and never echoes a secret.
func TestTicketsSection(t *testing.T) {
	dir := t.TempDir()
	write := func(yaml string) string {
		p := filepath.Join(dir, "ooda.yaml")
		require.NoError(t, os.WriteFile(p, []byte(yaml), 0o600))
		return p
	}
	good := write(`db: x.db
tickets:
  trackers:
    - name: jira
      kind: jira
      url: https://acme.atlassian.net
      email: ooda@acme.example
      token_env: JIRA_TOKEN
  default: {tracker: jira, project: OPS}
  poll_interval: 2m
`)
	c, err := load(t, nil, map[string]string{"OODA_CONFIG": good})
	require.NoError(t, err)
	require.True(t, c.Tickets.Enabled())
	require.Equal(t, "jira", c.Tickets.Trackers[0].Name)
	require.Equal(t, &tickets.Route{Tracker: "jira", Project: "OPS"}, c.Tickets.Default)

	_, err = New(t.Context(), c, storagetest.Open(t), Options{})
	require.ErrorContains(t, err, "trackers are configured but Slack is not", "tickets need the executor, which runs with Slack")

	misspelt := write("tickets:\n  trackers:\n    - name: gh\n      kind: github\n      tokn_file: /x\n")
	_, err = load(t, nil, map[string]string{"OODA_CONFIG": misspelt})
	require.ErrorContains(t, err, `line 5: "tokn_file" is not a key here`, "a misspelt key is named with its line in the file, not ignored")

	inline := write("tickets:\n  trackers:\n    - name: gh\n      kind: github\n      token: ghp_0123456789\n")
	_, err = load(t, nil, map[string]string{"OODA_CONFIG": inline})
	require.ErrorContains(t, err, `"token" is not a key: secrets are not written in the file; name a file (token_file) or an environment variable (token_env)`)
	require.NotContains(t, err.Error(), "ghp_0123456789")

	invalid := write("tickets:\n  trackers:\n    - name: gh\n      kind: gitbucket\n      token_file: /x\n  default: {tracker: gh, project: acme/ops}\n")
	_, err = load(t, nil, map[string]string{"OODA_CONFIG": invalid})
	require.ErrorContains(t, err, "tickets:")
	require.NotContains(t, err.Error(), "tickets: tickets:")
	require.ErrorContains(t, err, "gitbucket")
}
