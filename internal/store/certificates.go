package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"time"
)

// RevocationStatus is a certificate's status at its last OCSP or CRL check.
type RevocationStatus string

// The revocation statuses.
const (
	RevocationUnknown RevocationStatus = "unknown" // never checked, or no answer
	RevocationGood    RevocationStatus = "good"
	RevocationRevoked RevocationStatus = "revoked"
)

// Revocation is the result of a certificate's last revocation check.
type Revocation struct {
	Status RevocationStatus
	// Checked is when the status was established; zero if never.
	Checked time.Time
	// RevokedAt and Reason are set for a revoked certificate (RevokedAt is
	// zero if the responder gave no time).
	RevokedAt time.Time
	Reason    string
}

// A Certificate is a signing certificate registered to one or more
// accounts. One row serves all accounts that registered it; unregistering
// only unlinks.
type Certificate struct {
	// SHA256 is the fingerprint of DER, by which NuGet names certificates.
	SHA256    []byte
	DER       []byte
	Subject   string
	Issuer    string
	NotBefore time.Time
	NotAfter  time.Time
	// Created is when the certificate was first registered.
	Created    time.Time
	Revocation Revocation
}

// AddCertificate registers a certificate to an account. The certificate
// row is created on its first registration (its fields, parsed by the
// caller, are then stored) and shared by later ones. It returns ErrInvalid
// if SHA256 is not the SHA-256 of DER, ErrNotFound if the account is
// missing, and ErrConflict if the account has registered it already. It
// returns the certificate as stored.
func (s *Store) AddCertificate(ctx context.Context, accountID int64, c Certificate) (Certificate, error) {
	if err := checkCertificate(c); err != nil {
		return Certificate{}, err
	}
	var out Certificate
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.addCertificate(ctx, tx, accountID, c)
		return err
	})
	if err != nil {
		return Certificate{}, err
	}
	return out, nil
}

// checkCertificate returns ErrInvalid unless c.SHA256 is the SHA-256 of
// c.DER.
func checkCertificate(c Certificate) error {
	if sum := sha256.Sum256(c.DER); len(c.DER) == 0 || !bytes.Equal(sum[:], c.SHA256) {
		return invalid("certificate SHA-256 %x does not match its DER", c.SHA256)
	}
	return nil
}

// addCertificate is AddCertificate inside a write transaction.
func (s *Store) addCertificate(ctx context.Context, tx *sql.Tx, accountID int64, c Certificate) (Certificate, error) {
	if _, err := s.findAccount(ctx, tx, accountID, "", false); err != nil {
		return Certificate{}, err
	}
	now := s.clock()
	_, err := tx.ExecContext(ctx, `INSERT INTO certificates (sha256, der, subject, issuer, not_before, not_after,
		created_at, revocation_status, revocation_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '') ON CONFLICT (sha256) DO NOTHING`,
		c.SHA256, c.DER, c.Subject, c.Issuer, micros(c.NotBefore), micros(c.NotAfter), micros(now), RevocationUnknown)
	if err != nil {
		return Certificate{}, dbErr("adding certificate", err)
	}
	out, row, err := scanCertificate(tx.QueryRowContext(ctx, certificateQuery+`WHERE sha256 = $1`, c.SHA256))
	if err != nil {
		return Certificate{}, dbErr("reading certificate", err)
	}
	var linked int64
	err = tx.QueryRowContext(ctx, `INSERT INTO account_certificates (account_id, certificate, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_id, certificate) DO NOTHING RETURNING certificate`, accountID, row, micros(now)).Scan(&linked)
	if err != nil {
		return Certificate{}, conflictIfNoRows(err, "account %d has registered certificate %x", accountID, c.SHA256)
	}
	return out, nil
}

const certificateQuery = `SELECT c.id, c.sha256, c.der, c.subject, c.issuer, c.not_before, c.not_after, c.created_at,
	c.revocation_status, c.revocation_checked, c.revoked_at, c.revocation_reason FROM certificates c `

