package cms

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/inkflow/inkflow/internal/domain"
)

// SignupPolicy says who may join by signing in with Google: people whose email domain is in
// Domains get DefaultRole. An empty Domains lets nobody join (only existing users sign in).
type SignupPolicy struct {
	Domains     []string `json:"domains"`
	DefaultRole Role     `json:"default_role"`
}

// Allows reports whether email's domain may join.
func (p SignupPolicy) Allows(email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	domain := strings.ToLower(email[at+1:])
	for _, d := range p.Domains {
		if d == domain {
			return true
		}
	}
	return false
}

// Settings stores admin-editable settings as key/value rows.
type Settings struct {
	db       *gorm.DB
	defaults Site
}

type setting struct {
	Key   string `gorm:"primaryKey"`
	Value string
}

func (setting) TableName() string { return "settings" }

// SignupPolicy returns the Google sign-up policy (default: nobody joins, role viewer).
func (s *Settings) SignupPolicy(ctx context.Context) (SignupPolicy, error) {
	p := SignupPolicy{DefaultRole: RoleViewer}
	var rows []setting
	if err := s.db.WithContext(ctx).Where("key IN ?", []string{"signup.domains", "signup.role"}).Find(&rows).Error; err != nil {
		return p, fmt.Errorf("load settings: %w", err)
	}
	for _, r := range rows {
		switch r.Key {
		case "signup.domains":
			p.Domains = splitList(r.Value)
		case "signup.role":
			if Role(r.Value).Valid() {
				p.DefaultRole = Role(r.Value)
			}
		}
	}
	return p, nil
}

// SetSignupPolicy stores the policy. EInvalid names "domains" or "default_role".
func (s *Settings) SetSignupPolicy(ctx context.Context, p SignupPolicy) error {
	if !p.DefaultRole.Valid() {
		return domain.FieldError("default_role", "must be one of viewer, editor, approver, admin")
	}
	var clean []string
	for _, d := range p.Domains {
		d = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "@")))
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, " @/,") || !strings.Contains(d, ".") {
			return domain.FieldError("domains", "%q is not a domain name", d)
		}
		clean = append(clean, d)
	}
	rows := []setting{{"signup.domains", strings.Join(clean, ",")}, {"signup.role", string(p.DefaultRole)}}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.AssignmentColumns([]string{"value"})}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
