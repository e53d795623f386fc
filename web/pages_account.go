package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/templates"
)

// accountPage is /admin/account: who you are and your password.
func (s *Server) accountPage(c echo.Context) error {
	return s.render(c, http.StatusOK, templates.AccountPage(userOf(c), templates.Form{}, notice(c)))
}

// changePassword sets the signed-in user's password after checking the current one.
func (s *Server) changePassword(c echo.Context) error {
	u := userOf(c)
	pw := c.FormValue("password")
	var err error
	if pw != c.FormValue("confirm") {
		err = engine.FieldError("confirm", "does not match the new password")
	} else {
		err = s.cms.Users.ChangePassword(c.Request().Context(), u.ID, c.FormValue("current_password"), pw)
	}
	if err == nil {
		return seeOther(c, "/admin/account?done=password")
	}
	var f templates.Form
	if !formErrors(err, &f) {
		return err
	}
	return s.render(c, statusFor(err), templates.AccountPage(u, f, ""))
}

// mailEnabled reports whether inkflow can send mail (SMTP_URL is set).
func (s *Server) mailEnabled() bool { return s.cfg.SMTPURL != "" }

// sendMail sends one account mail, bounded in time so a slow server cannot hold a request.
func (s *Server) sendMail(ctx context.Context, to, subject, body string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return workflow.SendMail(ctx, workflow.EmailConfig{URL: s.cfg.SMTPURL, Timeout: 20 * time.Second}, to, subject, body)
}

// linkURL is the absolute address of a password link.
func (s *Server) linkURL(c echo.Context, secret string) string {
	return s.site(c).BaseURL + "/password/reset?token=" + url.QueryEscape(secret)
}

// forgotPage asks for the email to send a reset link to (only when mail is configured).
func (s *Server) forgotPage(c echo.Context) error {
	if !s.mailEnabled() {
		return s.render(c, http.StatusOK, templates.ForgotPage(templates.Form{}, false, false))
	}
	return s.render(c, http.StatusOK, templates.ForgotPage(templates.Form{}, true, false))
}

// forgot mails a reset link to the account with that email, if there is one. The answer is
// the same either way, so the form does not tell who has an account; requests are limited
// per address and per email.
func (s *Server) forgot(c echo.Context) error {
	if !s.mailEnabled() {
		return s.render(c, http.StatusOK, templates.ForgotPage(templates.Form{}, false, false))
	}
	ctx := c.Request().Context()
	email := strings.ToLower(strings.TrimSpace(c.FormValue("email")))
	f := templates.Form{Values: map[string]string{"email": email}}
	if email == "" {
		f.Errors = map[string]string{"email": "is required"}
		return s.render(c, http.StatusUnprocessableEntity, templates.ForgotPage(f, true, false))
	}
	keys := []string{"reset-ip:" + c.RealIP(), "reset-email:" + email}
	for _, k := range keys {
		if ok, wait := s.resets.Allowed(k); !ok {
			f.Message = "Too many reset requests. Try again in " + wait.Round(time.Minute).String() + "."
			return s.render(c, http.StatusTooManyRequests, templates.ForgotPage(f, true, false))
		}
	}
	for _, k := range keys {
		s.resets.Fail(k)
	}
	u, err := s.cms.Users.GetByEmail(ctx, email)
	if err == nil && !u.Disabled {
		secret, err := s.cms.Users.PasswordLink(ctx, u.ID, cms.ResetLinkTTL)
		if err != nil {
			return err
		}
		site := s.site(c)
		body := "Someone (hopefully you) asked to reset your password for " + site.Title + ".\n\n" +
			"Open this link within an hour to choose a new one:\n\n" + s.linkURL(c, secret) + "\n\n" +
			"If it was not you, ignore this mail: your password stays as it is.\n"
		if err := s.sendMail(ctx, u.Email, "Reset your "+site.Title+" password", body); err != nil {
			s.log.WarnContext(ctx, "send reset mail", "err", err)
			f.Message = "The mail could not be sent. Try again later, or ask an admin."
			return s.render(c, http.StatusServiceUnavailable, templates.ForgotPage(f, true, false))
		}
	} else if err != nil && engine.ErrorCode(err) != engine.ENotFound {
		return err
	}
	return s.render(c, http.StatusOK, templates.ForgotPage(f, true, true))
}

// resetPage is the form a password link opens.
func (s *Server) resetPage(c echo.Context) error {
	secret := c.QueryParam("token")
	u, err := s.cms.Users.LinkUser(c.Request().Context(), secret)
	if err != nil {
		if engine.ErrorCode(err) != engine.EUnauthorized {
			return err
		}
		return s.render(c, http.StatusNotFound, templates.ResetPage(nil, secret, templates.Form{Message: engine.ErrorMessage(err)}, s.mailEnabled()))
	}
	return s.render(c, http.StatusOK, templates.ResetPage(u, secret, templates.Form{}, s.mailEnabled()))
}

// reset sets the password through a link and signs the person in.
func (s *Server) reset(c echo.Context) error {
	ctx := c.Request().Context()
	secret, pw := c.FormValue("token"), c.FormValue("password")
	u, err := s.cms.Users.LinkUser(ctx, secret)
	if err == nil && pw != c.FormValue("confirm") {
		err = engine.FieldError("confirm", "does not match the new password")
	}
	if err == nil {
		u, err = s.cms.Users.UsePasswordLink(ctx, secret, pw)
	}
	if err != nil {
		var f templates.Form
		if !formErrors(err, &f) {
			return err
		}
		if engine.ErrorCode(err) == engine.EUnauthorized {
			u = nil
		}
		return s.render(c, statusFor(err), templates.ResetPage(u, secret, f, s.mailEnabled()))
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/account?done=password")
}

// userLink makes a new set-password link for a user (an admin helping someone in) and shows
// it on the users page, mailing it too when mail is configured.
func (s *Server) userLink(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := s.cms.Users.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	link, err := s.passwordLinkFor(c, u)
	if err != nil {
		return s.userRowError(c, id, err)
	}
	return s.renderUsersWith(c, http.StatusOK, templates.UserAdmin{NewLink: &link})
}

// passwordLinkFor makes an invitation link for u and mails it when mail is configured; the
// link is returned so the admin can pass it on either way.
func (s *Server) passwordLinkFor(c echo.Context, u *cms.User) (templates.InviteLink, error) {
	ctx := c.Request().Context()
	secret, err := s.cms.Users.PasswordLink(ctx, u.ID, cms.InviteLinkTTL)
	if err != nil {
		return templates.InviteLink{}, err
	}
	l := templates.InviteLink{Email: u.Email, URL: s.linkURL(c, secret)}
	if s.mailEnabled() {
		site := s.site(c)
		body := "You have an account on " + site.Title + " (" + site.BaseURL + ").\n\n" +
			"Open this link within 7 days to choose your password:\n\n" + l.URL + "\n"
		if err := s.sendMail(ctx, u.Email, "Your "+site.Title+" account", body); err != nil {
			s.log.WarnContext(ctx, "send invitation mail", "err", err)
		} else {
			l.Mailed = true
		}
	}
	return l, nil
}
