package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Bounds of second-factor data, checked before anything is stored.
const (
	// minTOTPSecret and maxTOTPSecret bound a TOTP secret: RFC 4226's
	// minimum of 128 bits, and a size no authenticator needs more than
	// (package account makes 160-bit secrets).
	minTOTPSecret = 16
	maxTOTPSecret = 64
	// maxRecoveryCodes bounds the recovery codes stored for a user; package
	// account makes ten.
	maxRecoveryCodes = 100
)

// TwoFactor is a user's TOTP second factor. It is pending from
// BeginTwoFactor until EnableTwoFactor confirms it with a first code.
type TwoFactor struct {
	UserID int64
	// Secret is the TOTP secret, stored in the clear: the server needs it
	// to compute codes.
	Secret  []byte
	Enabled bool
	// LastStep is the TOTP time step of the last code accepted (0: none).
	LastStep int64
	// Created is when the enrolment (re)started; EnabledAt when it was
	// confirmed, zero while pending.
	Created   time.Time
	EnabledAt time.Time
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
}

// TwoFactor returns the user's second factor, pending or enabled, or
// ErrNotFound if the user has none (or does not exist).
func (s *Store) TwoFactor(ctx context.Context, userID int64) (TwoFactor, error) {
	var tf TwoFactor
	var created int64
	var enabledAt sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT t.user_id, t.secret, t.enabled, t.last_step, t.created_at, t.enabled_at,
		(SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = t.user_id AND r.used_at IS NULL)
		FROM two_factor t WHERE t.user_id = $1`, userID).
		Scan(&tf.UserID, &tf.Secret, &tf.Enabled, &tf.LastStep, &created, &enabledAt, &tf.RecoveryCodesLeft)
	if err != nil {
		return TwoFactor{}, notFound(err, "second factor of user %d", userID)
	}
	tf.Created, tf.EnabledAt = fromMicros(created), fromNullMicros(enabledAt)
	return tf, nil
}

// BeginTwoFactor starts a pending enrolment with a new TOTP secret, or
// restarts one, replacing its secret. It returns ErrInvalid for a secret
// that is not 16 to 64 bytes, ErrNotFound if the user does not exist, and
// ErrConflict if the user's second factor is enabled already (disable it
// first).
func (s *Store) BeginTwoFactor(ctx context.Context, userID int64, secret []byte) (TwoFactor, error) {
	if len(secret) < minTOTPSecret || len(secret) > maxTOTPSecret {
		return TwoFactor{}, invalid("TOTP secret of %d bytes", len(secret))
	}
	tf := TwoFactor{UserID: userID, Secret: secret, Created: s.clock()}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.findAccount(ctx, tx, userID, KindUser, false); err != nil {
			return err
		}
		// One statement, so that concurrent enrolments cannot both insert:
		// the row is created, or replaced while it is pending.
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO two_factor (user_id, secret, enabled, last_step, created_at)
			VALUES ($1, $2, FALSE, 0, $3)
			ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0, created_at = excluded.created_at
			WHERE two_factor.enabled = FALSE RETURNING user_id`, userID, secret, micros(tf.Created)).Scan(&id)
		if err != nil {
			return conflictIfNoRows(err, "second factor of user %d is enabled", userID)
		}
		return nil
	})
	if err != nil {
		return TwoFactor{}, err
	}
	return tf, nil
}

// EnableTwoFactor confirms the user's pending enrolment with the secret
// the code was checked against: it enables the second factor, records step
// as the last TOTP step accepted, and replaces the user's recovery codes
// with recoveryHashes, all at once. It returns ErrInvalid for no recovery
// code hashes, more than 100, or one that is not 32 to 64 bytes;
// ErrConflict if the second factor is enabled already; and ErrNotFound if
// the user has no pending enrolment with that secret (none, or one
// restarted since the code was checked).
func (s *Store) EnableTwoFactor(ctx context.Context, userID int64, secret []byte, step int64, recoveryHashes [][]byte) error {
	if len(recoveryHashes) == 0 || len(recoveryHashes) > maxRecoveryCodes {
		return invalid("%d recovery codes", len(recoveryHashes))
	}
	for _, h := range recoveryHashes {
		if len(h) < minKeyHashSize || len(h) > maxKeyHashSize {
			return invalid("recovery code hash of %d bytes", len(h))
		}
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		now := micros(s.clock())
		res, err := tx.ExecContext(ctx, `UPDATE two_factor SET enabled = TRUE, last_step = $3, enabled_at = $4
			WHERE user_id = $1 AND secret = $2 AND enabled = FALSE`, userID, secret, step, now)
		if err != nil {
			return dbErr("enabling second factor", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr("enabling second factor", err)
		} else if n == 0 {
			var enabled bool
			err := tx.QueryRowContext(ctx, `SELECT enabled FROM two_factor WHERE user_id = $1`, userID).Scan(&enabled)
			if err == nil && enabled {
				return fmt.Errorf("%w: second factor of user %d is enabled already", ErrConflict, userID)
			}
			if err != nil && !isNoRows(err) {
				return dbErr("reading second factor", err)
			}
			return fmt.Errorf("%w: pending second factor of user %d with that secret", ErrNotFound, userID)
		}
		return s.replaceRecoveryCodes(ctx, tx, userID, recoveryHashes)
	})
}

