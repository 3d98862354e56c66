package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"slices"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/nusig"
)

func authorEntry(name string, c *x509.Certificate) Signer {
	return Signer{Name: name, Kind: KindAuthor, Certificates: []CertEntry{{Fingerprint: nusig.Fingerprint(c), HashAlgorithm: "SHA256"}}}
}

func repoEntry(name string, c *x509.Certificate, owners ...string) Signer {
	return Signer{Name: name, Kind: KindRepository, ServiceIndex: "https://feed.example/v3/index.json", Owners: owners,
		Certificates: []CertEntry{{Fingerprint: nusig.Fingerprint(c), HashAlgorithm: "SHA256"}}}
}

func TestPolicyMatrix(t *testing.T) {
	ca := newCA(t, cn("Policy CA"))
	A := ca.leaf(t, cn("Author A"))
	B := ca.leaf(t, cn("Author B"))
	R := ca.leaf(t, cn("Repository R"))
	S := ca.leaf(t, cn("Repository S"))
	withFP := func(s Signer, alg string, c *x509.Certificate, lower bool) Signer {
		f := fingerprintOf(c, alg)
		if lower {
			f = strings.ToLower(f)
		}
		s.Certificates = []CertEntry{{Fingerprint: f, HashAlgorithm: alg}}
		return s
	}
	unknownType := func() *nusig.Result {
		r := authorSigned(A)
		r.Primary.Type = nusig.TypeUnknown
		return r
	}
	tests := []struct {
		name    string
		signers []Signer
		require bool
		result  *nusig.Result
		allowed bool
		by      string // the entry that vouched, when allowed by a match
		reason  string // a refusal must mention this
	}{
		// Empty list.
		{name: "empty list, accept", result: authorSigned(A), allowed: true},
		{name: "empty list, require", require: true, result: authorSigned(A), reason: `signatureValidationMode is "require" but no trusted signers`},
		// Author entries: the author primary signature only.
		{name: "author entry, author signature", signers: []Signer{authorEntry("a", A)}, result: authorSigned(A), allowed: true, by: "a"},
		{name: "author entry, other author", signers: []Signer{authorEntry("a", A)}, result: authorSigned(B), reason: "author primary signature's certificate"},
		{name: "author entry, same certificate as repository primary", signers: []Signer{authorEntry("a", R)}, result: repoSigned(R), reason: "matches no trusted repository"},
		{name: "author entry, same certificate as countersignature", signers: []Signer{authorEntry("r", R)}, result: countersigned(B, R), reason: "repository countersignature's certificate"},
		{name: "author entry, require mode", require: true, signers: []Signer{authorEntry("a", A)}, result: authorSigned(A), allowed: true, by: "a"},
		// Repository entries: repository primary or countersignature.
		{name: "repository entry, repository primary", signers: []Signer{repoEntry("r", R)}, result: repoSigned(R), allowed: true, by: "r"},
		{name: "repository entry, countersignature", signers: []Signer{repoEntry("r", R)}, result: countersigned(B, R), allowed: true, by: "r"},
		{name: "repository entry, author certificate reused", signers: []Signer{repoEntry("r", A)}, result: authorSigned(A), reason: "matches no trusted author"},
		{name: "repository entry, other repository", signers: []Signer{repoEntry("r", R)}, result: countersigned(B, S), reason: "repository countersignature"},
		{name: "repository entry, countersignature not verified", signers: []Signer{repoEntry("r", R)}, result: authorSigned(B), reason: "author primary signature"},
		// Owners.
		{name: "owners intersect", signers: []Signer{repoEntry("r", R, "alice", "bob")}, result: repoSigned(R, "carol", "bob"), allowed: true, by: "r"},
		{name: "owners on countersignature", signers: []Signer{repoEntry("r", R, "bob")}, result: countersigned(B, R, "bob"), allowed: true, by: "r"},
		{name: "owners disjoint", signers: []Signer{repoEntry("r", R, "alice")}, result: repoSigned(R, "bob"), reason: "none of its trusted owners (alice) is an owner named by the signature (bob)"},
		{name: "owners case-sensitive", signers: []Signer{repoEntry("r", R, "Microsoft")}, result: countersigned(B, R, "microsoft"), reason: "trusted owners (Microsoft)"},
		{name: "owners required, signature has none", signers: []Signer{repoEntry("r", R, "alice")}, result: repoSigned(R), reason: "signature (none)"},
		// Fingerprints.
		{name: "fingerprint case-insensitive", signers: []Signer{withFP(authorEntry("a", A), "SHA256", A, true)}, result: authorSigned(A), allowed: true, by: "a"},
		{name: "SHA384 entry", signers: []Signer{withFP(authorEntry("a", A), "SHA384", A, false)}, result: authorSigned(A), allowed: true, by: "a"},
		{name: "SHA512 entry", signers: []Signer{withFP(repoEntry("r", R), "SHA512", R, true)}, result: countersigned(B, R), allowed: true, by: "r"},
		{name: "SHA512 entry of another certificate", signers: []Signer{withFP(authorEntry("a", B), "SHA512", B, false)}, result: authorSigned(A), reason: "matches no trusted author"},
		// Primary signature of unknown type matches nothing itself.
		{name: "unknown type primary", signers: []Signer{authorEntry("a", A)}, result: unknownType(), reason: "primary signature"},
		// NuGet/Home#13336: listed authors are not bypassed by a trusted repository.
		{name: "13336: unlisted author, trusted countersignature", signers: []Signer{authorEntry("humanizer", B), repoEntry("nuget.org", R)},
			result: countersigned(A, R), reason: `matches the trusted repository "nuget.org", but trusted authors are listed`},
		{name: "13336: same, require mode", require: true, signers: []Signer{authorEntry("humanizer", B), repoEntry("nuget.org", R)},
			result: countersigned(A, R), reason: "NuGet/Home#13336"},
		{name: "13336: listed author passes whatever the countersignature", signers: []Signer{authorEntry("a", A), repoEntry("nuget.org", R, "alice")},
			result: countersigned(A, S, "mallory"), allowed: true, by: "a"},
		{name: "13336: repository-signed package still admitted by the repository", signers: []Signer{authorEntry("a", A), repoEntry("nuget.org", R)},
			result: repoSigned(R), allowed: true, by: "nuget.org"},
		{name: "13336: no author entries, countersignature admits", signers: []Signer{repoEntry("nuget.org", R)},
			result: countersigned(A, R), allowed: true, by: "nuget.org"},
		// Not applicable.
		{name: "unsigned", require: true, signers: []Signer{authorEntry("a", A)}, result: &nusig.Result{Status: nusig.StatusValid}, allowed: true},
		{name: "unreadable signature", signers: []Signer{authorEntry("a", A)}, result: &nusig.Result{Signed: true, Status: nusig.StatusDisallowed}, allowed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPolicy(tt.signers)
			p.RequireMode = tt.require
			d := p.Evaluate(tt.result)
			if d.Allowed != tt.allowed || d.Signer != tt.by || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("decision = %+v, want allowed=%v by %q, reason with %q", d, tt.allowed, tt.by, tt.reason)
			}
			for _, mode := range []struct {
				name     string
				opts     nusig.VerifyOptions
				wantSev  nusig.Severity
				wantStat nusig.Status
			}{
				{"accept", nusig.AcceptModeOptions(), nusig.SeverityWarning, nusig.StatusValid},
				{"require", nusig.RequireModeOptions(), nusig.SeverityError, nusig.StatusDisallowed},
				{"verify", nusig.VerifyCommandOptions(), nusig.SeverityError, nusig.StatusDisallowed},
			} {
				r := *tt.result
				r.Issues = nil
				before := r.Status
				p.Apply(&r, mode.opts)
				var got []nusig.Issue
				for _, is := range r.Issues {
					if is.Code == nusig.NU3034 {
						got = append(got, is)
					}
				}
				switch {
				case tt.allowed:
					if len(got) != 0 || r.Status != before {
						t.Errorf("%s: allowed package got %v, status %v", mode.name, got, r.Status)
					}
				case d.EmptyList:
					if len(got) != 1 || got[0].Severity != nusig.SeverityError || r.Status != nusig.StatusDisallowed {
						t.Errorf("%s: empty list in require mode: %v, status %v", mode.name, got, r.Status)
					}
				default:
					if len(got) != 1 || got[0].Severity != mode.wantSev || r.Status != mode.wantStat || got[0].Message != d.Reason {
						t.Errorf("%s: refusal: %v, status %v; want one %v, status %v", mode.name, got, r.Status, mode.wantSev, mode.wantStat)
					}
				}
			}
		})
	}
}

