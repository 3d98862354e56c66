package store

import (
	"database/sql"
	"errors"
	"fmt"
)

var (
	// ErrNotFound means that a row the call names (an account, package,
	// version, key, certificate link, owner or member) does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means that the call would create something that exists
	// already (an account name, a package version, a key hash, an owner) or
	// break a rule that keeps the data whole. The feed answers 409.
	ErrConflict = errors.New("store: conflict")
	// ErrNotOwner means that the account a version is pushed for, or a
	// required signer, is not an owner of the package.
	ErrNotOwner = errors.New("store: account is not an owner of the package")
	// ErrInvalid means that an argument is malformed (an empty name, a
	// SHA-512 of the wrong length, JSON that does not parse); it is a bug in
	// the caller, which should have validated its input.
	ErrInvalid = errors.New("store: invalid argument")

	// ErrReserved means that a new package id falls under an ID prefix
	// reservation that the pushing account does not own. It wraps
	// ErrConflict (nuget.org answers 409).
	ErrReserved = fmt.Errorf("store: package id is reserved: %w", ErrConflict)
	// ErrLastOwner means that removing an owner would leave a package or a
	// reservation without any. It wraps ErrConflict.
	ErrLastOwner = fmt.Errorf("store: cannot remove the last owner: %w", ErrConflict)
	// ErrLastAdmin means that removing or demoting a member would leave an
	// organisation without an admin. It wraps ErrConflict.
	ErrLastAdmin = fmt.Errorf("store: cannot remove the last admin: %w", ErrConflict)
)

// invalid returns an ErrInvalid with a reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
