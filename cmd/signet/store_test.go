package main

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/signer"
)

// TestSignFromCertificateStore: --certificate-fingerprint and
// --certificate-subject-name find the certificate in .NET's X509Store
// directory on Linux, as dotnet nuget sign does; several matches are NU3001
// with the candidates listed; a SHA-1 fingerprint warns NU3043.
func TestSignFromCertificateStore(t *testing.T) {
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	store := filepath.Join(home, ".dotnet", "corefx", "cryptography", "x509stores", "my")
	os.MkdirAll(store, 0o700)
	repo, err := signer.Load(p.repoPFX, "", "")
	if err != nil {
		t.Fatal(err)
	}
	server, err := signer.Load(p.serverAuthPFX, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		src string
		id  *signer.Identity
	}{{p.repoPFX, repo}, {p.serverAuthPFX, server}} {
		b, _ := os.ReadFile(f.src)
		os.WriteFile(filepath.Join(store, fmt.Sprintf("%X.pfx", sha1.Sum(f.id.Certificate.Raw))), b, 0o600)
	}
	sha256fp := fmt.Sprintf("%X", sha256.Sum256(repo.Certificate.Raw))
	sha1fp := fmt.Sprintf("%X", sha1.Sum(repo.Certificate.Raw))

	pkg := filepath.Join(t.TempDir(), "Store.1.0.0.nupkg")
	writeTestPackage(t, pkg, "Store", "1.0.0")
	base := []string{"sign", pkg, "--trust-bundle", p.rootPEM, "--timestamper", tsaURL, "--overwrite"}
	code, out, errOut := runCLI(t, append(base, "--certificate-fingerprint", sha256fp)...)
	if code != 0 || !strings.Contains(out, "Signet Test Repository") {
		t.Fatalf("by SHA-256 fingerprint: %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, append(base, "--certificate-fingerprint", sha1fp)...)
	if code != 0 || !strings.Contains(errOut, "NU3043") {
		t.Fatalf("by SHA-1 fingerprint: %d, stderr %q; want success with NU3043", code, errOut)
	}
	code, _, errOut = runCLI(t, append(base, "--certificate-subject-name", "Signet Test Repository")...)
	if code != 0 {
		t.Fatalf("by subject: %d\n%s", code, errOut)
	}
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"ambiguous subject", []string{"--certificate-subject-name", "signet test"}, []string{"NU3001", "2 certificates match", "Signet Test Server", "Signet Test Repository"}},
		{"no match", []string{"--certificate-fingerprint", strings.Repeat("AB", 32)}, []string{"NU3001", "no certificate"}},
		{"bad fingerprint", []string{"--certificate-fingerprint", "ABCD"}, []string{"NU3043"}},
		{"path and fingerprint", []string{"--certificate-path", p.repoPFX, "--certificate-fingerprint", sha256fp}, []string{"NU3001", "cannot be combined"}},
		{"fingerprint and subject", []string{"--certificate-fingerprint", sha256fp, "--certificate-subject-name", "x"}, []string{"NU3001", "cannot be combined"}},
		{"bad location", []string{"--certificate-fingerprint", sha256fp, "--certificate-store-location", "Moon"}, []string{"Moon"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, append(base, tt.args...)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}
