package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// maxIdentityName bounds an identity's subject and issuer, in bytes. Real
// distinguished names are well under 300 bytes; the bound keeps the two
// names together inside PostgreSQL's B-tree entry limit (about 2,700
// bytes), which the primary key needs.
const maxIdentityName = 1024

// A CertificateIdentity lets an account sign with any certificate of this
// subject from this issuer, so that a renewed certificate keeps working
// without a new registration. Names are compared exactly, as Go's
// pkix.Name.String() writes them; the caller derives both from a
// certificate it parsed.
type CertificateIdentity struct {
	Subject string
	Issuer  string
	Created time.Time
}

func checkIdentity(subject, issuer string) error {
	if subject == "" || issuer == "" || len(subject) > maxIdentityName || len(issuer) > maxIdentityName {
		return invalid("certificate identity names of %d and %d bytes, not 1 to %d", len(subject), len(issuer), maxIdentityName)
	}
	return nil
}

// AddIdentity registers a certificate identity to an account. It returns
// ErrInvalid if subject or issuer is empty or longer than 1,024 bytes,
// ErrNotFound if the account does not exist, and ErrConflict if the account
// has registered the identity already.
func (s *Store) AddIdentity(ctx context.Context, accountID int64, subject, issuer string) (CertificateIdentity, error) {
	if err := checkIdentity(subject, issuer); err != nil {
		return CertificateIdentity{}, err
	}
	id := CertificateIdentity{Subject: subject, Issuer: issuer, Created: s.clock()}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.findAccount(ctx, tx, accountID, "", false); err != nil {
			return err
		}
		added, err := s.addIdentity(ctx, tx, accountID, id)
		if err == nil && !added {
			err = fmt.Errorf("%w: account %d has registered the identity %q from %q", ErrConflict, accountID, subject, issuer)
		}
		return err
	})
	if err != nil {
		return CertificateIdentity{}, err
	}
	return id, nil
}

// addIdentity inserts the identity unless the account has it already, and
// reports whether it did.
func (s *Store) addIdentity(ctx context.Context, tx *sql.Tx, accountID int64, id CertificateIdentity) (bool, error) {
	var got int64
	err := tx.QueryRowContext(ctx, `INSERT INTO certificate_identities (account_id, subject, issuer, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, subject, issuer) DO NOTHING RETURNING account_id`,
		accountID, id.Subject, id.Issuer, micros(id.Created)).Scan(&got)
	if isNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, dbErr("adding certificate identity", err)
	}
	return true, nil
}

// AddCertificateWithIdentity registers a certificate to an account, as
// AddCertificate does, together with its subject and issuer as an identity,
// in one transaction. An identity the account has already is kept. It
// returns the errors of AddCertificate, and ErrInvalid if the certificate's
// subject or issuer could not be an identity (see AddIdentity).
func (s *Store) AddCertificateWithIdentity(ctx context.Context, accountID int64, c Certificate) (Certificate, error) {
	if err := checkCertificate(c); err != nil {
		return Certificate{}, err
	}
	if err := checkIdentity(c.Subject, c.Issuer); err != nil {
		return Certificate{}, err
	}
	var out Certificate
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if out, err = s.addCertificate(ctx, tx, accountID, c); err != nil {
			return err
		}
		_, err = s.addIdentity(ctx, tx, accountID, CertificateIdentity{Subject: c.Subject, Issuer: c.Issuer, Created: s.clock()})
		return err
	})
	if err != nil {
		return Certificate{}, err
	}
	return out, nil
}

// RemoveIdentity unregisters a certificate identity from an account. It
// returns ErrNotFound if the account has not registered it.
func (s *Store) RemoveIdentity(ctx context.Context, accountID int64, subject, issuer string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM certificate_identities
			WHERE account_id = $1 AND subject = $2 AND issuer = $3`, accountID, subject, issuer)
		if err != nil {
			return dbErr("removing certificate identity", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr("removing certificate identity", err)
		} else if n == 0 {
			return fmt.Errorf("%w: certificate identity %q from %q of account %d", ErrNotFound, subject, issuer, accountID)
		}
		return nil
	})
}

// AccountIdentities returns the certificate identities registered to an
// account, in order of registration; none for an account that does not
// exist.
func (s *Store) AccountIdentities(ctx context.Context, accountID int64) ([]CertificateIdentity, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT subject, issuer, created_at FROM certificate_identities
		WHERE account_id = $1 ORDER BY created_at, subject, issuer`, accountID)
	if err != nil {
		return nil, dbErr("reading certificate identities", err)
	}
	defer rows.Close()
	var out []CertificateIdentity
	for rows.Next() {
		var id CertificateIdentity
		var created int64
		if err := rows.Scan(&id.Subject, &id.Issuer, &created); err != nil {
			return nil, dbErr("reading certificate identities", err)
		}
		id.Created = fromMicros(created)
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("reading certificate identities", err)
	}
	return out, nil
}

// IdentityAccounts returns the accounts that have registered the identity
// subject from issuer (exact names), ordered by name; none if no account
// has.
func (s *Store) IdentityAccounts(ctx context.Context, subject, issuer string) ([]Account, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts a
		JOIN certificate_identities i ON i.account_id = a.id
		WHERE i.subject = $1 AND i.issuer = $2 ORDER BY a.name_key`, subject, issuer)
	if err != nil {
		return nil, dbErr("reading identity accounts", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, dbErr("reading identity accounts", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("reading identity accounts", err)
	}
	return out, nil
}

// CountSigningCredentials returns how many certificates and certificate
// identities an account has registered (0 and 0 for an account that does
// not exist): the push policy's "has a certificate" is their sum being
// positive.
func (s *Store) CountSigningCredentials(ctx context.Context, accountID int64) (certificates, identities int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM account_certificates WHERE account_id = $1),
		(SELECT COUNT(*) FROM certificate_identities WHERE account_id = $1)`, accountID).Scan(&certificates, &identities)
	if err != nil {
		return 0, 0, dbErr("counting signing credentials", err)
	}
	return certificates, identities, nil
}
