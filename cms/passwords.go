package cms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/inkflow/inkflow/internal/domain"
)

// Lifetimes of password links: a reset asked for by mail is short-lived; the link an
// invitation leaves gives the invited person a week.
const (
	ResetLinkTTL  = time.Hour
	InviteLinkTTL = 7 * 24 * time.Hour
)

type passwordLink struct {
	ID        string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (passwordLink) TableName() string { return "password_links" }

// PasswordLink makes a one-time secret with which user id sets a password within ttl (see
// UsePasswordLink). Only its hash is stored; the caller shows or mails the secret once.
// ENotFound for an unknown user; EConflict for a disabled one.
func (s *Users) PasswordLink(ctx context.Context, id int64, ttl time.Duration) (string, error) {
	u, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	if u.Disabled {
		return "", domain.Errorf(domain.EConflict, "the account is disabled")
	}
	secret, now := newSecret("pw_"), s.now()
	link := passwordLink{ID: hashSecret(secret), UserID: id, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.db.WithContext(ctx).Create(&link).Error; err != nil {
		return "", fmt.Errorf("store password link: %w", err)
	}
	return secret, nil
}

// LinkUser returns the user a password link is for, without using it (the form that sets
// the password greets them). EUnauthorized when the link is unknown, used or expired.
func (s *Users) LinkUser(ctx context.Context, secret string) (*User, error) {
	link, err := s.validLink(s.db.WithContext(ctx), secret)
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, link.UserID)
}

// UsePasswordLink sets the password of the link's user and spends the link (and every other
// link of theirs). Their sessions end and their API tokens are revoked, so whoever knew the
// old password is out. EUnauthorized when the link is unknown, used or expired; EInvalid
// names "password".
func (s *Users) UsePasswordLink(ctx context.Context, secret, password string) (*User, error) {
	hash, err := s.hash(password)
	if err != nil {
		return nil, err
	}
	var userID int64
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		link, err := s.validLink(tx, secret)
		if err != nil {
			return err
		}
		userID = link.UserID
		now := s.now()
		res := tx.Model(&passwordLink{}).Where("user_id = ? AND used_at IS NULL", link.UserID).Update("used_at", now)
		if res.Error != nil {
			return fmt.Errorf("spend password link: %w", res.Error)
		}
		if err := tx.Exec("DELETE FROM sessions WHERE user_id = ?", link.UserID).Error; err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if err := tx.Exec("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", now, link.UserID).Error; err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		return tx.Table("users").Where("id = ? AND disabled = ?", link.UserID, false).
			Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, userID)
}

func (s *Users) validLink(db *gorm.DB, secret string) (*passwordLink, error) {
	bad := domain.Errorf(domain.EUnauthorized, "this link is not valid any more: ask for a new one")
	if secret == "" {
		return nil, bad
	}
	var link passwordLink
	err := db.Where("id = ?", hashSecret(secret)).First(&link).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, bad
	}
	if err != nil {
		return nil, fmt.Errorf("load password link: %w", err)
	}
	if link.UsedAt != nil || !s.now().Before(link.ExpiresAt) {
		return nil, bad
	}
	var u User
	if err := db.First(&u, link.UserID).Error; err != nil || u.Disabled {
		return nil, bad
	}
	return &link, nil
}

// ChangePassword replaces the password of user id after checking the current one (not
// asked of a user who has none yet, such as one who signs in with Google). EInvalid names
// "current_password" or "password".
func (s *Users) ChangePassword(ctx context.Context, id int64, current, password string) error {
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if u.HasPassword() && bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
		return domain.FieldError("current_password", "is not your current password")
	}
	if current != "" && current == password {
		return domain.FieldError("password", "is your current password: choose a new one")
	}
	return s.SetPassword(ctx, id, password)
}
