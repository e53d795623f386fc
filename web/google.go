package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
)

// GoogleConfig enables "Sign in with Google" (OAuth 2.0 authorization code with PKCE, then
// the OpenID Connect userinfo endpoint). AuthURL, TokenURL and UserInfoURL default to
// Google's; tests point them at an OIDC server of their own.
type GoogleConfig struct {
	ClientID     string
	ClientSecret string
	AuthURL      string
	TokenURL     string
	UserInfoURL  string
}

const (
	oauthCookie        = "inkflow_oauth"
	googleAuthURL      = "https://accounts.google.com/o/oauth2/v2/auth"
	googleTokenURL     = "https://oauth2.googleapis.com/token"
	googleUserInfoURL  = "https://openidconnect.googleapis.com/v1/userinfo"
	oauthCookieMaxAge  = 10 * 60
	oauthRequestTimout = 15 * time.Second
)

// loginErrors are the messages /login?error=KEY shows; only these keys, so the page can
// never be made to say something else.
var loginErrors = map[string]string{
	"google":     "Google sign-in did not complete. Please try again.",
	"unverified": "Google has not verified that email address.",
	"not-member": "Your Google account is not a member of this site. Ask an admin to invite you or to allow your email domain.",
	"disabled":   "This account is disabled.",
}

func (s *Server) googleEnabled() bool { return s.cfg.Google.ClientID != "" }

// oauthConfig is the OAuth client; base is the site's public URL the callback is under.
func (s *Server) oauthConfig(base string) *oauth2.Config {
	g := s.cfg.Google
	auth, token := g.AuthURL, g.TokenURL
	if auth == "" {
		auth = googleAuthURL
	}
	if token == "" {
		token = googleTokenURL
	}
	return &oauth2.Config{
		ClientID: g.ClientID, ClientSecret: g.ClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: auth, TokenURL: token, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: base + "/auth/google/callback",
		Scopes:      []string{"openid", "email", "profile"},
	}
}

// googleStart sends the browser to Google with a fresh state and PKCE verifier, kept in a
// short-lived HttpOnly cookie for the callback to check.
func (s *Server) googleStart(c echo.Context) error {
	if !s.googleEnabled() {
		return echo.ErrNotFound
	}
	state, verifier := newCSRFToken(), oauth2.GenerateVerifier()
	val := url.Values{"state": {state}, "verifier": {verifier}, "next": {safeNext(c.QueryParam("next"))}}
	c.SetCookie(&http.Cookie{Name: oauthCookie, Value: val.Encode(), Path: "/auth/google", HttpOnly: true,
		Secure: s.secureRequest(c), SameSite: http.SameSiteLaxMode, MaxAge: oauthCookieMaxAge})
	u := s.oauthConfig(s.site(c).BaseURL).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "select_account"))
	return c.Redirect(http.StatusFound, u)
}

// googleCallback finishes sign-in: checks state, exchanges the code with the PKCE verifier,
// reads the verified email, and signs in its user, creating one when the email's domain may
// join (Settings.SignupPolicy).
func (s *Server) googleCallback(c echo.Context) error {
	if !s.googleEnabled() {
		return echo.ErrNotFound
	}
	fail := func(key string) error { return c.Redirect(http.StatusSeeOther, "/login?error="+key) }
	ck, err := c.Cookie(oauthCookie)
	if err != nil {
		return fail("google")
	}
	c.SetCookie(&http.Cookie{Name: oauthCookie, Value: "", Path: "/auth/google", MaxAge: -1, HttpOnly: true, Secure: s.secureRequest(c)})
	saved, err := url.ParseQuery(ck.Value)
	state := c.QueryParam("state")
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(saved.Get("state"))) != 1 {
		return engine.Errorf(engine.EForbidden, "sign-in state does not match; start again from the sign-in page")
	}
	if c.QueryParam("error") != "" || c.QueryParam("code") == "" {
		return fail("google")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), oauthRequestTimout)
	defer cancel()
	tok, err := s.oauthConfig(s.site(c).BaseURL).Exchange(ctx, c.QueryParam("code"), oauth2.VerifierOption(saved.Get("verifier")))
	if err != nil {
		s.log.WarnContext(ctx, "google token exchange failed", "err", err)
		return fail("google")
	}
	info, err := s.googleUserInfo(ctx, tok)
	if err != nil {
		s.log.WarnContext(ctx, "google userinfo failed", "err", err)
		return fail("google")
	}
	if !info.EmailVerified || info.Email == "" {
		return fail("unverified")
	}
	u, err := s.googleUser(ctx, info)
	if err != nil {
		if key, ok := err.(loginRefusal); ok {
			return fail(string(key))
		}
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(saved.Get("next")))
}

// loginRefusal is a reason to refuse sign-in, a key of loginErrors.
type loginRefusal string

func (l loginRefusal) Error() string { return loginErrors[string(l)] }

// oidcUserInfo is what the userinfo endpoint says about the person.
type oidcUserInfo struct {
	Sub           string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
}

func (s *Server) googleUserInfo(ctx context.Context, tok *oauth2.Token) (*oidcUserInfo, error) {
	endpoint := s.cfg.Google.UserInfoURL
	if endpoint == "" {
		endpoint = googleUserInfoURL
	}
	res, err := oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok)).Get(endpoint)
	if err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("userinfo: status %d", res.StatusCode)
	}
	var info oidcUserInfo
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&info); err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	info.Email = strings.ToLower(strings.TrimSpace(info.Email))
	return &info, nil
}

// googleUser returns the user for a verified Google identity, creating one if the policy
// lets their domain join.
func (s *Server) googleUser(ctx context.Context, info *oidcUserInfo) (*cms.User, error) {
	u, err := s.cms.Users.GetByEmail(ctx, info.Email)
	if err == nil {
		if u.Disabled {
			return nil, loginRefusal("disabled")
		}
		return u, nil
	}
	if engine.ErrorCode(err) != engine.ENotFound {
		return nil, err
	}
	pol, err := s.cms.Settings.SignupPolicy(ctx)
	if err != nil {
		return nil, err
	}
	if !pol.Allows(info.Email) {
		return nil, loginRefusal("not-member")
	}
	return s.cms.Users.Create(ctx, cms.NewUser{Email: info.Email, Name: info.Name, Role: pol.DefaultRole})
}
