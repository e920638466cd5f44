package app

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/tickets"
	"go.yaml.in/yaml/v3"
)

// Config is everything `ooda serve` is told. Precedence: flags override
// the environment, the environment overrides the YAML file (OODA_CONFIG),
// and the file overrides the defaults below.
type Config struct {
	SlackBotToken      string   `yaml:"slack_bot_token"`
	SlackSigningSecret string   `yaml:"slack_signing_secret"`
	SlackAppToken      string   `yaml:"slack_app_token"`
	SlackAPIURL        string   `yaml:"slack_api_url"`
	DB                 string   `yaml:"db"`
	Listen             string   `yaml:"listen"`
	APIToken           string   `yaml:"api_token"`
	APITokensFile      string   `yaml:"api_tokens_file"`
	AnnounceChannel    string   `yaml:"announce_channel"`
	SLOChannel         string   `yaml:"slo_channel"`
	SLOFiles           []string `yaml:"slo_files"`
	// SLOPeriod is the SLO period of the SLO files that give none (a
	// Prometheus duration, "30d"); OpenSLO files give their own.
	SLOPeriod     string `yaml:"slo_period"`
	PrometheusURL string `yaml:"prometheus_url"`
	// SocketSilence is how long a Socket Mode connection may go without a
	// frame from Slack before it is replaced (a Go duration, "1m").
	SocketSilence string `yaml:"socket_silence"`
	// The etcd backend, for several replicas: with EtcdEndpoints set, Ooda
	// keeps everything in etcd under EtcdPrefix instead of the DB file.
	EtcdEndpoints []string `yaml:"etcd_endpoints"`
	EtcdPrefix    string   `yaml:"etcd_prefix"`
	EtcdCACert    string   `yaml:"etcd_cacert"`
	EtcdCert      string   `yaml:"etcd_cert"`
	EtcdKey       string   `yaml:"etcd_key"`
	EtcdUsername  string   `yaml:"etcd_username"`
	EtcdPassword  string   `yaml:"etcd_password"`
	// Sign in with Slack, for the web UI: the address people open and
	// the Slack app's OAuth credentials. All three or none.
	PublicURL         string `yaml:"public_url"`
	SlackClientID     string `yaml:"slack_client_id"`
	SlackClientSecret string `yaml:"slack_client_secret"`
	// OIDCIssuer overrides Slack's OpenID Connect issuer
	// (https://slack.com); tests point it at a fake provider.
	OIDCIssuer string `yaml:"oidc_issuer"`

	// Tickets configures the trackers action items become tickets in,
	// and which service goes to which; only in the YAML file (its
	// secrets come from files or the environment it names).
	Tickets tickets.Config `yaml:"tickets"`

	// dbSet says DB was given (file, environment or flag), not defaulted:
	// a DB file and etcd endpoints together are a mistake to point out.
	dbSet bool
}

// DefaultConfig is the configuration before the file, the environment
// and the flags say anything.
func DefaultConfig() Config {
	return Config{
		SlackAPIURL: "https://slack.com/api/",
		DB:          "ooda.db",
		Listen:      ":8080",
		EtcdPrefix:  "/ooda/",
	}
}

// setting ties one configuration value to its environment variable, flag
// and YAML key, so the three stay in step by construction.
type setting struct {
	env, flag, yaml, help string
	secret                bool // may also come from a file: ENV_FILE / --flag-file / yaml_key_file
	str                   *string
	list                  *[]string
}