// replaceRecoveryCodes deletes the user's recovery codes and stores
// hashes instead.
func (s *Store) replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, userID int64, hashes [][]byte) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return dbErr("deleting recovery codes", err)
	}
	for _, h := range hashes {
		// A duplicate hash (two equal random codes) is one code.
		_, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash) VALUES ($1, $2)
			ON CONFLICT (user_id, hash) DO NOTHING`, userID, h)
		if err != nil {
			return dbErr("storing recovery code", err)
		}
	}
	return nil
}

// AcceptTOTPStep records that a TOTP code of time step step was accepted
// for the user, if no code of that step or a later one was: the check and
// the update are one statement, so of two requests with one code (on two
// replicas, say) exactly one succeeds. The caller accepts the code only if
// it returns nil. It returns ErrConflict when a code of step or a later one
// was accepted already (a replay), and ErrNotFound when the user's second
// factor is not enabled.
func (s *Store) AcceptTOTPStep(ctx context.Context, userID, step int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE two_factor SET last_step = $2
			WHERE user_id = $1 AND enabled = TRUE AND last_step < $2`, userID, step)
		if err != nil {
			return dbErr("accepting TOTP step", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr("accepting TOTP step", err)
		} else if n == 1 {
			return nil
		}
		var enabled bool
		err = tx.QueryRowContext(ctx, `SELECT enabled FROM two_factor WHERE user_id = $1`, userID).Scan(&enabled)
		switch {
		case err == nil && enabled:
			return fmt.Errorf("%w: TOTP step %d of user %d was used already", ErrConflict, step, userID)
		case err == nil || isNoRows(err):
			return fmt.Errorf("%w: enabled second factor of user %d", ErrNotFound, userID)
		}
		return dbErr("reading second factor", err)
	})
}

// RecoveryCodeHashes returns the hashes of the user's unused recovery
// codes, in no particular order; none if the user has none.
func (s *Store) RecoveryCodeHashes(ctx context.Context, userID int64) ([][]byte, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT hash FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL ORDER BY hash`, userID)
	if err != nil {
		return nil, dbErr("reading recovery codes", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, dbErr("reading recovery codes", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("reading recovery codes", err)
	}
	return out, nil
}

// UseRecoveryCode marks the user's recovery code with this hash used, if it
// is unused: check and update are one statement, so a code is accepted
// once, also by concurrent requests. The caller accepts the code only if it
// returns nil. It returns ErrConflict if the code was used already and
// ErrNotFound if the user has no such code.
func (s *Store) UseRecoveryCode(ctx context.Context, userID int64, hash []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $3
			WHERE user_id = $1 AND hash = $2 AND used_at IS NULL`, userID, hash, micros(s.clock()))
		if err != nil {
			return dbErr("using recovery code", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr("using recovery code", err)
		} else if n == 1 {
			return nil
		}
		var used int
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND hash = $2`, userID, hash).Scan(&used)
		if err != nil {
			return dbErr("reading recovery code", err)
		}
		if used > 0 {
			return fmt.Errorf("%w: recovery code of user %d was used already", ErrConflict, userID)
		}
		return fmt.Errorf("%w: recovery code of user %d", ErrNotFound, userID)
	})
}

// DisableTwoFactor removes the user's second factor, enabled or pending,
// and its recovery codes. It returns ErrNotFound if the user has none.
func (s *Store) DisableTwoFactor(ctx context.Context, userID int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return dbErr("deleting recovery codes", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM two_factor WHERE user_id = $1`, userID)
		if err != nil {
			return dbErr("disabling second factor", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr("disabling second factor", err)
		} else if n == 0 {
			return fmt.Errorf("%w: second factor of user %d", ErrNotFound, userID)
		}
		return nil
	})
}
