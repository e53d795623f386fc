package cms

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/inkflow/inkflow/internal/domain"
)

// MinPasswordLength is the shortest password Users accepts.
const MinPasswordLength = 10

// User is a person who signs in to the admin.
type User struct {
	ID           int64      `json:"id"`
	Email        string     `json:"email"`
	Name         string     `json:"name"`
	Role         Role       `json:"role"`
	PasswordHash string     `json:"-"`
	Disabled     bool       `json:"disabled"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at" gorm:"autoUpdateTime:false"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
}

// HasPassword reports whether the user can sign in with a password.
func (u *User) HasPassword() bool { return u.PasswordHash != "" }

// DisplayName is the name, or the email when the name is empty.
func (u *User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// NewUser is the input of Users.Create. Password may be empty (an invited user, or one who
// signs in with Google only).
type NewUser struct {
	Email    string
	Name     string
	Role     Role
	Password string
}

// Users stores users and checks their passwords.
type Users struct {
	db   *gorm.DB
	now  func() time.Time
	cost int

	dummyOnce sync.Once
	dummy     string // a hash to compare against for unknown emails
}

// Create adds a user. EInvalid names the field at fault ("email", "role", "password");
// EConflict when the email is taken.
func (s *Users) Create(ctx context.Context, in NewUser) (*User, error) {
	return s.create(ctx, s.db.WithContext(ctx), in)
}

// setupClaimKey is the settings row the first admin's creation claims.
const setupClaimKey = "setup.first_admin"

// CreateFirstAdmin creates an admin only if there is no user yet (the /setup page); EConflict
// once any user exists.
func (s *Users) CreateFirstAdmin(ctx context.Context, in NewUser) (*User, error) {
	in.Role = RoleAdmin
	if in.Password == "" {
		return nil, domain.FieldError("password", "is required")
	}
	var u *User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Claim setup first, with a write: concurrent requests queue on this row (PostgreSQL)
		// or on the write lock (SQLite), and all but the first find it taken. Counting alone
		// let eight racing requests on PostgreSQL create seven admins.
		claim := tx.Exec("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", setupClaimKey, strings.ToLower(strings.TrimSpace(in.Email)))
		if claim.Error != nil {
			return fmt.Errorf("claim setup: %w", claim.Error)
		}
		if claim.RowsAffected == 0 {
			return domain.Errorf(domain.EConflict, "setup is already done")
		}
		var n int64
		if err := tx.Table("users").Count(&n).Error; err != nil {
			return fmt.Errorf("count users: %w", err)
		}
		if n > 0 {
			return domain.Errorf(domain.EConflict, "setup is already done")
		}
		var err error
		u, err = s.create(ctx, tx, in)
		return err
	})
	return u, err
}

func (s *Users) create(ctx context.Context, db *gorm.DB, in NewUser) (*User, error) {
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if !in.Role.Valid() {
		return nil, domain.FieldError("role", "must be one of viewer, editor, approver, admin")
	}
	name := strings.TrimSpace(in.Name)
	if len(name) > 200 {
		return nil, domain.FieldError("name", "is longer than 200 characters")
	}
	hash := ""
	if in.Password != "" {
		if hash, err = s.hash(in.Password); err != nil {
			return nil, err
		}
	}
	now := s.now()
	u := &User{Email: email, Name: name, Role: in.Role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	var n int64
	if err := db.Table("users").Where("email = ?", email).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("check email: %w", err)
	}
	if n > 0 {
		return nil, &domain.Error{Code: domain.EConflict, Message: "a user with this email exists", Fields: map[string]string{"email": "is taken"}}
	}
	if err := db.Create(u).Error; err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

// Count returns the number of users (zero on a fresh install).
func (s *Users) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Table("users").Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// Get returns the user with id; ENotFound if none.
func (s *Users) Get(ctx context.Context, id int64) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).First(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.Errorf(domain.ENotFound, "user %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %d: %w", id, err)
	}
	return &u, nil
}

// GetByEmail returns the user with email (any case); ENotFound if none.
func (s *Users) GetByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.Errorf(domain.ENotFound, "no user with email %s", email)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", email, err)
	}
	return &u, nil
}

// List returns all users ordered by email.
func (s *Users) List(ctx context.Context) ([]User, error) {
	var us []User
	if err := s.db.WithContext(ctx).Order("email").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// SetRole changes a user's role. EInvalid for an unknown role; EConflict when it would leave
// no enabled admin.
func (s *Users) SetRole(ctx context.Context, id int64, role Role) error {
	if !role.Valid() {
		return domain.FieldError("role", "must be one of viewer, editor, approver, admin")
	}
	return s.update(ctx, id, func(tx *gorm.DB, u *User) error {
		if u.Role == RoleAdmin && role != RoleAdmin {
			if err := s.keepAnAdmin(tx, u.ID); err != nil {
				return err
			}
		}
		u.Role = role
		return nil
	})
}

// SetDisabled disables or re-enables a user; disabling also ends their sessions. EConflict
// when it would leave no enabled admin.
func (s *Users) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	return s.update(ctx, id, func(tx *gorm.DB, u *User) error {
		if disabled && u.Role == RoleAdmin {
			if err := s.keepAnAdmin(tx, u.ID); err != nil {
				return err
			}
		}
		u.Disabled = disabled
		if disabled {
			if err := tx.Exec("DELETE FROM sessions WHERE user_id = ?", u.ID).Error; err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
			return s.revokeTokens(tx, u.ID)
		}
		return nil
	})
}

// SetPassword replaces a user's password and revokes their API tokens: whoever reset it may
// be locking someone out, and a token made with the old password must not outlive it.
func (s *Users) SetPassword(ctx context.Context, id int64, password string) error {
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	return s.update(ctx, id, func(tx *gorm.DB, u *User) error {
		u.PasswordHash = hash
		return s.revokeTokens(tx, u.ID)
	})
}

// revokeTokens revokes every live API token of user id inside tx.
func (s *Users) revokeTokens(tx *gorm.DB, id int64) error {
	if err := tx.Exec("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", s.now(), id).Error; err != nil {
		return fmt.Errorf("revoke tokens of user %d: %w", id, err)
	}
	return nil
}

// Authenticate checks email and password. It returns EUnauthorized with one message for an
// unknown email, a wrong password and a disabled account, so it leaks none of them.
func (s *Users) Authenticate(ctx context.Context, email, password string) (*User, error) {
	fail := domain.Errorf(domain.EUnauthorized, "wrong email or password")
	// Spend the same time as a real check whenever there is no password to check (no such
	// account, a disabled one, one without a password), so timing reveals none of them.
	spend := func() {
		s.dummyOnce.Do(func() { s.dummy, _ = s.hash(newSecret("")[:20]) })
		_ = bcrypt.CompareHashAndPassword([]byte(s.dummy), []byte(password))
	}
	u, err := s.GetByEmail(ctx, email)
	if domain.CodeOf(err) == domain.ENotFound {
		spend()
		return nil, fail
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled || u.PasswordHash == "" {
		spend()
		return nil, fail
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil, fail
	}
	return u, nil
}

// TouchLogin records a successful sign-in.
func (s *Users) TouchLogin(ctx context.Context, id int64) error {
	now := s.now()
	return s.db.WithContext(ctx).Table("users").Where("id = ?", id).Update("last_login_at", now).Error
}

func (s *Users) update(ctx context.Context, id int64, change func(tx *gorm.DB, u *User) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		err := tx.First(&u, id).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return domain.Errorf(domain.ENotFound, "user %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("load user %d: %w", id, err)
		}
		if err := change(tx, &u); err != nil {
			return err
		}
		u.UpdatedAt = s.now()
		if err := tx.Save(&u).Error; err != nil {
			return fmt.Errorf("save user %d: %w", id, err)
		}
		return nil
	})
}

// keepAnAdmin refuses a change that would leave no enabled admin besides user id.
func (s *Users) keepAnAdmin(tx *gorm.DB, id int64) error {
	var n int64
	err := tx.Table("users").Where("role = ? AND disabled = ? AND id <> ?", RoleAdmin, false, id).Count(&n).Error
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if n == 0 {
		return domain.Errorf(domain.EConflict, "this is the last enabled admin: make someone else an admin first")
	}
	return nil
}

func (s *Users) hash(password string) (string, error) {
	if len(password) < MinPasswordLength {
		return "", domain.FieldError("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return "", domain.FieldError("password", "must be at most 72 bytes")
	}
	cost := s.cost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

func normalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", domain.FieldError("email", "is required")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") || len(s) > 254 {
		return "", domain.FieldError("email", "is not a valid email address")
	}
	return s, nil
}
