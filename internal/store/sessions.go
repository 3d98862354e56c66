package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// A Session is a log-in of a user, found by the hash of the token its
// cookie carries.
type Session struct {
	ID        int64
	TokenHash []byte
	UserID    int64
	// TwoFactor records that the log-in passed a second factor; signing
	// certificates can be managed only from such a session.
	TwoFactor bool
	Created   time.Time
	Expires   time.Time
}

// CreateSession stores a session. It returns ErrInvalid for a token hash
// that is not 32 to 64 bytes or a session without an expiry, ErrNotFound if
// the user does not exist and ErrConflict if the hash is stored already.
func (s *Store) CreateSession(ctx context.Context, in Session) (Session, error) {
	if len(in.TokenHash) < minKeyHashSize || len(in.TokenHash) > maxKeyHashSize {
		return Session{}, invalid("session token hash of %d bytes", len(in.TokenHash))
	}
	if in.Expires.IsZero() {
		return Session{}, invalid("session without an expiry")
	}
	in.Created = s.clock()
	in.Expires = in.Expires.UTC().Truncate(time.Microsecond)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.findAccount(ctx, tx, in.UserID, KindUser, false); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, user_id, two_factor, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO NOTHING RETURNING id`,
			in.TokenHash, in.UserID, in.TwoFactor, micros(in.Created), micros(in.Expires)).Scan(&in.ID)
		if err != nil {
			return conflictIfNoRows(err, "session token hash exists")
		}
		return nil
	})
	if err != nil {
		return Session{}, err
	}
	return in, nil
}

// SessionByHash returns the session with the token hash if it has not
// expired by now, or ErrNotFound.
func (s *Store) SessionByHash(ctx context.Context, hash []byte, now time.Time) (Session, error) {
	var se Session
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT id, token_hash, user_id, two_factor, created_at, expires_at
		FROM sessions WHERE token_hash = $1 AND expires_at > $2`, hash, micros(now)).
		Scan(&se.ID, &se.TokenHash, &se.UserID, &se.TwoFactor, &created, &expires)
	if err != nil {
		return Session{}, notFound(err, "session")
	}
	se.Created, se.Expires = fromMicros(created), fromMicros(expires)
	return se, nil
}

// DeleteSession ends the session with the token hash; ending one that does
// not exist is not an error (a log-out can be repeated).
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash); err != nil {
			return dbErr("deleting session", err)
		}
		return nil
	})
}

// DeleteUserSessions ends every session of a user except the one with the
// token hash keep (nil: all), as after a change of password or second
// factor. It returns how many it ended.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep []byte) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`,
			userID, append([]byte{}, keep...))
		if err != nil {
			return dbErr("deleting sessions", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// DeleteExpiredSessions removes the sessions that expired before now and
// returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, micros(now))
		if err != nil {
			return dbErr("deleting expired sessions", err)
		}
		n, err = res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: deleting expired sessions: %w", err)
		}
		return nil
	})
	return n, err
}
