package tsp

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
)

// VerifyOptions tune Token.Verify. The zero value is the strictest.
type VerifyOptions struct {
	// Now is the time the TSA certificate must already be valid at
	// (NU3025); zero means time.Now().
	Now time.Time
	// Request, when set, is the request the token answers: the nonce,
	// imprint and policy must be the request's (RFC 3161 section 2.4.2).
	Request *Request
	// AllowNonCriticalEKU accepts a TSA certificate whose extended key
	// usage extension is not marked critical. RFC 3161 section 2.3 requires
	// it critical; whether NuGet enforces that is unconfirmed (spec 10.4).
	AllowNonCriticalEKU bool
}

// oidExtKeyUsage is the extended key usage extension (RFC 5280 4.2.1.12).
var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// minTSAKeyBits is the smallest RSA key NuGet accepts for a TSA (NU3023).
const minTSAKeyBits = 2048

// check is one verification rule.
type check func(t *Token, data []byte, opts *VerifyOptions) *CheckError

// checks lists the rules Verify runs, in order: the structure and signature
// of the token (NuGet spec 4.3), NuGet's TSA certificate rules (4.1, 4.3),
// the imprint, the time rules, the RFC 3161 EKU rule, and the request rules.
var checks = []check{
	checkSignerCount,
	checkContentType,
	checkSignerCertificate,
	checkESSCertID,
	checkSignature,
	checkCertSignatureAlgorithm,
	checkCertKey,
	checkDigestAlgorithm,
	checkImprintAlgorithm,
	checkImprint,
	checkCertNotYetValid,
	checkGenTimeInValidity,
	checkEKU,
	checkNonce,
	checkRequest,
}

