package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha1" // Fingerprint: SHA-1 thumbprints
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MinRSABits is NuGet's minimum RSA key size for signing and timestamping
// certificates (spec 3.6, 4.3, 5.3 step 4: NU3014, NU3023).
const MinRSABits = 2048

// OIDLifetimeSigning is Microsoft's lifetime-signing EKU: a signature made
// with such a certificate expires with it, whatever the timestamp says, so
// NuGet refuses it (NU3015).
var OIDLifetimeSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 3, 13}

// oidExtKeyUsage is the extended key usage extension (RFC 5280 4.2.1.12).
var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// timeFormat is how times appear in messages.
const timeFormat = time.RFC3339

// CheckSignatureAlgorithm checks the certificate's own signature algorithm:
// NuGet accepts sha256WithRSAEncryption, sha384WithRSAEncryption and
// sha512WithRSAEncryption only, so SHA-1, RSASSA-PSS and ECDSA fail (spec
// 3.6 and 5.3 step 4: NU3013; spec 4.1 and 4.3 for a TSA: NU3022).
func CheckSignatureAlgorithm(c *x509.Certificate, role Role) *Issue {
	switch c.SignatureAlgorithm {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA:
		return nil
	}
	return &Issue{
		Rule:    RuleSignatureAlgorithm,
		Code:    role.code(NU3013, NU3022),
		Message: fmt.Sprintf("%s is signed with %s; NuGet requires SHA256-RSA, SHA384-RSA or SHA512-RSA", role.noun(), signatureAlgorithmName(c)),
	}
}

// signatureAlgorithmName names c's signature algorithm, by OID when
// crypto/x509 does not know it.
func signatureAlgorithmName(c *x509.Certificate) string {
	if c.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		return c.SignatureAlgorithm.String()
	}
	// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, ... }
	s := cryptobyte.String(c.Raw)
	var cert, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if s.ReadASN1(&cert, cbasn1.SEQUENCE) && cert.SkipASN1(cbasn1.SEQUENCE) &&
		cert.ReadASN1(&alg, cbasn1.SEQUENCE) && alg.ReadASN1ObjectIdentifier(&oid) {
		return "algorithm " + oid.String()
	}
	return "an unknown algorithm"
}

// CheckPublicKey checks that the certificate's key is RSA of at least
// MinRSABits bits (spec 3.6 and 5.3 step 4: NU3014; spec 4.1 and 4.3 for a
// TSA: NU3023). ECDSA and Ed25519 keys fail: NuGet signs with RSA only.
func CheckPublicKey(c *x509.Certificate, role Role) *Issue {
	var what string
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() >= MinRSABits {
			return nil
		}
		what = fmt.Sprintf("RSA %d-bit", k.N.BitLen())
	case *ecdsa.PublicKey:
		what = "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		what = "Ed25519"
	default:
		what = c.PublicKeyAlgorithm.String()
	}
	return &Issue{
		Rule:    RulePublicKey,
		Code:    role.code(NU3014, NU3023),
		Message: fmt.Sprintf("%s's key is %s; NuGet requires RSA of at least %d bits", role.noun(), what, MinRSABits),
	}
}

// CheckLifetimeSigningEKU checks that the certificate does not carry the
// lifetime-signing EKU (spec 3.6 and 5.3 step 4: NU3015).
func CheckLifetimeSigningEKU(c *x509.Certificate) *Issue {
	for _, oid := range c.UnknownExtKeyUsage {
		if oid.Equal(OIDLifetimeSigning) {
			return &Issue{
				Rule:    RuleLifetimeSigningEKU,
				Code:    NU3015,
				Message: fmt.Sprintf("the signing certificate has the lifetime-signing EKU (%s), which NuGet does not support", OIDLifetimeSigning),
			}
		}
	}
	return nil
}

// CheckNotYetValid checks that the certificate's validity has begun at now
// (spec 3.6 and 5.3 step 4: NU3017; spec 4.1 and 4.3 for a TSA: NU3025).
func CheckNotYetValid(c *x509.Certificate, now time.Time, role Role) *Issue {
	if !now.Before(c.NotBefore) {
		return nil
	}
	return &Issue{
		Rule:    RuleNotYetValid,
		Code:    role.code(NU3017, NU3025),
		Message: fmt.Sprintf("%s is not valid before %s", role.noun(), c.NotBefore.UTC().Format(timeFormat)),
	}
}

