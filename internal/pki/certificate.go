package pki

import (
	"crypto/x509"
	"fmt"
	"time"
)

// CheckSignerCertificate applies NuGet's certificate checks of spec 5.3
// step 4 to a signing certificate being verified: signature algorithm
// (NU3013), public key (NU3014), lifetime-signing EKU (NU3015) and not yet
// valid at now (NU3017). It returns every failed rule, in that order, each at
// SeverityError; the verifier lowers them when illegal signatures are allowed.
func CheckSignerCertificate(c *x509.Certificate, now time.Time) []Issue {
	return collect(
		CheckSignatureAlgorithm(c, RoleSigner),
		CheckPublicKey(c, RoleSigner),
		CheckLifetimeSigningEKU(c),
		CheckNotYetValid(c, now, RoleSigner),
	)
}

// CheckSigningCertificate is what `signet sign` runs on its certificate
// before signing (spec 3.6): the rules of CheckSignerCertificate, then the
// two of NuGet's chain build at now that need no chain: expired (NotTimeValid)
// and EKU not allowing code signing (NotValidForUsage), both NU3018 errors.
// Chain rules (untrusted root, partial chain, revocation) need issuers: see
// CheckSigningChain.
func CheckSigningCertificate(c *x509.Certificate, now time.Time) []Issue {
	return append(CheckSignerCertificate(c, now), collect(
		CheckExpired(c, now),
		CheckCodeSigningEKU(c),
	)...)
}

// CheckTimestampCertificate applies the TSA certificate rules of spec 4.1
// and 4.3 that need only the certificate: signature algorithm (NU3022),
// public key (NU3023), not yet valid at now (NU3025), and RFC 3161 2.3's
// critical timeStamping-only EKU (NU3028). A TSA can run it on its own
// certificate at startup. genTime against the validity (NU3036) and the
// chain are the token verifier's.
func CheckTimestampCertificate(c *x509.Certificate, now time.Time) []Issue {
	return collect(
		CheckSignatureAlgorithm(c, RoleTimestamp),
		CheckPublicKey(c, RoleTimestamp),
		CheckNotYetValid(c, now, RoleTimestamp),
		CheckTimestampingEKU(c),
	)
}

// CheckSigningChain is the chain part of spec 3.6: it builds leaf's chain
// for code signing with o (o.Usage is ignored) and reports, as NU3018:
//   - an untrusted root: a warning when leaf is self-issued, else an error
//     (nuget.exe 7.6's -AllowUntrustedRoot makes it a warning always; a
//     caller with that option lowers the severity of RuleUntrustedRoot);
//   - a partial chain, or a CA whose EKU excludes code signing: errors;
//   - any certificate of the chain expired or not yet valid at now: errors
//     (NuGet builds this chain at now, without ignoring time validity).
//
// Revocation is not checked here.
func CheckSigningChain(leaf *x509.Certificate, o ChainOptions, now time.Time) []Issue {
	o.Usage = x509.ExtKeyUsageCodeSigning
	ch := BuildChain(leaf, o)
	var out []Issue
	for _, c := range ch.Certificates[1:] {
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			out = append(out, Issue{Rule: RuleExpired, Code: NU3018, Message: fmt.Sprintf(
				"the signing certificate's chain has %q, valid only from %s to %s", c.Subject.String(),
				c.NotBefore.UTC().Format(timeFormat), c.NotAfter.UTC().Format(timeFormat))})
		}
	}
	switch ch.Status {
	case ChainUntrustedRoot:
		is := Issue{Rule: RuleUntrustedRoot, Code: NU3018, Message: fmt.Sprintf(
			"the signing certificate's chain ends at %q, which is not a trusted root", ch.Root().Subject.String())}
		if IsSelfIssued(leaf) {
			is.Severity = SeverityWarning
		}
		out = append(out, is)
	case ChainPartial:
		out = append(out, Issue{Rule: RulePartialChain, Code: NU3018, Message: fmt.Sprintf(
			"the signing certificate's chain is incomplete: no issuer of %q was found", ch.Root().Subject.String())})
	case ChainNotValidForUsage:
		out = append(out, Issue{Rule: RuleChainUsage, Code: NU3018,
			Message: "a certificate of the signing certificate's chain does not allow code signing"})
	}
	return out
}

// collect returns the non-nil issues, in order.
func collect(issues ...*Issue) []Issue {
	var out []Issue
	for _, is := range issues {
		if is != nil {
			out = append(out, *is)
		}
	}
	return out
}
