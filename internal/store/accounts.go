package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AccountKind tells users from organisations.
type AccountKind string

// The kinds of account.
const (
	KindUser         AccountKind = "user"
	KindOrganization AccountKind = "organization"
)

// An Account is a user or an organisation: anything that can own packages,
// hold certificates and be the scope of an API key. Users and organisations
// share one namespace of names.
type Account struct {
	ID      int64
	Kind    AccountKind
	Name    string // as created; unique ignoring case
	Email   string
	Created time.Time
}

// A User is an account that logs in.
type User struct {
	Account
	// PasswordHash is a PHC string computed by the caller; empty when the
	// user cannot log in with a password.
	PasswordHash string
	Admin        bool
}

// NewUser describes a user to create.
type NewUser struct {
	Name         string
	Email        string
	PasswordHash string
	Admin        bool
}

const accountColumns = `a.id, a.kind, a.name, a.email, a.created_at`

func scanAccount(row interface{ Scan(...any) error }, extra ...any) (Account, error) {
	var a Account
	var created int64
	if err := row.Scan(append([]any{&a.ID, &a.Kind, &a.Name, &a.Email, &created}, extra...)...); err != nil {
		return Account{}, err
	}
	a.Created = fromMicros(created)
	return a, nil
}

// insertAccount creates the accounts row, or returns ErrConflict when the
// name is taken by a user or an organisation.
func (s *Store) insertAccount(ctx context.Context, tx *sql.Tx, kind AccountKind, name, email string) (Account, error) {
	if name == "" {
		return Account{}, invalid("empty account name")
	}
	now := s.clock()
	a := Account{Kind: kind, Name: name, Email: email, Created: now}
	err := tx.QueryRowContext(ctx, `INSERT INTO accounts (kind, name, name_key, email, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name_key) DO NOTHING RETURNING id`,
		kind, name, fold(name), email, micros(now)).Scan(&a.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fmt.Errorf("%w: account name %q is taken", ErrConflict, name)
	}
	if err != nil {
		return Account{}, dbErr("creating account", err)
	}
	return a, nil
}

// clock returns the current time as the store keeps it: UTC, microseconds.
func (s *Store) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// CreateUser creates a user. It returns ErrConflict if the name (ignoring
// case) belongs to any account, and ErrInvalid if it is empty.
func (s *Store) CreateUser(ctx context.Context, u NewUser) (User, error) {
	var out User
	err := s.write(ctx, func(tx *sql.Tx) error {
		a, err := s.insertAccount(ctx, tx, KindUser, u.Name, u.Email)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO users (account_id, password_hash, is_admin) VALUES ($1, $2, $3)`,
			a.ID, u.PasswordHash, u.Admin)
		if err != nil {
			return dbErr("creating user", err)
		}
		out = User{Account: a, PasswordHash: u.PasswordHash, Admin: u.Admin}
		return nil
	})
	return out, err
}

const userQuery = `SELECT ` + accountColumns + `, u.password_hash, u.is_admin
	FROM accounts a JOIN users u ON u.account_id = a.id `

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	a, err := scanAccount(row, &u.PasswordHash, &u.Admin)
	u.Account = a
	return u, err
}

// User returns the user with the given account id, or ErrNotFound (also
// when the id is an organisation's).
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, userQuery+`WHERE a.id = $1`, id))
	if err != nil {
		return User{}, notFound(err, "user %d", id)
	}
	return u, nil
}

// UserByName returns the user whose name matches ignoring case, or
// ErrNotFound.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, userQuery+`WHERE a.name_key = $1`, fold(name)))
	if err != nil {
		return User{}, notFound(err, "user %q", name)
	}
	return u, nil
}

// Account returns the account (user or organisation) with the id, or
// ErrNotFound.
func (s *Store) Account(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = $1`, id))
	if err != nil {
		return Account{}, notFound(err, "account %d", id)
	}
	return a, nil
}

// AccountByName returns the account whose name matches ignoring case, or
// ErrNotFound.
func (s *Store) AccountByName(ctx context.Context, name string) (Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.name_key = $1`, fold(name)))
	if err != nil {
		return Account{}, notFound(err, "account %q", name)
	}
	return a, nil
}

// SetPasswordHash replaces a user's password hash. It returns ErrNotFound
// if there is no such user.
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	return s.update(ctx, `UPDATE users SET password_hash = $2 WHERE account_id = $1`, "user", userID, hash)
}

// SetAdmin grants or revokes a user's site administration. It returns
// ErrNotFound if there is no such user.
func (s *Store) SetAdmin(ctx context.Context, userID int64, admin bool) error {
	return s.update(ctx, `UPDATE users SET is_admin = $2 WHERE account_id = $1`, "user", userID, admin)
}

// SetEmail replaces an account's e-mail address. It returns ErrNotFound if
// there is no such account.
func (s *Store) SetEmail(ctx context.Context, accountID int64, email string) error {
	return s.update(ctx, `UPDATE accounts SET email = $2 WHERE id = $1`, "account", accountID, email)
}

// update runs a one-row UPDATE keyed by $1 and returns ErrNotFound if it
// matched no row.
func (s *Store) update(ctx context.Context, query, what string, id int64, value any) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, id, value)
		if err != nil {
			return dbErr("updating "+what, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr("updating "+what, err)
		} else if n == 0 {
			return fmt.Errorf("%w: %s %d", ErrNotFound, what, id)
		}
		return nil
	})
}

// CountUsers returns the number of users, and of those the number of site
// admins (the feed creates its first admin when there is none).
func (s *Store) CountUsers(ctx context.Context) (users, admins int, err error) {
	err = s.r.QueryRowContext(ctx,
		`SELECT COUNT(*), COALESCE(SUM(CASE WHEN is_admin THEN 1 ELSE 0 END), 0) FROM users`).Scan(&users, &admins)
	if err != nil {
		return 0, 0, dbErr("counting users", err)
	}
	return users, admins, nil
}

// findAccount checks inside a write transaction that an account exists (of
// the given kind, if kind is not empty) and returns it, or ErrNotFound. With
// lock it also locks the row where the dialect has row locks; only the
// organisation whose members change needs that (the last-admin rule), and
// locking more rows would let concurrent transactions deadlock.
func (s *Store) findAccount(ctx context.Context, tx *sql.Tx, id int64, kind AccountKind, lock bool) (Account, error) {
	q := `SELECT ` + accountColumns + ` FROM accounts a WHERE a.id = $1`
	if lock {
		q += s.d.forUpdate
	}
	a, err := scanAccount(tx.QueryRowContext(ctx, q, id))
	if err != nil {
		return Account{}, notFound(err, "account %d", id)
	}
	if kind != "" && a.Kind != kind {
		return Account{}, fmt.Errorf("%w: %s %d (account %q is a %s)", ErrNotFound, kind, id, a.Name, a.Kind)
	}
	return a, nil
}

// sortAccounts orders accounts by name, as queries do.
func sortAccounts(as []Account) {
	slices.SortFunc(as, func(a, b Account) int { return strings.Compare(fold(a.Name), fold(b.Name)) })
}