// Verify checks the token as a timestamp over data (for NuGet: the
// signature value of the SignerInfo the token is attached to). It runs every
// check and returns every failure, each a *CheckError carrying its NuGet
// code; nil means the token passed. A check whose input is missing because
// an earlier check failed (no SignerInfo, no certificate, no TSTInfo) is
// skipped rather than reported twice.
//
// Verify does not build the TSA certificate's chain: the caller does that,
// with Certificates as the untrusted pool, ignoring expiry (spec 4.3).
func (t *Token) Verify(data []byte, opts VerifyOptions) []error {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var errs []error
	for _, c := range checks {
		if err := c(t, data, &opts); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// checkSignerCount: a token has exactly one SignerInfo, the TSA's (RFC 3161
// section 2.4.2; NuGet spec 4.3, NU3021).
func checkSignerCount(t *Token, _ []byte, _ *VerifyOptions) *CheckError {
	if t.SignerCount != 1 {
		return fail(CheckSignerCount, CodeInvalidToken, "token has %d SignerInfos, want exactly 1", t.SignerCount)
	}
	return nil
}

// checkContentType: the encapsulated content is a TSTInfo (RFC 3161 section
// 2.4.2; NuGet spec 4.3, NU3021).
func checkContentType(t *Token, _ []byte, _ *VerifyOptions) *CheckError {
	if !t.ContentType.Equal(cms.OIDTSTInfo) {
		return fail(CheckContentType, CodeInvalidToken, "content type %s is not id-ct-TSTInfo", t.ContentType)
	}
	return nil
}

// checkSignerCertificate: the certificate the SignerInfo names is in the
// token (NuGet spec 4.3, NU3020).
func checkSignerCertificate(t *Token, _ []byte, _ *VerifyOptions) *CheckError {
	if t.SignerInfo != nil && t.Certificate == nil {
		return fail(CheckSignerCertificate, CodeNoSignerCertificate, "the TSA certificate is not in the token")
	}
	return nil
}

// checkESSCertID: the signed attributes carry an ESS signing-certificate
// (RFC 2634) or signing-certificate-v2 (RFC 5035) attribute, or both, once
// each with one value, and the first ESSCertID of each present names the
// TSA certificate (RFC 3161 section 2.4.1; NuGet spec 4.3, NU3021). v2 must
// use SHA-256/384/512. For v1 NuGet checks only that the hash is 20 bytes
// and the optional issuerSerial; cms.ESSCertID.Matches also compares the
// SHA-1 hash, which every real token satisfies.
func checkESSCertID(t *Token, _ []byte, _ *VerifyOptions) *CheckError {
	si := t.SignerInfo
	if si == nil || t.Certificate == nil {
		return nil
	}
	v1 := si.SignedAttr(cms.OIDSigningCertificate)
	v2 := si.SignedAttr(cms.OIDSigningCertificateV2)
	if len(v1) == 0 && len(v2) == 0 {
		return fail(CheckESSCertID, CodeInvalidToken, "neither signing-certificate nor signing-certificate-v2 is present")
	}
	if len(v1) > 1 || len(v1) == 1 && len(v1[0].Values) != 1 {
		return fail(CheckESSCertID, CodeInvalidToken, "signing-certificate must appear once with one value")
	}
	if len(v2) > 1 || len(v2) == 1 && len(v2[0].Values) != 1 {
		return fail(CheckESSCertID, CodeInvalidToken, "signing-certificate-v2 must appear once with one value")
	}
	if len(v1) == 1 {
		ids, err := cms.ParseSigningCertificate(v1[0].Values[0])
		if err != nil {
			return &CheckError{Check: CheckESSCertID, Code: CodeInvalidToken, Err: err}
		}
		if len(ids[0].CertHash) != 20 {
			return fail(CheckESSCertID, CodeInvalidToken, "signing-certificate hash is %d bytes, want 20", len(ids[0].CertHash))
		}
		if err := ids[0].Matches(t.Certificate); err != nil {
			return &CheckError{Check: CheckESSCertID, Code: CodeInvalidToken, Err: err}
		}
	}
	if len(v2) == 1 {
		ids, err := cms.ParseSigningCertificateV2(v2[0].Values[0])
		if err != nil {
			return &CheckError{Check: CheckESSCertID, Code: CodeInvalidToken, Err: err}
		}
		if !AllowedHash(ids[0].Hash) {
			return fail(CheckESSCertID, CodeInvalidToken, "signing-certificate-v2 hash algorithm %s not allowed", ids[0].Hash)
		}
		if err := ids[0].Matches(t.Certificate); err != nil {
			return &CheckError{Check: CheckESSCertID, Code: CodeInvalidToken, Err: err}
		}
	}
	return nil
}

// checkSignature: the SignerInfo's content-type attribute names the
// eContentType and its signature verifies with the TSA certificate's key over
// the signed attributes as received, whose message-digest is that of the
// TSTInfo (RFC 5652 sections 5.4, 5.6, 11.1, 11.2; NuGet spec 4.3, NU3021).
// A digest algorithm other than SHA-256/384/512 is left to
// checkDigestAlgorithm (NU3024), as NuGet reports it.
func checkSignature(t *Token, _ []byte, _ *VerifyOptions) *CheckError {
	if t.SignerInfo == nil || t.Certificate == nil || !AllowedHash(t.DigestHash) {
		return nil
	}
	if err := t.SignedData.CheckSignerInfo(t.SignerInfo, t.Certificate); err != nil {
		return &CheckError{Check: CheckSignature, Code: CodeInvalidToken, Err: err}
	}
	return nil
}

// checkCertSignatureAlgorithm: the TSA certificate is signed with
// sha256/384/512WithRSA (NuGet spec 4.1, 4.3, NU3022).
func checkCertSignatureAlgorithm(t *Token, _ []byte, _ *VerifyOptions) *CheckError {
	if t.Certificate == nil {
		return nil
	}
	switch t.Certificate.SignatureAlgorithm {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA:
		return nil
	}
	return fail(CheckCertSignatureAlg, CodeCertSignatureAlg, "TSA certificate is signed with %v, want sha256/384/512WithRSA", t.Certificate.SignatureAlgorithm)
}

// checkCertKey: the TSA key is RSA of at least 2048 bits (NuGet spec 4.1,
// 4.3, NU3023).
func checkCertKey(t *Token, _ []byte, _ *VerifyOptions) *CheckError {
	if t.Certificate == nil {
		return nil
	}
	pub, ok := t.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fail(CheckCertKey, CodeCertKeyTooShort, "TSA key is %v, want RSA", t.Certificate.PublicKeyAlgorithm)
	}
	if pub.N.BitLen() < minTSAKeyBits {
		return fail(CheckCertKey, CodeCertKeyTooShort, "TSA key has %d bits, want at least %d", pub.N.BitLen(), minTSAKeyBits)
	}
	return nil
}

// checkDigestAlgorithm: the SignerInfo digest is SHA-256/384/512 (NuGet
// spec 4.1, 4.3, NU3024).
func checkDigestAlgorithm(t *Token, _ []byte, _ *VerifyOptions) *CheckError {
	if t.SignerInfo == nil || AllowedHash(t.DigestHash) {
		return nil
	}
	return fail(CheckDigestAlg, CodeDigestAlg, "token digest algorithm %s not allowed, want SHA-256/384/512", t.DigestOID)
}

// checkImprintAlgorithm: the message imprint uses SHA-256/384/512 (NuGet
// spec 4.3, NU3030).
func checkImprintAlgorithm(t *Token, _ []byte, _ *VerifyOptions) *CheckError {
	if t.Info == nil || AllowedHash(t.Info.Hash) {
		return nil
	}
	return fail(CheckImprintAlg, CodeImprintAlg, "message imprint algorithm %s not allowed, want SHA-256/384/512", t.Info.HashOID)
}

// checkImprint: the imprint is the hash of data (NuGet spec 4.1, 4.3,
// NU3019).
func checkImprint(t *Token, data []byte, _ *VerifyOptions) *CheckError {
	if t.Info == nil || t.Info.Hash == 0 || !t.Info.Hash.Available() {
		return nil
	}
	h := t.Info.Hash.New()
	h.Write(data)
	if !bytes.Equal(h.Sum(nil), t.Info.HashedMessage) {
		return fail(CheckImprint, CodeImprintMismatch, "message imprint does not match the timestamped data")
	}
	return nil
}

// checkCertNotYetValid: the TSA certificate is valid already at the time
// of verification (NuGet spec 4.1, 4.3, NU3025).
func checkCertNotYetValid(t *Token, _ []byte, opts *VerifyOptions) *CheckError {
	if t.Certificate == nil || !opts.Now.Before(t.Certificate.NotBefore) {
		return nil
	}
	return fail(CheckCertNotYetValid, CodeCertNotYetValid, "TSA certificate is not valid before %s", t.Certificate.NotBefore.UTC().Format(time.RFC3339))
}

// checkGenTimeInValidity: NotBefore <= genTime < NotAfter for the TSA
// certificate (NuGet spec 4.1, 4.3, NU3036). An expired TSA certificate is
// fine as long as it was valid when it issued the token.
func checkGenTimeInValidity(t *Token, _ []byte, _ *VerifyOptions) *CheckError {
	if t.Certificate == nil || t.Info == nil {
		return nil
	}
	c, g := t.Certificate, t.Info.GenTime
	if g.Before(c.NotBefore) || !g.Before(c.NotAfter) {
		return fail(CheckGenTime, CodeGenTimeOutOfValidity, "genTime %s is outside the TSA certificate's validity %s to %s",
			formatGeneralizedTime(g), c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkEKU: the TSA certificate has the extended key usage id-kp-timeStamping
// and no other purpose, in a critical extension (RFC 3161 section 2.3). NuGet
// reports an unusable TSA certificate from chain building, with NU3028.
func checkEKU(t *Token, _ []byte, opts *VerifyOptions) *CheckError {
	if t.Certificate == nil {
		return nil
	}
	if err := CheckTimestampingEKU(t.Certificate, opts.AllowNonCriticalEKU); err != nil {
		return &CheckError{Check: CheckEKU, Code: CodeChain, Err: err}
	}
	return nil
}

// CheckTimestampingEKU applies RFC 3161 section 2.3 to a TSA certificate:
// exactly one extended key usage extension, holding only id-kp-timeStamping,
// marked critical unless allowNonCritical.
func CheckTimestampingEKU(cert *x509.Certificate, allowNonCritical bool) error {
	var found *struct{ critical bool }
	for _, e := range cert.Extensions {
		if !e.Id.Equal(oidExtKeyUsage) {
			continue
		}
		if found != nil {
			return errors.New("certificate has two extended key usage extensions")
		}
		found = &struct{ critical bool }{e.Critical}
	}
	if found == nil {
		return errors.New("certificate has no extended key usage; id-kp-timeStamping is required")
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(cert.UnknownExtKeyUsage) != 0 {
		return errors.New("extended key usage must be id-kp-timeStamping only")
	}
	if !found.critical && !allowNonCritical {
		return errors.New("extended key usage extension is not critical")
	}
	return nil
}

// checkNonce: the token echoes the request's nonce (RFC 3161 section 2.4.2;
// NuGet spec 4.1, NU3026).
func checkNonce(t *Token, _ []byte, opts *VerifyOptions) *CheckError {
	if opts.Request == nil || opts.Request.Nonce == nil || t.Info == nil {
		return nil
	}
	if t.Info.Nonce == nil {
		return fail(CheckNonce, CodeNonceMismatch, "token has no nonce, the request sent one")
	}
	if t.Info.Nonce.Cmp(opts.Request.Nonce) != 0 {
		return fail(CheckNonce, CodeNonceMismatch, "token nonce differs from the request's")
	}
	return nil
}

// checkRequest: the token answers the request: the same imprint (NU3019)
// and the requested policy if one was asked for (NU3021) (RFC 3161 section
// 2.4.2). That certReq was honoured needs no check of its own:
// checkSignerCertificate requires the TSA certificate in every token, as
// NuGet does (NU3020).
func checkRequest(t *Token, _ []byte, opts *VerifyOptions) *CheckError {
	r := opts.Request
	if r == nil || t.Info == nil {
		return nil
	}
	if t.Info.Hash != r.Hash || !bytes.Equal(t.Info.HashedMessage, r.Digest) {
		return fail(CheckRequest, CodeImprintMismatch, "token imprint differs from the request's")
	}
	if r.Policy != nil && !t.Info.Policy.Equal(r.Policy) {
		return fail(CheckRequest, CodeInvalidToken, "token policy %s differs from the requested %s", t.Info.Policy, r.Policy)
	}
	return nil
}
