package cms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/internal/domain"
)

// APIToken is a personal token that authenticates /api calls as its user
// (Authorization: Bearer). Only its hash is stored; the token is shown once at creation.
type APIToken struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	TokenHash  string     `json:"-"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// TableName tells gorm the table.
func (APIToken) TableName() string { return "api_tokens" }

// Tokens stores personal API tokens.
type Tokens struct {
	db  *gorm.DB
	now func() time.Time
}

// Create makes a token for user id and returns it in clear (the only time) with its row.
func (s *Tokens) Create(ctx context.Context, userID int64, name string) (string, *APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "token"
	}
	if len(name) > 100 {
		return "", nil, domain.FieldError("name", "is longer than 100 characters")
	}
	secret := newSecret("ink_")
	t := &APIToken{UserID: userID, Name: name, TokenHash: hashSecret(secret), Prefix: shortPrefix(secret), CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	return secret, t, nil
}

// Authenticate returns the enabled user a live token belongs to; EUnauthorized otherwise.
func (s *Tokens) Authenticate(ctx context.Context, secret string) (*User, error) {
	fail := domain.Errorf(domain.EUnauthorized, "invalid or revoked API token")
	db := s.db.WithContext(ctx)
	var t APIToken
	err := db.Where("token_hash = ? AND revoked_at IS NULL", hashSecret(secret)).First(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fail
	}
	if err != nil {
		return nil, fmt.Errorf("load token: %w", err)
	}
	var u User
	if err := db.First(&u, t.UserID).Error; err != nil || u.Disabled {
		return nil, fail
	}
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		db.Model(&APIToken{}).Where("id = ?", t.ID).Update("last_used_at", now)
	}
	return &u, nil
}

// List returns a user's tokens, newest first, revoked ones included.
func (s *Tokens) List(ctx context.Context, userID int64) ([]APIToken, error) {
	var ts []APIToken
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("id DESC").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// Revoke revokes token id of user userID; ENotFound if the user has no such token.
func (s *Tokens) Revoke(ctx context.Context, userID, id int64) error {
	res := s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, userID).Update("revoked_at", s.now())
	if res.Error != nil {
		return fmt.Errorf("revoke token %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.ENotFound, "token %d not found", id)
	}
	return nil
}
