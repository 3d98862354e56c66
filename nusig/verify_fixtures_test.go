package nusig

import (
	"context"
	"crypto/x509"
	"encoding/csv"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/internal/pki"
	"github.com/signet-nuget/signet/nupkg"
)

// fixtureRoots reads the six roots the real fixtures chain to.
func fixtureRoots(t *testing.T) []*x509.Certificate {
	t.Helper()
	data := fixtures.Read(t, "roots/roots_used_by_fixtures.pem")
	var roots []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, c)
	}
	if len(roots) != 6 {
		t.Fatalf("want 6 fixture roots, have %d", len(roots))
	}
	return roots
}

func manifest(t *testing.T) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures.Dir(t), "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.LazyQuotes = true
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			if i < len(row) {
				m[h] = row[i]
			}
		}
		out[row[0]] = m
	}
	return out
}

func openPackage(t *testing.T, path string) *nupkg.Package {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	p, err := nupkg.Open(f, fi.Size())
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return p
}

func cn(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	return c.Subject.CommonName
}

// TestVerifyRealFixtures: every genuine package verifies with the verify
// command's settings, with at most the warning the real client gives
// offline (revocation unknown), and the report names the right signature
// types, signers, timestamp authorities and times.
func TestVerifyRealFixtures(t *testing.T) {
	roots := fixtureRoots(t)
	man := manifest(t)
	for _, path := range fixtures.Glob(t, "real/*.nupkg") {
		rel := "real/" + filepath.Base(path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			row := man[rel]
			if row == nil {
				t.Fatalf("%s is not in MANIFEST.tsv", rel)
			}
			o := VerifyCommandOptions()
			o.Roots, o.TimestampRoots = roots, roots
			r := Verify(context.Background(), openPackage(t, path), o)
			for _, is := range r.AllIssues() {
				if is.Severity == SeverityError || (is.Severity == SeverityWarning && is.Reason != ReasonRevocationUnknown) {
					t.Errorf("unexpected %s %s", is.Severity, is)
				}
			}
			if !r.Valid() {
				t.Fatalf("status %v, want valid", r.Status)
			}
			wantType := map[string]Type{"proofOfOrigin": TypeAuthor, "proofOfReceipt": TypeRepository}[row["commitment"]]
			if r.Primary.Type != wantType {
				t.Errorf("primary type %v, want %v", r.Primary.Type, wantType)
			}
			if got := cn(r.Primary.Certificate); !strings.HasPrefix(got, row["primary_signer_CN"]) {
				t.Errorf("primary signer %q, manifest says %q", got, row["primary_signer_CN"])
			}
			ts := r.Primary.Timestamp()
			if ts == nil {
				t.Fatal("no timestamp")
			}
			if got := cn(ts.Certificate); !strings.HasPrefix(got, row["tsa_CN"]) {
				t.Errorf("TSA %q, manifest says %q", got, row["tsa_CN"])
			}
			wantGen := strings.TrimSuffix(row["primary_ts_genTime"], "Z")
			if got := ts.GenTime.UTC().Format("20060102150405.999999999"); got != wantGen {
				t.Errorf("genTime %s, manifest says %s", got, wantGen)
			}
			if c := row["countersigner_CN"]; c != "" {
				if r.Countersignature == nil {
					t.Fatalf("no countersignature, manifest names %q", c)
				}
				if got := cn(r.Countersignature.Certificate); !strings.HasPrefix(got, c) {
					t.Errorf("countersigner %q, manifest says %q", got, c)
				}
				if r.Countersignature.Repository == nil || r.Countersignature.Repository.ServiceIndexURL == "" {
					t.Error("countersignature without a service index URL")
				}
			}
			if r.Primary.Type == TypeRepository && (r.Primary.Repository == nil || r.Primary.Repository.ServiceIndexURL != row["v3_service_index"]) {
				t.Errorf("service index %+v, manifest says %q", r.Primary.Repository, row["v3_service_index"])
			}
			if !r.Primary.ChainTrusted {
				t.Error("primary chain not trusted")
			}
		})
	}
}

