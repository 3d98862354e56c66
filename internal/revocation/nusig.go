package revocation

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/signet-nuget/signet/nusig"
)

var _ nusig.RevocationChecker = (*Checker)(nil)

// Check implements nusig.RevocationChecker with Lookup: it returns the
// status, the revocation time when revoked, and the *UnknownError of an
// Unknown result. Callers that want the reason or the evidence call Lookup.
func (c *Checker) Check(ctx context.Context, cert, issuer *x509.Certificate) (nusig.RevocationStatus, time.Time, error) {
	r, err := c.Lookup(ctx, cert, issuer)
	switch r.Status {
	case Good:
		return nusig.RevocationGood, time.Time{}, nil
	case Revoked:
		return nusig.RevocationRevoked, r.RevokedAt, nil
	}
	return nusig.RevocationUnknown, time.Time{}, err
}
