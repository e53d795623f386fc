package cms

import "github.com/inkflow/inkflow/internal/domain"

// Role is what a user may do. Roles are ordered: each includes the ones before it.
type Role string

const (
	// RoleViewer reads the admin pages and the API.
	RoleViewer Role = "viewer"
	// RoleEditor also writes posts and sends them to review.
	RoleEditor Role = "editor"
	// RoleApprover also approves or rejects AI suggestions and publishes.
	RoleApprover Role = "approver"
	// RoleAdmin also manages workflows, users and settings.
	RoleAdmin Role = "admin"
)

// Roles lists every role from least to most powerful.
var Roles = []Role{RoleViewer, RoleEditor, RoleApprover, RoleAdmin}

// rank returns the role's position in Roles, or -1 for an unknown role.
func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i
		}
	}
	return -1
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() >= 0 }

// AtLeast reports whether r includes min. An unknown role includes nothing.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// ParseRole returns the role named s, or an EInvalid error naming field "role".
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", domain.FieldError("role", "must be one of viewer, editor, approver, admin")
	}
	return r, nil
}