func scanCertificate(row interface{ Scan(...any) error }) (Certificate, int64, error) {
	var c Certificate
	var key, nb, na, created int64
	var checked, revoked sql.NullInt64
	err := row.Scan(&key, &c.SHA256, &c.DER, &c.Subject, &c.Issuer, &nb, &na, &created,
		&c.Revocation.Status, &checked, &revoked, &c.Revocation.Reason)
	if err != nil {
		return Certificate{}, 0, err
	}
	c.NotBefore, c.NotAfter, c.Created = fromMicros(nb), fromMicros(na), fromMicros(created)
	c.Revocation.Checked, c.Revocation.RevokedAt = fromNullMicros(checked), fromNullMicros(revoked)
	return c, key, nil
}

func (s *Store) certificates(ctx context.Context, where string, args ...any) ([]Certificate, error) {
	rows, err := s.r.QueryContext(ctx, certificateQuery+where, args...)
	if err != nil {
		return nil, dbErr("reading certificates", err)
	}
	defer rows.Close()
	var out []Certificate
	for rows.Next() {
		c, _, err := scanCertificate(rows)
		if err != nil {
			return nil, dbErr("reading certificates", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("reading certificates", err)
	}
	return out, nil
}

// RemoveCertificate unregisters a certificate from an account; the
// certificate row stays (versions and other accounts refer to it). It
// returns ErrNotFound if the account has not registered it.
func (s *Store) RemoveCertificate(ctx context.Context, accountID int64, sha256 []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM account_certificates
			WHERE account_id = $1 AND certificate = (SELECT id FROM certificates WHERE sha256 = $2)`, accountID, sha256)
		if err != nil {
			return dbErr("removing certificate", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: certificate %x of account %d", ErrNotFound, sha256, accountID)
		}
		return nil
	})
}

// Certificate returns the certificate with the SHA-256 fingerprint, whether
// or not an account still registers it, or ErrNotFound.
func (s *Store) Certificate(ctx context.Context, sha256 []byte) (Certificate, error) {
	c, _, err := scanCertificate(s.r.QueryRowContext(ctx, certificateQuery+`WHERE c.sha256 = $1`, sha256))
	if err != nil {
		return Certificate{}, notFound(err, "certificate %x", sha256)
	}
	return c, nil
}

// AccountCertificates returns the certificates registered to an account,
// in order of registration.
func (s *Store) AccountCertificates(ctx context.Context, accountID int64) ([]Certificate, error) {
	return s.certificates(ctx, `JOIN account_certificates l ON l.certificate = c.id
		WHERE l.account_id = $1 ORDER BY l.created_at, c.id`, accountID)
}

// Certificates returns every certificate ever registered, for the
// revocation job, least recently checked first.
func (s *Store) Certificates(ctx context.Context) ([]Certificate, error) {
	return s.certificates(ctx, `ORDER BY COALESCE(c.revocation_checked, 0), c.id`)
}

// CertificateAccounts returns the accounts that have registered a
// certificate, ordered by name.
func (s *Store) CertificateAccounts(ctx context.Context, sha256 []byte) ([]Account, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts a
		JOIN account_certificates l ON l.account_id = a.id
		JOIN certificates c ON c.id = l.certificate
		WHERE c.sha256 = $1 ORDER BY a.name_key`, sha256)
	if err != nil {
		return nil, dbErr("reading certificate accounts", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, dbErr("reading certificate accounts", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("reading certificate accounts", err)
	}
	return out, nil
}

// SetRevocation records the result of a revocation check. It returns
// ErrInvalid for an unknown status and ErrNotFound if the certificate does
// not exist.
func (s *Store) SetRevocation(ctx context.Context, sha256 []byte, r Revocation) error {
	switch r.Status {
	case RevocationUnknown, RevocationGood, RevocationRevoked:
	default:
		return invalid("revocation status %q", r.Status)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE certificates SET revocation_status = $2, revocation_checked = $3,
			revoked_at = $4, revocation_reason = $5,
			unknown_checks = CASE WHEN $2 = 'unknown' THEN unknown_checks ELSE 0 END WHERE sha256 = $1`,
			sha256, r.Status, nullMicros(r.Checked), nullMicros(r.RevokedAt), r.Reason)
		if err != nil {
			return dbErr("recording revocation", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: certificate %x", ErrNotFound, sha256)
		}
		return nil
	})
}
