// Package webtest is a fake OpenID Connect provider that plays Sign in
// with Slack for the tests of package web, its browser tests and the
// demo: discovery, a key set, an authorization endpoint that signs in at
// once (no login form) whoever the test chose, and a token endpoint that
// checks the client, the code and its PKCE verifier before it hands out an
// ID token carrying Slack's claims. Faults make a sign-in go wrong the
// ways a real one can.
//
// A test points the site at it and says who signs in next:
//
//	p := webtest.NewProvider()
//	defer p.Close()
//	cfg.Issuer, cfg.ClientID, cfg.ClientSecret = p.URL(), p.ClientID(), p.ClientSecret()
//	cfg.Workspace = func(context.Context) (string, error) { return webtest.DefaultTeamID, nil }
//	p.SetUser(webtest.User{ID: "U0BOB000001", Team: webtest.DefaultTeamID, Name: "Bob"}) // Bob from now on
//	p.Inject(webtest.OtherTeam) // the next ID token names another workspace
//
// It holds no code of the web UI and must never import a package of the
// module: it stands for Slack, outside.
package webtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The claims Slack puts in an ID token beside the standard ones.
const (
	ClaimUserID = "https://slack.com/user_id"
	ClaimTeamID = "https://slack.com/team_id"
)

// Defaults of a Provider: the client it accepts and who signs in. The
// team is bot/slacktest's default workspace, so a site whose workspace
// comes from the fake Slack admits the default user.
const (
	DefaultClientID     = "ooda-test-client"
	DefaultClientSecret = "ooda-test-secret"
	DefaultUserID       = "U0ALICE0001"
	DefaultUserName     = "Alice Example"
	DefaultUserEmail    = "alice@example.com"
	DefaultTeamID       = "T0TEAM00001"
	// OtherTeamID is the workspace an OtherTeam fault's ID token names.
	OtherTeamID = "T0OTHER0001"
)

// codeTTL is how long an authorization code may wait for its exchange.
const codeTTL = 10 * time.Minute

// User is a Slack member who signs in.
type User struct {
	ID    string // Slack member ID: the sub and https://slack.com/user_id claims
	Team  string // workspace ID: the https://slack.com/team_id claim ("" leaves it out)
	Name  string
	Email string
}

// Fault is a way for the next sign-in to go wrong. Unavailable is spent
// by the next discovery request, Denied by the next authorization
// request, every other fault by the next token request.
type Fault int

// The zero Fault is invalid, so a forgotten value is not silently no
// fault at all.
const (
	// Denied sends the person back with error=access_denied, as Slack
	// does when they press Cancel.
	Denied Fault = iota + 1
	// TokenError makes the token endpoint answer 500.
	TokenError
	// OtherTeam issues an ID token for OtherTeamID's workspace.
	OtherTeam
	// NoTeam issues an ID token without the team claim.
	NoTeam
	// WrongNonce issues an ID token with a nonce other than the one the
	// client sent.
	WrongNonce
	// WrongAudience issues an ID token for another client.
	WrongAudience
	// Expired issues an ID token that expired a minute ago.
	Expired
	// ForeignKey signs the ID token with a key the key set does not hold.
	ForeignKey
	// Unavailable makes discovery answer 503, as a provider that is down
	// does.
	Unavailable
)

