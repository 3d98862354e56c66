package tsp

import (
	"errors"
	"fmt"
)

// NuGet log codes (spec section 8) carried by verification failures. They
// are plain strings so that this package does not depend on nusig; nusig
// converts them to its own Code type.
const (
	CodeImprintMismatch      = "NU3019" // timestamp integrity check failed
	CodeNoSignerCertificate  = "NU3020" // timestamp has no signing certificate
	CodeInvalidToken         = "NU3021" // timestamp signature or structure invalid
	CodeCertSignatureAlg     = "NU3022" // TSA certificate signature algorithm unsupported
	CodeCertKeyTooShort      = "NU3023" // TSA certificate key too short
	CodeDigestAlg            = "NU3024" // token digest algorithm unsupported
	CodeCertNotYetValid      = "NU3025" // TSA certificate not yet valid
	CodeNonceMismatch        = "NU3026" // response nonce differs from the request's
	CodeChain                = "NU3028" // TSA certificate unusable for timestamping (EKU)
	CodeImprintAlg           = "NU3030" // message imprint hash algorithm unsupported
	CodeGenTimeOutOfValidity = "NU3036" // genTime outside the TSA certificate's validity
)

// Check names one verification rule. Tests and callers branch on it rather
// than on message text.
type Check string

// The checks [Token.Verify] runs, in the order it runs them; CheckStructure
// is reported by [ParseToken].
const (
	CheckStructure         Check = "structure"           // the token is a SignedData with a TSTInfo (ParseToken)
	CheckSignerCount       Check = "signer-count"        // exactly one SignerInfo
	CheckContentType       Check = "content-type"        // eContentType is id-ct-TSTInfo
	CheckSignerCertificate Check = "signer-certificate"  // the TSA certificate is in the token
	CheckESSCertID         Check = "ess-signing-cert"    // ESS signing-certificate (v1 or v2) names it
	CheckSignature         Check = "token-signature"     // the SignerInfo signature verifies
	CheckCertSignatureAlg  Check = "cert-signature-alg"  // TSA certificate signed with sha256/384/512WithRSA
	CheckCertKey           Check = "cert-key"            // TSA key is RSA >= 2048 bits
	CheckDigestAlg         Check = "digest-alg"          // SignerInfo digest algorithm allowed
	CheckImprintAlg        Check = "imprint-alg"         // message imprint algorithm allowed
	CheckImprint           Check = "imprint"             // imprint equals hash(data)
	CheckCertNotYetValid   Check = "cert-not-yet-valid"  // TSA certificate valid already
	CheckGenTime           Check = "gentime-in-validity" // NotBefore <= genTime < NotAfter
	CheckEKU               Check = "eku"                 // id-kp-timeStamping, and only it
	CheckNonce             Check = "nonce"               // nonce equals the request's
	CheckRequest           Check = "request"             // policy and certReq honoured
)

// CheckError is a failed verification rule. Code is the NuGet code the NuGet
// client reports for the same failure.
type CheckError struct {
	Check Check
	Code  string
	Err   error
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("tsp: %s: %s: %v", e.Code, e.Check, e.Err)
}

func (e *CheckError) Unwrap() error { return e.Err }

// fail builds a CheckError with a formatted cause.
func fail(c Check, code, format string, args ...any) *CheckError {
	return &CheckError{Check: c, Code: code, Err: fmt.Errorf(format, args...)}
}

// IsCheck reports whether err is (or wraps) a CheckError for check c.
func IsCheck(err error, c Check) bool {
	var ce *CheckError
	return errors.As(err, &ce) && ce.Check == c
}
