package trust

import (
	"fmt"
	"slices"
	"strings"

	"github.com/signet-nuget/signet/nusig"
)

// Decision is the outcome of the allow list for one package.
type Decision struct {
	// Allowed is true when the package passes the allow list: it matched an
	// entry, it is not signed (the allow list does not apply), or the list
	// is empty outside require mode.
	Allowed bool
	// Signer and Signature name the entry and the signature that matched,
	// when one did.
	Signer, Signature string
	// Reason explains a refusal.
	Reason string
	// EmptyList is true when the refusal is an empty list in require mode.
	EmptyList bool
}

// candidate is a signature the allow list can match.
type candidate struct {
	sig    *nusig.SignatureResult
	class  Target // TargetAuthor or TargetRepository
	owners []string
}

// Evaluate matches a verified package against the allow list (NuGet's
// AllowListVerificationProvider, spec 5.6), with one deliberate difference
// described below.
//
// The signatures considered are the primary signature, as an author
// signature or a repository signature by its type (a primary signature of
// unknown type matches nothing), and the repository countersignature when
// r.Countersignature is set. nusig sets it when it verified the
// countersignature, which it always does with CountersignatureIfExists (the
// verify command) but not with CountersignatureIfExistsAndNecessary when the
// primary signature passed on its own; a caller that wants repository
// entries to match countersignatures must verify with IfExists.
//
// An entry matches a signature when its targets include the signature's
// class (author entries: the author primary signature; repository entries:
// a repository primary signature or the repository countersignature), the
// certificate's fingerprint with the entry's algorithm equals the entry's
// (case-insensitively), and, for a repository signature checked against an
// entry listing owners, the signature's nuget-package-owners share at least
// one name with the entry's (case-sensitive). An identity entry matches the
// same way on the certificate's identity, and only when the signature's
// chain ends at a trusted root.
//
// NuGet passes the package when any entry matches any of its signatures.
// Signet does so too, except for author-signed packages when the list holds
// author entries: then the author primary signature itself must match an
// author entry, and a matching repository countersignature does not stand
// in for it. Without this rule (NuGet/Home#13336), pinning an author's
// certificate does nothing for packages that also come through a trusted
// repository: a package signed by anyone else but countersigned by
// nuget.org passes. Listing authors therefore means that every author
// signature must be one of them; repository entries still admit
// repository-signed packages, and author-signed ones when no author is
// listed. The rule decides matching in every mode; accept mode only
// reports the refusal as a warning.
func (p *Policy) Evaluate(r *nusig.Result) Decision {
	if r == nil || !r.Signed || r.Primary == nil {
		return Decision{Allowed: true}
	}
	if p.Empty() {
		if p.RequireMode {
			return Decision{EmptyList: true, Reason: `signatureValidationMode is "require" but no trusted signers are configured, so no signed package can be accepted; add entries with "signet trust"`}
		}
		return Decision{Allowed: true}
	}
	var prim, counter *candidate
	switch r.Primary.Type {
	case nusig.TypeAuthor:
		prim = &candidate{sig: r.Primary, class: TargetAuthor}
	case nusig.TypeRepository:
		prim = &candidate{sig: r.Primary, class: TargetRepository, owners: ownersOfSig(r.Primary)}
	}
	if cs := r.Countersignature; cs != nil && cs.Certificate != nil {
		counter = &candidate{sig: cs, class: TargetRepository, owners: ownersOfSig(cs)}
	}
	var notes []string
	primSigner := p.match(prim, &notes)
	counterSigner := p.match(counter, &notes)
	authorPinned := prim != nil && prim.class == TargetAuthor && p.hasAuthorEntries()
	switch {
	case primSigner != "":
		return Decision{Allowed: true, Signer: primSigner, Signature: r.Primary.Name()}
	case counterSigner != "" && !authorPinned:
		return Decision{Allowed: true, Signer: counterSigner, Signature: r.Countersignature.Name()}
	}
	var b strings.Builder
	b.WriteString("The package is not signed by a trusted signer: ")
	var parts []string
	for _, c := range []*candidate{prim, counter} {
		if c != nil && c.sig.Certificate != nil {
			parts = append(parts, fmt.Sprintf("the %s's certificate (SHA-256 %s) matches no %s entry", c.sig.Name(), nusig.Fingerprint(c.sig.Certificate), classWord(c.class)))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("its %s has no certificate an entry could match", r.Primary.Name()))
	}
	b.WriteString(strings.Join(parts, "; "))
	if counterSigner != "" && authorPinned {
		fmt.Fprintf(&b, "; the repository countersignature matches the trusted repository %q, but trusted authors are listed, so the author signature must match one of them (Signet's rule for NuGet/Home#13336)", counterSigner)
	}
	for _, n := range notes {
		b.WriteString("; " + n)
	}
	return Decision{Reason: b.String()}
}

