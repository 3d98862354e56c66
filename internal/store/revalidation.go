package store

import (
	"context"
	"database/sql"
	"time"
)

// RecordUsedCertificate records a certificate that signed a stored package
// (registered or not), with the DER of its issuer, so that the revocation
// job re-checks it. A certificate recorded already keeps its row; its
// issuer is filled in if it had none. It returns ErrInvalid if c.SHA256 is
// not the SHA-256 of c.DER.
func (s *Store) RecordUsedCertificate(ctx context.Context, c Certificate, issuerDER []byte) error {
	if err := checkCertificate(c); err != nil {
		return err
	}
	var issuer any
	if len(issuerDER) > 0 {
		issuer = issuerDER
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO certificates (sha256, der, subject, issuer, not_before, not_after,
			created_at, revocation_status, revocation_reason, issuer_der)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', $9)
			ON CONFLICT (sha256) DO UPDATE SET issuer_der = COALESCE(certificates.issuer_der, excluded.issuer_der)`,
			c.SHA256, c.DER, c.Subject, c.Issuer, micros(c.NotBefore), micros(c.NotAfter), micros(s.clock()), RevocationUnknown, issuer)
		if err != nil {
			return dbErr("recording certificate", err)
		}
		return nil
	})
}

// A DueCertificate is a certificate claimed for a revocation check.
type DueCertificate struct {
	Certificate
	// IssuerDER is its issuer's certificate, nil when not known yet (a
	// registered certificate no stored package was signed with).
	IssuerDER []byte
	// UnknownChecks counts the checks in a row that could not tell.
	UnknownChecks int
}

// ClaimRevocationChecks claims up to limit certificates whose last check
// is older than before (or that were never checked) and that are not
// revoked, oldest check first, by marking them checked at now. Replicas
// calling it at once claim different certificates (PostgreSQL row locks
// with SKIP LOCKED); a claimed certificate whose check never completes is
// claimed again once its mark is older than before.
func (s *Store) ClaimRevocationChecks(ctx context.Context, before, now time.Time, limit int) ([]DueCertificate, error) {
	var out []DueCertificate
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, `SELECT c.id, c.sha256, c.der, c.subject, c.issuer, c.not_before, c.not_after,
			c.created_at, c.revocation_status, c.revocation_checked, c.revoked_at, c.revocation_reason, c.issuer_der, c.unknown_checks
			FROM certificates c
			WHERE c.revocation_status <> $1 AND (c.revocation_checked IS NULL OR c.revocation_checked < $2)
			ORDER BY COALESCE(c.revocation_checked, 0), c.id LIMIT $3`+s.d.skipLocked,
			RevocationRevoked, micros(before), limit)
		if err != nil {
			return dbErr("claiming certificates", err)
		}
		var ids []int64
		for rows.Next() {
			var d DueCertificate
			var key, nb, na, created int64
			var checked, revoked sql.NullInt64
			err := rows.Scan(&key, &d.SHA256, &d.DER, &d.Subject, &d.Issuer, &nb, &na, &created,
				&d.Revocation.Status, &checked, &revoked, &d.Revocation.Reason, &d.IssuerDER, &d.UnknownChecks)
			if err != nil {
				rows.Close()
				return dbErr("claiming certificates", err)
			}
			d.NotBefore, d.NotAfter, d.Created = fromMicros(nb), fromMicros(na), fromMicros(created)
			d.Revocation.Checked, d.Revocation.RevokedAt = fromNullMicros(checked), fromNullMicros(revoked)
			out = append(out, d)
			ids = append(ids, key)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return dbErr("claiming certificates", err)
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE certificates SET revocation_checked = $1 WHERE id = $2`, micros(now), id); err != nil {
				return dbErr("claiming certificates", err)
			}
		}
		return nil
	})
	return out, err
}

// CountUnknownCheck records a check that could not tell, and returns how
// many in a row there have been; SetRevocation with a known status resets
// the count.
func (s *Store) CountUnknownCheck(ctx context.Context, sha256 []byte) (int, error) {
	var n int
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE certificates SET unknown_checks = unknown_checks + 1 WHERE sha256 = $1
			RETURNING unknown_checks`, sha256).Scan(&n)
		if err != nil {
			return notFound(err, "certificate %x", sha256)
		}
		return nil
	})
	return n, err
}
