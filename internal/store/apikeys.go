package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

const (
	// minKeyHashSize and maxKeyHashSize bound an API key hash: SHA-256 to
	// SHA-512. Anything shorter is not a hash of a key, and could be the key.
	minKeyHashSize = 32
	maxKeyHashSize = 64
)

// An APIKey is a stored API key. The key itself is shown to its user once
// and never stored; the feed finds a key by the hash of what a client sends.
type APIKey struct {
	ID int64
	// UserID is the user who created the key; OwnerID the account it acts
	// for (the user or one of its organisations).
	UserID  int64
	OwnerID int64
	Name    string
	Hash    []byte
	// Scopes ("package:push", …) and Globs (package id patterns) are the
	// caller's vocabulary, stored as given.
	Scopes  []string
	Globs   []string
	Created time.Time
	// Expires is zero for a key that does not expire; LastUsed is zero for
	// a key never used.
	Expires  time.Time
	LastUsed time.Time
}

// NewAPIKey describes a key to create.
type NewAPIKey struct {
	UserID  int64
	OwnerID int64
	Name    string
	Hash    []byte
	Scopes  []string
	Globs   []string
	Expires time.Time
}

// CreateAPIKey stores a key. It returns ErrInvalid for a hash that is not 32
// to 64 bytes, ErrNotFound if the user or owner account is missing, and
// ErrConflict if the hash is stored already.
func (s *Store) CreateAPIKey(ctx context.Context, k NewAPIKey) (APIKey, error) {
	if len(k.Hash) < minKeyHashSize || len(k.Hash) > maxKeyHashSize {
		return APIKey{}, invalid("API key hash of %d bytes", len(k.Hash))
	}
	scopes, _ := json.Marshal(nonNil(k.Scopes))
	globs, _ := json.Marshal(nonNil(k.Globs))
	key := APIKey{UserID: k.UserID, OwnerID: k.OwnerID, Name: k.Name, Hash: k.Hash,
		Scopes: nonNil(k.Scopes), Globs: nonNil(k.Globs), Created: s.clock()}
	if !k.Expires.IsZero() {
		key.Expires = k.Expires.UTC().Truncate(time.Microsecond)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.findAccount(ctx, tx, k.UserID, KindUser, false); err != nil {
			return err
		}
		if _, err := s.findAccount(ctx, tx, k.OwnerID, "", false); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO api_keys (user_id, owner_id, name, key_hash, scopes, globs, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key_hash) DO NOTHING RETURNING id`,
			k.UserID, k.OwnerID, k.Name, k.Hash, string(scopes), string(globs), micros(key.Created), nullMicros(key.Expires)).Scan(&key.ID)
		if err != nil {
			return conflictIfNoRows(err, "API key hash exists")
		}
		return nil
	})
	if err != nil {
		return APIKey{}, err
	}
	return key, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const apiKeyQuery = `SELECT id, user_id, owner_id, name, key_hash, scopes, globs, created_at, expires_at, last_used_at FROM api_keys `

func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var scopes, globs string
	var created int64
	var expires, used sql.NullInt64
	if err := row.Scan(&k.ID, &k.UserID, &k.OwnerID, &k.Name, &k.Hash, &scopes, &globs, &created, &expires, &used); err != nil {
		return APIKey{}, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return APIKey{}, fmt.Errorf("scopes of API key %d: %w", k.ID, err)
	}
	if err := json.Unmarshal([]byte(globs), &k.Globs); err != nil {
		return APIKey{}, fmt.Errorf("globs of API key %d: %w", k.ID, err)
	}
	k.Created = fromMicros(created)
	k.Expires = fromNullMicros(expires)
	k.LastUsed = fromNullMicros(used)
	return k, nil
}

// APIKeyByHash returns the key with the hash, or ErrNotFound. An expired
// key is returned too: the caller decides, and can say why it refuses.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, apiKeyQuery+`WHERE key_hash = $1`, hash))
	if err != nil {
		return APIKey{}, notFound(err, "API key")
	}
	return k, nil
}

// APIKeys returns the keys a user created, oldest first.
func (s *Store) APIKeys(ctx context.Context, userID int64) ([]APIKey, error) {
	rows, err := s.r.QueryContext(ctx, apiKeyQuery+`WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, dbErr("listing API keys", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, dbErr("listing API keys", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("listing API keys", err)
	}
	return out, nil
}

// DeleteAPIKey deletes a key of a user. It returns ErrNotFound if the user
// has no key with that id (also when another user has).
func (s *Store) DeleteAPIKey(ctx context.Context, userID, keyID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE id = $1 AND user_id = $2`, keyID, userID)
		if err != nil {
			return dbErr("deleting API key", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: API key %d of user %d", ErrNotFound, keyID, userID)
		}
		return nil
	})
}

// TouchAPIKey records that a key was used at a time. Each call is a write;
// callers on a busy feed should record a use at most every few minutes. It
// returns ErrNotFound if the key does not exist.
func (s *Store) TouchAPIKey(ctx context.Context, keyID int64, at time.Time) error {
	return s.update(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, "API key", keyID, micros(at))
}
