package nusig

import (
	"context"
	"crypto/x509"
	"time"
)

// CountersignatureMode says when the repository countersignature is verified
// (spec 5.4).
type CountersignatureMode int

const (
	// CountersignatureIfExists verifies it whenever there is one (the verify
	// command's behaviour).
	CountersignatureIfExists CountersignatureMode = iota
	// CountersignatureIfExistsAndNecessary verifies it only when the primary
	// signature alone does not pass (restore's behaviour).
	CountersignatureIfExistsAndNecessary
	// CountersignatureAlways requires one (NU3038 without).
	CountersignatureAlways
	// CountersignatureNever ignores it.
	CountersignatureNever
)

// RevocationStatus is what a revocation check found.
type RevocationStatus int

const (
	// RevocationUnknown: no responder answered or none is named.
	RevocationUnknown RevocationStatus = iota
	// RevocationGood: not revoked.
	RevocationGood
	// RevocationRevoked: revoked at RevokedAt.
	RevocationRevoked
)

// RevocationChecker checks whether cert, issued by issuer, is revoked. It
// returns RevocationUnknown (and perhaps an error saying why) when it cannot
// tell; it must return within its own time limit.
type RevocationChecker interface {
	Check(ctx context.Context, cert, issuer *x509.Certificate) (status RevocationStatus, revokedAt time.Time, err error)
}

// VerifyOptions configure Verify. The zero value is the strictest policy:
// nothing unsigned, illegal, untrusted or untimestamped passes, every timestamp
// problem fails the signature, and revocation that cannot be checked is
// reported. Each Allow… field loosens one rule, with the meaning of NuGet's
// SignedPackageVerifierSettings field of the same name (spec 5.5).
type VerifyOptions struct {
	// Roots are the trusted code-signing roots; TimestampRoots the trusted
	// timestamping roots.
	Roots          []*x509.Certificate
	TimestampRoots []*x509.Certificate

	AllowUnsigned           bool
	AllowIllegal            bool
	AllowUntrusted          bool
	AllowIgnoreTimestamp    bool
	AllowMultipleTimestamps bool
	AllowNoTimestamp        bool
	AllowUnknownRevocation  bool
	// HideUnknownRevocation does not report revocation that could not be
	// checked (NuGet's reportUnknownRevocation = false, accept mode).
	HideUnknownRevocation bool
	// OfflineRevocation reports unknown revocation as information only, as
	// NUGET_CERT_REVOCATION_MODE=offline does.
	OfflineRevocation bool

	Countersignatures CountersignatureMode

	// Revocation checks certificates; nil means revocation is unknown.
	Revocation RevocationChecker

	// AllowUntrustedRootFingerprints are upper-case SHA-256 fingerprints of
	// signing certificates whose untrusted roots are accepted (trustedSigners
	// entries with allowUntrustedRoot="true", spec 5.6).
	AllowUntrustedRootFingerprints []string
	// UntrustedRootAllowed, when set, is asked as well: it lets a trust
	// policy match fingerprints of any hash algorithm.
	UntrustedRootAllowed func(*x509.Certificate) bool

	// Now returns the verification time; time.Now when nil.
	Now func() time.Time
}

func (o *VerifyOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// VerifyCommandOptions returns the settings of `dotnet nuget verify`
// (spec 5.5): strict, but multiple and missing timestamps allowed and unknown
// revocation reported as a warning.
func VerifyCommandOptions() VerifyOptions {
	return VerifyOptions{
		AllowMultipleTimestamps: true,
		AllowNoTimestamp:        true,
		AllowUnknownRevocation:  true,
		Countersignatures:       CountersignatureIfExists,
	}
}

// AcceptModeOptions returns restore's settings with
// signatureValidationMode=accept.
func AcceptModeOptions() VerifyOptions {
	return VerifyOptions{
		AllowUnsigned:           true,
		AllowIllegal:            true,
		AllowUntrusted:          true,
		AllowIgnoreTimestamp:    true,
		AllowMultipleTimestamps: true,
		AllowNoTimestamp:        true,
		AllowUnknownRevocation:  true,
		HideUnknownRevocation:   true,
		Countersignatures:       CountersignatureIfExistsAndNecessary,
	}
}

// RequireModeOptions returns restore's settings with
// signatureValidationMode=require.
func RequireModeOptions() VerifyOptions {
	return VerifyOptions{
		AllowIgnoreTimestamp:    true,
		AllowMultipleTimestamps: true,
		AllowNoTimestamp:        true,
		AllowUnknownRevocation:  true,
		Countersignatures:       CountersignatureIfExistsAndNecessary,
	}
}

// GalleryOptions returns nuget.org's settings for validating an author
// signature at upload (spec 5.5, last column): everything strict except
// unknown revocation, which is reported but allowed.
func GalleryOptions() VerifyOptions {
	return VerifyOptions{
		AllowUnknownRevocation: true,
		Countersignatures:      CountersignatureNever,
	}
}
