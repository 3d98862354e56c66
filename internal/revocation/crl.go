package revocation

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Extensions of CRLs and CRL entries (RFC 5280 5.2, 5.3) and whether we
// process them.
var (
	oidExtAuthorityKeyID     = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidExtCRLNumber          = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidExtDeltaCRLIndicator  = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidExtIssuingDistPoint   = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidExtReasonCode         = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidExtInvalidityDate     = asn1.ObjectIdentifier{2, 5, 29, 24}
	oidExtCertificateIssuer  = asn1.ObjectIdentifier{2, 5, 29, 29}
	understoodCRLExtensions  = []asn1.ObjectIdentifier{oidExtAuthorityKeyID, oidExtCRLNumber, oidExtIssuingDistPoint}
	understoodEntryExtension = []asn1.ObjectIdentifier{oidExtReasonCode, oidExtInvalidityDate}
)

// parsedCRL is a CRL parsed once and indexed for lookups; the same value is
// shared by every certificate it covers (the memory cache holds it).
type parsedCRL struct {
	raw  []byte
	list *x509.RevocationList
	// revoked indexes the entries by serial number (base 16, with sign).
	revoked map[string]*x509.RevocationListEntry
	idp     *issuingDistributionPoint // nil when the CRL has none

	mu sync.Mutex
	// verified holds the issuers (issuerKey) whose signature check passed,
	// so that a CRL of megabytes is hashed once, not once per certificate.
	verified map[string]bool
}

// parseCRL parses a DER CRL and refuses those whose scope this package
// cannot honour: delta CRLs (RFC 5280 5.2.4), CRLs with unknown critical
// extensions (5.2), and CRLs with an entry carrying a critical extension
// other than the reason code and invalidity date (5.3: such a CRL "MUST NOT
// be used"), which includes the certificateIssuer of indirect CRLs.
func parseCRL(b []byte) (*parsedCRL, error) {
	if len(b) > maxCRLSize {
		return nil, fmt.Errorf("%w: CRL of %d bytes (limit %d)", ErrTooLarge, len(b), maxCRLSize)
	}
	l, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, fmt.Errorf("%w CRL: %w", ErrMalformed, err)
	}
	p := &parsedCRL{raw: b, list: l, revoked: make(map[string]*x509.RevocationListEntry, len(l.RevokedCertificateEntries))}
	for _, e := range l.Extensions {
		switch {
		case e.Id.Equal(oidExtDeltaCRLIndicator):
			return nil, fmt.Errorf("%w: delta CRL", ErrUnsupported)
		case e.Id.Equal(oidExtIssuingDistPoint):
			if p.idp, err = parseIssuingDistributionPoint(e.Value); err != nil {
				return nil, err
			}
		case e.Critical && !slices.ContainsFunc(understoodCRLExtensions, e.Id.Equal):
			return nil, fmt.Errorf("%w: critical CRL extension %s", ErrUnsupported, e.Id)
		}
	}
	for i := range l.RevokedCertificateEntries {
		e := &l.RevokedCertificateEntries[i]
		for _, x := range e.Extensions {
			if x.Critical && !slices.ContainsFunc(understoodEntryExtension, x.Id.Equal) {
				what := x.Id.String()
				if x.Id.Equal(oidExtCertificateIssuer) {
					what = "certificateIssuer (an indirect CRL)"
				}
				return nil, fmt.Errorf("%w: critical CRL entry extension %s", ErrUnsupported, what)
			}
		}
		p.revoked[e.SerialNumber.Text(16)] = e
	}
	return p, nil
}

// verifyCRL runs the checks of RFC 5280 6.3.3 that make p usable for cert
// issued by issuer at now, then looks cert up.
func verifyCRL(p *parsedCRL, cert, issuer *x509.Certificate, now time.Time) (Result, error) {
	if err := checkCRLIssuer(p, issuer); err != nil {
		return Result{}, err
	}
	if err := checkCRLScope(p, cert); err != nil {
		return Result{}, err
	}
	if err := checkCRLFreshness(p, now); err != nil {
		return Result{}, err
	}
	if err := checkCRLSignature(p, issuer); err != nil {
		return Result{}, err
	}
	return lookupSerial(p, cert), nil
}

// checkCRLIssuer checks that the CRL's issuer is the certificate's issuer
// (RFC 5280 6.3.3 (b)(1); indirect CRLs are refused by parseCRL) and, when
// both are known, that its authority key identifier is the issuer's subject
// key identifier (5.2.1), which tells apart the CRLs of a CA's old and new
// keys.
func checkCRLIssuer(p *parsedCRL, issuer *x509.Certificate) error {
	if !bytes.Equal(p.list.RawIssuer, issuer.RawSubject) {
		return fmt.Errorf("%w: CRL issued by %q, certificate by %q", ErrWrongIssuer, p.list.Issuer.String(), issuer.Subject.String())
	}
	if len(p.list.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(p.list.AuthorityKeyId, issuer.SubjectKeyId) {
		return fmt.Errorf("%w: CRL authority key identifier %x is not %q's %x", ErrWrongIssuer, p.list.AuthorityKeyId, issuer.Subject.String(), issuer.SubjectKeyId)
	}
	return nil
}

// checkCRLFreshness checks that now lies between thisUpdate and nextUpdate
// with maxClockSkew of tolerance (RFC 5280 6.3.3 (a)(2), 5.1.2.4–5; a CRL
// without nextUpdate, which conforming issuers never produce, cannot be
// judged current and is refused).
func checkCRLFreshness(p *parsedCRL, now time.Time) error {
	l := p.list
	if l.ThisUpdate.After(now.Add(maxClockSkew)) {
		return fmt.Errorf("%w: CRL thisUpdate %s is after now (%s)", ErrNotYetValid, stamp(l.ThisUpdate), stamp(now))
	}
	if l.NextUpdate.IsZero() {
		return fmt.Errorf("%w: CRL without nextUpdate", ErrUnsupported)
	}
	if now.After(l.NextUpdate.Add(maxClockSkew)) {
		return fmt.Errorf("%w: CRL nextUpdate %s is before now (%s)", ErrStale, stamp(l.NextUpdate), stamp(now))
	}
	return nil
}

// checkCRLSignature verifies the CRL's signature with the issuer's key, which
// crypto/x509 also checks may sign CRLs (RFC 5280 6.3.3 (f)–(g), 4.2.1.3).
func checkCRLSignature(p *parsedCRL, issuer *x509.Certificate) error {
	key := string(issuer.RawSubject) + "\x00" + string(issuer.RawSubjectPublicKeyInfo)
	p.mu.Lock()
	ok := p.verified[key]
	p.mu.Unlock()
	if ok {
		return nil
	}
	if err := p.list.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("%w: CRL of %q: %w", ErrBadSignature, issuer.Subject.String(), err)
	}
	p.mu.Lock()
	if p.verified == nil {
		p.verified = map[string]bool{}
	}
	p.verified[key] = true
	p.mu.Unlock()
	return nil
}

// lookupSerial returns cert's status in the CRL (RFC 5280 6.3.3 (i)).
func lookupSerial(p *parsedCRL, cert *x509.Certificate) Result {
	res := Result{Status: Good, Source: SourceCRL, ThisUpdate: p.list.ThisUpdate, NextUpdate: p.list.NextUpdate, Raw: p.raw}
	if e, ok := p.revoked[cert.SerialNumber.Text(16)]; ok {
		res.Status, res.RevokedAt, res.Reason = Revoked, e.RevocationTime, Reason(e.ReasonCode)
	}
	return res
}
