package webtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/ooda-sre/ooda/api/web/webtest"
)

// client is a relying party built the way package web builds one.
type client struct {
	provider *oidc.Provider
	conf     oauth2.Config
	http     *http.Client
}

const redirectURI = "https://ooda.example.com/signin/callback"

func newClient(t *testing.T, p *webtest.Provider, secret string) *client {
	t.Helper()
	return newClientStyle(t, p, secret, oauth2.AuthStyleInParams)
}

func newClientStyle(t *testing.T, p *webtest.Provider, secret string, style oauth2.AuthStyle) *client {
	t.Helper()
	ctx := t.Context()
	op, err := oidc.NewProvider(ctx, p.URL())
	require.NoError(t, err, "discovery")
	endpoint := op.Endpoint()
	endpoint.AuthStyle = style
	return &client{
		provider: op,
		conf: oauth2.Config{
			ClientID: p.ClientID(), ClientSecret: secret, Endpoint: endpoint,
			RedirectURL: redirectURI, Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		// Redirects are read, not followed: the redirect URI is not served.
		http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

// authorize runs the authorization request and returns the query the
// provider sent back to the redirect URI.
func (c *client) authorize(t *testing.T, state, nonce, verifier string) url.Values {
	t.Helper()
	resp, err := c.http.Get(c.conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, redirectURI, loc.Scheme+"://"+loc.Host+loc.Path)
	return loc.Query()
}

// claims are what the web UI reads from an ID token.
type claims struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	User  string `json:"https://slack.com/user_id"`
	Team  string `json:"https://slack.com/team_id"`
}

func TestSignIn(t *testing.T) {
	p := webtest.NewProvider()
	defer p.Close()
	c := newClient(t, p, p.ClientSecret())
	verifier := oauth2.GenerateVerifier()

	q := c.authorize(t, "the-state", "the-nonce", verifier)
	require.Equal(t, "the-state", q.Get("state"))
	require.NotEmpty(t, q.Get("code"))
	asked := p.Authorizations()
	require.Len(t, asked, 1)
	require.Equal(t, "openid profile email", asked[0].Get("scope"))
	require.Equal(t, "S256", asked[0].Get("code_challenge_method"))

	tok, err := c.conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	raw, _ := tok.Extra("id_token").(string)
	idt, err := c.provider.Verifier(&oidc.Config{ClientID: p.ClientID()}).Verify(t.Context(), raw)
	require.NoError(t, err)
	require.Equal(t, "the-nonce", idt.Nonce)
	require.Equal(t, webtest.DefaultUserID, idt.Subject)
	var got claims
	require.NoError(t, idt.Claims(&got))
	require.Equal(t, claims{Name: webtest.DefaultUserName, Email: webtest.DefaultUserEmail, User: webtest.DefaultUserID, Team: webtest.DefaultTeamID}, got)
	require.Equal(t, 1, p.Issued())
	require.Equal(t, 1, p.Hits("/.well-known/openid-configuration"))
	require.Equal(t, 1, p.Hits("/token"))

	_, err = c.conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	require.ErrorContains(t, err, "invalid_grant", "a code is good once")
}

// TestClientAuth: the client may authenticate in the form or by HTTP
// Basic, as Slack allows.
func TestClientAuth(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader} {
		p := webtest.NewProvider(webtest.WithClient("id:with/odd chars", "secret&odd=chars"))
		c := newClientStyle(t, p, p.ClientSecret(), style)
		verifier := oauth2.GenerateVerifier()
		q := c.authorize(t, "s", "n", verifier)
		_, err := c.conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
		require.NoError(t, err, "auth style %d", style)
		p.Close()
	}
}

func TestSetUser(t *testing.T) {
	p := webtest.NewProvider()
	defer p.Close()
	c := newClient(t, p, p.ClientSecret())
	bob := webtest.User{ID: "U0BOB000001", Team: "T0ELSE00001", Name: "Bob"}
	p.SetUser(bob)
	verifier := oauth2.GenerateVerifier()
	q := c.authorize(t, "s", "n", verifier)
	tok, err := c.conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	idt, err := c.provider.Verifier(&oidc.Config{ClientID: p.ClientID()}).Verify(t.Context(), tok.Extra("id_token").(string))
	require.NoError(t, err)
	var got claims
	require.NoError(t, idt.Claims(&got))
	require.Equal(t, claims{Name: "Bob", User: bob.ID, Team: bob.Team}, got)
}

// TestRefusals: the token endpoint holds the client to its secret, its
// code and its PKCE verifier.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		secret   string
		verifier func(right string) string
		want     string
	}{
		{"wrong secret", "nope", func(v string) string { return v }, "invalid_client"},
		{"wrong verifier", "", func(string) string { return oauth2.GenerateVerifier() }, "invalid_grant"},
		{"no verifier", "", func(string) string { return "" }, "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := webtest.NewProvider()
			defer p.Close()
			secret := tc.secret
			if secret == "" {
				secret = p.ClientSecret()
			}
			c := newClient(t, p, secret)
			verifier := oauth2.GenerateVerifier()
			q := c.authorize(t, "s", "n", verifier)
			var opts []oauth2.AuthCodeOption
			if v := tc.verifier(verifier); v != "" {
				opts = append(opts, oauth2.VerifierOption(v))
			}
			_, err := c.conf.Exchange(t.Context(), q.Get("code"), opts...)
			require.ErrorContains(t, err, tc.want)
			require.Zero(t, p.Issued())
		})
	}
}

