package web

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ooda-sre/ooda/people"
)

// Sign in with Slack is OpenID Connect's authorization code flow with
// PKCE. /signin keeps the flow's state, nonce, PKCE verifier and the page
// to come back to in a short-lived cookie and sends the person to Slack;
// Slack sends them back to /signin/callback, which checks the state,
// exchanges the code, verifies the ID token and its nonce, admits only
// members of the bot's own workspace and starts a session.

const (
	// signinCookie holds one sign-in under way. Like the session cookie
	// it is __Host-: Secure, for the whole site, for this host only.
	signinCookie = "__Host-ooda_signin"
	// signinTTL is how long a sign-in may take at Slack before its
	// callback is refused as stale.
	signinTTL = 10 * time.Minute
	// oidcTimeout bounds each call to the provider: discovery, the key
	// set and the code exchange.
	oidcTimeout = 10 * time.Second
	// slackIssuer is the issuer when Config.Issuer is empty.
	slackIssuer = "https://slack.com"
	// signedOutPath is where signing out lands: the sign-in page saying
	// so, which does not start a new sign-in by itself.
	signedOutPath = "/signin?signed_out=1"
)

// The claims Slack adds to an ID token: who signed in and in which
// workspace.
const (
	claimUserID = "https://slack.com/user_id"
	claimTeamID = "https://slack.com/team_id"
)

// identityProvider is the OpenID Connect provider, found by discovery on
// first use rather than in New, so that building the site needs no
// network; once found it is kept. Its zero value is ready to use.
type identityProvider struct {
	mu    sync.Mutex
	found *oidc.Provider
	// finding is the discovery under way, nil when none is: people
	// signing in at the same moment wait for one discovery.
	finding *discovery
}

// discovery is one attempt to find the provider.
type discovery struct {
	done chan struct{} // closed when p and err are set
	p    *oidc.Provider
	err  error
}

// provider returns the provider of issuer, discovering it when it is not
// known yet. A discovery that fails is not kept: the next sign-in tries
// again.
func (idp *identityProvider) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	idp.mu.Lock()
	if idp.found != nil {
		p := idp.found
		idp.mu.Unlock()
		return p, nil
	}
	d := idp.finding
	if d == nil {
		// The first to ask discovers, on its own request. The discovery
		// is everyone's who waits on it, so that request going away does
		// not cancel it; its own timeout bounds it.
		d = &discovery{done: make(chan struct{})}
		idp.finding = d
		idp.mu.Unlock()
		idp.discover(context.WithoutCancel(ctx), issuer, d)
		return d.p, d.err
	}
	idp.mu.Unlock()
	select {
	case <-d.done:
		return d.p, d.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// discover runs d. Every call it makes to the provider, later ones for
// the key set included, goes through a client with oidcTimeout, so none
// hangs.
func (idp *identityProvider) discover(ctx context.Context, issuer string, d *discovery) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, &http.Client{Timeout: oidcTimeout}), oidcTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, issuer)
	idp.mu.Lock()
	idp.finding = nil
	if err == nil {
		idp.found = p
	}
	idp.mu.Unlock()
	d.p, d.err = p, err
	if err != nil {
		d.err = fmt.Errorf("discover %s: %w", issuer, err)
	}
	close(d.done)
}

// issuer is the OpenID Connect issuer sign-in uses.
func (s *Site) issuer() string {
	if s.cfg.Issuer != "" {
		return s.cfg.Issuer
	}
	return slackIssuer
}