func (c *Config) settings() []setting {
	return []setting{
		{env: "SLACK_BOT_TOKEN", flag: "slack-bot-token", yaml: "slack_bot_token", secret: true, str: &c.SlackBotToken, help: "Slack bot token (xoxb-…)"},
		{env: "SLACK_SIGNING_SECRET", flag: "slack-signing-secret", yaml: "slack_signing_secret", secret: true, str: &c.SlackSigningSecret, help: "Slack signing secret, verifies HTTP requests"},
		{env: "SLACK_APP_TOKEN", flag: "slack-app-token", yaml: "slack_app_token", secret: true, str: &c.SlackAppToken, help: "Slack app-level token (xapp-…); set it to use Socket Mode"},
		{env: "SLACK_API_URL", flag: "slack-api-url", yaml: "slack_api_url", str: &c.SlackAPIURL, help: "Slack Web API base URL"},
		{env: "OODA_DB", flag: "db", yaml: "db", str: &c.DB, help: "path of the bbolt database file"},
		{env: "OODA_LISTEN", flag: "listen", yaml: "listen", str: &c.Listen, help: "HTTP listen address"},
		{env: "OODA_API_TOKEN", flag: "api-token", yaml: "api_token", secret: true, str: &c.APIToken, help: "bearer token for /api/v1"},
		{env: "OODA_API_TOKENS_FILE", flag: "api-tokens-file", yaml: "api_tokens_file", str: &c.APITokensFile, help: "YAML file of further API tokens: name: token"},
		{env: "OODA_ANNOUNCE_CHANNEL", flag: "announce-channel", yaml: "announce_channel", str: &c.AnnounceChannel, help: "channel id where incidents are announced"},
		{env: "OODA_SLO_CHANNEL", flag: "slo-channel", yaml: "slo_channel", str: &c.SLOChannel, help: "channel id for SLO burn warnings"},
		{env: "OODA_SLO_FILES", flag: "slo-files", yaml: "slo_files", list: &c.SLOFiles, help: "comma-separated SLO files: Sloth, its Kubernetes form, OpenSLO"},
		{env: "OODA_SLO_PERIOD", flag: "slo-period", yaml: "slo_period", str: &c.SLOPeriod, help: "SLO period of the SLO files that give none (default 30d)"},
		{env: "PROMETHEUS_URL", flag: "prometheus-url", yaml: "prometheus_url", str: &c.PrometheusURL, help: "Prometheus base URL"},
		{env: "OODA_SOCKET_SILENCE", flag: "socket-silence", yaml: "socket_silence", str: &c.SocketSilence, help: "replace a Socket Mode connection silent this long (default 1m)"},
		{env: "OODA_ETCD_ENDPOINTS", flag: "etcd-endpoints", yaml: "etcd_endpoints", list: &c.EtcdEndpoints, help: "comma-separated etcd endpoints; when set, Ooda keeps its data in etcd instead of the DB file"},
		{env: "OODA_ETCD_PREFIX", flag: "etcd-prefix", yaml: "etcd_prefix", str: &c.EtcdPrefix, help: "key prefix of Ooda's data in etcd (default /ooda/)"},
		{env: "OODA_ETCD_CACERT", flag: "etcd-cacert", yaml: "etcd_cacert", str: &c.EtcdCACert, help: "CA certificate file that verifies etcd's servers"},
		{env: "OODA_ETCD_CERT", flag: "etcd-cert", yaml: "etcd_cert", str: &c.EtcdCert, help: "client certificate file for etcd"},
		{env: "OODA_ETCD_KEY", flag: "etcd-key", yaml: "etcd_key", str: &c.EtcdKey, help: "client key file for etcd"},
		{env: "OODA_ETCD_USERNAME", flag: "etcd-username", yaml: "etcd_username", str: &c.EtcdUsername, help: "etcd user"},
		{env: "OODA_ETCD_PASSWORD", flag: "etcd-password", yaml: "etcd_password", secret: true, str: &c.EtcdPassword, help: "etcd user's password"},
		{env: "OODA_PUBLIC_URL", flag: "public-url", yaml: "public_url", str: &c.PublicURL, help: "the address people open for the web UI (https://ooda.example.com); Sign in with Slack returns to it"},
		{env: "SLACK_CLIENT_ID", flag: "slack-client-id", yaml: "slack_client_id", str: &c.SlackClientID, help: "the Slack app's client ID (Basic Information), for Sign in with Slack"},
		{env: "SLACK_CLIENT_SECRET", flag: "slack-client-secret", yaml: "slack_client_secret", secret: true, str: &c.SlackClientSecret, help: "the Slack app's client secret, for Sign in with Slack"},
		{env: "OODA_OIDC_ISSUER", flag: "oidc-issuer", yaml: "oidc_issuer", str: &c.OIDCIssuer, help: "OpenID Connect issuer of Sign in with Slack (default https://slack.com)"},
	}
}

