package api

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ooda-sre/ooda/incident"
)

// Scope is what an API token may do.
type Scope string

// The scopes. A token has the ones its entry in OODA_API_TOKENS_FILE
// lists; OODA_API_TOKEN has them all.
const (
	// ScopeRead reads incidents, post-mortems, the freeze and the status,
	// and runs the commands that change nothing (list, roles, timeline).
	ScopeRead Scope = "read"
	// ScopeWrite runs the commands that change incidents, and delivers
	// Alertmanager's webhook.
	ScopeWrite Scope = "write"
	// ScopePrivate sees and acts on private incidents; without it they do
	// not exist for the token.
	ScopePrivate Scope = "private"
	// ScopeAdmin downloads the database (GET /api/v1/backup).
	ScopeAdmin Scope = "admin"
)

// Scopes lists every scope, in the order the README gives them.
var Scopes = []Scope{ScopeRead, ScopeWrite, ScopePrivate, ScopeAdmin}

// LegacyScopes are the scopes of a token named in the old form of the
// tokens file (name: token), which predates scopes.
var LegacyScopes = []Scope{ScopeRead, ScopeWrite}

// Token is a named API token: the name is the actor the timeline records
// for what it does ("api:<name>").
type Token struct {
	Name   string
	Scopes []Scope
}

// Has reports whether the token carries scope s.
func (t Token) Has(s Scope) bool { return slices.Contains(t.Scopes, s) }

// ParseScope reads a scope's name, saying which exist when it is none.
func ParseScope(s string) (Scope, error) {
	for _, sc := range Scopes {
		if string(sc) == strings.TrimSpace(s) {
			return sc, nil
		}
	}
	names := make([]string, len(Scopes))
	for i, sc := range Scopes {
		names[i] = string(sc)
	}
	return "", fmt.Errorf("scope %q does not exist; use %s", s, strings.Join(names, ", "))
}

type tokenKey struct{}

// tokenOf is the token the request authenticated with; the zero Token
// when none did (a handler mounted without authed).
func tokenOf(ctx context.Context) Token {
	t, _ := ctx.Value(tokenKey{}).(Token)
	return t
}

// tokenName is the name of the API token the request authenticated with.
func tokenName(ctx context.Context) string {
	if t := tokenOf(ctx); t.Name != "" {
		return t.Name
	}
	return "unknown"
}

// authed checks the bearer token in constant time and that it carries
// scope before the handler runs, and puts the token in the request
// context.
func (s *Server) authed(scope Scope, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.APIToken == "" && len(s.cfg.APITokens) == 0 {
			writeError(w, http.StatusUnauthorized, "the API is disabled: set OODA_API_TOKEN to enable it")
			return
		}
		var tok Token
		if got, ok := bearer(r.Header.Get("Authorization")); ok {
			tok = s.token(got)
		}
		if tok.Name == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ooda"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token: send Authorization: Bearer $OODA_API_TOKEN")
			return
		}
		if !tok.Has(scope) {
			writeError(w, http.StatusForbidden, missingScope(tok, scope))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)))
	})
}

// bearer reads the token of an Authorization header. The scheme's name
// is case-insensitive (RFC 9110 §11.1), so "bearer" and "BEARER" count.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// missingScope says which scope a token lacks and where it is granted.
func missingScope(tok Token, scope Scope) string {
	return fmt.Sprintf("the token %s lacks the %s scope; grant it in OODA_API_TOKENS_FILE (%s: {token: …, scopes: [%s, …]})", tok.Name, scope, tok.Name, scope)
}

// token finds the token got is, or the zero Token. Every candidate is
// compared in constant time, so timing says nothing about which tokens
// exist.
func (s *Server) token(got string) Token {
	var found Token
	if s.cfg.APIToken != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.APIToken)) == 1 {
		found = Token{Name: "admin", Scopes: Scopes}
	}
	for tok, t := range s.cfg.APITokens {
		if subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1 {
			found = t
		}
	}
	return found
}

// admits applies the access rule to the request's token: a private
// incident exists only for a token with the private scope.
func admits(ctx context.Context, inc incident.Incident) bool {
	return !inc.Private || tokenOf(ctx).Has(ScopePrivate)
}
