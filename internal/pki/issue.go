package pki

import "fmt"

// NuGet log codes (spec section 8) the certificate rules report. They are
// plain strings so that this package does not depend on nusig, which
// converts them to its own Code type.
const (
	NU3013 = "NU3013" // signing certificate signature algorithm unsupported
	NU3014 = "NU3014" // signing certificate key not RSA ≥ 2048 bits
	NU3015 = "NU3015" // lifetime-signing EKU
	NU3017 = "NU3017" // signing certificate not yet valid
	NU3018 = "NU3018" // signing certificate chain problem (at signing: expired, wrong EKU, untrusted root)
	NU3022 = "NU3022" // TSA certificate signature algorithm unsupported
	NU3023 = "NU3023" // TSA certificate key not RSA ≥ 2048 bits
	NU3025 = "NU3025" // TSA certificate not yet valid
	NU3028 = "NU3028" // TSA certificate chain problem (including its EKU)
)

// Severity is how bad an issue is. The zero value is SeverityError, so an
// Issue built without one is never taken lightly.
type Severity int

const (
	// SeverityError fails the operation.
	SeverityError Severity = iota
	// SeverityWarning is reported but does not fail it.
	SeverityWarning
	// SeverityInfo is reported at detailed verbosity only.
	SeverityInfo
)

// String returns "error", "warning" or "info".
func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	case SeverityInfo:
		return "info"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// Rule names a certificate rule. Callers and tests branch on it, not on
// the message: NU3018 alone covers several rules.
type Rule string

// The rules, in the order CheckSigningCertificate runs them.
const (
	RuleSignatureAlgorithm Rule = "signature-algorithm"  // sha256/384/512WithRSA only
	RulePublicKey          Rule = "public-key"           // RSA of at least 2048 bits
	RuleLifetimeSigningEKU Rule = "lifetime-signing-eku" // no lifetime-signing EKU
	RuleNotYetValid        Rule = "not-yet-valid"        // NotBefore not in the future
	RuleExpired            Rule = "expired"              // NotAfter not in the past
	RuleCodeSigningEKU     Rule = "code-signing-eku"     // EKU allows code signing
	RuleTimestampingEKU    Rule = "timestamping-eku"     // EKU critical, timeStamping only
	RuleUntrustedRoot      Rule = "untrusted-root"       // chain ends at an untrusted root
	RulePartialChain       Rule = "partial-chain"        // no issuer found
	RuleChainUsage         Rule = "chain-usage"          // a CA's EKU excludes the purpose
)

// Issue is one failed rule: what failed, NuGet's code for it, how bad it is,
// and a one-line lowercase message naming the certificate's problem.
type Issue struct {
	Rule     Rule
	Code     string
	Severity Severity
	Message  string
}

// String returns "CODE: severity: message".
func (i Issue) String() string {
	return fmt.Sprintf("%s: %s: %s", i.Code, i.Severity, i.Message)
}

// Role says which NuGet certificate a rule is applied to; it picks the code
// and the wording.
type Role int

const (
	// RoleSigner is an author or repository signing certificate.
	RoleSigner Role = iota
	// RoleTimestamp is a timestamping authority's certificate.
	RoleTimestamp
)

// noun names the certificate in messages.
func (r Role) noun() string {
	if r == RoleTimestamp {
		return "the timestamping certificate"
	}
	return "the signing certificate"
}

// code returns the signer's or the timestamp's code.
func (r Role) code(signer, timestamp string) string {
	if r == RoleTimestamp {
		return timestamp
	}
	return signer
}