// LoadConfig builds the configuration from defaults, the YAML file, the
// environment and the flags, in that order, and validates it once.
func LoadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	sets := c.settings()
	flagVals := make(map[string]*string, len(sets)*2)
	for _, s := range sets {
		flagVals[s.flag] = fs.String(s.flag, "", s.help+" (env "+s.env+")")
		if s.secret {
			flagVals[s.flag+"-file"] = fs.String(s.flag+"-file", "", "read "+s.flag+" from this file")
		}
	}
	configPath := fs.String("config", "", "YAML configuration file (env OODA_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q; settings are flags such as --db PATH", fs.Arg(0))
	}
	path := *configPath
	if path == "" {
		path = getenv("OODA_CONFIG")
	}
	if path != "" {
		if err := c.readFile(path); err != nil {
			return c, err
		}
		c.dbSet = c.DB != DefaultConfig().DB
	}
	c.dbSet = c.dbSet || getenv("OODA_DB") != "" || getenv("OODA_DB_FILE") != "" || *flagVals["db"] != ""
	for _, s := range sets {
		if err := s.from(getenv(s.env), getenv(s.env+"_FILE"), s.env); err != nil {
			return c, err
		}
	}
	for _, s := range sets {
		file := ""
		if p, ok := flagVals[s.flag+"-file"]; ok {
			file = *p
		}
		if err := s.from(*flagVals[s.flag], file, "--"+s.flag); err != nil {
			return c, err
		}
	}
	return c, c.validate()
}

// from sets the value from a direct value or a secret file, naming the
// source in the error so a bad value is easy to find.
func (s setting) from(val, file, source string) error {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("%s_FILE: read secret file: %w", source, err)
		}
		val = strings.TrimSpace(string(b))
		if val == "" {
			return fmt.Errorf("%s_FILE: %s is empty", source, file)
		}
	}
	if val == "" {
		return nil
	}
	if s.list != nil {
		*s.list = SplitList(val)
		return nil
	}
	*s.str = val
	return nil
}

// SplitList reads a comma-separated list, dropping spaces and empty
// items: "a.yaml, b.yaml" is two files.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ReadConfigFile reads an ooda configuration file alone, without the
// environment, the flags or the validation LoadConfig adds.
func ReadConfigFile(path string) (Config, error) {
	var c Config
	err := c.readFile(path)
	return c, err
}

func (c *Config) readFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("config %s: not valid YAML: %w", path, err)
	}
	if _, ok := raw["tickets"]; ok {
		if err := c.readTickets(b); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
		delete(raw, "tickets")
	}
	known := map[string]setting{}
	for _, s := range c.settings() {
		known[s.yaml] = s
		if s.secret {
			known[s.yaml+"_file"] = s
		}
	}
	for k, v := range raw {
		s, ok := known[k]
		if !ok {
			return fmt.Errorf("config %s: unknown key %q", path, k)
		}
		if strings.HasSuffix(k, "_file") && s.secret {
			str, ok := v.(string)
			if !ok {
				return fmt.Errorf("config %s: %s must be a file path", path, k)
			}
			if err := s.from("", str, k); err != nil {
				return fmt.Errorf("config %s: %w", path, err)
			}
			continue
		}
		switch val := v.(type) {
		case string:
			if err := s.from(val, "", k); err != nil {
				return err
			}
		case []any:
			if s.list == nil {
				return fmt.Errorf("config %s: %s takes one value, not a list", path, k)
			}
			*s.list = (*s.list)[:0]
			for _, item := range val {
				str, ok := item.(string)
				if !ok {
					return fmt.Errorf("config %s: %s must be a list of strings", path, k)
				}
				*s.list = append(*s.list, str)
			}
		case nil:
		default:
			return fmt.Errorf("config %s: %s must be a string", path, k)
		}
	}
	return nil
}

