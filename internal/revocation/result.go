package revocation

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is what a check established about a certificate.
type Status int

const (
	// Unknown: no source gave a verified, current answer.
	Unknown Status = iota
	// Good: a verified, current source says the certificate is not revoked.
	Good
	// Revoked: a verified, current source says the certificate was revoked
	// at Result.RevokedAt.
	Revoked
)

// String returns "unknown", "good" or "revoked".
func (s Status) String() string {
	switch s {
	case Good:
		return "good"
	case Revoked:
		return "revoked"
	}
	return "unknown"
}

// Reason is a revocation reason, the CRLReason of RFC 5280 5.3.1 (also used
// by OCSP, RFC 6960 4.2.1).
type Reason int

// Revocation reasons (RFC 5280 5.3.1; 7 is not used).
const (
	ReasonUnspecified          Reason = 0
	ReasonKeyCompromise        Reason = 1
	ReasonCACompromise         Reason = 2
	ReasonAffiliationChanged   Reason = 3
	ReasonSuperseded           Reason = 4
	ReasonCessationOfOperation Reason = 5
	ReasonCertificateHold      Reason = 6
	ReasonRemoveFromCRL        Reason = 8
	ReasonPrivilegeWithdrawn   Reason = 9
	ReasonAACompromise         Reason = 10
)

var reasonNames = map[Reason]string{
	ReasonUnspecified:          "unspecified",
	ReasonKeyCompromise:        "keyCompromise",
	ReasonCACompromise:         "cACompromise",
	ReasonAffiliationChanged:   "affiliationChanged",
	ReasonSuperseded:           "superseded",
	ReasonCessationOfOperation: "cessationOfOperation",
	ReasonCertificateHold:      "certificateHold",
	ReasonRemoveFromCRL:        "removeFromCRL",
	ReasonPrivilegeWithdrawn:   "privilegeWithdrawn",
	ReasonAACompromise:         "aACompromise",
}

// String returns the ASN.1 name of r, or "reason(n)" for values RFC 5280
// does not define.
func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// Source is the kind of evidence behind a Result.
type Source int

const (
	// SourceNone: no evidence (an Unknown result).
	SourceNone Source = iota
	// SourceOCSP: an OCSP response (RFC 6960).
	SourceOCSP
	// SourceCRL: a certificate revocation list (RFC 5280).
	SourceCRL
)

// String returns "none", "OCSP" or "CRL".
func (s Source) String() string {
	switch s {
	case SourceOCSP:
		return "OCSP"
	case SourceCRL:
		return "CRL"
	}
	return "none"
}

// Origin says where the evidence behind a Result was found.
type Origin int

const (
	// OriginNone: no evidence (an Unknown result).
	OriginNone Origin = iota
	// OriginNetwork: fetched during this check.
	OriginNetwork
	// OriginMemory: a result this Checker established earlier.
	OriginMemory
	// OriginDisk: the on-disk cache (CacheDir), verified again when read.
	OriginDisk
	// OriginBundle: an offline revocation bundle.
	OriginBundle
)

// String returns "none", "network", "memory", "disk" or "bundle".
func (o Origin) String() string {
	switch o {
	case OriginNetwork:
		return "network"
	case OriginMemory:
		return "memory"
	case OriginDisk:
		return "disk"
	case OriginBundle:
		return "bundle"
	}
	return "none"
}

// Result is the outcome of a check and the evidence behind it.
type Result struct {
	Status Status
	// RevokedAt and Reason are set when Status is Revoked. A CRL entry
	// without a reason code gives ReasonUnspecified.
	RevokedAt time.Time
	Reason    Reason
	// Source and Origin describe the evidence; URL is the responder or
	// distribution point it came from (empty when it came from a bundle).
	Source Source
	Origin Origin
	URL    string
	// ThisUpdate and NextUpdate are the evidence's validity; NextUpdate is
	// zero for an OCSP response without one.
	ThisUpdate, NextUpdate time.Time
	// Raw is the DER OCSP response or CRL as received, so that a caller can
	// put it in a Bundle (Bundle.Add) for machines without network access.
	Raw []byte
}

// Errors that an *UnknownError wraps, for callers and tests to tell the
// causes apart with errors.Is.
var (
	// ErrOffline: the Checker is in Offline mode and neither a bundle nor
	// the cache had an answer.
	ErrOffline = errors.New("revocation: offline and no bundle or cache entry answers")
	// ErrNoLocation: the certificate names no usable OCSP responder or CRL
	// distribution point (only http:// URLs are used).
	ErrNoLocation = errors.New("revocation: the certificate names no http OCSP responder or CRL distribution point")
	// ErrResponderDown: the responder failed recently and was skipped.
	ErrResponderDown = errors.New("revocation: responder failed recently; not asked again yet")
	// ErrTooLarge: a response, CRL or file exceeds its size limit.
	ErrTooLarge = errors.New("revocation: too large")
	// ErrMalformed: a response, CRL or bundle does not parse.
	ErrMalformed = errors.New("revocation: malformed")
	// ErrUnsuccessful: the OCSP responder answered with an error status
	// (tryLater, unauthorized, …).
	ErrUnsuccessful = errors.New("revocation: OCSP responder reported an error")
	// ErrUnauthorizedSigner: the OCSP response is not signed by the issuer
	// or by a responder the issuer authorized (RFC 6960 4.2.2.2).
	ErrUnauthorizedSigner = errors.New("revocation: OCSP response signer is not authorized by the issuer")
	// ErrBadSignature: the signature of an OCSP response or CRL does not
	// verify with the key it names.
	ErrBadSignature = errors.New("revocation: bad signature")
	// ErrWrongCertificate: the OCSP response has no status for this
	// certificate and issuer (CertID mismatch).
	ErrWrongCertificate = errors.New("revocation: OCSP response is not about this certificate")
	// ErrWrongIssuer: the CRL was not issued by the certificate's issuer.
	ErrWrongIssuer = errors.New("revocation: CRL issuer is not the certificate's issuer")
	// ErrNotCovered: the CRL is limited (by its issuing distribution point)
	// to certificates this one is not among.
	ErrNotCovered = errors.New("revocation: CRL does not cover the certificate")
	// ErrStale: the evidence's nextUpdate has passed (or, for an OCSP
	// response without one, its thisUpdate is too old).
	ErrStale = errors.New("revocation: evidence has expired")
	// ErrNotYetValid: the evidence's thisUpdate is in the future.
	ErrNotYetValid = errors.New("revocation: evidence is not yet valid")
	// ErrNonce: the OCSP response does not echo our nonce.
	ErrNonce = errors.New("revocation: OCSP nonce mismatch")
	// ErrUnsupported: the evidence uses something this package does not
	// implement (delta, indirect or partial CRLs, an unknown critical
	// extension, an unsupported algorithm).
	ErrUnsupported = errors.New("revocation: unsupported")
	// ErrStatusUnknown: the OCSP responder does not know the certificate.
	ErrStatusUnknown = errors.New("revocation: OCSP responder does not know the certificate")
)

// UnknownError is the error returned with an Unknown result. It lists the
// failure of every source tried, in order, and unwraps to them.
type UnknownError struct {
	// Subject is the certificate's subject, for messages.
	Subject string
	// Errs are the failures, one per source tried.
	Errs []error
}

// Error joins the failures.
func (e *UnknownError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "revocation: status of %q is unknown", e.Subject)
	for i, err := range e.Errs {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return b.String()
}

// Unwrap returns the failures.
func (e *UnknownError) Unwrap() []error { return e.Errs }
