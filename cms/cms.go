package cms

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
)

// Options configures New. DB and Engine are required.
type Options struct {
	DB     *gorm.DB
	Engine *engine.Engine
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// BcryptCost is the password hashing cost (default bcrypt.DefaultCost); tests lower it.
	BcryptCost int
	// SessionTTL is how long a session lives without use (default 30 days).
	SessionTTL time.Duration
	// EventKey is a fixed event key accepted besides stored ones (INKFLOW_EVENT_KEY).
	EventKey string
	// Site is the site settings used until an admin stores others (from the environment).
	Site Site
	// Mail sends one plain-text message (SMTP_URL); nil: no mail. Approvers are mailed when
	// a post needs them.
	Mail func(ctx context.Context, to, subject, body string) error
}

// CMS bundles the services; each is safe for concurrent use.
type CMS struct {
	Users     *Users
	Sessions  *Sessions
	Tokens    *Tokens
	EventKeys *EventKeys
	Settings  *Settings
	Posts     *Posts
}

// New returns the services over opts.DB (already migrated).
func New(opts Options) *CMS {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 30 * 24 * time.Hour
	}
	clock := func() time.Time { return opts.Now().UTC().Truncate(time.Microsecond) }
	users := &Users{db: opts.DB, now: clock, cost: opts.BcryptCost}
	return &CMS{
		Users:     users,
		Sessions:  &Sessions{db: opts.DB, now: clock, ttl: opts.SessionTTL},
		Tokens:    &Tokens{db: opts.DB, now: clock},
		EventKeys: &EventKeys{db: opts.DB, now: clock, fixed: opts.EventKey},
		Settings:  &Settings{db: opts.DB, defaults: opts.Site},
		Posts:     &Posts{db: opts.DB, eng: opts.Engine, now: clock, mail: opts.Mail, baseURL: opts.Site.BaseURL},
	}
}
