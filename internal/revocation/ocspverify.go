package revocation

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/der"
)

// OIDs of signature algorithms that only appear here.
var (
	oidEd25519          = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidSHA1WithRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidECDSAWithSHA1    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidSHA1WithRSAShort = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 29}
)

// responseSigAlgs are the signature algorithms accepted on OCSP responses,
// with whether their parameters must be absent (ECDSA, Ed25519: RFC 5758
// 3.2, RFC 8410 3) or may be NULL (RSA: RFC 4055 5).
var responseSigAlgs = []struct {
	oid        asn1.ObjectIdentifier
	alg        x509.SignatureAlgorithm
	nullParams bool
}{
	{cms.OIDSHA256WithRSA, x509.SHA256WithRSA, true},
	{cms.OIDSHA384WithRSA, x509.SHA384WithRSA, true},
	{cms.OIDSHA512WithRSA, x509.SHA512WithRSA, true},
	{cms.OIDECDSAWithSHA256, x509.ECDSAWithSHA256, false},
	{cms.OIDECDSAWithSHA384, x509.ECDSAWithSHA384, false},
	{cms.OIDECDSAWithSHA512, x509.ECDSAWithSHA512, false},
	{oidEd25519, x509.PureEd25519, false},
}

// signatureAlgorithm maps an OCSP response's signatureAlgorithm to crypto/x509's.
// SHA-1 signatures are refused: crypto/x509 no longer verifies them, and a
// chosen-prefix collision would let a responder's old signature cover a forged
// answer. RSASSA-PSS is not implemented (no responder in use signs with it).
func signatureAlgorithm(a pkix.AlgorithmIdentifier) (x509.SignatureAlgorithm, error) {
	for _, s := range responseSigAlgs {
		if !s.oid.Equal(a.Algorithm) {
			continue
		}
		if s.nullParams && !der.ParamsAbsentOrNull(a) || !s.nullParams && !der.ParamsAbsent(a) {
			return 0, fmt.Errorf("%w: parameters of signature algorithm %s", ErrMalformed, a.Algorithm)
		}
		return s.alg, nil
	}
	if a.Algorithm.Equal(oidSHA1WithRSA) || a.Algorithm.Equal(oidECDSAWithSHA1) || a.Algorithm.Equal(oidSHA1WithRSAShort) {
		return 0, fmt.Errorf("%w: OCSP response signed with SHA-1", ErrUnsupported)
	}
	return 0, fmt.Errorf("%w: signature algorithm %s", ErrUnsupported, a.Algorithm)
}

// ocspCheck is what verifyOCSP needs besides the response.
type ocspCheck struct {
	cert, issuer *x509.Certificate
	now          time.Time
	// nonce is the nonce we sent, or nil.
	nonce []byte
}

// verifyOCSP parses an OCSP response and runs RFC 6960 3.2's checks in its
// order, returning the status it gives cert. A response that says
// "unknown" gives ErrStatusUnknown.
func verifyOCSP(b []byte, c ocspCheck) (Result, error) {
	r, err := parseOCSPResponse(b)
	if err != nil {
		return Result{}, err
	}
	return verifyParsedOCSP(r, c)
}

// verifyParsedOCSP is verifyOCSP on a parsed response.
func verifyParsedOCSP(r *ocspResponse, c ocspCheck) (Result, error) {
	sr, err := checkOCSPCertID(r, c.cert, c.issuer)
	if err != nil {
		return Result{}, err
	}
	if err := checkOCSPSigner(r, c.issuer, c.now); err != nil {
		return Result{}, err
	}
	if err := checkOCSPFreshness(sr, c.now); err != nil {
		return Result{}, err
	}
	if err := checkOCSPNonce(r, c.nonce); err != nil {
		return Result{}, err
	}
	if err := checkOCSPExtensions(r, sr); err != nil {
		return Result{}, err
	}
	res := Result{Source: SourceOCSP, ThisUpdate: sr.thisUpdate, NextUpdate: sr.nextUpdate, Raw: r.raw}
	switch sr.status {
	case statusGood:
		res.Status = Good
	case statusRevoked:
		res.Status, res.RevokedAt, res.Reason = Revoked, sr.revokedAt, sr.reason
	default:
		return Result{}, ErrStatusUnknown
	}
	return res, nil
}