func classWord(t Target) string {
	if t == TargetAuthor {
		return "trusted author"
	}
	return "trusted repository"
}

func ownersOfSig(s *nusig.SignatureResult) []string {
	if s.Repository == nil {
		return nil
	}
	return s.Repository.Owners
}

// match returns the name of the first entry that vouches for c, or "". It
// adds to notes why entries whose certificate matched were refused.
func (p *Policy) match(c *candidate, notes *[]string) string {
	if c == nil || c.sig.Certificate == nil {
		return ""
	}
	cert := c.sig.Certificate
	fps := map[string]string{}
	for _, e := range p.Entries {
		if e.Targets&c.class == 0 {
			continue
		}
		fp, ok := fps[e.HashAlgorithm]
		if !ok {
			fp = fingerprintOf(cert, e.HashAlgorithm)
			fps[e.HashAlgorithm] = fp
		}
		if !strings.EqualFold(fp, e.Fingerprint) {
			continue
		}
		if p.ownersOK(e.Targets, e.Owners, c) {
			return e.Signers[0]
		}
		*notes = append(*notes, ownersNote(e.Signers, e.Owners, c))
	}
	for _, e := range p.Identities {
		if e.Target&c.class == 0 || !e.compiled.matches(cert) {
			continue
		}
		if !c.sig.ChainTrusted {
			*notes = append(*notes, fmt.Sprintf("the %s's certificate has the identity %s of %q, but identities only count for chains that end at a trusted root", c.sig.Name(), e.Identity, e.Signer))
			continue
		}
		if p.ownersOK(e.Target, e.Owners, c) {
			return e.Signer
		}
		*notes = append(*notes, ownersNote([]string{e.Signer}, e.Owners, c))
	}
	return ""
}

// ownersOK applies the owners rule: an entry that trusts repositories and
// lists owners matches a repository signature only if the signature names
// one of them (ordinal comparison). A signature without owners never
// matches such an entry.
func (p *Policy) ownersOK(t Target, owners []string, c *candidate) bool {
	if t&TargetRepository == 0 || len(owners) == 0 || c.class != TargetRepository {
		return true
	}
	for _, o := range c.owners {
		if slices.Contains(owners, o) {
			return true
		}
	}
	return false
}

func ownersNote(signers, owners []string, c *candidate) string {
	got := "none"
	if len(c.owners) > 0 {
		got = strings.Join(c.owners, ", ")
	}
	return fmt.Sprintf("the %s's certificate matches %s, but none of its trusted owners (%s) is an owner named by the signature (%s)", c.sig.Name(), quoteList(signers), strings.Join(owners, ", "), got)
}

// Apply runs Evaluate and records a refusal in r as NuGet's allow-list
// provider does: an empty list in require mode is a NU3034 error that
// disallows the package; a mismatch is a NU3034 error that disallows it,
// or only a warning when o.AllowUntrusted (accept mode). o is the options r
// was verified with. Unsigned packages and packages whose signature could
// not be read are left alone: Verify has already judged them.
func (p *Policy) Apply(r *nusig.Result, o nusig.VerifyOptions) Decision {
	d := p.Evaluate(r)
	if d.Allowed {
		return d
	}
	sev := nusig.SeverityError
	if o.AllowUntrusted && !d.EmptyList {
		sev = nusig.SeverityWarning
	}
	r.Issues = append(r.Issues, nusig.Issue{Code: nusig.NU3034, Severity: sev, Message: d.Reason, Reason: nusig.ReasonNotTrustedSigner})
	if sev == nusig.SeverityError && r.Status > nusig.StatusDisallowed {
		r.Status = nusig.StatusDisallowed
	}
	return d
}