// oauth2Config is the client's side of the flow at provider p.
func (s *Site) oauth2Config(p *oidc.Provider) oauth2.Config {
	endpoint := p.Endpoint()
	// Slack's token endpoint takes the client's credentials in the form
	// (client_secret_post); saying so spares a first failed attempt.
	endpoint.AuthStyle = oauth2.AuthStyleInParams
	return oauth2.Config{
		ClientID:     s.cfg.ClientID,
		ClientSecret: s.cfg.ClientSecret,
		Endpoint:     endpoint,
		RedirectURL:  s.public.JoinPath("signin", "callback").String(),
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
}

// flow is what the sign-in cookie carries from /signin to its callback.
type flow struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"next"`
	Expires  time.Time `json:"exp"`
}

func (f flow) encode() string {
	b, _ := json.Marshal(f) // a struct of strings and a time always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// readFlow is the sign-in under way in r's cookie; ok is false when there
// is none, it cannot be read or it is older than signinTTL.
func (s *Site) readFlow(r *http.Request) (f flow, ok bool) {
	c, err := r.Cookie(signinCookie)
	if err != nil {
		return flow{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || json.Unmarshal(b, &f) != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return flow{}, false
	}
	if !s.cfg.Now().Before(f.Expires) {
		return flow{}, false
	}
	f.Next = localPath(f.Next)
	return f, true
}

// maxNext bounds the page a sign-in comes back to, so that the sign-in
// cookie carrying it stays far below the 4 KB browsers keep of a cookie.
const maxNext = 2000

// localPath is next when it is a path on this site, "/" otherwise, so
// that sign-in never sends anyone elsewhere (an open redirect). What it
// returns is the path cleaned and escaped again, with next's query: the
// cleaning http.Redirect does can then not turn it into another origin.
// Browsers read "//host" and "/\host" as another host, drop tabs and
// newlines from addresses and may read other slashes as "/", so a
// backslash anywhere (raw or escaped), a control character, a scheme, a
// host or a user refuses next, and so does a cleaned path that starts
// with "//".
func localPath(next string) string {
	if len(next) > maxNext || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsRune(next, '\\') || strings.Contains(strings.ToLower(next), "%5c") {
		return "/"
	}
	if strings.ContainsFunc(next, isControl) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if strings.ContainsRune(u.Path, '\\') || strings.ContainsFunc(u.Path, isControl) || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	// A slash other than "/" (／, ∕, ⁄) is read as one by some browsers
	// when it reaches the address bar decoded; no page of the site has one.
	if strings.ContainsAny(u.Path, "\uff0f\u2215\u2044\u29f8\uff3c\u2216\u29f5\u29f9\ufe68") {
		return "/"
	}
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	if strings.HasPrefix(clean, "//") {
		return "/"
	}
	out := (&url.URL{Path: clean}).EscapedPath()
	if strings.HasPrefix(out, "//") || !strings.HasPrefix(out, "/") {
		return "/"
	}
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

// isControl reports whether r is a control character, which browsers
// drop from or misread in an address.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || unicode.IsControl(r)
}

// signinPage is the data of the sign-in page, which says why someone is
// not signed in and offers to sign in with Slack.
type signinPage struct {
	// Text says what happened; Next what to do about it.
	Text, Next string
	// Start is the address that starts a new sign-in; "" offers none.
	Start string
}

// startURL is the address that signs in and comes back to next.
func startURL(next string) string {
	if next == "/" {
		return "/signin"
	}
	return "/signin?next=" + url.QueryEscape(next)
}

// signinProblem answers with the sign-in page at status: title, what
// happened (text), what to do (todo), and a link that signs in again and
// comes back to back.
func (s *Site) signinProblem(w http.ResponseWriter, r *http.Request, status int, title, text, todo, back string) {
	s.render(w, r, status, "signin", layout{Title: title, Page: signinPage{Text: text, Next: todo, Start: startURL(localPath(back))}})
}

// signIn starts Sign in with Slack: it remembers the flow in a cookie and
// sends the person to the provider. Someone already signed in goes
// straight to next; someone who just signed out sees a page saying so.
func (s *Site) signIn(w http.ResponseWriter, r *http.Request) {
	if !s.SignInEnabled() {
		s.render(w, r, http.StatusOK, "setup", layout{Title: "Turn on Sign in with Slack"})
		return
	}
	q := r.URL.Query()
	next := localPath(q.Get("next"))
	if q.Has("signed_out") {
		s.render(w, r, http.StatusOK, "signin", layout{Title: "You signed out", Page: signinPage{
			Text: "Ooda no longer knows you on this browser.", Start: startURL("/"),
		}})
		return
	}
	if v, err := s.viewer(r); err == nil && v != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p, err := s.idp.provider(r.Context(), s.issuer())
	if err != nil {
		s.cfg.Logger.WarnContext(r.Context(), "web sign-in: the OpenID Connect provider cannot be reached", "err", err)
		s.unreachable(w, r, next)
		return
	}
	f := flow{State: newSecret(), Nonce: newSecret(), Verifier: oauth2.GenerateVerifier(), Next: next, Expires: s.cfg.Now().Add(signinTTL)}
	setCookie(w, signinCookie, f.encode(), signinTTL)
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if s.cfg.Workspace != nil {
		// Slack opens the sign-in in this workspace rather than the
		// last one the browser used. Without it, the callback still
		// refuses any other.
		if team, err := s.cfg.Workspace(r.Context()); err == nil && team != "" {
			opts = append(opts, oauth2.SetAuthURLParam("team", team))
		}
	}
	conf := s.oauth2Config(p)
	http.Redirect(w, r, conf.AuthCodeURL(f.State, opts...), http.StatusSeeOther)
}

// unreachable says the provider could not be reached.
func (s *Site) unreachable(w http.ResponseWriter, r *http.Request, next string) {
	s.signinProblem(w, r, http.StatusServiceUnavailable, "Slack's sign-in cannot be reached",
		"Ooda could not reach Slack to sign you in.", "Try again in a minute.", next)
}

// idClaims are the claims of an ID token that sign-in reads.
type idClaims struct {
	Name string `json:"name"`
	User string `json:"https://slack.com/user_id"`
	Team string `json:"https://slack.com/team_id"`
}

// signInCallback finishes Sign in with Slack. Every refusal makes no
// session and says what to do; none says more than the person needs.
func (s *Site) signInCallback(w http.ResponseWriter, r *http.Request) {
	if !s.SignInEnabled() {
		s.render(w, r, http.StatusOK, "setup", layout{Title: "Turn on Sign in with Slack"})
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	f, ok := s.readFlow(r)
	if !ok || q.Get("state") == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		// The cookie stays: a forged callback must not spoil a sign-in
		// the person has under way.
		s.signinProblem(w, r, http.StatusBadRequest, "This sign-in link is stale",
			"It was used already, it took longer than ten minutes, or it was started in another browser.", "Start again.", f.Next)
		return
	}
	// The state matched: this flow is spent, whatever happens next.
	clearCookie(w, signinCookie)

	switch e := q.Get("error"); {
	case e == "access_denied":
		s.signinProblem(w, r, http.StatusForbidden, "Sign-in was cancelled",
			"Slack did not sign you in, so Ooda cannot show you incidents.", "Sign in when you are ready.", f.Next)
		return
	case e != "":
		s.cfg.Logger.WarnContext(ctx, "web sign-in: the provider refused", "error", e, "description", q.Get("error_description"))
		s.signinProblem(w, r, http.StatusBadGateway, "Slack did not sign you in",
			"Slack refused the sign-in request.", "Try again; if it keeps happening, whoever runs Ooda will find the cause in its log.", f.Next)
		return
	case q.Get("code") == "":
		s.signinProblem(w, r, http.StatusBadRequest, "This sign-in link is stale",
			"It carries no answer from Slack.", "Start again.", f.Next)
		return
	}

	p, err := s.idp.provider(ctx, s.issuer())
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "web sign-in: the OpenID Connect provider cannot be reached", "err", err)
		s.unreachable(w, r, f.Next)
		return
	}
	claims, err := s.exchange(ctx, p, q.Get("code"), f)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "web sign-in failed", "err", err)
		s.signinProblem(w, r, http.StatusBadGateway, "Slack's sign-in did not complete",
			"Ooda could not confirm who you are with Slack.", "Try again; if it keeps happening, whoever runs Ooda will find the cause in its log.", f.Next)
		return
	}

	team, err := s.workspace(ctx)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "web sign-in refused: the bot's workspace is not known", "user", claims.User, "err", err)
		s.signinProblem(w, r, http.StatusServiceUnavailable, "Ooda cannot check your workspace right now",
			"Ooda lets in only people of the Slack workspace it is installed in, and it cannot tell which one that is yet.", "Try again in a minute.", f.Next)
		return
	}
	if claims.Team != team {
		s.cfg.Logger.InfoContext(ctx, "web sign-in refused: another workspace", "user", claims.User, "team", claims.Team)
		theirs := claims.Team
		if theirs == "" {
			theirs = "Slack did not say which"
		}
		s.signinProblem(w, r, http.StatusForbidden, "You signed in to another Slack workspace",
			fmt.Sprintf("You signed in to another Slack workspace (%s); Ooda here serves workspace %s.", theirs, team),
			"Sign in with your account of that workspace.", f.Next)
		return
	}

	if err := s.startSession(ctx, w, r, claims.User, claims.Team, claims.Name); err != nil {
		s.internal(w, r, err)
		return
	}
	s.cfg.Logger.InfoContext(ctx, "web sign-in", "user", claims.User, "team", claims.Team)
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// exchange trades code for an ID token and returns its claims, once the
// token is verified (signature, issuer, audience, expiry), carries f's
// nonce and names a Slack member.
func (s *Site) exchange(ctx context.Context, p *oidc.Provider, code string, f flow) (idClaims, error) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, &http.Client{Timeout: oidcTimeout}), oidcTimeout)
	defer cancel()
	conf := s.oauth2Config(p)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return idClaims{}, fmt.Errorf("exchange the code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return idClaims{}, errors.New("the token response has no id_token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.cfg.Now}).Verify(ctx, raw)
	if err != nil {
		return idClaims{}, fmt.Errorf("verify the ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return idClaims{}, errors.New("the ID token's nonce is not this sign-in's")
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return idClaims{}, fmt.Errorf("read the ID token's claims: %w", err)
	}
	if c.User == "" {
		c.User = idt.Subject
	}
	if !people.IsMemberID(c.User) {
		return idClaims{}, fmt.Errorf("the ID token names %q, not a Slack member", c.User)
	}
	return c, nil
}

// workspace is the bot's workspace, which alone may sign in; without a
// way to know it, no one may (fail closed).
func (s *Site) workspace(ctx context.Context) (string, error) {
	if s.cfg.Workspace == nil {
		return "", errNoWorkspace
	}
	team, err := s.cfg.Workspace(ctx)
	if err == nil && team == "" {
		err = errNoWorkspace
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", errNoWorkspace, err)
	}
	return team, nil
}

// signOut ends the session in the store, so the cookie is worthless even
// where a copy of it survives, and forgets the cookie.
func (s *Site) signOut(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	clearCookie(w, sessionCookie)
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		id := sessionID(c.Value)
		sess, found, err := s.cfg.Store.Session(ctx, id)
		if err == nil {
			err = s.cfg.Store.DeleteSession(ctx, id)
		}
		if err != nil {
			s.internal(w, r, fmt.Errorf("sign out: %w", err))
			return
		}
		if found {
			s.cfg.Logger.InfoContext(ctx, "web sign-out", "user", sess.User)
		}
	}
	to := signedOutPath
	if !s.SignInEnabled() {
		to = "/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