// validate checks every value once, at start-up, naming the bad one.
func (c Config) validate() error {
	var errs []error
	if c.DB == "" {
		errs = append(errs, errors.New("db: set OODA_DB or --db to the database file"))
	}
	if len(c.EtcdEndpoints) > 0 {
		errs = append(errs, c.validateEtcd()...)
	}
	if c.SocketSilence != "" {
		if d, err := time.ParseDuration(c.SocketSilence); err != nil || d < 5*time.Second {
			errs = append(errs, fmt.Errorf("socket_silence %q: want a duration of 5s or more, such as 1m (Slack pings every few seconds)", c.SocketSilence))
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: want host:port such as :8080", c.Listen))
	}
	for name, u := range map[string]string{"slack_api_url": c.SlackAPIURL, "prometheus_url": c.PrometheusURL} {
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q: want an http(s) URL", name, u))
		}
	}
	if c.SlackBotToken != "" && !strings.HasPrefix(c.SlackBotToken, "xoxb-") {
		errs = append(errs, errors.New("slack_bot_token: a bot token starts with xoxb-; copy it from OAuth & Permissions"))
	}
	if c.SlackAppToken != "" && !strings.HasPrefix(c.SlackAppToken, "xapp-") {
		errs = append(errs, errors.New("slack_app_token: an app-level token starts with xapp-; create one under Basic Information → App-Level Tokens with connections:write"))
	}
	for name, ch := range map[string]string{"announce_channel": c.AnnounceChannel, "slo_channel": c.SLOChannel} {
		if ch != "" && !looksLikeChannelID(ch) {
			errs = append(errs, fmt.Errorf("%s %q: want a channel id such as C0123ABCD (in Slack: channel details → About → Channel ID), not a name", name, ch))
		}
	}
	if c.APIToken != "" && len(c.APIToken) < 16 {
		errs = append(errs, errors.New("api_token: shorter than 16 characters; generate one with openssl rand -hex 32"))
	}
	if len(c.SLOFiles) > 0 && c.PrometheusURL == "" {
		errs = append(errs, errors.New("slo_files: SLOs are evaluated against Prometheus; set PROMETHEUS_URL too"))
	}
	if c.SLOPeriod != "" {
		if _, err := slo.ParsePeriod(c.SLOPeriod); err != nil {
			errs = append(errs, fmt.Errorf("slo_period %w", err))
		}
	}
	if _, err := c.apiTokens(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateSignIn()...)
	if err := c.Tickets.Validate(); err != nil {
		errs = append(errs, err) // its sentences start with tickets:
	}
	return errors.Join(errs...)
}

var unknownFieldRE = regexp.MustCompile(`field (\S+) not found in type \S+`)

// unknownKeys says yaml's "field token not found in type
// tickets.TrackerConfig" as a person reads it, and where a secret was
// written inline, where it goes instead.
func unknownKeys(err error) string {
	return unknownFieldRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
		key := unknownFieldRE.FindStringSubmatch(m)[1]
		switch key {
		case "token", "webhook_secret":
			return fmt.Sprintf("%q is not a key: secrets are not written in the file; name a file (%s_file) or an environment variable (%s_env)", key, key, key)
		}
		return fmt.Sprintf("%q is not a key here (README: Tickets lists them)", key)
	})
}