// String names the fault.
func (f Fault) String() string {
	switch f {
	case Denied:
		return "denied"
	case TokenError:
		return "token_error"
	case OtherTeam:
		return "other_team"
	case NoTeam:
		return "no_team"
	case WrongNonce:
		return "wrong_nonce"
	case WrongAudience:
		return "wrong_audience"
	case Expired:
		return "expired"
	case ForeignKey:
		return "foreign_key"
	case Unavailable:
		return "unavailable"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Option configures a Provider.
type Option func(*config)

type config struct {
	clientID, clientSecret string
	user                   User
	now                    func() time.Time
}

// WithClient sets the only client the provider accepts (default
// DefaultClientID and DefaultClientSecret).
func WithClient(id, secret string) Option {
	return func(c *config) { c.clientID, c.clientSecret = id, secret }
}

// WithUser sets who signs in until SetUser says otherwise (default
// DefaultUserID of DefaultTeamID, named DefaultUserName).
func WithUser(u User) Option { return func(c *config) { c.user = u } }

// WithClock replaces time.Now for the tokens' iat and exp and the codes'
// expiry, so a site verifying tokens on a test's fake clock accepts them.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Provider is a fake OpenID Connect provider served over HTTP on a
// loopback port; its issuer is URL. All of its methods are safe for
// concurrent use.
type Provider struct {
	cfg     config
	srv     *httptest.Server
	key     *rsa.PrivateKey // signs ID tokens; its public half is in the key set
	foreign *rsa.PrivateKey // signs under ForeignKey
	keyID   string

	mu             sync.Mutex
	user           User
	codes          map[string]grant
	discoveryFault []Fault
	authorizeFault []Fault
	tokenFault     []Fault
	hits           map[string]int // requests by path
	authorizations []url.Values
	issued         int
}

// grant is what an authorization code stands for until it is exchanged.
type grant struct {
	user        User
	clientID    string
	redirectURI string
	nonce       string
	challenge   string // the PKCE S256 code challenge
	expires     time.Time
}

// NewProvider starts a fake provider. The caller must Close it.
func NewProvider(opts ...Option) *Provider {
	cfg := config{clientID: DefaultClientID, clientSecret: DefaultClientSecret, now: time.Now,
		user: User{ID: DefaultUserID, Team: DefaultTeamID, Name: DefaultUserName, Email: DefaultUserEmail}}
	for _, o := range opts {
		o(&cfg)
	}
	p := &Provider{
		cfg:     cfg,
		key:     newKey(),
		foreign: newKey(),
		keyID:   "webtest-" + random(6),
		user:    cfg.user,
		codes:   map[string]grant{},
		hits:    map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	// Assign before starting, so handlers reading p.srv.URL are ordered
	// after the write.
	p.srv = httptest.NewUnstartedServer(p.count(mux))
	p.srv.Start()
	return p
}

func newKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("webtest: generate RSA key: %v", err)) // crypto/rand does not fail
	}
	return k
}

// random is n random bytes, base64url.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// URL is the issuer: give it to the site as its OpenID Connect issuer.
func (p *Provider) URL() string { return p.srv.URL }

// ClientID is the client ID the provider accepts.
func (p *Provider) ClientID() string { return p.cfg.clientID }

// ClientSecret is the client secret the provider accepts.
func (p *Provider) ClientSecret() string { return p.cfg.clientSecret }

// Close shuts the provider down and waits for its handlers. Calling it
// again does nothing.
func (p *Provider) Close() { p.srv.Close() }

// SetUser makes u the one who signs in from the next authorization on.
// A User with another Team is a token for another workspace.
func (p *Provider) SetUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = u
}

// Inject makes a sign-in go wrong: faults queue, and each authorization
// or token request spends the first one that concerns it.
func (p *Provider) Inject(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch f {
	case Unavailable:
		p.discoveryFault = append(p.discoveryFault, f)
	case Denied:
		p.authorizeFault = append(p.authorizeFault, f)
	default:
		p.tokenFault = append(p.tokenFault, f)
	}
}

// Hits is how many requests reached path ("/.well-known/openid-configuration",
// "/jwks", "/authorize", "/token"), whatever they were answered.
func (p *Provider) Hits(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

func (p *Provider) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.hits[r.URL.Path]++
		p.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// Authorizations returns the query of every authorization request so
// far, in order: what the client asked for (scope, redirect_uri, state,
// nonce, code_challenge and its method).
func (p *Provider) Authorizations() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]url.Values, len(p.authorizations))
	for i, q := range p.authorizations {
		out[i] = cloneValues(q)
	}
	return out
}

// Issued is how many ID tokens the token endpoint has handed out.
func (p *Provider) Issued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issued
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	down := len(p.discoveryFault) > 0
	if down {
		p.discoveryFault = p.discoveryFault[1:]
	}
	p.mu.Unlock()
	if down {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	iss := p.URL()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"jwks_uri":                              iss + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nonce", "name", "email", ClaimUserID, ClaimTeamID},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &p.key.PublicKey, KeyID: p.keyID, Algorithm: string(jose.RS256), Use: "sig",
	}}})
}