// TestVerifyRealFixturesWithoutRoots: without the roots, every real package
// fails with an untrusted-root error naming the missing root (NU3018 with
// NU3042), never with an integrity or format error.
func TestVerifyRealFixturesWithoutRoots(t *testing.T) {
	for _, path := range fixtures.Glob(t, "real/*.nupkg") {
		r := Verify(context.Background(), openPackage(t, path), VerifyCommandOptions())
		if r.Valid() || !r.HasCode(NU3018) || !r.HasCode(NU3042) {
			t.Errorf("%s: valid=%v issues=%v; want NU3018 and NU3042", filepath.Base(path), r.Valid(), r.AllIssues())
		}
		if r.HasCode(NU3008) || r.HasCode(NU3005) || r.HasCode(NU3003) {
			t.Errorf("%s: unexpected format or integrity issue: %v", filepath.Base(path), r.AllIssues())
		}
	}
}

// TestVerifyInvalidFixtures: packages broken in the wild and signed by test
// CAs fail, with the code NuGet gives.
func TestVerifyInvalidFixtures(t *testing.T) {
	roots := fixtureRoots(t)
	want := map[string]Code{
		// Rezipped after signing: the rezip also deflated the signature entry,
		// which NuGet's reader refuses (NU3005) before it hashes anything.
		"Microsoft.NETCore.Platforms.1.1.0.nupkg":                                 NU3005,
		"Newtonsoft.Json.13.0.3.nupkg":                                            NU3008, // a zeroed block
		"TestSigned.leaf-1.1.0.0.nupkg":                                           NU3018, // test CA
		"TestSigned.leaf-2.2.0.0.nupkg":                                           NU3018,
		"TestRepoSigned.leaf-1.1.0.0.nupkg":                                       NU3018,
		"TestAuthorAndRepoSigned.leaf-1.1.0.0.nupkg":                              NU3018,
		"UntrustedTimestampPackage.nupkg":                                         NU3028,
		"SignedPackage.1.0.0.nupkg":                                               NU3018,
		"Test.Reposigned.1.0.0.nupkg":                                             NU3018,
		"SignatureFileWithFakeContent.zip":                                        NU3003,
		"SignatureFileWithUppercaseFileName.zip":                                  NU3004,
		"SignatureFileWithDeflateCompressionMethodAndDefaultCompressionLevel.zip": NU3005,
	}
	for _, path := range append(fixtures.Glob(t, "invalid/*.nupkg"), fixtures.Glob(t, "invalid/*.zip")...) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			p, err := nupkg.Open(f, fi.Size())
			if err != nil {
				if _, ok := want[name]; ok {
					t.Fatalf("cannot open: %v", err)
				}
				return // not a package at all: verify reports it as such
			}
			o := VerifyCommandOptions()
			o.Roots, o.TimestampRoots = roots, roots
			o.Now = func() time.Time { return time.Now() }
			r := Verify(context.Background(), p, o)
			if r.Valid() {
				t.Fatalf("verified; issues %v", r.AllIssues())
			}
			if c, ok := want[name]; ok && !r.HasCode(c) {
				t.Errorf("issues %v, want %s", r.AllIssues(), c)
			}
		})
	}
}

// TestVerifyRealFixturesWithClientBundles: with the NuGet client's own
// code-signing and timestamping bundles as the only roots (loaded
// certificate by certificate, as on Linux), every real package verifies.
func TestVerifyRealFixturesWithClientBundles(t *testing.T) {
	var cs, ts pki.Bundle
	if err := cs.AddFile(filepath.Join(fixtures.Dir(t), "roots", "codesignctl.pem")); err != nil {
		t.Fatal(err)
	}
	if err := ts.AddFile(filepath.Join(fixtures.Dir(t), "roots", "timestampctl.pem")); err != nil {
		t.Fatal(err)
	}
	for _, path := range fixtures.Glob(t, "real/*.nupkg") {
		o := VerifyCommandOptions()
		o.Roots, o.TimestampRoots = cs.Certificates, ts.Certificates
		r := Verify(context.Background(), openPackage(t, path), o)
		for _, is := range r.AllIssues() {
			if is.Severity == SeverityError || (is.Severity == SeverityWarning && is.Reason != ReasonRevocationUnknown) {
				t.Errorf("%s: unexpected %s %s", filepath.Base(path), is.Severity, is)
			}
		}
		if !r.Valid() {
			t.Errorf("%s: status %v", filepath.Base(path), r.Status)
		}
	}
}