// checkOCSPCertID returns the SingleResponse about cert: the one whose
// CertID names cert's serial number and issuer's name and key hashes, with a
// hash algorithm we accept (RFC 6960 3.2 item 1, 4.1.1). crypto/ocsp matches
// on the serial number alone (golang/go#59641).
func checkOCSPCertID(r *ocspResponse, cert, issuer *x509.Certificate) (*singleResponse, error) {
	var unsupported []string
	for i := range r.responses {
		sr := &r.responses[i]
		id := sr.certID
		if id.serial.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		h, ok := cms.HashFromOID(id.hashAlgorithm.Algorithm)
		if !ok || !slices.Contains(certIDHashes, h) || !der.ParamsAbsentOrNull(id.hashAlgorithm) {
			unsupported = append(unsupported, id.hashAlgorithm.Algorithm.String())
			continue
		}
		nameHash, keyHash, err := issuerHashes(issuer, h)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(id.issuerNameHash, nameHash) && bytes.Equal(id.issuerKeyHash, keyHash) {
			return sr, nil
		}
	}
	if len(unsupported) > 0 {
		return nil, fmt.Errorf("%w: CertID hash algorithm %s", ErrUnsupported, unsupported[0])
	}
	return nil, fmt.Errorf("%w: no CertID names serial %s of issuer %q", ErrWrongCertificate, cert.SerialNumber.Text(16), issuer.Subject.String())
}

// checkOCSPSigner checks that the response is signed by issuer or by a
// delegated responder that issuer authorized (RFC 6960 3.2 items 2–4,
// 4.2.2.2), and that its responderID names the signer. crypto/ocsp
// verifies the signature of an embedded certificate but not its issuance
// rights or EKU (golang/go#43522).
func checkOCSPSigner(r *ocspResponse, issuer *x509.Certificate, now time.Time) error {
	alg, err := signatureAlgorithm(r.sigAlg)
	if err != nil {
		return err
	}
	if responderIDNames(r, issuer) {
		if err := issuer.CheckSignature(alg, r.tbs, r.signature); err != nil {
			return fmt.Errorf("%w: OCSP response by %q: %w", ErrBadSignature, issuer.Subject.String(), err)
		}
		return nil
	}
	var why []error
	for _, raw := range r.certs {
		c, err := x509.ParseCertificate(raw)
		if err != nil || !responderIDNames(r, c) {
			continue
		}
		if err := checkDelegatedResponder(c, issuer, now); err != nil {
			why = append(why, err)
			continue
		}
		if err := c.CheckSignature(alg, r.tbs, r.signature); err != nil {
			return fmt.Errorf("%w: OCSP response by delegated responder %q: %w", ErrBadSignature, c.Subject.String(), err)
		}
		return nil
	}
	if len(why) > 0 {
		return errors.Join(why...)
	}
	return fmt.Errorf("%w: the responder ID names neither %q nor a certificate in the response", ErrUnauthorizedSigner, issuer.Subject.String())
}