func TestPolicyMergeAndNU3040(t *testing.T) {
	ca := newCA(t, cn("Merge CA"))
	A := ca.leaf(t, cn("A"))
	R := ca.leaf(t, cn("R"))
	a := authorEntry("a", A)
	a.Certificates[0].AllowUntrustedRoot = true
	lowerDup := authorEntry("a-again", A)
	lowerDup.Certificates[0].Fingerprint = strings.ToLower(lowerDup.Certificates[0].Fingerprint)
	lowerDup.Certificates[0].AllowUntrustedRoot = true
	p := NewPolicy([]Signer{a, lowerDup})
	if len(p.Entries) != 1 || len(p.Warnings) != 0 || !p.Entries[0].AllowUntrustedRoot {
		t.Fatalf("same certificate, same flag: entries %+v, warnings %v", p.Entries, p.Warnings)
	}
	if !slices.Equal(p.AllowUntrustedRootFingerprints(), []string{nusig.Fingerprint(A)}) {
		t.Errorf("allowUntrustedRoot fingerprints = %q", p.AllowUntrustedRootFingerprints())
	}

	// The same certificate as an author and, without allowUntrustedRoot, as
	// a repository with owners: targets OR-ed, owners unioned, NU3040.
	r1 := repoEntry("r1", A, "alice")
	r2 := repoEntry("r2", A, "bob", "alice")
	p = NewPolicy([]Signer{a, r1, r2, repoEntry("other", R)})
	if len(p.Entries) != 2 {
		t.Fatalf("entries = %+v", p.Entries)
	}
	e := p.Entries[0]
	if e.Targets != TargetAuthor|TargetRepository || e.AllowUntrustedRoot || !slices.Equal(e.Owners, []string{"alice", "bob"}) || !slices.Equal(e.Signers, []string{"a", "r1", "r2"}) {
		t.Errorf("merged entry = %+v", e)
	}
	if len(p.Warnings) != 1 || p.Warnings[0].Code != nusig.NU3040 || p.Warnings[0].Severity != nusig.SeverityWarning || !strings.Contains(p.Warnings[0].Message, nusig.Fingerprint(A)) {
		t.Errorf("warnings = %v", p.Warnings)
	}
	if len(p.AllowUntrustedRootFingerprints()) != 0 {
		t.Errorf("conflicting entries still allow untrusted roots: %q", p.AllowUntrustedRootFingerprints())
	}
	// The merged entry vouches for the author signature (no owners check on
	// an author signature) and for a countersignature with a listed owner.
	if d := p.Evaluate(authorSigned(A)); !d.Allowed {
		t.Errorf("merged entry, author signature: %+v", d)
	}
	if d := p.Evaluate(repoSigned(A, "bob")); !d.Allowed {
		t.Errorf("merged entry, repository signature with a listed owner: %+v", d)
	}
	if d := p.Evaluate(repoSigned(A, "carol")); d.Allowed {
		t.Errorf("merged entry, repository signature with another owner: %+v", d)
	}
}

