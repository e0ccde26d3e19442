// Package viewer describes who is making a request: the identity the
// authentication layer establishes and the authorization rules read. It has
// no dependencies, so the data model, the API and the worker can all share
// it.
package viewer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// Role is what a member may do in a project. Each role includes the rights
// of the ones below it: OWNER > EDITOR > VIEWER.
type Role string

// The roles, from most to least rights.
const (
	Owner  Role = "OWNER"
	Editor Role = "EDITOR"
	Reader Role = "VIEWER"
)

// Values lists the roles; ent uses it for the enum column.
func (Role) Values() []string { return []string{string(Owner), string(Editor), string(Reader)} }

func (r Role) rank() int {
	switch r {
	case Owner:
		return 3
	case Editor:
		return 2
	case Reader:
		return 1
	}
	return 0
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r includes the rights of min.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// Lesser returns the role with fewer rights.
func Lesser(a, b Role) Role {
	if a.rank() <= b.rank() {
		return a
	}
	return b
}

// String returns the role's name.
func (r Role) String() string { return string(r) }

// MarshalGQL writes the role as a GraphQL enum value.
func (r Role) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL reads a GraphQL enum value.
func (r *Role) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !Role(s).Valid() {
		return fmt.Errorf("%v is not a Role: use OWNER, EDITOR or VIEWER", v)
	}
	*r = Role(s)
	return nil
}

// Kind is how a caller authenticated.
type Kind string

// The kinds of caller.
const (
	User   Kind = "USER"    // a person, by JWT (or the local admin in open mode)
	APIKey Kind = "API_KEY" // a server or script, by API key (or ADMIN_API_KEY)
)

// MarshalGQL writes the kind as a GraphQL enum value.
func (k Kind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL reads a GraphQL enum value.
func (k *Kind) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || (Kind(s) != User && Kind(s) != APIKey) {
		return fmt.Errorf("%v is not a ViewerKind: use USER or API_KEY", v)
	}
	*k = Kind(s)
	return nil
}

// UserKind is the kind of identity a stored user is. The kinds are apart
// by construction: a user is found by its kind, issuer and subject together,
// so no token's claims can name a user of another kind, whatever its sub.
type UserKind string

// The kinds of stored user.
const (
	External   UserKind = "EXTERNAL"    // a token's subject at its issuer (iss, sub)
	AdminKey   UserKind = "ADMIN_KEY"   // the operator's ADMIN_API_KEY
	LocalAdmin UserKind = "LOCAL_ADMIN" // every caller in open mode
)

// Values lists the kinds; ent uses it for the enum column.
func (UserKind) Values() []string {
	return []string{string(External), string(AdminKey), string(LocalAdmin)}
}

// MarshalGQL writes the kind as a GraphQL enum value (entgql asks every
// enum column's type for it, though the API does not show this one).
func (k UserKind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL reads a GraphQL enum value.
func (k *UserKind) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !slices.Contains(k.Values(), s) {
		return fmt.Errorf("%v is not a user kind: use EXTERNAL, ADMIN_KEY or LOCAL_ADMIN", v)
	}
	*k = UserKind(s)
	return nil
}

// Scope limits a project-scoped API key to one project and one role.
type Scope struct {
	ProjectID int
	Role      Role
}

// Viewer is an authenticated caller.
type Viewer struct {
	// UserID is the stored User the caller acts as: the token's subject, or
	// the API key's owner; UserKind is that user's kind.
	UserID   int
	UserKind UserKind
	Subject  string
	Name     string
	Kind     Kind
	// Admin may do everything: the operator's ADMIN_API_KEY, the local admin
	// of open mode, and API keys made without a project with the current
	// ADMIN_API_KEY. The auth package alone decides it.
	Admin bool
	// AdminKeyFingerprint identifies the ADMIN_API_KEY behind the caller
	// (nil for everyone else): keys the caller creates record it, so that
	// rotating ADMIN_API_KEY revokes them.
	AdminKeyFingerprint []byte
	// APIKeyID is the key a Kind APIKey caller used (0 for ADMIN_API_KEY).
	APIKeyID int
	// Scope, when set, is the only project the caller may see, and its role there.
	Scope *Scope
	// ExpiresAt is when the credential stops being valid (zero: never).
	ExpiresAt time.Time
}

// String describes the viewer for logs.
func (v *Viewer) String() string {
	if v == nil {
		return "anonymous"
	}
	return fmt.Sprintf("%s %s (user %d)", v.Kind, v.Subject, v.UserID)
}

type ctxKey struct{}

// NewContext returns a context carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer of ctx, or nil when the caller is not
// authenticated (or is the system itself, see the access package).
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}

// OrgRole is what a member may do in an organisation: its OWNERs and ADMINs
// act as OWNER of every project in it; a MEMBER has no project role by
// being one (only the projects that grant them one). OWNERs alone manage
// OWNERs.
type OrgRole string

// The organisation roles, from most to least rights.
const (
	OrgOwner  OrgRole = "OWNER"
	OrgAdmin  OrgRole = "ADMIN"
	OrgMember OrgRole = "MEMBER"
)

// Values lists the organisation roles; ent uses it for the enum column.
func (OrgRole) Values() []string {
	return []string{string(OrgOwner), string(OrgAdmin), string(OrgMember)}
}

// Valid reports whether r is one of the organisation roles.
func (r OrgRole) Valid() bool { return slices.Contains(r.Values(), string(r)) }

// Administers reports whether r administers the organisation's projects.
func (r OrgRole) Administers() bool { return r == OrgOwner || r == OrgAdmin }

// String returns the role's name.
func (r OrgRole) String() string { return string(r) }

// MarshalGQL writes the role as a GraphQL enum value.
func (r OrgRole) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL reads a GraphQL enum value.
func (r *OrgRole) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !OrgRole(s).Valid() {
		return fmt.Errorf("%v is not an OrganizationRole: use OWNER, ADMIN or MEMBER", v)
	}
	*r = OrgRole(s)
	return nil
}
