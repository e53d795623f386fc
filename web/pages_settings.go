package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/templates"
)

const siteKey = "site"

// site returns the site's settings for this request (loaded once per request), with the
// server's configured defaults under anything unset. A database error falls back to the
// defaults so that error pages still render.
func (s *Server) site(c echo.Context) cms.Site {
	if st, ok := c.Get(siteKey).(cms.Site); ok {
		return st
	}
	st, err := s.cms.Settings.Site(c.Request().Context())
	if err != nil {
		s.log.Warn("load site settings", "err", err)
	}
	if st.Title == "" {
		st.Title = s.cfg.SiteName
	}
	if st.BaseURL == "" {
		st.BaseURL = s.cfg.BaseURL
	}
	c.Set(siteKey, st)
	s.viewer(c).Site = st
	return st
}

// settingsPage is /admin/settings: the site's title, description, base URL and time zone.
func (s *Server) settingsPage(c echo.Context) error {
	st := s.site(c)
	f := templates.Form{Values: map[string]string{"title": st.Title, "description": st.Description, "base_url": st.BaseURL, "time_zone": st.TimeZone}}
	if f.Values["time_zone"] == "" {
		f.Values["time_zone"] = "UTC"
	}
	return s.render(c, http.StatusOK, templates.SettingsPage(f, notice(c)))
}

// saveSettings stores the site settings; a refused field is shown on the form.
func (s *Server) saveSettings(c echo.Context) error {
	in := cms.Site{Title: c.FormValue("title"), Description: c.FormValue("description"), BaseURL: c.FormValue("base_url"), TimeZone: c.FormValue("time_zone")}
	if err := s.cms.Settings.SetSite(c.Request().Context(), in); err != nil {
		f := templates.Form{Values: map[string]string{"title": in.Title, "description": in.Description, "base_url": in.BaseURL, "time_zone": in.TimeZone}}
		if !formErrors(err, &f) {
			return err
		}
		return s.render(c, statusFor(err), templates.SettingsPage(f, ""))
	}
	return seeOther(c, "/admin/settings?done=settings")
}

// robots is /robots.txt: crawl the blog, not the admin, sign-in or API; point at the sitemap.
func (s *Server) robots(c echo.Context) error {
	var b strings.Builder
	b.WriteString("User-agent: *\n")
	for _, p := range []string{"/admin", "/api", "/login", "/setup", "/auth", "/e/"} {
		b.WriteString("Disallow: " + p + "\n")
	}
	b.WriteString("\nSitemap: " + s.site(c).BaseURL + "/sitemap.xml\n")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
}
