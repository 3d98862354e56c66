package devpki_test

import (
	"crypto/rsa"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/pki"
	"github.com/signet-nuget/signet/internal/signer"
)

func runOpenSSL(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("/usr/bin/openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestWriteDevCerts checks what `signet dev-certs` writes with openssl and
// with our own loaders and rules.
func TestWriteDevCerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	d, err := devpki.WriteDevCerts(dir)
	if err != nil {
		t.Fatal(err)
	}

	// openssl accepts every leaf under the root; the TSA certificate also
	// for openssl's timestampsign purpose, which demands a critical
	// timeStamping-only EKU.
	for _, leaf := range []string{d.CodeSigningPEM, d.RepositoryPEM, d.TimestampingPEM} {
		if out := runOpenSSL(t, "verify", "-CAfile", d.RootPEM, "-purpose", "any", leaf); !strings.Contains(out, ": OK") {
			t.Errorf("openssl verify %s: %s", leaf, out)
		}
	}
	runOpenSSL(t, "verify", "-CAfile", d.RootPEM, "-purpose", "timestampsign", d.TimestampingPEM)
	runOpenSSL(t, "pkcs12", "-in", d.CodeSigningPFX, "-passin", "pass:", "-noout")
	runOpenSSL(t, "pkcs12", "-in", d.RepositoryPFX, "-passin", "pass:", "-noout")
	if out := runOpenSSL(t, "x509", "-in", d.CodeSigningPEM, "-noout", "-ext", "extendedKeyUsage"); !strings.Contains(out, "Code Signing") {
		t.Errorf("code-signing EKU: %s", out)
	}
	out := runOpenSSL(t, "x509", "-in", d.TimestampingPEM, "-noout", "-ext", "extendedKeyUsage")
	if !strings.Contains(out, "critical") || !strings.Contains(out, "Time Stamping") || strings.Contains(out, ",") {
		t.Errorf("timestamping EKU: %s", out)
	}
	der, err := os.ReadFile(d.RootDER)
	if err != nil {
		t.Fatal(err)
	}
	if root, err := x509.ParseCertificate(der); err != nil || !root.Equal(d.Root) || !root.IsCA {
		t.Errorf("root.cer: %v", err)
	}

	// Our loaders read the files back; our rules pass them.
	now := time.Now()
	for _, c := range []struct {
		name      string
		cert, key string
		want      *signer.Identity
	}{
		{"code-signing.pfx", d.CodeSigningPFX, "", d.CodeSigning},
		{"code-signing.pem", d.CodeSigningPEM, d.CodeSigningKey, d.CodeSigning},
		{"code-signing.cer", d.CodeSigningDER, d.CodeSigningKey, d.CodeSigning},
		{"repository.pfx", d.RepositoryPFX, "", d.Repository},
		{"repository.pem", d.RepositoryPEM, d.RepositoryKey, d.Repository},
		{"timestamping.pem", d.TimestampingPEM, d.TimestampingKey, d.Timestamping},
	} {
		id, err := signer.Load(c.cert, c.key, "")
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !id.Certificate.Equal(c.want.Certificate) {
			t.Errorf("%s: wrong leaf %q", c.name, id.Certificate.Subject)
		}
		if k, ok := id.Signer.(*rsa.PrivateKey); !ok || k.N.BitLen() != 3072 {
			t.Errorf("%s: key is %T, want RSA 3072", c.name, id.Signer)
		}
		if id.Certificate.SignatureAlgorithm != x509.SHA256WithRSA {
			t.Errorf("%s: signature algorithm %v", c.name, id.Certificate.SignatureAlgorithm)
		}
		if c.cert != d.CodeSigningDER && !id.Chain[len(id.Chain)-1].Equal(d.Root) {
			t.Errorf("%s: chain does not end at the root", c.name)
		}
	}
	if is := pki.CheckSigningCertificate(d.CodeSigning.Certificate, now); len(is) != 0 {
		t.Errorf("code-signing certificate fails NuGet's rules: %v", is)
	}
	if is := pki.CheckSigningCertificate(d.Repository.Certificate, now); len(is) != 0 {
		t.Errorf("repository certificate fails NuGet's rules: %v", is)
	}
	if is := pki.CheckTimestampCertificate(d.Timestamping.Certificate, now); len(is) != 0 {
		t.Errorf("timestamping certificate fails the TSA rules: %v", is)
	}
	if got := d.Root.NotAfter.Sub(d.Root.NotBefore); got != devpki.DefaultRootValidity {
		t.Errorf("root validity %v", got)
	}
	if got := d.CodeSigning.Certificate.NotAfter.Sub(d.CodeSigning.Certificate.NotBefore); got != devpki.DefaultLeafValidity {
		t.Errorf("leaf validity %v", got)
	}

	// Keys and PFX files are private; certificates are not.
	for _, p := range []string{d.CodeSigningKey, d.RepositoryKey, d.TimestampingKey, d.CodeSigningPFX, d.RepositoryPFX} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", p, fi.Mode().Perm(), err)
		}
	}
	if fi, err := os.Stat(d.RootPEM); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("root.pem: mode %v, %v", fi.Mode().Perm(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 11 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("wrote %d files, want 11 (no temporary files left): %v", len(entries), names)
	}

	usage := d.Usage()
	for _, want := range []string{d.CodeSigningPFX, d.RepositoryPFX, d.TimestampingPEM, d.TimestampingKey, d.RootPEM,
		"signet sign", "signet repository-sign", "signet tsa", "signet verify"} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage text lacks %q:\n%s", want, usage)
		}
	}

	// A second run must not replace the PKI.
	before, _ := os.ReadFile(d.RootPEM)
	if _, err := devpki.WriteDevCerts(dir); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second WriteDevCerts: err = %v, want already exists", err)
	}
	if after, _ := os.ReadFile(d.RootPEM); string(after) != string(before) {
		t.Error("second WriteDevCerts changed root.pem")
	}
}