// checkDelegatedResponder checks that c may sign OCSP responses for the
// certificates of issuer (RFC 6960 4.2.2.2): issued directly by issuer, with
// the id-kp-OCSPSigning extended key usage, and valid now.
func checkDelegatedResponder(c, issuer *x509.Certificate, now time.Time) error {
	name := c.Subject.String()
	if !bytes.Equal(c.RawIssuer, issuer.RawSubject) || c.CheckSignatureFrom(issuer) != nil {
		return fmt.Errorf("%w: responder certificate %q is not issued by %q", ErrUnauthorizedSigner, name, issuer.Subject.String())
	}
	if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return fmt.Errorf("%w: responder certificate %q lacks the OCSPSigning extended key usage", ErrUnauthorizedSigner, name)
	}
	if now.Before(c.NotBefore.Add(-maxClockSkew)) || now.After(c.NotAfter.Add(maxClockSkew)) {
		return fmt.Errorf("%w: responder certificate %q is valid %s to %s", ErrUnauthorizedSigner, name,
			c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// responderIDNames reports whether the response's responderID names c: by
// its subject, or by the SHA-1 hash of its subjectPublicKey (RFC 6960
// 4.2.1).
func responderIDNames(r *ocspResponse, c *x509.Certificate) bool {
	if r.responderName != nil {
		return bytes.Equal(r.responderName, c.RawSubject)
	}
	bits, err := subjectPublicKeyBits(c)
	if err != nil {
		return false
	}
	sum := sha1.Sum(bits)
	return bytes.Equal(r.responderKeyHash, sum[:])
}

// checkOCSPFreshness checks thisUpdate and nextUpdate against now (RFC 6960
// 3.2 items 5–6, 4.2.2.1), with maxClockSkew of tolerance. Without a
// nextUpdate the response may be at most maxAgeWithoutNextUpdate old.
func checkOCSPFreshness(sr *singleResponse, now time.Time) error {
	if sr.thisUpdate.After(now.Add(maxClockSkew)) {
		return fmt.Errorf("%w: OCSP thisUpdate %s is after now (%s)", ErrNotYetValid, stamp(sr.thisUpdate), stamp(now))
	}
	if sr.nextUpdate.IsZero() {
		if now.Sub(sr.thisUpdate) > maxAgeWithoutNextUpdate {
			return fmt.Errorf("%w: OCSP response of %s has no nextUpdate and is older than %s", ErrStale, stamp(sr.thisUpdate), maxAgeWithoutNextUpdate)
		}
		return nil
	}
	if sr.nextUpdate.Before(sr.thisUpdate) {
		return fmt.Errorf("%w OCSP response: nextUpdate %s is before thisUpdate %s", ErrMalformed, stamp(sr.nextUpdate), stamp(sr.thisUpdate))
	}
	if now.After(sr.nextUpdate.Add(maxClockSkew)) {
		return fmt.Errorf("%w: OCSP nextUpdate %s is before now (%s)", ErrStale, stamp(sr.nextUpdate), stamp(now))
	}
	return nil
}

// checkOCSPNonce checks that the response echoes the nonce we sent (RFC
// 6960 4.4.1, RFC 8954 2.1). Nothing is checked when we sent none.
func checkOCSPNonce(r *ocspResponse, nonce []byte) error {
	if len(nonce) == 0 {
		return nil
	}
	for _, e := range r.extensions {
		if !e.id.Equal(oidOCSPNonce) {
			continue
		}
		v := cryptobyte.String(e.value)
		var got cryptobyte.String
		if !v.ReadASN1(&got, cbasn1.OCTET_STRING) || !v.Empty() || !bytes.Equal(got, nonce) {
			return fmt.Errorf("%w: the response's nonce is not ours", ErrNonce)
		}
		return nil
	}
	return fmt.Errorf("%w: the response carries no nonce", ErrNonce)
}

// checkOCSPExtensions refuses a response with a critical extension we do not
// process (RFC 5280 4.2 semantics, which RFC 6960 4.4 extensions follow):
// only the nonce is understood.
func checkOCSPExtensions(r *ocspResponse, sr *singleResponse) error {
	for _, e := range r.extensions {
		if e.critical && !e.id.Equal(oidOCSPNonce) {
			return fmt.Errorf("%w: critical OCSP response extension %s", ErrUnsupported, e.id)
		}
	}
	for _, e := range sr.extensions {
		if e.critical {
			return fmt.Errorf("%w: critical OCSP single extension %s", ErrUnsupported, e.id)
		}
	}
	return nil
}

// stamp formats t for messages.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
