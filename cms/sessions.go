package cms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/internal/domain"
)

// Session is a signed-in browser. Its id is the SHA-256 of the cookie value, so a leaked
// database does not hand out sessions.
type Session struct {
	ID         string
	UserID     int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
	UserAgent  string
	IP         string
}

// Sessions stores server-side sessions; deleting a row signs the browser out.
type Sessions struct {
	db  *gorm.DB
	now func() time.Time
	ttl time.Duration
}

// Create starts a session for user id and returns the secret for the cookie. Each sign-in
// gets a fresh secret, so a session id planted before sign-in is worthless.
func (s *Sessions) Create(ctx context.Context, userID int64, userAgent, ip string) (string, error) {
	secret := newSecret("s_")
	now := s.now()
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	row := Session{ID: hashSecret(secret), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.ttl), LastSeenAt: now, UserAgent: userAgent, IP: ip}
	db := s.db.WithContext(ctx)
	if err := db.Create(&row).Error; err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	// Sign-ins are rare enough to carry the cleanup of expired sessions.
	if err := db.Where("expires_at < ?", now).Delete(&Session{}).Error; err != nil {
		return "", fmt.Errorf("prune sessions: %w", err)
	}
	return secret, nil
}

// Lookup returns the enabled user of the session secret, and extends an active session.
// EUnauthorized for an unknown, expired or disabled one.
func (s *Sessions) Lookup(ctx context.Context, secret string) (*User, error) {
	if secret == "" {
		return nil, domain.Errorf(domain.EUnauthorized, "not signed in")
	}
	db := s.db.WithContext(ctx)
	var sess Session
	err := db.Where("id = ?", hashSecret(secret)).First(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.Errorf(domain.EUnauthorized, "session expired; sign in again")
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	now := s.now()
	if now.After(sess.ExpiresAt) {
		return nil, domain.Errorf(domain.EUnauthorized, "session expired; sign in again")
	}
	var u User
	if err := db.First(&u, sess.UserID).Error; err != nil || u.Disabled {
		return nil, domain.Errorf(domain.EUnauthorized, "session expired; sign in again")
	}
	// Slide the expiry, at most once a minute, so reads stay reads.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		db.Model(&Session{}).Where("id = ?", sess.ID).Updates(map[string]any{"last_seen_at": now, "expires_at": now.Add(s.ttl)})
	}
	return &u, nil
}

// Revoke ends the session with this secret (sign out). Unknown secrets are ignored.
func (s *Sessions) Revoke(ctx context.Context, secret string) error {
	if err := s.db.WithContext(ctx).Where("id = ?", hashSecret(secret)).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// RevokeUser ends every session of user id.
func (s *Sessions) RevokeUser(ctx context.Context, userID int64) error {
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("revoke sessions of user %d: %w", userID, err)
	}
	return nil
}
