package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// A Package is a package registration: one per id, created by the push of
// its first version.
type Package struct {
	// ID is the package id with the case of its first push.
	ID string
	// Owners are the accounts that may push versions and manage the id,
	// ordered by name. There is always at least one.
	Owners []Account
	// RequiredSigner is the account id whose certificates alone may sign
	// new versions, or 0 when any owner's may.
	RequiredSigner int64
	Created        time.Time
}

// pkgRow is a registration's primary key and id.
type pkgRow struct {
	row int64
	id  string
}

// lockPackage finds a registration inside a write transaction, locking it
// where the dialect has row locks, or returns ErrNotFound.
func (s *Store) lockPackage(ctx context.Context, tx *sql.Tx, id string) (pkgRow, error) {
	p := pkgRow{}
	err := tx.QueryRowContext(ctx, `SELECT id, package_id FROM packages WHERE package_id_key = $1`+s.d.forUpdate,
		fold(id)).Scan(&p.row, &p.id)
	if err != nil {
		return pkgRow{}, notFound(err, "package %q", id)
	}
	return p, nil
}

// Package returns the registration of id (ignoring case) with its owners,
// or ErrNotFound.
func (s *Store) Package(ctx context.Context, id string) (Package, error) {
	var out Package
	err := s.read(ctx, func(tx *sql.Tx) error {
		ps, err := s.packages(ctx, tx, `WHERE p.package_id_key = $1`, fold(id))
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return fmt.Errorf("%w: package %q", ErrNotFound, id)
		}
		out = ps[0]
		return nil
	})
	return out, err
}

// PackagesOwnedBy returns the registrations that account owns directly,
// ordered by id.
func (s *Store) PackagesOwnedBy(ctx context.Context, accountID int64) ([]Package, error) {
	var out []Package
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.packages(ctx, tx,
			`WHERE p.id IN (SELECT pkg FROM package_owners WHERE account_id = $1)`, accountID)
		return err
	})
	return out, err
}

// packages loads the registrations that where selects (a WHERE clause over
// packages p), ordered by id, with their owners.
func (s *Store) packages(ctx context.Context, q querier, where string, args ...any) ([]Package, error) {
	ps, _, err := s.packagesWithKeys(ctx, q, where, args...)
	return ps, err
}

// packagesWithKeys is packages that also returns each package's row key.
func (s *Store) packagesWithKeys(ctx context.Context, q querier, where string, args ...any) ([]Package, []int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.package_id, p.required_signer, p.created_at
		FROM packages p `+where+` ORDER BY p.package_id_key`, args...)
	if err != nil {
		return nil, nil, dbErr("reading packages", err)
	}
	var out []Package
	var keys []int64
	for rows.Next() {
		var p Package
		var key, created int64
		var signer sql.NullInt64
		if err := rows.Scan(&key, &p.ID, &signer, &created); err != nil {
			rows.Close()
			return nil, nil, dbErr("reading packages", err)
		}
		p.RequiredSigner = signer.Int64
		p.Created = fromMicros(created)
		out = append(out, p)
		keys = append(keys, key)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, dbErr("reading packages", err)
	}
	owners, err := s.owners(ctx, q, keys)
	if err != nil {
		return nil, nil, err
	}
	for i := range out {
		out[i].Owners = owners[keys[i]]
	}
	return out, keys, nil
}

// owners returns the owners of the registrations with the given keys.
func (s *Store) owners(ctx context.Context, q querier, keys []int64) (map[int64][]Account, error) {
	out := make(map[int64][]Account, len(keys))
	for chunk := range chunks(keys) {
		var a args
		in := a.in(chunk)
		rows, err := q.QueryContext(ctx, `SELECT o.pkg, `+accountColumns+`
			FROM package_owners o JOIN accounts a ON a.id = o.account_id
			WHERE o.pkg IN (`+in+`) ORDER BY a.name_key`, a...)
		if err != nil {
			return nil, dbErr("reading owners", err)
		}
		for rows.Next() {
			var key int64
			var acct Account
			var created int64
			if err := rows.Scan(&key, &acct.ID, &acct.Kind, &acct.Name, &acct.Email, &created); err != nil {
				rows.Close()
				return nil, dbErr("reading owners", err)
			}
			acct.Created = fromMicros(created)
			out[key] = append(out[key], acct)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, dbErr("reading owners", err)
		}
	}
	return out, nil
}

// AddOwner adds an account (user or organisation) to a package's owners. It
// returns ErrNotFound if the package or account is missing and ErrConflict
// if the account is an owner already.
func (s *Store) AddOwner(ctx context.Context, id string, accountID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		p, err := s.lockPackage(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := s.findAccount(ctx, tx, accountID, "", false); err != nil {
			return err
		}
		var added int64
		err = tx.QueryRowContext(ctx, `INSERT INTO package_owners (pkg, account_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (pkg, account_id) DO NOTHING RETURNING pkg`, p.row, accountID, micros(s.clock())).Scan(&added)
		if err != nil {
			return conflictIfNoRows(err, "account %d already owns package %q", accountID, p.id)
		}
		return nil
	})
}

// RemoveOwner removes an account from a package's owners; if it was the
// required signer, the package no longer has one. It returns ErrNotFound if
// the package is missing or the account is not an owner, and ErrLastOwner
// if it is the only owner.
func (s *Store) RemoveOwner(ctx context.Context, id string, accountID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		p, err := s.lockPackage(ctx, tx, id)
		if err != nil {
			return err
		}
		var owners, isOwner int
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN account_id = $2 THEN 1 ELSE 0 END), 0)
			FROM package_owners WHERE pkg = $1`, p.row, accountID).Scan(&owners, &isOwner)
		if err != nil {
			return dbErr("counting owners", err)
		}
		if isOwner == 0 {
			return fmt.Errorf("%w: account %d is not an owner of package %q", ErrNotFound, accountID, p.id)
		}
		if owners == 1 {
			return fmt.Errorf("%w of package %q", ErrLastOwner, p.id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM package_owners WHERE pkg = $1 AND account_id = $2`, p.row, accountID); err != nil {
			return dbErr("removing owner", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE packages SET required_signer = NULL WHERE id = $1 AND required_signer = $2`, p.row, accountID)
		if err != nil {
			return dbErr("clearing required signer", err)
		}
		return nil
	})
}

// SetRequiredSigner makes accountID, which must be an owner, the package's
// required signer; 0 clears it. It returns ErrNotFound if the package is
// missing and ErrNotOwner if the account is not an owner.
func (s *Store) SetRequiredSigner(ctx context.Context, id string, accountID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		p, err := s.lockPackage(ctx, tx, id)
		if err != nil {
			return err
		}
		signer := sql.NullInt64{Int64: accountID, Valid: accountID != 0}
		if signer.Valid {
			if err := s.checkOwner(ctx, tx, p, accountID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE packages SET required_signer = $2 WHERE id = $1`, p.row, signer); err != nil {
			return dbErr("setting required signer", err)
		}
		return nil
	})
}

// checkOwner returns ErrNotOwner unless accountID owns p directly.
func (s *Store) checkOwner(ctx context.Context, tx *sql.Tx, p pkgRow, accountID int64) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM package_owners WHERE pkg = $1 AND account_id = $2`,
		p.row, accountID).Scan(&n)
	if err != nil {
		return dbErr("reading owners", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: account %d, package %q", ErrNotOwner, accountID, p.id)
	}
	return nil
}
