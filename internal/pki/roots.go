package pki

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// maxBundleSize bounds a trust bundle file: the .NET SDK's bundles are about
// 500 KiB (some 300 certificates); 16 MiB is far beyond any real one.
const maxBundleSize = 16 << 20

// Bundle is a set of trust anchors read from PEM files.
type Bundle struct {
	Certificates []*x509.Certificate
	// Skipped counts certificates that crypto/x509 refused (such as the
	// negative or zero serial numbers of some old roots); they are left out
	// rather than failing the whole bundle.
	Skipped int
	// Sources are the files read.
	Sources []string
}

// AddFile reads every certificate of a PEM file into b, certificate by
// certificate. A file that cannot be read, or that holds no PEM certificate
// at all, is an error.
func (b *Bundle) AddFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("pki: trust bundle: %w", err)
	}
	if fi.Size() > maxBundleSize {
		return fmt.Errorf("pki: trust bundle %q is larger than %d bytes", path, maxBundleSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("pki: trust bundle: %w", err)
	}
	n := 0
	seen := map[string]bool{}
	for _, c := range b.Certificates {
		seen[string(c.Raw)] = true
	}
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		n++
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			b.Skipped++
			continue
		}
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			b.Certificates = append(b.Certificates, c)
		}
	}
	if n == 0 {
		return fmt.Errorf("pki: trust bundle %q holds no PEM certificate", path)
	}
	b.Sources = append(b.Sources, path)
	return nil
}

// Default trust anchor locations on Linux, as the .NET SDK uses them (spec
// 5.5): the OS code-signing bundle first, then the SDK's own bundles.
var (
	systemCodeSigningBundle = "/etc/pki/ca-trust/extracted/pem/objsign-ca-bundle.pem"
	dotnetRoots             = []string{"/usr/share/dotnet", "/usr/lib/dotnet", "/usr/local/share/dotnet", "/opt/dotnet"}
	systemTLSBundles        = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"}
)

// sdkBundle finds name (codesignctl.pem or timestampctl.pem) in an installed
// .NET SDK's trustedroots directory, newest SDK last in glob order.
func sdkBundle(name string) string {
	homes := dotnetRoots
	if h := os.Getenv("DOTNET_ROOT"); h != "" {
		homes = append([]string{h}, homes...)
	}
	for _, h := range homes {
		m, _ := filepath.Glob(filepath.Join(h, "sdk", "*", "trustedroots", name))
		if len(m) > 0 {
			return m[len(m)-1]
		}
	}
	return ""
}

// DefaultRoots returns the default code-signing and timestamping trust
// anchors and a warning when it had to fall back to the system TLS bundle
// because neither the OS code-signing bundle nor a .NET SDK was found.
func DefaultRoots() (codeSigning, timestamping *Bundle, warning string) {
	codeSigning, timestamping = &Bundle{}, &Bundle{}
	if fileExists(systemCodeSigningBundle) {
		codeSigning.AddFile(systemCodeSigningBundle)
	} else if p := sdkBundle("codesignctl.pem"); p != "" {
		codeSigning.AddFile(p)
	}
	if p := sdkBundle("timestampctl.pem"); p != "" {
		timestamping.AddFile(p)
	}
	if len(codeSigning.Sources) > 0 && len(timestamping.Sources) > 0 {
		return codeSigning, timestamping, ""
	}
	for _, p := range systemTLSBundles {
		if !fileExists(p) {
			continue
		}
		if len(codeSigning.Sources) == 0 {
			codeSigning.AddFile(p)
		}
		if len(timestamping.Sources) == 0 {
			timestamping.AddFile(p)
		}
		warning = fmt.Sprintf("no code-signing or timestamping root bundle was found (neither %s nor a .NET SDK's trustedroots); using the TLS bundle %s, which may lack code-signing roots: add roots with --trust-bundle <pem>", systemCodeSigningBundle, p)
		break
	}
	return codeSigning, timestamping, warning
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// AddDir reads every *.pem, *.crt and *.cer (PEM) file of dir into b. A
// missing directory adds nothing and is not an error: it is where a user
// may put extra roots.
func (b *Bundle) AddDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pki: trust directory: %w", err)
	}
	for _, e := range ents {
		switch filepath.Ext(e.Name()) {
		case ".pem", ".crt", ".cer":
		default:
			continue
		}
		if e.IsDir() {
			continue
		}
		if err := b.AddFile(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// UserRootsDir is where Signet looks for extra trusted roots of the user:
// $SIGNET_TRUST_DIR, else <user config dir>/signet/roots.
func UserRootsDir() string {
	if d := os.Getenv("SIGNET_TRUST_DIR"); d != "" {
		return d
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "signet", "roots")
	}
	return ""
}
