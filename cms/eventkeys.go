package cms

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/internal/domain"
)

// EventKey authorises event intake at /e/{key} and /api/events without a user. Only its hash
// is stored.
type EventKey struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	KeyHash   string     `json:"-"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// EventKeys stores event keys; a fixed key from configuration is accepted too.
type EventKeys struct {
	db    *gorm.DB
	now   func() time.Time
	fixed string
}

// Create makes a key named name and returns it in clear (the only time).
func (s *EventKeys) Create(ctx context.Context, name string) (string, *EventKey, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, domain.FieldError("name", "is required")
	}
	if len(name) > 100 {
		return "", nil, domain.FieldError("name", "is longer than 100 characters")
	}
	secret := newSecret("evk_")
	k := &EventKey{Name: name, KeyHash: hashSecret(secret), Prefix: shortPrefix(secret), CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(k).Error; err != nil {
		return "", nil, fmt.Errorf("create event key: %w", err)
	}
	return secret, k, nil
}

// Verify returns nil when key is the configured fixed key or a live stored key, and
// EUnauthorized otherwise.
func (s *EventKeys) Verify(ctx context.Context, key string) error {
	if key == "" {
		return domain.Errorf(domain.EUnauthorized, "event key required")
	}
	if s.fixed != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.fixed)) == 1 {
		return nil
	}
	var k EventKey
	err := s.db.WithContext(ctx).Where("key_hash = ? AND revoked_at IS NULL", hashSecret(key)).First(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Errorf(domain.EUnauthorized, "invalid or revoked event key")
	}
	if err != nil {
		return fmt.Errorf("load event key: %w", err)
	}
	return nil
}

// List returns the stored keys, newest first.
func (s *EventKeys) List(ctx context.Context) ([]EventKey, error) {
	var ks []EventKey
	if err := s.db.WithContext(ctx).Order("id DESC").Find(&ks).Error; err != nil {
		return nil, fmt.Errorf("list event keys: %w", err)
	}
	return ks, nil
}

// Revoke revokes key id; ENotFound if there is no live key with that id.
func (s *EventKeys) Revoke(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Model(&EventKey{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now())
	if res.Error != nil {
		return fmt.Errorf("revoke event key %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.ENotFound, "event key %d not found", id)
	}
	return nil
}
