package devpki

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"
)

// Revocation reason codes (RFC 5280 5.3.1) used in tests.
const (
	ReasonUnspecified   = 0
	ReasonKeyCompromise = 1
	ReasonSuperseded    = 4
)

// Revoked returns the CRL entry for c revoked at at for reason (one of the
// RFC 5280 5.3.1 codes).
func Revoked(c *x509.Certificate, at time.Time, reason int) x509.RevocationListEntry {
	return x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: at, ReasonCode: reason}
}

// CRL returns a DER CRL signed by ca listing revoked, valid from thisUpdate
// to nextUpdate. Each call takes the next CRL number (RFC 5280 5.2.3).
func (ca *CA) CRL(revoked []x509.RevocationListEntry, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	ca.mu.Lock()
	ca.crlNumber++
	n := ca.crlNumber
	ca.mu.Unlock()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(n),
		ThisUpdate:                thisUpdate,
		NextUpdate:                nextUpdate,
		RevokedCertificateEntries: revoked,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("devpki: CRL of %q: %w", ca.Cert.Subject.CommonName, err)
	}
	return der, nil
}
