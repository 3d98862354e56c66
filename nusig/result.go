package nusig

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"
)

// Severity is how much an issue weighs, as the NuGet client logs it.
type Severity int

const (
	// SeverityInfo is logged at normal verbosity only.
	SeverityInfo Severity = iota
	// SeverityWarning does not fail verification.
	SeverityWarning
	// SeverityError fails verification.
	SeverityError
)

func (s Severity) String() string {
	switch s {
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return "info"
}

// Reason refines a code where one NuGet code covers several causes (NU3018
// and NU3028 are used for untrusted roots, partial chains and unknown
// revocation alike). Empty when the code says it all.
type Reason string

// The reasons Signet reports.
const (
	ReasonUntrustedRoot     Reason = "untrusted-root"
	ReasonPartialChain      Reason = "partial-chain"
	ReasonNotValidForUsage  Reason = "not-valid-for-usage"
	ReasonRevoked           Reason = "revoked"
	ReasonRevocationUnknown Reason = "revocation-unknown"
	ReasonRootNotInBundle   Reason = "root-not-in-bundle"
	ReasonNotTrustedSigner  Reason = "not-trusted-signer"
)

// Issue is one finding of verification: its NuGet code, a reason where the
// code is ambiguous, its weight and a message. Callers branch on Code and
// Reason, never on Message.
type Issue struct {
	Code     Code
	Severity Severity
	Message  string
	Reason   Reason
	// Detail, when set, is the long cause behind Message (every
	// responder's error, say), for detailed output.
	Detail string
}

func (i Issue) String() string { return fmt.Sprintf("%s: %s", i.Code, i.Message) }

// Status is a signature's or package's verification status. The order is
// NuGet's: when results combine, the lowest wins.
type Status int

const (
	// StatusUnknown: verification could not decide.
	StatusUnknown Status = iota
	// StatusSuspect: the package was tampered with or a certificate is revoked.
	StatusSuspect
	// StatusDisallowed: the signature breaks the policy (untrusted, expired,
	// illegal).
	StatusDisallowed
	// StatusValid: nothing stands against the package.
	StatusValid
)

func (s Status) String() string {
	switch s {
	case StatusSuspect:
		return "suspect"
	case StatusDisallowed:
		return "disallowed"
	case StatusValid:
		return "valid"
	}
	return "unknown"
}

func minStatus(a, b Status) Status {
	if a < b {
		return a
	}
	return b
}

// Placement says where a signature sits.
type Placement int

const (
	// PlacementPrimary is the one SignerInfo of the SignedData.
	PlacementPrimary Placement = iota
	// PlacementCountersignature is a repository countersignature on the
	// primary signature.
	PlacementCountersignature
)

// FriendlyName is how NuGet names a signature in its messages: "author
// primary signature", "repository countersignature", "primary signature".
func FriendlyName(t Type, p Placement) string {
	switch {
	case p == PlacementCountersignature:
		return "repository countersignature"
	case t == TypeAuthor:
		return "author primary signature"
	case t == TypeRepository:
		return "repository primary signature"
	}
	return "primary signature"
}

// TimestampResult describes a signature's timestamp.
type TimestampResult struct {
	GenTime      time.Time
	Accuracy     time.Duration
	LowerLimit   time.Time
	UpperLimit   time.Time
	Policy       string
	Hash         crypto.Hash // message-imprint algorithm
	Certificate  *x509.Certificate
	Chain        []*x509.Certificate // leaf first, as built
	ChainTrusted bool
	// Valid is true when every timestamp check passed and the TSA chain
	// ends at a trusted timestamping root.
	Valid  bool
	Issues []Issue
}

// SignatureResult describes one signature: the primary or the repository
// countersignature.
type SignatureResult struct {
	Type        Type
	Placement   Placement
	Hash        crypto.Hash // the SignerInfo's digest algorithm
	Certificate *x509.Certificate
	// Chain is the signing certificate's chain, leaf first, as built; its
	// last element is the root it ended at.
	Chain        []*x509.Certificate
	ChainTrusted bool
	SigningTime  time.Time
	Timestamps   []*TimestampResult
	Repository   *RepositoryInfo
	Status       Status
	Issues       []Issue
	// Verified is false for a repository countersignature that was read
	// but not verified, because the options did not need it (restore
	// verifies it only when the primary signature alone fails, spec 5.4).
	// Its certificate and repository attributes are still given, for allow
	// lists; its Status does not count.
	Verified bool

	expired       bool
	untrustedRoot bool
}

// Name is the signature's friendly name.
func (s *SignatureResult) Name() string { return FriendlyName(s.Type, s.Placement) }

// Timestamp returns the timestamp that counts (the first), or nil.
func (s *SignatureResult) Timestamp() *TimestampResult {
	if len(s.Timestamps) == 0 {
		return nil
	}
	return s.Timestamps[0]
}

// Result is the outcome of verifying one package.
type Result struct {
	Signed bool
	// ContentHash is the package hash algorithm of the signature content.
	ContentHash      crypto.Hash
	Primary          *SignatureResult
	Countersignature *SignatureResult
	// Issues holds package-level findings: format, integrity, allow lists.
	Issues []Issue
	Status Status
}

// Valid reports whether the package passed.
func (r *Result) Valid() bool { return r.Status == StatusValid }

// AllIssues returns every issue: package-level first, then the primary
// signature's (with its timestamps'), then the countersignature's.
func (r *Result) AllIssues() []Issue {
	out := append([]Issue(nil), r.Issues...)
	for _, s := range []*SignatureResult{r.Primary, r.Countersignature} {
		if s == nil {
			continue
		}
		out = append(out, s.Issues...)
	}
	return out
}

// Counts returns the number of errors and warnings.
func (r *Result) Counts() (errs, warns int) {
	for _, i := range r.AllIssues() {
		switch i.Severity {
		case SeverityError:
			errs++
		case SeverityWarning:
			warns++
		}
	}
	return
}

// HasCode reports whether any issue carries code c.
func (r *Result) HasCode(c Code) bool {
	for _, i := range r.AllIssues() {
		if i.Code == c {
			return true
		}
	}
	return false
}
