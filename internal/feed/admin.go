package feed

import (
	"context"
	"errors"
	"fmt"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/store"
)

// EnsureAdmin creates the site administrator name with password when the
// feed has no administrator yet, and reports whether it did. It never
// changes an existing account: with an administrator present it does
// nothing; if name is taken by a user who is not one, it fails.
func EnsureAdmin(ctx context.Context, st *store.Store, name, email, password string) (bool, error) {
	_, admins, err := st.CountUsers(ctx)
	if err != nil {
		return false, fmt.Errorf("feed: %w", err)
	}
	if admins > 0 {
		return false, nil
	}
	if err := checkAccountName(name); err != nil {
		return false, fmt.Errorf("feed: administrator: %w", err)
	}
	if err := account.CheckPassword(password, name); err != nil {
		return false, fmt.Errorf("feed: administrator password: %w", err)
	}
	hash, err := account.HashPassword(password)
	if err != nil {
		return false, fmt.Errorf("feed: %w", err)
	}
	_, err = st.CreateUser(ctx, store.NewUser{Name: name, Email: email, PasswordHash: hash, Admin: true})
	if errors.Is(err, store.ErrConflict) {
		return false, fmt.Errorf("feed: the administrator name %q belongs to an account that is not an administrator", name)
	}
	if err != nil {
		return false, fmt.Errorf("feed: creating the administrator: %w", err)
	}
	return true, nil
}
