package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Role is a member's role in an organisation.
type Role string

// The roles, as on nuget.org.
const (
	// RoleAdmin manages the organisation's members, packages and
	// certificates.
	RoleAdmin Role = "admin"
	// RoleCollaborator works on the organisation's packages.
	RoleCollaborator Role = "collaborator"
)

func (r Role) valid() bool { return r == RoleAdmin || r == RoleCollaborator }

// A Member is a user's membership seen from the organisation.
type Member struct {
	User  Account
	Role  Role
	Since time.Time
}

// A Membership is a user's membership seen from the user.
type Membership struct {
	Organization Account
	Role         Role
	Since        time.Time
}

// CreateOrganization creates an organisation with admin (a user) as its
// first admin member. It returns ErrConflict if the name belongs to any
// account and ErrNotFound if admin is not a user.
func (s *Store) CreateOrganization(ctx context.Context, name, email string, admin int64) (Account, error) {
	var out Account
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.findAccount(ctx, tx, admin, KindUser, false); err != nil {
			return err
		}
		a, err := s.insertAccount(ctx, tx, KindOrganization, name, email)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO organizations (account_id) VALUES ($1)`, a.ID); err != nil {
			return dbErr("creating organization", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO organization_members (organization_id, user_id, role, created_at)
			VALUES ($1, $2, $3, $4)`, a.ID, admin, RoleAdmin, micros(a.Created))
		if err != nil {
			return dbErr("adding organization admin", err)
		}
		out = a
		return nil
	})
	return out, err
}

// SetMember makes a user a member of an organisation with role, or changes
// the role of a member. It returns ErrNotFound if either account is missing
// or of the wrong kind, ErrInvalid for an unknown role, and ErrLastAdmin if
// it would demote the organisation's last admin.
func (s *Store) SetMember(ctx context.Context, orgID, userID int64, role Role) error {
	if !role.valid() {
		return invalid("unknown role %q", role)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.findAccount(ctx, tx, orgID, KindOrganization, true); err != nil {
			return err
		}
		if _, err := s.findAccount(ctx, tx, userID, KindUser, false); err != nil {
			return err
		}
		if role != RoleAdmin {
			if err := s.keepAnAdmin(ctx, tx, orgID, userID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE organization_members SET role = $3
			WHERE organization_id = $1 AND user_id = $2`, orgID, userID, role)
		if err != nil {
			return dbErr("updating member", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO organization_members (organization_id, user_id, role, created_at)
			VALUES ($1, $2, $3, $4)`, orgID, userID, role, micros(s.clock()))
		if err != nil {
			return dbErr("adding member", err)
		}
		return nil
	})
}

// RemoveMember removes a user from an organisation. It returns ErrNotFound
// if the user is not a member and ErrLastAdmin if the user is its last
// admin.
func (s *Store) RemoveMember(ctx context.Context, orgID, userID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.findAccount(ctx, tx, orgID, KindOrganization, true); err != nil {
			return err
		}
		if err := s.keepAnAdmin(ctx, tx, orgID, userID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2`, orgID, userID)
		if err != nil {
			return dbErr("removing member", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: user %d is not a member of organization %d", ErrNotFound, userID, orgID)
		}
		return nil
	})
}

// keepAnAdmin returns ErrLastAdmin if userID is the only admin of orgID.
// The caller holds the organisation's row lock.
func (s *Store) keepAnAdmin(ctx context.Context, tx *sql.Tx, orgID, userID int64) error {
	var others int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organization_members
		WHERE organization_id = $1 AND role = $2 AND user_id <> $3`, orgID, RoleAdmin, userID).Scan(&others)
	if err != nil {
		return dbErr("counting admins", err)
	}
	if others > 0 {
		return nil
	}
	var role Role
	err = tx.QueryRowContext(ctx, `SELECT role FROM organization_members WHERE organization_id = $1 AND user_id = $2`,
		orgID, userID).Scan(&role)
	switch {
	case err == nil && role == RoleAdmin:
		return ErrLastAdmin
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return dbErr("reading member", err)
	}
	return nil
}

// Members returns an organisation's members ordered by name. It returns
// ErrNotFound if there is no such organisation.
func (s *Store) Members(ctx context.Context, orgID int64) ([]Member, error) {
	var out []Member
	err := s.read(ctx, func(tx *sql.Tx) error {
		var kind AccountKind
		if err := tx.QueryRowContext(ctx, `SELECT kind FROM accounts WHERE id = $1`, orgID).Scan(&kind); err != nil || kind != KindOrganization {
			if err == nil {
				err = sql.ErrNoRows
			}
			return notFound(err, "organization %d", orgID)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+`, m.role, m.created_at
			FROM organization_members m JOIN accounts a ON a.id = m.user_id
			WHERE m.organization_id = $1 ORDER BY a.name_key`, orgID)
		if err != nil {
			return dbErr("listing members", err)
		}
		defer rows.Close()
		for rows.Next() {
			var m Member
			var since int64
			if m.User, err = scanAccount(rows, &m.Role, &since); err != nil {
				return dbErr("listing members", err)
			}
			m.Since = fromMicros(since)
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return dbErr("listing members", err)
		}
		return nil
	})
	return out, err
}

// Memberships returns the organisations a user belongs to, ordered by name.
func (s *Store) Memberships(ctx context.Context, userID int64) ([]Membership, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountColumns+`, m.role, m.created_at
		FROM organization_members m JOIN accounts a ON a.id = m.organization_id
		WHERE m.user_id = $1 ORDER BY a.name_key`, userID)
	if err != nil {
		return nil, dbErr("listing memberships", err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var since int64
		if m.Organization, err = scanAccount(rows, &m.Role, &since); err != nil {
			return nil, dbErr("listing memberships", err)
		}
		m.Since = fromMicros(since)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("listing memberships", err)
	}
	return out, nil
}