// readTickets reads the file's tickets: section strictly: a misspelt key
// is an error, not a tracker silently left unconfigured.
func (c *Config) readTickets(file []byte) error {
	// The rest of the file is read (and checked) by readFile; decoding
	// the whole file keeps yaml's line numbers the file's.
	var doc struct {
		Tickets tickets.Config `yaml:"tickets"`
		Rest    map[string]any `yaml:",inline"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(file))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("tickets: %s", unknownKeys(err))
	}
	c.Tickets = doc.Tickets
	return nil
}

// ErrUnreachable is a server configuration nobody could use: no Slack,
// and no token for the API.
var ErrUnreachable = errors.New("nothing could reach this server: connect Slack (SLACK_BOT_TOKEN with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET), or set OODA_API_TOKEN to run with the REST API and the CLI only (README: Running without Slack)")

// CheckServe checks what serving needs beyond a valid configuration: a
// way in. Without Slack, the API and the CLI are the way in, and they
// answer only to a token, so a server with neither serves no one.
func (c Config) CheckServe() error {
	if c.SlackBotToken == "" && c.APIToken == "" && c.APITokensFile == "" {
		return ErrUnreachable
	}
	return nil
}

// validateSignIn checks Sign in with Slack's settings: all three or
// none, an address a browser keeps a Secure cookie for, and Slack
// connected (the workspace people may sign in from is the bot's own).
func (c Config) validateSignIn() []error {
	set := map[string]bool{"OODA_PUBLIC_URL": c.PublicURL != "", "SLACK_CLIENT_ID": c.SlackClientID != "", "SLACK_CLIENT_SECRET": c.SlackClientSecret != ""}
	var missing []string
	for _, name := range []string{"OODA_PUBLIC_URL", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"} {
		if !set[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) == 3 {
		if c.OIDCIssuer != "" {
			return []error{errors.New("OODA_OIDC_ISSUER (oidc_issuer): set only with Sign in with Slack (OODA_PUBLIC_URL, SLACK_CLIENT_ID, SLACK_CLIENT_SECRET)")}
		}
		return nil
	}
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("sign in with Slack needs OODA_PUBLIC_URL, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET together; %s missing (README: The web UI)", strings.Join(missing, " and ")))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") || u.RawQuery != "":
			errs = append(errs, fmt.Errorf("OODA_PUBLIC_URL (public_url) %q: want the address people open, such as https://ooda.example.com (no path)", c.PublicURL))
		case u.Scheme == "http" && !loopback(u.Hostname()):
			errs = append(errs, fmt.Errorf("OODA_PUBLIC_URL (public_url) %q: browsers keep the session cookie (Secure) only over https; serve Ooda behind TLS and give its https address", c.PublicURL))
		}
	}
	if c.OIDCIssuer != "" {
		if u, err := url.Parse(c.OIDCIssuer); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("OODA_OIDC_ISSUER (oidc_issuer) %q: want an http(s) URL", c.OIDCIssuer))
		}
	}
	if c.SlackBotToken == "" {
		errs = append(errs, errors.New("sign in with Slack admits the people of the bot's own workspace, which Ooda learns from Slack: set SLACK_BOT_TOKEN too"))
	}
	return errs
}

// loopback reports whether host is this machine, where browsers treat
// plain http as secure.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func looksLikeChannelID(s string) bool {
	if len(s) < 9 || (s[0] != 'C' && s[0] != 'G') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// apiTokens reads the named tokens file: a YAML map from each token's
// name (the actor recorded for what it does) to either the token itself,
// the form that predates scopes, which grants read and write, or
// {token: …, scopes: [read, write, private, admin]}.
func (c Config) apiTokens() (map[string]api.Token, error) {
	if c.APITokensFile == "" {
		return nil, nil
	}
	file := c.APITokensFile
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("api_tokens_file: %w", err)
	}
	var byName map[string]yaml.Node
	if err := yaml.Unmarshal(b, &byName); err != nil {
		return nil, fmt.Errorf("api_tokens_file %s: want a YAML map of name: {token: …, scopes: [read, …]}: %w", file, err)
	}
	out := make(map[string]api.Token, len(byName))
	for name, node := range byName {
		tok, scopes, err := tokenEntry(&node)
		if err != nil {
			return nil, fmt.Errorf("api_tokens_file %s: %s: %w", file, name, err)
		}
		switch {
		case name == "" || strings.ContainsAny(name, " :\t\n"):
			return nil, fmt.Errorf("api_tokens_file %s: token name %q must be one word without ':'", file, name)
		case name == "admin":
			return nil, fmt.Errorf("api_tokens_file %s: the name admin is OODA_API_TOKEN's; choose another", file)
		case len(tok) < 16:
			return nil, fmt.Errorf("api_tokens_file %s: the token for %s is shorter than 16 characters; generate one with openssl rand -hex 32", file, name)
		case tok == c.APIToken:
			return nil, fmt.Errorf("api_tokens_file %s: the token for %s is the admin token", file, name)
		}
		if other, dup := out[tok]; dup {
			return nil, fmt.Errorf("api_tokens_file %s: %s and %s share a token", file, other.Name, name)
		}
		out[tok] = api.Token{Name: name, Scopes: scopes}
	}
	return out, nil
}

// tokenEntry reads one entry of the tokens file, in either form.
func tokenEntry(node *yaml.Node) (string, []api.Scope, error) {
	if node.Kind == yaml.ScalarNode {
		return node.Value, api.LegacyScopes, nil
	}
	var e struct {
		Token  string   `yaml:"token"`
		Scopes []string `yaml:"scopes"`
	}
	if node.Kind != yaml.MappingNode {
		return "", nil, errors.New("want a token, or {token: …, scopes: [read, write, private, admin]}")
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if k := node.Content[i].Value; k != "token" && k != "scopes" {
			return "", nil, fmt.Errorf("unknown key %q; an entry has token and scopes", k)
		}
	}
	if err := node.Decode(&e); err != nil {
		return "", nil, fmt.Errorf("want {token: …, scopes: [read, …]}: %w", err)
	}
	if len(e.Scopes) == 0 {
		return "", nil, errors.New("no scopes: list them, e.g. scopes: [read, write]")
	}
	var scopes []api.Scope
	for _, s := range e.Scopes {
		sc, err := api.ParseScope(s)
		if err != nil {
			return "", nil, err
		}
		scopes = append(scopes, sc)
	}
	return e.Token, scopes, nil
}

// validateEtcd checks the etcd settings, which only count with endpoints.
func (c Config) validateEtcd() []error {
	var errs []error
	if c.dbSet {
		errs = append(errs, errors.New("db and etcd_endpoints are both set: Ooda keeps its data in one store; unset OODA_DB to use etcd (ooda migrate copies a DB file into etcd)"))
	}
	for _, e := range c.EtcdEndpoints {
		if u, err := url.Parse(e); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			continue
		}
		if _, _, err := net.SplitHostPort(e); err != nil {
			errs = append(errs, fmt.Errorf("etcd_endpoints %q: want host:port or an http(s) URL, such as https://etcd-1:2379", e))
		}
	}
	if !strings.HasPrefix(c.EtcdPrefix, "/") || !strings.HasSuffix(c.EtcdPrefix, "/") {
		errs = append(errs, fmt.Errorf("etcd_prefix %q: want a prefix that starts and ends with /, such as /ooda/", c.EtcdPrefix))
	}
	if (c.EtcdCert == "") != (c.EtcdKey == "") {
		errs = append(errs, errors.New("etcd_cert and etcd_key go together: set both, or neither"))
	}
	if (c.EtcdUsername == "") != (c.EtcdPassword == "") {
		errs = append(errs, errors.New("etcd_username and etcd_password go together: set both, or neither"))
	}
	return errs
}

// sloPeriod is SLOPeriod as a duration: slo.DefaultPeriod when unset.
func (c Config) sloPeriod() time.Duration {
	if c.SLOPeriod == "" {
		return slo.DefaultPeriod
	}
	p, _ := slo.ParsePeriod(c.SLOPeriod) // validated once, at start-up
	return p
}

// socketSilence is SocketSilence as a duration; zero for the default.
func (c Config) socketSilence() time.Duration {
	d, _ := time.ParseDuration(c.SocketSilence)
	return d
}

// SlackMode says how Slack reaches this process: "socket", "http" or
// "off".
func (c Config) SlackMode() string { return c.slackMode() }

func (c Config) slackMode() string {
	switch {
	case c.SlackBotToken == "":
		return "off"
	case c.SlackAppToken != "":
		return "socket"
	default:
		return "http"
	}
}
