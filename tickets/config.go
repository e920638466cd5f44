package tickets

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// DefaultPollInterval is how often the trackers are asked about the
// tickets Ooda follows when poll_interval is not set.
const DefaultPollInterval = 5 * time.Minute

// MinPollInterval is the shortest poll_interval: trackers rate-limit, and
// webhooks are the way to hear of a change sooner.
const MinPollInterval = 30 * time.Second

// The flavors of Jira.
const (
	FlavorCloud      = "cloud"
	FlavorDataCenter = "datacenter"
)

// DefaultIssueType is the Jira issue type tickets are created as when
// issue_type is not set.
const DefaultIssueType = "Task"

// Config is the tickets: section of Ooda's configuration. The zero value
// configures no tracker: tickets are off.
type Config struct {
	Trackers []TrackerConfig `yaml:"trackers"`
	// Default routes the incidents of a service Services does not name;
	// nil routes them nowhere.
	Default *Route `yaml:"default"`
	// Services routes a service's incidents; names match case-insensitively.
	Services map[string]Route `yaml:"services"`
	// AccountsFile maps people to their tracker accounts (see
	// ParseAccounts); "" maps nobody through a file.
	AccountsFile string `yaml:"accounts_file"`
	// PollInterval is a duration (5m); "" means DefaultPollInterval.
	PollInterval string `yaml:"poll_interval"`
}

// TrackerConfig is one tracker Ooda opens tickets in. Its secrets are
// named (a file or an environment variable), never written inline.
type TrackerConfig struct {
	// Name names it in routes, in the webhook URL
	// (/api/v1/webhooks/{name}) and in the items' records.
	Name string `yaml:"name"`
	Kind string `yaml:"kind"` // KindGitHub, KindGitLab or KindJira
	// URL is the API's base: GitHub Enterprise's, a self-managed
	// GitLab's, the Jira site's (required for Jira); "" means github.com
	// or gitlab.com.
	URL       string `yaml:"url"`
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
	// The webhook's secret; neither means the tracker has no webhook and
	// is only polled.
	WebhookSecretFile string `yaml:"webhook_secret_file"`
	WebhookSecretEnv  string `yaml:"webhook_secret_env"`
	// Jira only: Flavor is FlavorCloud (the default; Email and an API
	// token) or FlavorDataCenter (a personal access token); IssueType is
	// what tickets are created as (DefaultIssueType).
	Flavor    string `yaml:"flavor"`
	Email     string `yaml:"email"`
	IssueType string `yaml:"issue_type"`
}

// JiraFlavor is the tracker's Jira flavor with its default.
func (t TrackerConfig) JiraFlavor() string {
	if t.Flavor == "" {
		return FlavorCloud
	}
	return t.Flavor
}

// JiraIssueType is the issue type with its default.
func (t TrackerConfig) JiraIssueType() string {
	if t.IssueType == "" {
		return DefaultIssueType
	}
	return t.IssueType
}

// Route is where a service's tickets go: a tracker, by name, and a project
// in it (owner/repo on GitHub, a path or numeric id on GitLab, a project
// key on Jira).
type Route struct {
	Tracker string `yaml:"tracker"`
	Project string `yaml:"project"`
}

// Enabled reports whether any tracker is configured.
func (c Config) Enabled() bool { return len(c.Trackers) > 0 }

// Interval is the poll interval with its default. Call it on a validated
// Config.
func (c Config) Interval() time.Duration {
	if c.PollInterval == "" {
		return DefaultPollInterval
	}
	d, err := time.ParseDuration(c.PollInterval)
	if err != nil || d < MinPollInterval {
		return DefaultPollInterval
	}
	return d
}

// Tracker returns the tracker named name.
func (c Config) Tracker(name string) (TrackerConfig, bool) {
	i := slices.IndexFunc(c.Trackers, func(t TrackerConfig) bool { return t.Name == name })
	if i < 0 {
		return TrackerConfig{}, false
	}
	return c.Trackers[i], true
}