// CheckExpired checks that the signing certificate has not expired at now.
// At signing time NuGet builds the chain at now, where an expired
// certificate is NotTimeValid, an error (spec 3.6: NU3018). Verification
// does not use this rule: there validity comes from the timestamp (spec 4.4).
func CheckExpired(c *x509.Certificate, now time.Time) *Issue {
	if !now.After(c.NotAfter) {
		return nil
	}
	return &Issue{
		Rule:    RuleExpired,
		Code:    NU3018,
		Message: fmt.Sprintf("the signing certificate expired at %s", c.NotAfter.UTC().Format(timeFormat)),
	}
}

// CheckCodeSigningEKU checks that the certificate may sign code, as NuGet's
// chain policy id-kp-codeSigning demands (spec 3.6 and 5.3 step 5):
//   - no EKU extension passes: the platform treats it as "any purpose";
//   - otherwise the extension must list id-kp-codeSigning or
//     anyExtendedKeyUsage.
//
// Accepting anyExtendedKeyUsage follows RFC 5280 4.2.1.12 and crypto/x509,
// and matches BuildChain; that .NET's chain engine accepts it too is not
// confirmed (spec section 10 lists no test of it). At signing time a failure
// is NotValidForUsage, an error (NU3018); the verifier reports the same
// problem from chain building as NU3012.
func CheckCodeSigningEKU(c *x509.Certificate) *Issue {
	if allowsUsage(c, x509.ExtKeyUsageCodeSigning) {
		return nil
	}
	return &Issue{
		Rule:    RuleCodeSigningEKU,
		Code:    NU3018,
		Message: fmt.Sprintf("the signing certificate's extended key usage (%s) does not allow code signing", ekuNames(c)),
	}
}

// CheckTimestampingEKU checks the TSA certificate's extended key usage as
// RFC 3161 2.3 requires: the extension is present, critical, and lists
// id-kp-timeStamping and nothing else. NuGet's chain policy (spec 4.3) is
// only that timestamping is allowed; whether .NET also enforces RFC 3161's
// rule is unconfirmed (spec section 10, item 4), so a verifier may prefer the
// laxer BuildChain check. Failure is reported as a TSA chain problem, NU3028.
func CheckTimestampingEKU(c *x509.Certificate) *Issue {
	found, critical := false, false
	for _, e := range c.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			found, critical = true, e.Critical
			break
		}
	}
	var problem string
	switch {
	case !found:
		problem = "has no extended key usage extension"
	case len(c.ExtKeyUsage) != 1 || len(c.UnknownExtKeyUsage) != 0 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping:
		problem = fmt.Sprintf("has extended key usage %s", ekuNames(c))
	case !critical:
		problem = "has a non-critical extended key usage extension"
	default:
		return nil
	}
	return &Issue{
		Rule:    RuleTimestampingEKU,
		Code:    NU3028,
		Message: fmt.Sprintf("the timestamping certificate %s; RFC 3161 requires a critical extended key usage of timeStamping only", problem),
	}
}

// IsSelfIssued reports whether c is self-issued as NuGet decides it (spec
// 3.6: an untrusted root is only a warning for such a certificate): issuer
// and subject names are byte-equal, c's signature verifies with its own key
// (so no other issuer could complete its chain), and its authority key
// identifier, when present with a subject key identifier, equals it.
func IsSelfIssued(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	if len(c.AuthorityKeyId) > 0 && len(c.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId) {
		return false
	}
	return CheckSignatureFrom(c, c) == nil
}

// Fingerprint returns the upper-case hex digest of c's DER encoding with h,
// as NuGet prints and compares fingerprints (SHA-256 by default, SHA-1 for
// the "SHA1 hash" line). It returns "" when h is not available.
func Fingerprint(c *x509.Certificate, h crypto.Hash) string {
	if !h.Available() {
		return ""
	}
	d := h.New()
	d.Write(c.Raw)
	return strings.ToUpper(hex.EncodeToString(d.Sum(nil)))
}

// ekuNames lists c's extended key usages for messages.
func ekuNames(c *x509.Certificate) string {
	var names []string
	for _, u := range c.ExtKeyUsage {
		names = append(names, ekuName(u))
	}
	for _, oid := range c.UnknownExtKeyUsage {
		if oid.Equal(OIDLifetimeSigning) {
			names = append(names, "lifetimeSigning")
			continue
		}
		names = append(names, oid.String())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func ekuName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageAny:
		return "anyExtendedKeyUsage"
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	}
	return fmt.Sprintf("ExtKeyUsage(%d)", int(u))
}
