package nusig

import (
	"context"
	"slices"

	"github.com/signet-nuget/signet/internal/cms"
)

// countersignature finds the repository countersignature of the primary
// signature and verifies it when o.Countersignatures says so, then combines
// the two results (spec 3.5, 5.4).
func (v *verifier) countersignature(ctx context.Context, r *Result, ps *primary) {
	o := v.o
	prim := r.Primary
	all, err := ps.si.Countersignatures()
	if err != nil {
		prim.add(NU3031, v.illegalSeverity(), "The repository countersignature is invalid: %v", err)
		prim.disallow(!o.AllowIllegal)
		return
	}
	var repo []*cms.SignerInfo
	for _, cs := range all {
		// Only repository countersignatures count; others are ignored, as
		// by the client (spec 3.5).
		if t, err := signatureType(cs); err == nil && t == TypeRepository {
			repo = append(repo, cs)
		}
	}
	if len(repo) > 1 {
		prim.add(NU3032, v.illegalSeverity(), "The package has %d repository countersignatures; at most one is allowed", len(repo))
		prim.disallow(!o.AllowIllegal)
		return
	}
	if len(repo) == 1 && ps.typ == TypeRepository {
		prim.add(NU3033, v.illegalSeverity(), "A repository primary signature must not have a repository countersignature")
		prim.disallow(!o.AllowIllegal)
		return
	}
	if len(repo) == 0 {
		if o.Countersignatures == CountersignatureAlways {
			prim.add(NU3038, SeverityError, "The package has no repository countersignature, and one is required")
			prim.Status = minStatus(prim.Status, StatusDisallowed)
		}
		return
	}
	switch o.Countersignatures {
	case CountersignatureNever:
		r.Countersignature = v.describeCountersignature(repo[0])
		return
	case CountersignatureIfExistsAndNecessary:
		// NuGet verifies it when the primary signature expired (even if that
		// is only a warning, as in accept mode) or its root is untrusted and
		// that made it fail (spec 5.4).
		if ps.typ == TypeRepository || !(prim.expired || (prim.untrustedRoot && prim.Status != StatusValid)) {
			r.Countersignature = v.describeCountersignature(repo[0])
			return
		}
	}
	r.Countersignature = v.verifyCountersignature(ctx, repo[0], ps)
	v.fallback(prim, r.Countersignature)
}

// describeCountersignature reads a countersignature without verifying it:
// its certificate and repository attributes, for allow lists (spec 5.6:
// repository entries match countersignatures whether or not they were
// verified).
func (v *verifier) describeCountersignature(cs *cms.SignerInfo) *SignatureResult {
	s := &SignatureResult{Type: TypeRepository, Placement: PlacementCountersignature, Status: StatusValid}
	s.Hash, _ = cs.Hash()
	s.Certificate, _ = v.sd.SignerCertificate(cs)
	if ri, err := repositoryInfo(cs); err == nil {
		s.Repository = &ri
	}
	if t, err := signingTime(cs); err == nil {
		s.SigningTime = t
	}
	return s
}

// verifyCountersignature checks a repository countersignature: its own
// attributes (signing-time and the service index URL are required, NU3031),
// then spec 5.3 over the primary signature value.
func (v *verifier) verifyCountersignature(ctx context.Context, cs *cms.SignerInfo, ps *primary) *SignatureResult {
	invalid := func(format string, args ...any) *SignatureResult {
		s := &SignatureResult{Type: TypeRepository, Placement: PlacementCountersignature, Status: StatusValid, Verified: true}
		s.add(NU3031, v.illegalSeverity(), "The repository countersignature is invalid: "+format, args...)
		s.disallow(!v.o.AllowIllegal)
		return s
	}
	cert, err := v.sd.SignerCertificate(cs)
	if err != nil || cert == nil {
		return invalid("its signing certificate is not in the signature (%v)", err)
	}
	st, err := signingTime(cs)
	if err != nil {
		return invalid("%v", err)
	}
	ri, err := repositoryInfo(cs)
	if err != nil {
		return invalid("%v", err)
	}
	s := v.verifySignature(ctx, cs, cert, ps.si.Signature, TypeRepository, PlacementCountersignature)
	s.SigningTime = st
	s.Repository = &ri
	return s
}

// fallback lets a valid repository countersignature vouch for an author
// primary signature that is only expired or only untrusted (spec 5.4): the
// countersignature's timestamp can prove that the author certificate was
// valid when the repository received the package.
func (v *verifier) fallback(prim, cs *SignatureResult) {
	if cs.Status != StatusValid || prim.Type != TypeAuthor {
		return
	}
	if !(prim.expired || prim.untrustedRoot) || !onlyUntrustedOrExpired(prim) {
		return
	}
	if prim.untrustedRoot {
		prim.Issues = slices.DeleteFunc(prim.Issues, func(i Issue) bool { return i.Code == NU3018 || i.Code == NU3042 })
		prim.untrustedRoot = false
	}
	if prim.expired {
		ts := cs.Timestamp()
		if ts == nil || !ts.Valid || !validAt(prim.Certificate, ts, v.now) {
			return
		}
		prim.Issues = slices.DeleteFunc(prim.Issues, func(i Issue) bool { return i.Code == NU3037 })
		prim.expired = false
	}
	prim.Status = StatusValid
}

// onlyUntrustedOrExpired reports whether every error of s is an untrusted
// root or an expiry, the two things a countersignature can make up for.
func onlyUntrustedOrExpired(s *SignatureResult) bool {
	for _, i := range s.Issues {
		if i.Severity == SeverityError && i.Code != NU3018 && i.Code != NU3037 {
			return false
		}
	}
	return s.Status == StatusDisallowed || s.Status == StatusValid
}