// TestFaults: each fault spoils one sign-in the way the web UI must
// notice, and the next sign-in works again.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		fault webtest.Fault
		check func(t *testing.T, q url.Values, exchange func() (*oauth2.Token, error), verify func(string) (*oidc.IDToken, error))
	}{
		{webtest.Denied, func(t *testing.T, q url.Values, _ func() (*oauth2.Token, error), _ func(string) (*oidc.IDToken, error)) {
			require.Equal(t, "access_denied", q.Get("error"))
			require.Empty(t, q.Get("code"))
		}},
		{webtest.TokenError, func(t *testing.T, _ url.Values, exchange func() (*oauth2.Token, error), _ func(string) (*oidc.IDToken, error)) {
			_, err := exchange()
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re)
			require.Equal(t, http.StatusInternalServerError, re.Response.StatusCode)
		}},
		{webtest.OtherTeam, teamIs(webtest.OtherTeamID)},
		{webtest.NoTeam, teamIs("")},
		{webtest.WrongNonce, func(t *testing.T, _ url.Values, exchange func() (*oauth2.Token, error), verify func(string) (*oidc.IDToken, error)) {
			idt, err := verify(idToken(t, exchange))
			require.NoError(t, err)
			require.NotEqual(t, "n", idt.Nonce)
		}},
		{webtest.WrongAudience, verifyFails("audience")},
		{webtest.Expired, verifyFails("expired")},
		{webtest.ForeignKey, verifyFails("signature")},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			p := webtest.NewProvider()
			defer p.Close()
			c := newClient(t, p, p.ClientSecret())
			verify := func(raw string) (*oidc.IDToken, error) {
				return c.provider.Verifier(&oidc.Config{ClientID: p.ClientID()}).Verify(t.Context(), raw)
			}
			signIn := func() (url.Values, func() (*oauth2.Token, error)) {
				verifier := oauth2.GenerateVerifier()
				q := c.authorize(t, "s", "n", verifier)
				return q, func() (*oauth2.Token, error) {
					return c.conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
				}
			}
			p.Inject(tc.fault)
			q, exchange := signIn()
			tc.check(t, q, exchange, verify)

			_, exchange = signIn()
			idt, err := verify(idToken(t, exchange))
			require.NoError(t, err, "the fault is spent")
			var got claims
			require.NoError(t, idt.Claims(&got))
			require.Equal(t, webtest.DefaultTeamID, got.Team)
		})
	}
}

func idToken(t *testing.T, exchange func() (*oauth2.Token, error)) string {
	t.Helper()
	tok, err := exchange()
	require.NoError(t, err)
	raw, ok := tok.Extra("id_token").(string)
	require.True(t, ok, "the token response has an id_token")
	return raw
}

func teamIs(team string) func(*testing.T, url.Values, func() (*oauth2.Token, error), func(string) (*oidc.IDToken, error)) {
	return func(t *testing.T, _ url.Values, exchange func() (*oauth2.Token, error), verify func(string) (*oidc.IDToken, error)) {
		idt, err := verify(idToken(t, exchange))
		require.NoError(t, err)
		var got map[string]json.RawMessage
		require.NoError(t, idt.Claims(&got))
		if team == "" {
			require.NotContains(t, got, webtest.ClaimTeamID)
			return
		}
		require.JSONEq(t, `"`+team+`"`, string(got[webtest.ClaimTeamID]))
	}
}

func verifyFails(want string) func(*testing.T, url.Values, func() (*oauth2.Token, error), func(string) (*oidc.IDToken, error)) {
	return func(t *testing.T, _ url.Values, exchange func() (*oauth2.Token, error), verify func(string) (*oidc.IDToken, error)) {
		_, err := verify(idToken(t, exchange))
		require.ErrorContains(t, err, want)
	}
}

// TestUnavailable: discovery fails once, then works.
func TestUnavailable(t *testing.T) {
	p := webtest.NewProvider()
	defer p.Close()
	p.Inject(webtest.Unavailable)
	_, err := oidc.NewProvider(t.Context(), p.URL())
	require.ErrorContains(t, err, "503")
	_, err = oidc.NewProvider(t.Context(), p.URL())
	require.NoError(t, err)
	require.Equal(t, 2, p.Hits("/.well-known/openid-configuration"))
}

// TestClock: tokens follow the provider's clock, so a verifier on the
// same fake clock accepts them and one on the real clock does not.
func TestClock(t *testing.T) {
	then := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	p := webtest.NewProvider(webtest.WithClock(func() time.Time { return then }), webtest.WithClient("other-id", "other-secret"))
	defer p.Close()
	require.Equal(t, "other-id", p.ClientID())
	c := newClient(t, p, "other-secret")
	verifier := oauth2.GenerateVerifier()
	q := c.authorize(t, "s", "n", verifier)
	raw := idToken(t, func() (*oauth2.Token, error) {
		return c.conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	})
	idt, err := c.provider.Verifier(&oidc.Config{ClientID: "other-id", Now: func() time.Time { return then }}).Verify(t.Context(), raw)
	require.NoError(t, err)
	require.Equal(t, then, idt.IssuedAt.UTC())
	_, err = c.provider.Verifier(&oidc.Config{ClientID: "other-id"}).Verify(t.Context(), raw)
	require.ErrorContains(t, err, "expired")
}
