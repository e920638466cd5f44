package resilience

import "regexp"

// The patterns are compiled once and never change; they are package-level
// only so Redact does not recompile them on every error.
var (
	// Slack tokens: bot (xoxb-), user (xoxp-), app-level (xapp-), refresh
	// and configuration (xoxe-, xoxe.xoxp-) and the legacy kinds.
	slackTokenRE = regexp.MustCompile(`\b(xox[a-z]|xapp)((?:\.xox[a-z])?-)[0-9A-Za-z.\-]+`)
	// Authorization header values, as they appear in dumped requests.
	bearerRE = regexp.MustCompile(`(?i)\b(bearer)\s+[0-9A-Za-z\-._~+/]+=*`)
	// Query strings and fragments of URLs: signed upload URLs carry their
	// signature there, other APIs their token.
	urlQueryRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://[^\s?#"'<>]+)[?#][^\s"'<>]*`)
	// Passwords in URLs (https://user:secret@host).
	urlUserinfoRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s:@"'<>]*:[^/\s@"'<>]*@`)
	// Slack incoming-webhook and workflow URLs are secrets in their path.
	slackHookRE = regexp.MustCompile(`(?i)\b(hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/)[0-9A-Za-z/_\-]+`)
	// Form-encoded credentials outside a URL, as in a dumped request body.
	formSecretRE = regexp.MustCompile(`(?i)\b((?:token|access_token|refresh_token|client_secret|signing_secret|password)=)[^&\s"'<>]+`)
)

const redacted = "REDACTED"

// Redact masks credentials in s: Slack tokens, bearer tokens, URL query
// strings and userinfo, Slack webhook paths and form-encoded secrets. It is
// meant for error messages and log lines, which must never carry a secret
// however the error was built; it keeps enough (the token kind, the URL's
// host and path) to debug with.
func Redact(s string) string {
	s = urlUserinfoRE.ReplaceAllString(s, "${1}"+redacted+"@")
	s = urlQueryRE.ReplaceAllString(s, "${1}?"+redacted)
	s = slackHookRE.ReplaceAllString(s, "${1}"+redacted)
	s = slackTokenRE.ReplaceAllString(s, "${1}${2}"+redacted)
	s = bearerRE.ReplaceAllString(s, "${1} "+redacted)
	s = formSecretRE.ReplaceAllString(s, "${1}"+redacted)
	return s
}