func TestUntrustedRootAllowed(t *testing.T) {
	ca := newCA(t, cn("Root CA"))
	A := ca.leaf(t, cn("A"))
	B := ca.leaf(t, cn("B"))
	s := Signer{Name: "a", Kind: KindRepository, ServiceIndex: "https://x/i.json", Certificates: []CertEntry{
		{Fingerprint: fingerprintOf(A, "SHA384"), HashAlgorithm: "SHA384", AllowUntrustedRoot: true},
		{Fingerprint: fingerprintOf(B, "SHA256"), HashAlgorithm: "SHA256"},
	}}
	p := NewPolicy([]Signer{s})
	if !p.UntrustedRootAllowed(A) || p.UntrustedRootAllowed(B) {
		t.Errorf("UntrustedRootAllowed: A %v, B %v", p.UntrustedRootAllowed(A), p.UntrustedRootAllowed(B))
	}
	if len(p.AllowUntrustedRootFingerprints()) != 0 {
		t.Errorf("a SHA384 entry leaked into the SHA-256 list: %q", p.AllowUntrustedRootFingerprints())
	}
}

func TestIdentityEntries(t *testing.T) {
	ca := newCA(t, pkix.Name{CommonName: "Contoso CA", Organization: []string{"Contoso"}})
	other := newCA(t, pkix.Name{CommonName: "Contoso CA", Organization: []string{"Contoso"}, OrganizationalUnit: []string{"Evil"}})
	eku := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 97, 990309390, 766961637}
	subject := pkix.Name{CommonName: "Contoso, Ltd.", Organization: []string{"Contoso"}, Country: []string{"US"}}
	good := ca.leaf(t, subject, eku)
	renewed := ca.leaf(t, subject, eku)
	otherIssuer := other.leaf(t, subject, eku)
	extraAttr := ca.leaf(t, pkix.Name{CommonName: "Contoso, Ltd.", Organization: []string{"Contoso"}, Country: []string{"US"}, Locality: []string{"Redmond"}})
	noEKU := ca.leaf(t, subject)
	tests := []struct {
		name      string
		id        Identity
		cert      *x509.Certificate
		untrusted bool
		want      bool
	}{
		{"windows order and spacing", Identity{Subject: `CN="Contoso, Ltd.", O=Contoso, C=US`, Issuer: "CN=Contoso CA, O=Contoso"}, good, false, true},
		{"openssl order, case folded", Identity{Subject: `c=us,o=CONTOSO,cn=Contoso\, Ltd.`, Issuer: "O=Contoso,CN=Contoso  CA"}, renewed, false, true},
		{"OID types and hex value", Identity{Subject: `OID.2.5.4.3=Contoso\2C Ltd.;2.5.4.10=#0c07436f6e746f736f;C=US`, Issuer: "CN=Contoso CA+O=Contoso"}, good, false, true},
		{"another issuer", Identity{Subject: `CN="Contoso, Ltd.", O=Contoso, C=US`, Issuer: "CN=Contoso CA, O=Contoso"}, otherIssuer, false, false},
		{"subject has an extra attribute", Identity{Subject: `CN="Contoso, Ltd.", O=Contoso, C=US`, Issuer: "CN=Contoso CA, O=Contoso"}, extraAttr, false, false},
		{"subject lacks an attribute", Identity{Subject: `CN="Contoso, Ltd.", O=Contoso`, Issuer: "CN=Contoso CA, O=Contoso"}, good, false, false},
		{"EKU", Identity{EKU: eku.String()}, renewed, false, true},
		{"EKU missing", Identity{EKU: eku.String()}, noEKU, false, false},
		{"all three", Identity{Subject: `CN="Contoso, Ltd.", O=Contoso, C=US`, Issuer: "CN=Contoso CA, O=Contoso", EKU: eku.String()}, good, false, true},
		{"all three, EKU missing", Identity{Subject: `CN="Contoso, Ltd.", O=Contoso, C=US`, Issuer: "CN=Contoso CA, O=Contoso", EKU: eku.String()}, noEKU, false, false},
		{"untrusted chain never matches", Identity{EKU: eku.String()}, good, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPolicy([]Signer{{Name: "contoso", Kind: KindAuthor, Identities: []Identity{tt.id}}})
			if len(p.Identities) != 1 {
				t.Fatalf("identity not compiled: %+v", p)
			}
			r := authorSigned(tt.cert)
			r.Primary.ChainTrusted = !tt.untrusted
			d := p.Evaluate(r)
			if d.Allowed != tt.want {
				t.Errorf("allowed = %v, want %v (%s)", d.Allowed, tt.want, d.Reason)
			}
			if tt.untrusted && !strings.Contains(d.Reason, "only count for chains that end at a trusted root") {
				t.Errorf("untrusted chain: reason %q", d.Reason)
			}
		})
	}
	// A repository identity applies the repository's owners.
	p := NewPolicy([]Signer{{Name: "feed", Kind: KindRepository, ServiceIndex: "https://f/i.json", Owners: []string{"alice"}, Identities: []Identity{{EKU: eku.String()}}}})
	if d := p.Evaluate(countersigned(noEKU, good, "alice")); !d.Allowed || d.Signer != "feed" {
		t.Errorf("repository identity with owner: %+v", d)
	}
	if d := p.Evaluate(countersigned(noEKU, good, "bob")); d.Allowed {
		t.Errorf("repository identity, other owner: %+v", d)
	}
}
