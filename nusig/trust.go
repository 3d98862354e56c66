package nusig

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/pki"
)

// verifier holds what one Verify call shares between its signatures.
type verifier struct {
	o   VerifyOptions
	now time.Time
	sd  *cms.SignedData
}

func (v *verifier) illegalSeverity() Severity {
	if v.o.AllowIllegal {
		return SeverityWarning
	}
	return SeverityError
}

func (v *verifier) timestampSeverity() Severity {
	if v.o.AllowIgnoreTimestamp {
		return SeverityWarning
	}
	return SeverityError
}

func (s *SignatureResult) add(c Code, sev Severity, format string, args ...any) {
	s.Issues = append(s.Issues, Issue{Code: c, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// because sets the reason of the issue added last.
func (s *SignatureResult) because(r Reason) {
	s.Issues[len(s.Issues)-1].Reason = r
}

// disallow lowers the status to Disallowed when cond holds.
func (s *SignatureResult) disallow(cond bool) {
	if cond {
		s.Status = minStatus(s.Status, StatusDisallowed)
	}
}

// verifySignature runs spec 5.3 on one SignerInfo whose signed data is data:
// the signature content for the primary signature, the primary signature
// value for a countersignature.
func (v *verifier) verifySignature(ctx context.Context, si *cms.SignerInfo, cert *x509.Certificate, data []byte, typ Type, pl Placement) *SignatureResult {
	s := &SignatureResult{Type: typ, Placement: pl, Certificate: cert, Status: StatusValid, Verified: true}
	// The timestamp is judged on its own, whatever the signature's fate, as
	// the client does; its issues follow the signature's (spec 5.3).
	tr := &SignatureResult{Status: StatusValid}
	ts := v.verifyTimestamps(ctx, tr, si, cert, s.Name())
	s.Timestamps = tr.Timestamps
	defer func() {
		s.Issues = append(s.Issues, tr.Issues...)
		s.Status = minStatus(s.Status, tr.Status)
	}()
	s.Hash, _ = si.Hash()
	name := s.Name()
	o := v.o
	// A trusted signer entry with allowUntrustedRoot makes this signature's
	// untrusted root and expiry warnings, not reasons to disallow it (spec
	// 5.3 step 6, 5.6).
	rootAllowed := v.untrustedRootAllowed(cert)
	allowUntrusted := o.AllowUntrusted || rootAllowed
	untrustedSeverity := SeverityError
	if allowUntrusted {
		untrustedSeverity = SeverityWarning
	}

	// Spec 5.3 step 3: the CMS signature over the signed attributes, and
	// message-digest over the data.
	want := cms.OIDData // the primary signature signs id-data content
	if pl == PlacementCountersignature {
		want = nil // absent, or id-data as real countersignatures carry
	}
	err := si.CheckContentType(want)
	if err == nil {
		err = si.CheckSignature(cert, data)
	}
	if err != nil {
		s.add(NU3012, v.illegalSeverity(), "The %s validation failed: %v", name, err)
		s.disallow(!o.AllowIllegal)
		return s
	}
	// Step 4: certificate rules; any failure is final whatever the mode.
	if v.checkCertificate(s, cert, name) {
		s.Status = minStatus(s.Status, StatusDisallowed)
		return s
	}
	// Step 5–6: the chain.
	chain := pki.BuildChain(cert, pki.ChainOptions{Roots: o.Roots, Pool: v.sd.Certificates, Usage: x509.ExtKeyUsageCodeSigning})
	s.Chain = chain.Certificates
	s.ChainTrusted = chain.Status == pki.ChainTrusted
	switch chain.Status {
	case pki.ChainNotValidForUsage:
		s.add(NU3012, v.illegalSeverity(), "The %s found a chain building issue: the certificate is not valid for code signing", name)
		s.because(ReasonNotValidForUsage)
		s.Status = minStatus(s.Status, StatusDisallowed)
	case pki.ChainPartial:
		s.add(NU3012, v.illegalSeverity(), "The %s found a chain building issue: no issuer of %q was found (partial chain)", name, chain.Root().Subject.String())
		s.because(ReasonPartialChain)
		s.Status = minStatus(s.Status, StatusDisallowed)
	case pki.ChainUntrustedRoot:
		if !rootAllowed {
			s.add(NU3018, untrustedSeverity, "The %s found a chain building issue: the certificate chain ends at root %q, which is not trusted", name, chain.Root().Subject.String())
			s.because(ReasonUntrustedRoot)
			s.add(NU3042, SeverityWarning, "The root %q (SHA-256 %s) is not in the code-signing trust bundle; add it with --trust-bundle if you trust it", chain.Root().Subject.String(), Fingerprint(chain.Root()))
			s.because(ReasonRootNotInBundle)
			s.untrustedRoot = true
			s.disallow(!allowUntrusted)
		}
	}
	if s.Status == StatusValid || s.untrustedRoot {
		if v.checkRevocation(ctx, s, chain.Certificates, name, NU3012, NU3018) {
			return s
		}
	}
	// Step 7: time validity, from the timestamp when there is a valid one
	// (spec 4.4).
	if !validAt(cert, ts, v.now) {
		s.add(NU3037, untrustedSeverity, "The %s validity period has expired (the certificate is valid from %s to %s)", name, cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
		s.expired = true
		s.disallow(!allowUntrusted)
	}
	return s
}

// validAt is spec 4.4's rule: with a valid timestamp, the certificate must
// strictly contain [LowerLimit, UpperLimit]; without one, now.
func validAt(cert *x509.Certificate, ts *TimestampResult, now time.Time) bool {
	if ts != nil && ts.Valid {
		return ts.UpperLimit.Before(cert.NotAfter) && ts.LowerLimit.After(cert.NotBefore)
	}
	return !now.Before(cert.NotBefore) && !now.After(cert.NotAfter)
}

// checkCertificate applies spec 5.3 step 4 and reports whether any rule
// failed.
func (v *verifier) checkCertificate(s *SignatureResult, cert *x509.Certificate, name string) bool {
	failed := false
	for _, is := range pki.CheckSignerCertificate(cert, v.now) {
		s.add(Code(is.Code), v.illegalSeverity(), "The %s: %s", name, is.Message)
		failed = true
	}
	return failed
}

// checkRevocation checks every certificate of the chain but the root. A
// revoked one is an error in every mode (status Suspect) and ends the
// signature's verification: it reports true. Unknown revocation is reported
// as the options say.
func (v *verifier) checkRevocation(ctx context.Context, s *SignatureResult, chain []*x509.Certificate, name string, revokedCode, unknownCode Code) bool {
	o := v.o
	unknown, why := false, ""
	for i := 0; i+1 < len(chain); i++ {
		if o.Revocation == nil {
			unknown, why = true, "no revocation checker was configured"
			break
		}
		st, at, err := o.Revocation.Check(ctx, chain[i], chain[i+1])
		switch st {
		case RevocationRevoked:
			s.add(revokedCode, SeverityError, "The %s found a chain building issue: certificate %q was revoked at %s", name, chain[i].Subject.String(), at.UTC().Format(time.RFC3339))
			s.because(ReasonRevoked)
			s.Status = minStatus(s.Status, StatusSuspect)
			return true
		case RevocationUnknown:
			unknown = true
			if err != nil {
				why = err.Error()
			}
		}
	}
	if !unknown || o.HideUnknownRevocation {
		return false
	}
	if o.OfflineRevocation {
		s.add(unknownCode, SeverityInfo, "The %s: revocation was not checked (offline mode)", name)
		s.because(ReasonRevocationUnknown)
		return false
	}
	sev := SeverityWarning
	if !o.AllowUnknownRevocation {
		sev = SeverityError
		s.Status = minStatus(s.Status, StatusDisallowed)
	}
	s.add(unknownCode, sev, "The %s found a chain building issue: the revocation status of the certificate chain is unknown (no OCSP responder or CRL could be reached)", name)
	s.because(ReasonRevocationUnknown)
	s.Issues[len(s.Issues)-1].Detail = why
	return false
}

// untrustedRootAllowed reports whether the options accept an untrusted root
// for this signing certificate (trustedSigners allowUntrustedRoot entries).
func (v *verifier) untrustedRootAllowed(cert *x509.Certificate) bool {
	if v.o.UntrustedRootAllowed != nil && v.o.UntrustedRootAllowed(cert) {
		return true
	}
	return slices.Contains(v.o.AllowUntrustedRootFingerprints, Fingerprint(cert))
}
