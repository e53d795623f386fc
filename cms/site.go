package cms

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm/clause"

	"github.com/inkflow/inkflow/internal/domain"
)

// Site is what readers see of the blog as a whole: its title and description (feeds, page
// titles, Open Graph), the public base URL every absolute link starts with, and the time zone
// dates are shown and scheduled in. Admins set it at /admin/settings; unset fields fall back
// to the defaults given in Options.Site (from the environment).
type Site struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	// BaseURL is absolute, http or https, without a trailing slash.
	BaseURL string `json:"base_url"`
	// TimeZone is an IANA name such as "Europe/Paris"; empty means UTC.
	TimeZone string `json:"time_zone"`
}

// Location is the site's time zone (UTC when unset or unknown).
func (s Site) Location() *time.Location {
	if s.TimeZone == "" {
		return time.UTC
	}
	if loc, err := time.LoadLocation(s.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

var siteKeys = []string{"site.title", "site.description", "site.base_url", "site.time_zone"}

// Site returns the stored site settings over the defaults.
func (s *Settings) Site(ctx context.Context) (Site, error) {
	site := s.defaults
	var rows []setting
	if err := s.db.WithContext(ctx).Where("key IN ?", siteKeys).Find(&rows).Error; err != nil {
		return site, fmt.Errorf("load site settings: %w", err)
	}
	for _, r := range rows {
		if r.Value == "" {
			continue
		}
		switch r.Key {
		case "site.title":
			site.Title = r.Value
		case "site.description":
			site.Description = r.Value
		case "site.base_url":
			site.BaseURL = r.Value
		case "site.time_zone":
			site.TimeZone = r.Value
		}
	}
	return site, nil
}

// SetSite validates and stores every field of site. EInvalid names "title", "description",
// "base_url" or "time_zone"; nothing is stored then.
func (s *Settings) SetSite(ctx context.Context, site Site) error {
	site.Title = strings.TrimSpace(site.Title)
	site.Description = strings.TrimSpace(site.Description)
	switch n := utf8.RuneCountInString(site.Title); {
	case n == 0:
		return domain.FieldError("title", "is required")
	case n > 100:
		return domain.FieldError("title", "must be at most 100 characters")
	}
	if utf8.RuneCountInString(site.Description) > 300 {
		return domain.FieldError("description", "must be at most 300 characters")
	}
	base, err := NormalizeBaseURL(site.BaseURL)
	if err != nil {
		return domain.FieldError("base_url", "%s", err.Error())
	}
	site.BaseURL = base
	site.TimeZone = strings.TrimSpace(site.TimeZone)
	if site.TimeZone == "" {
		site.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(site.TimeZone); err != nil || site.TimeZone == "Local" {
		return domain.FieldError("time_zone", "%q is not a time zone name such as Europe/Paris or UTC", site.TimeZone)
	}
	rows := []setting{{"site.title", site.Title}, {"site.description", site.Description}, {"site.base_url", site.BaseURL}, {"site.time_zone", site.TimeZone}}
	err = s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.AssignmentColumns([]string{"value"})}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("save site settings: %w", err)
	}
	return nil
}

// NormalizeBaseURL checks that raw is an absolute http(s) URL with a host and no query or
// fragment, and returns it without a trailing slash. The error says what is wrong, for a
// form field.
func NormalizeBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("is required, such as https://blog.example.com")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("must be an absolute http or https address, such as https://blog.example.com")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("must not carry a query, a fragment or a user name")
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}