var (
	nameRE       = regexp.MustCompile(`^[a-z0-9-]+$`)
	githubRepoRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$`)
	gitlabPathRE = regexp.MustCompile(`^(?:[0-9]+|[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+)$`)
	jiraKeyRE    = regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate reports every problem at once, each in a sentence that says
// what to write instead. A Config with no trackers is valid (tickets are
// off) unless it routes to one.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("tickets: "+format, args...)) }

	kinds := map[string]string{}
	for i, t := range c.Trackers {
		label := fmt.Sprintf("trackers[%d] %q", i, t.Name)
		switch {
		case t.Name == "":
			bad("trackers[%d]: name is empty; name it in lower case, such as name: github", i)
		case !nameRE.MatchString(t.Name):
			bad("%s: a name is lower-case letters, digits and dashes (it is part of the webhook URL); write, say, %q", label, suggestName(t.Name))
		default:
			if _, dup := kinds[t.Name]; dup {
				bad("%s: two trackers are named %s; give each its own name", label, t.Name)
			}
		}
		if t.Name != "" {
			kinds[t.Name] = t.Kind
		}
		switch t.Kind {
		case KindGitHub, KindGitLab, KindJira:
		case "":
			bad("%s: kind is missing; write kind: github, gitlab or jira", label)
		default:
			bad("%s: kind %q is not known; write github, gitlab or jira", label, t.Kind)
		}
		if t.URL != "" {
			if err := checkURL(t.URL); err != nil {
				bad("%s: url %q: %v", label, t.URL, err)
			}
		} else if t.Kind == KindJira {
			bad("%s: a Jira tracker needs url: the site, such as https://acme.atlassian.net", label)
		}
		errs = append(errs, checkSecretSource(label, "token", t.TokenFile, t.TokenEnv, true)...)
		errs = append(errs, checkSecretSource(label, "webhook_secret", t.WebhookSecretFile, t.WebhookSecretEnv, false)...)
		if t.Kind == KindJira {
			switch t.JiraFlavor() {
			case FlavorCloud:
				if t.Email == "" {
					bad("%s: Jira Cloud signs in with an email and an API token; add email: the account's address (or flavor: datacenter for a personal access token)", label)
				}
			case FlavorDataCenter:
				if t.Email != "" {
					bad("%s: Jira Data Center signs in with a personal access token alone; remove email (or write flavor: cloud)", label)
				}
			default:
				bad("%s: flavor %q is not known; write flavor: cloud or flavor: datacenter", label, t.Flavor)
			}
		} else if t.Flavor != "" || t.Email != "" || t.IssueType != "" {
			bad("%s: flavor, email and issue_type are Jira's; remove them from a %s tracker", label, t.Kind)
		}
	}

	checkRoute := func(where string, r Route) {
		kind, ok := kinds[r.Tracker]
		switch {
		case r.Tracker == "":
			bad("%s: tracker is missing; write tracker: and the name of one under trackers:", where)
			return
		case !ok:
			names := slices.Sorted(maps.Keys(kinds))
			if len(names) == 0 {
				bad("%s: tracker %q is not configured; add it under trackers: (name, kind, token_file)", where, r.Tracker)
			} else {
				bad("%s: tracker %q is not configured; write one of %s", where, r.Tracker, strings.Join(names, ", "))
			}
			return
		}
		if msg := checkProject(kind, r.Project); msg != "" {
			bad("%s: %s", where, msg)
		}
	}
	if c.Default != nil {
		checkRoute("default", *c.Default)
	}
	seen := map[string]string{}
	for _, svc := range slices.Sorted(maps.Keys(c.Services)) {
		key := strings.ToLower(strings.TrimSpace(svc))
		if key == "" {
			bad("services: a service name is empty; write the service as incidents name it")
			continue
		}
		if other, ok := seen[key]; ok {
			bad("services: %q and %q are the same service (names match in any case); keep one", other, svc)
			continue
		}
		seen[key] = svc
		checkRoute("services."+svc, c.Services[svc])
	}
	if len(c.Trackers) > 0 && c.Default == nil && len(c.Services) == 0 {
		bad("trackers are configured but nothing routes to them; add default: {tracker: %s, project: …} or routes under services:", c.Trackers[0].Name)
	}
	if c.PollInterval != "" {
		d, err := time.ParseDuration(c.PollInterval)
		switch {
		case err != nil:
			bad("poll_interval %q: want a duration such as 5m", c.PollInterval)
		case d < MinPollInterval:
			bad("poll_interval %q: polling cannot be turned off or run more often than every %s (trackers rate-limit; webhooks bring changes sooner); write 30s or more, such as 5m", c.PollInterval, MinPollInterval)
		}
	}
	return errors.Join(errs...)
}

// suggestName turns a bad tracker name into one that would do.
func suggestName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r == '_' || r == ' ' || r == '.':
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "tracker"
	}
	return b.String()
}

// checkProject says what is wrong with project for a tracker of kind, or
// "" when nothing is.
func checkProject(kind, project string) string {
	if project == "" {
		return "project is missing; write the project tickets go to"
	}
	switch kind {
	case KindGitHub:
		if !githubRepoRE.MatchString(project) {
			return fmt.Sprintf("project %q is not a GitHub repository; write owner/repo, such as acme/ops", project)
		}
	case KindGitLab:
		if !gitlabPathRE.MatchString(project) {
			return fmt.Sprintf("project %q is not a GitLab project; write its path (group/project) or its numeric id", project)
		}
	case KindJira:
		if !jiraKeyRE.MatchString(project) {
			return fmt.Sprintf("project %q is not a Jira project key; write the key in capitals, such as OPS", project)
		}
	}
	return ""
}

// checkURL accepts https URLs, and http ones to loopback only (a fake or
// a local proxy): a token must not cross a network in the clear.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return errors.New("want an https URL, such as https://github.example.com/api/v3/")
	}
	if u.User != nil {
		return errors.New("the URL carries credentials; remove them and use token_file or token_env")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return errors.New("http:// would send the token in the clear; write https:// (http is allowed only to localhost)")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkSecretSource checks that a secret comes from exactly one of a file
// and an environment variable (at most one when it is optional).
func checkSecretSource(label, what, file, env string, required bool) []error {
	var errs []error
	switch {
	case file != "" && env != "":
		errs = append(errs, fmt.Errorf("tickets: %s: both %s_file and %s_env are set; keep one", label, what, what))
	case file == "" && env == "" && required:
		errs = append(errs, fmt.Errorf("tickets: %s: no %s; write %s_file: (a file holding it) or %s_env: (an environment variable holding it), never the %s itself", label, what, what, what, what))
	}
	if env != "" && !envNameRE.MatchString(env) {
		errs = append(errs, fmt.Errorf("tickets: %s: %s_env %q is not an environment variable's name; write the variable's name, such as GITHUB_TOKEN, not its value", label, what, env))
	}
	return errs
}

// Secret is a token or a webhook secret. It prints, logs and marshals as
// [redacted], so a secret that reaches a log line or an error says so
// instead of leaking; Reveal gives the value to the code that needs it.
type Secret string

const redacted = "[redacted]"

// String returns [redacted], or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps JSON and YAML encoders from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// Credentials are one tracker's secrets, read once at start-up.
type Credentials struct {
	Name          string // the tracker's
	Token         Secret
	WebhookSecret Secret // "" when the tracker has no webhook
}

// String names the tracker and whether it has a webhook, never a secret.
func (c Credentials) String() string {
	return fmt.Sprintf("tickets.Credentials{Name:%s Token:%s WebhookSecret:%s}", c.Name, c.Token, c.WebhookSecret)
}

// LogValue logs the tracker's name and which secrets are set.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tracker", c.Name),
		slog.Bool("token", c.Token != ""), slog.Bool("webhook", c.WebhookSecret != ""))
}

// LoadSecrets reads every tracker's secrets once, at start-up: each file
// (its trailing newline trimmed) or environment variable, through
// lookupEnv (nil means os.LookupEnv). Its errors name the file or the
// variable, never a value. Call it on a validated Config.
func (c Config) LoadSecrets(lookupEnv func(string) (string, bool)) ([]Credentials, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	var errs []error
	creds := make([]Credentials, 0, len(c.Trackers))
	for _, t := range c.Trackers {
		token, err := readSecret(t.TokenFile, t.TokenEnv, "token", lookupEnv)
		if err != nil {
			errs = append(errs, fmt.Errorf("tickets: tracker %s: %w", t.Name, err))
		}
		hook, err := readSecret(t.WebhookSecretFile, t.WebhookSecretEnv, "webhook_secret", lookupEnv)
		if err != nil {
			errs = append(errs, fmt.Errorf("tickets: tracker %s: %w", t.Name, err))
		}
		creds = append(creds, Credentials{Name: t.Name, Token: token, WebhookSecret: hook})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return creds, nil
}

func readSecret(file, env, what string, lookupEnv func(string) (string, bool)) (Secret, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			// The *PathError names the file and the reason, no content.
			return "", fmt.Errorf("%s_file: %w", what, err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if strings.TrimSpace(s) == "" {
			return "", fmt.Errorf("%s_file %s is empty; write the %s into it", what, file, what)
		}
		return Secret(s), nil
	case env != "":
		v, ok := lookupEnv(env)
		v = strings.TrimRight(v, "\r\n")
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("%s_env: the environment variable %s is not set or empty; set it, or use %s_file", what, env, what)
		}
		return Secret(v), nil
	}
	return "", nil
}