// authorize signs the current user in at once and sends them back to the
// client. A request it cannot send back (unknown client, no redirect_uri)
// gets a 400 page, as a real provider's would; one it can send back but
// will not serve gets an OAuth error on the redirect.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.authorizations = append(p.authorizations, cloneValues(q))
	p.mu.Unlock()

	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != p.cfg.clientID || err != nil || !redirect.IsAbs() {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		params.Set("state", q.Get("state"))
		u := *redirect
		u.RawQuery = params.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	case !slices.Contains(scopes, "openid"):
		back(url.Values{"error": {"invalid_scope"}})
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		back(url.Values{"error": {"invalid_request"}, "error_description": {"PKCE with S256 is required"}})
		return
	}

	p.mu.Lock()
	denied := len(p.authorizeFault) > 0
	if denied {
		p.authorizeFault = p.authorizeFault[1:]
	}
	code := random(16)
	if !denied {
		p.codes[code] = grant{
			user: p.user, clientID: p.cfg.clientID, redirectURI: redirect.String(),
			nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), expires: p.cfg.now().Add(codeTTL),
		}
	}
	p.mu.Unlock()
	if denied {
		back(url.Values{"error": {"access_denied"}})
		return
	}
	back(url.Values{"code": {code}})
}

// token exchanges a code for an ID token, checking the client (by HTTP
// Basic or in the form), the code (once only), its redirect_uri and the
// PKCE verifier.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 2.3.1: Basic credentials are form-encoded first.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.cfg.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.cfg.clientSecret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}

	p.mu.Lock()
	var fault Fault
	if len(p.tokenFault) > 0 {
		fault, p.tokenFault = p.tokenFault[0], p.tokenFault[1:]
	}
	if fault == TokenError {
		// The request failed before its code was looked at: the code
		// stays good, as it would behind a failing front end.
		p.mu.Unlock()
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	code := r.PostForm.Get("code")
	g, ok := p.codes[code]
	delete(p.codes, code) // a code is good once, even for a failed exchange
	now := p.cfg.now()
	p.mu.Unlock()

	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !ok || !now.Before(g.expires) || g.clientID != id || g.redirectURI != r.PostForm.Get("redirect_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}

	idToken, err := p.idToken(g, fault, now)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p.mu.Lock()
	p.issued++
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": "xoxp-webtest-" + random(12),
		"token_type":   "Bearer",
		"expires_in":   3600,
		"id_token":     idToken,
	})
}

// idToken signs g's ID token as of now, shaped by fault.
func (p *Provider) idToken(g grant, fault Fault, now time.Time) (string, error) {
	claims := map[string]any{
		"iss":       p.URL(),
		"sub":       g.user.ID,
		"aud":       g.clientID,
		"iat":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"auth_time": now.Unix(),
		"nonce":     g.nonce,
		ClaimUserID: g.user.ID,
	}
	if g.user.Team != "" {
		claims[ClaimTeamID] = g.user.Team
	}
	if g.user.Name != "" {
		claims["name"] = g.user.Name
	}
	if g.user.Email != "" {
		claims["email"] = g.user.Email
		claims["email_verified"] = true
	}
	key := p.key
	switch fault {
	case OtherTeam:
		claims[ClaimTeamID] = OtherTeamID
	case NoTeam:
		delete(claims, ClaimTeamID)
	case WrongNonce:
		claims["nonce"] = random(16)
	case WrongAudience:
		claims["aud"] = "another-client"
	case Expired:
		claims["iat"] = now.Add(-time.Hour).Unix()
		claims["exp"] = now.Add(-time.Minute).Unix()
	case ForeignKey:
		key = p.foreign
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: p.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return "", fmt.Errorf("webtest: signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("webtest: claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("webtest: sign: %w", err)
	}
	return jws.CompactSerialize()
}

func oauthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
