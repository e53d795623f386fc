package web

// GoogleConfig enables "Sign in with Google" (OAuth 2.0 + OpenID Connect userinfo).
// AuthURL, TokenURL and UserInfoURL default to Google's; tests point them at an OIDC server
// of their own.
type GoogleConfig struct {
	ClientID     string
	ClientSecret string
	AuthURL      string
	TokenURL     string
	UserInfoURL  string
}

func (s *Server) googleEnabled() bool { return s.cfg.Google.ClientID != "" }
