package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// usersPage is /admin/users.
func (s *Server) usersPage(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, templates.Form{Values: map[string]string{"role": string(cms.RoleEditor)}}, templates.Form{})
}

func (s *Server) renderUsers(c echo.Context, status int, invite, policyForm templates.Form) error {
	return s.renderUsersWith(c, status, templates.UserAdmin{Invite: invite, PolicyForm: policyForm})
}

// renderUsersWith renders the page from d (its forms, row errors and new link), adding the
// users, the sign-up policy and the notice.
func (s *Server) renderUsersWith(c echo.Context, status int, d templates.UserAdmin) error {
	ctx := c.Request().Context()
	us, err := s.cms.Users.List(ctx)
	if err != nil {
		return err
	}
	pol, err := s.cms.Settings.SignupPolicy(ctx)
	if err != nil {
		return err
	}
	d.Users, d.Policy, d.Google, d.Notice = us, pol, s.googleEnabled(), notice(c)
	if d.Invite.Values == nil {
		d.Invite.Values = map[string]string{"role": string(cms.RoleEditor)}
	}
	return s.render(c, status, templates.UsersPage(d))
}

// inviteUser creates an account (with a temporary password, or for Google sign-in).
func (s *Server) inviteUser(c echo.Context) error {
	in := cms.NewUser{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: cms.Role(c.FormValue("role")), Password: c.FormValue("password")}
	u, err := s.cms.Users.Create(c.Request().Context(), in)
	if err != nil {
		f := templates.Form{Values: map[string]string{"email": in.Email, "name": in.Name, "role": string(in.Role)}}
		if !formErrors(err, &f) {
			return err
		}
		return s.renderUsers(c, statusFor(err), f, templates.Form{})
	}
	if in.Password != "" {
		return seeOther(c, "/admin/users?done=invited")
	}
	// Without a password the invited person needs a way in whatever sign-in is configured:
	// a link to choose one, shown here once (and mailed when mail is set up).
	link, err := s.passwordLinkFor(c, u)
	if err != nil {
		return err
	}
	return s.renderUsersWith(c, http.StatusCreated, templates.UserAdmin{NewLink: &link})
}

// setUserRole changes a user's role.
func (s *Server) setUserRole(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.cms.Users.SetRole(c.Request().Context(), id, cms.Role(c.FormValue("role"))); err != nil {
		return s.userRowError(c, id, err)
	}
	return seeOther(c, "/admin/users?done=role")
}

// setUserDisabled disables (ending their sessions) or enables a user.
func (s *Server) setUserDisabled(disabled bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		if err := s.cms.Users.SetDisabled(c.Request().Context(), id, disabled); err != nil {
			return s.userRowError(c, id, err)
		}
		done := "enable"
		if disabled {
			done = "disable"
		}
		return seeOther(c, "/admin/users?done="+done)
	}
}

// saveSignupPolicy stores who may join with Google.
func (s *Server) saveSignupPolicy(c echo.Context) error {
	p := cms.SignupPolicy{Domains: strings.Split(c.FormValue("domains"), ","), DefaultRole: cms.Role(c.FormValue("default_role"))}
	if err := s.cms.Settings.SetSignupPolicy(c.Request().Context(), p); err != nil {
		var f templates.Form
		if !formErrors(err, &f) {
			return err
		}
		return s.renderUsers(c, statusFor(err), templates.Form{}, f)
	}
	return seeOther(c, "/admin/users?done=signup")
}

// tokensPage is /admin/tokens: the signed-in user's API tokens (and, for admins, the event
// keys).
func (s *Server) tokensPage(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, templates.TokenAdmin{})
}

func (s *Server) renderTokens(c echo.Context, status int, d templates.TokenAdmin) error {
	ctx := c.Request().Context()
	u := userOf(c)
	var err error
	if d.Tokens, err = s.cms.Tokens.List(ctx, u.ID); err != nil {
		return err
	}
	if u.Role.AtLeast(cms.RoleAdmin) {
		if d.Keys, err = s.cms.EventKeys.List(ctx); err != nil {
			return err
		}
	}
	return s.render(c, status, templates.TokensPage(d))
}

// createToken makes a token and shows it once, in this response only.
func (s *Server) createToken(c echo.Context) error {
	if tok, _ := c.Get(bearerKey).(string); tok != "" {
		// A leaked token must not be able to mint more of itself: tokens are made signed in.
		return engine.Errorf(engine.EForbidden, "API tokens cannot create tokens: sign in to create one")
	}
	tok, _, err := s.cms.Tokens.Create(c.Request().Context(), userOf(c).ID, c.FormValue("name"))
	if err != nil {
		var f templates.Form
		if !formErrors(err, &f) {
			return err
		}
		return s.renderTokens(c, statusFor(err), templates.TokenAdmin{Form: f})
	}
	return s.renderTokens(c, http.StatusCreated, templates.TokenAdmin{New: tok})
}

// revokeToken revokes one of the user's tokens.
func (s *Server) revokeToken(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.cms.Tokens.Revoke(c.Request().Context(), userOf(c).ID, id); err != nil {
		return err
	}
	return seeOther(c, "/admin/tokens")
}

// createEventKey makes an event key and shows it once, in this response only.
func (s *Server) createEventKey(c echo.Context) error {
	key, _, err := s.cms.EventKeys.Create(c.Request().Context(), c.FormValue("name"))
	if err != nil {
		var f templates.Form
		if !formErrors(err, &f) {
			return err
		}
		return s.renderTokens(c, statusFor(err), templates.TokenAdmin{KeyForm: f})
	}
	return s.renderTokens(c, http.StatusCreated, templates.TokenAdmin{NewKey: key})
}

// revokeEventKey revokes an event key.
func (s *Server) revokeEventKey(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.cms.EventKeys.Revoke(c.Request().Context(), id); err != nil {
		return err
	}
	return seeOther(c, "/admin/tokens")
}

// userRowError shows err on the row of user id (the last admin cannot be demoted, say)
// rather than on an error page.
func (s *Server) userRowError(c echo.Context, id int64, err error) error {
	msg, ok := userMessage(err)
	if !ok {
		return err
	}
	return s.renderUsersWith(c, statusFor(err), templates.UserAdmin{RowErrors: map[int64]string{id: msg}})
}
