package trust

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/nupkg"
	"github.com/signet-nuget/signet/nusig"
)

// realSigners returns the primary and repository countersignature
// certificates of a fixture, read with the CMS layer alone so that the test
// does not take them from the code under test.
func realSigners(t *testing.T, p *nupkg.Package) (primary, counter *x509.Certificate) {
	t.Helper()
	raw, err := p.Signature()
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	si := sd.SignerInfos[0]
	if primary, err = sd.SignerCertificate(si); err != nil {
		t.Fatal(err)
	}
	cs, err := si.Countersignatures()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) > 0 {
		if counter, err = sd.SignerCertificate(cs[0]); err != nil {
			t.Fatal(err)
		}
	}
	return primary, counter
}

func openFixture(t *testing.T, name string) *nupkg.Package {
	t.Helper()
	b := fixtures.Read(t, "real/"+name)
	p, err := nupkg.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fixtureRoots(t *testing.T) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	rest := fixtures.Read(t, filepath.Join("roots", "roots_used_by_fixtures.pem"))
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

// TestRealPackagesNuGetHome13336 replays NuGet/Home#13336 on packages from
// nuget.org: a pinned author that does not match is not overridden by the
// trusted nuget.org countersignature.
func TestRealPackagesNuGetHome13336(t *testing.T) {
	newtonsoft := openFixture(t, "Newtonsoft.Json.13.0.1.nupkg")
	ilmerge := openFixture(t, "ILMerge.3.0.41.nupkg")
	friendly := openFixture(t, "Microsoft.AspNet.FriendlyUrls.1.0.2.nupkg")
	jsonNetAuthor, nugetOrg2021 := realSigners(t, newtonsoft)
	ilmergeAuthor, _ := realSigners(t, ilmerge)
	nugetOrg2018, _ := realSigners(t, friendly)
	if nugetOrg2021 == nil {
		t.Fatal("Newtonsoft.Json 13.0.1 has no countersignature")
	}

	o := nusig.VerifyCommandOptions()
	o.Roots = fixtureRoots(t)
	o.TimestampRoots = o.Roots
	o.Now = func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }
	verify := func(p *nupkg.Package) *nusig.Result {
		r := nusig.Verify(context.Background(), p, o)
		if r.Primary == nil {
			t.Fatalf("no primary signature: %v", r.AllIssues())
		}
		return r
	}
	rNewtonsoft := verify(newtonsoft)
	if rNewtonsoft.Countersignature == nil || rNewtonsoft.Countersignature.Repository == nil || len(rNewtonsoft.Countersignature.Repository.Owners) == 0 {
		t.Fatalf("countersignature of Newtonsoft.Json not reported with owners: %+v", rNewtonsoft.Countersignature)
	}
	owners := rNewtonsoft.Countersignature.Repository.Owners

	nugetOrg := Signer{Name: "nuget.org", Kind: KindRepository, ServiceIndex: "https://api.nuget.org/v3/index.json", Certificates: []CertEntry{
		{Fingerprint: nusig.Fingerprint(nugetOrg2021), HashAlgorithm: "SHA256"},
		{Fingerprint: nusig.Fingerprint(nugetOrg2018), HashAlgorithm: "SHA256"},
	}}
	pinnedElsewhere := authorEntry("humanizer", ilmergeAuthor)
	tests := []struct {
		name    string
		signers []Signer
		pkg     *nupkg.Package
		allowed bool
		reason  string
	}{
		{"repository trust admits the countersigned package", []Signer{nugetOrg}, newtonsoft, true, ""},
		{"a pinned author is not bypassed by the countersignature", []Signer{pinnedElsewhere, nugetOrg}, newtonsoft, false, "NuGet/Home#13336"},
		{"the right author passes", []Signer{authorEntry("json.net", jsonNetAuthor), nugetOrg}, newtonsoft, true, ""},
		{"repository-only package still admitted with authors pinned", []Signer{pinnedElsewhere, nugetOrg}, friendly, true, ""},
		{"owners that sign nothing here", []Signer{withOwners(nugetOrg, "nobody-owns-this")}, newtonsoft, false, "nobody-owns-this"},
		{"an owner of the package", []Signer{withOwners(nugetOrg, "nobody", owners[0])}, newtonsoft, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := verify(tt.pkg)
			status := r.Status
			p := NewPolicy(tt.signers)
			p.RequireMode = true
			d := p.Apply(r, o)
			if d.Allowed != tt.allowed || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("decision %+v, want allowed=%v with %q", d, tt.allowed, tt.reason)
			}
			if tt.allowed && (r.Status != status || r.HasCode(nusig.NU3034)) {
				t.Errorf("an allowed package was changed: %v", r.AllIssues())
			}
			if !tt.allowed && (r.Status != nusig.StatusDisallowed || !r.HasCode(nusig.NU3034)) {
				t.Errorf("a refused package: status %v, issues %v", r.Status, r.AllIssues())
			}
		})
	}
}

func withOwners(s Signer, owners ...string) Signer {
	s.Owners = owners
	return s
}
