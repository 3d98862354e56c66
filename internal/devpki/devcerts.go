package devpki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/signet-nuget/signet/internal/atomicfile"
	"github.com/signet-nuget/signet/internal/signer"
)

// File modes of what WriteDevCerts writes: keys (and the PFX files, which
// hold keys under an empty password) are readable by the owner only.
const (
	certMode = 0o644
	keyMode  = 0o600
	dirMode  = 0o755
)

// File names WriteDevCerts writes in its directory.
const (
	FileRootPEM         = "root.pem"
	FileRootDER         = "root.cer"
	FileCodeSigningPFX  = "code-signing.pfx"
	FileCodeSigningPEM  = "code-signing.pem"
	FileCodeSigningKey  = "code-signing.key"
	FileCodeSigningDER  = "code-signing.cer"
	FileRepositoryPFX   = "repository.pfx"
	FileRepositoryPEM   = "repository.pem"
	FileRepositoryKey   = "repository.key"
	FileTimestampingPEM = "timestamping.pem"
	FileTimestampingKey = "timestamping.key"
)

// DevCerts describes what WriteDevCerts wrote. Paths are as given by the dir
// argument joined with the file names above.
type DevCerts struct {
	Dir string
	// Root is the self-signed root CA; RootPEM and RootDER hold it.
	Root             *x509.Certificate
	RootPEM, RootDER string
	// CodeSigning is the author signing identity (EKU codeSigning): a PFX
	// with an empty password, a PEM chain (leaf, root), a PKCS#8 key, and
	// the leaf in DER (.cer, as nuget.org takes it for registration).
	CodeSigning                                                    *signer.Identity
	CodeSigningPFX, CodeSigningPEM, CodeSigningKey, CodeSigningDER string
	// Repository is the repository signing identity (EKU codeSigning, as
	// nuget.org's repository certificates have).
	Repository                                  *signer.Identity
	RepositoryPFX, RepositoryPEM, RepositoryKey string
	// Timestamping is the TSA identity: its EKU is critical and holds
	// timeStamping only (RFC 3161 2.3).
	Timestamping                     *signer.Identity
	TimestampingPEM, TimestampingKey string
}

// WriteDevCerts makes a development PKI and writes it into dir (created if
// missing): a root CA and, issued by it, a code-signing, a repository-signing
// and a timestamping certificate, all RSA 3072 with sha256WithRSA; the root
// is valid for DefaultRootValidity and the leaves for DefaultLeafValidity.
// The root's key is not kept, so no more certificates can be made under it.
//
// Each file is written atomically (temporary file, then rename); keys and PFX
// files get mode 0600. WriteDevCerts refuses to overwrite any existing file,
// so that a PKI in use is never replaced by accident.
func WriteDevCerts(dir string) (*DevCerts, error) {
	d := &DevCerts{
		Dir:             dir,
		RootPEM:         filepath.Join(dir, FileRootPEM),
		RootDER:         filepath.Join(dir, FileRootDER),
		CodeSigningPFX:  filepath.Join(dir, FileCodeSigningPFX),
		CodeSigningPEM:  filepath.Join(dir, FileCodeSigningPEM),
		CodeSigningKey:  filepath.Join(dir, FileCodeSigningKey),
		CodeSigningDER:  filepath.Join(dir, FileCodeSigningDER),
		RepositoryPFX:   filepath.Join(dir, FileRepositoryPFX),
		RepositoryPEM:   filepath.Join(dir, FileRepositoryPEM),
		RepositoryKey:   filepath.Join(dir, FileRepositoryKey),
		TimestampingPEM: filepath.Join(dir, FileTimestampingPEM),
		TimestampingKey: filepath.Join(dir, FileTimestampingKey),
	}
	for _, p := range d.paths() {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("devpki: %q already exists; remove it or choose another directory", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("devpki: %w", err)
		}
	}
	if err := d.mint(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	files, err := d.files()
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		if err := atomicfile.WriteFile(f.path, f.data, f.mode); err != nil {
			// Leave no half PKI behind: remove what this call wrote.
			for _, w := range files[:i] {
				os.Remove(w.path)
			}
			return nil, fmt.Errorf("devpki: writing %q: %w", f.path, err)
		}
	}
	return d, nil
}

func (d *DevCerts) paths() []string {
	return []string{d.RootPEM, d.RootDER, d.CodeSigningPFX, d.CodeSigningPEM, d.CodeSigningKey, d.CodeSigningDER,
		d.RepositoryPFX, d.RepositoryPEM, d.RepositoryKey, d.TimestampingPEM, d.TimestampingKey}
}

// mint creates the root and the three leaves.
func (d *DevCerts) mint() error {
	root, err := NewRoot("Signet Development Root CA", CAOptions{})
	if err != nil {
		return err
	}
	d.Root = root.Cert
	if d.CodeSigning, err = root.Issue(LeafOptions{CommonName: "Signet Development Code Signing"}); err != nil {
		return err
	}
	if d.Repository, err = root.Issue(LeafOptions{CommonName: "Signet Development Repository Signing"}); err != nil {
		return err
	}
	d.Timestamping, err = root.Issue(LeafOptions{
		CommonName:  "Signet Development Timestamping",
		EKUs:        []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		CriticalEKU: true,
	})
	return err
}

type file struct {
	path string
	data []byte
	mode os.FileMode
}

// files encodes everything to write, before anything is written.
func (d *DevCerts) files() ([]file, error) {
	out := []file{
		{d.RootPEM, pemCerts(d.Root), certMode},
		{d.RootDER, d.Root.Raw, certMode},
		{d.CodeSigningDER, d.CodeSigning.Certificate.Raw, certMode},
	}
	for _, s := range []struct {
		id            *signer.Identity
		pfx, pem, key string
	}{
		{d.CodeSigning, d.CodeSigningPFX, d.CodeSigningPEM, d.CodeSigningKey},
		{d.Repository, d.RepositoryPFX, d.RepositoryPEM, d.RepositoryKey},
		{d.Timestamping, "", d.TimestampingPEM, d.TimestampingKey},
	} {
		key, err := pemKey(s.id.Signer)
		if err != nil {
			return nil, err
		}
		out = append(out, file{s.pem, pemCerts(s.id.Chain...), certMode}, file{s.key, key, keyMode})
		if s.pfx != "" {
			pfx, err := EncodePFX(s.id, "")
			if err != nil {
				return nil, err
			}
			out = append(out, file{s.pfx, pfx, keyMode})
		}
	}
	return out, nil
}

// EncodePFX encodes id as a PKCS#12 file with password (may be empty), with
// AES-256-CBC and PBKDF2-HMAC-SHA-256 (go-pkcs12's Modern2023), which
// openssl 3, .NET and Windows 10 and later read.
func EncodePFX(id *signer.Identity, password string) ([]byte, error) {
	var cas []*x509.Certificate
	for _, c := range id.Chain {
		if !c.Equal(id.Certificate) {
			cas = append(cas, c)
		}
	}
	pfx, err := pkcs12.Modern2023.Encode(id.Signer, id.Certificate, cas, password)
	if err != nil {
		return nil, fmt.Errorf("devpki: encoding PKCS#12: %w", err)
	}
	return pfx, nil
}

// pemCerts encodes certificates as PEM.
func pemCerts(certs ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

// pemKey encodes a private key as PKCS#8 PEM.
func pemKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("devpki: encoding the key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Usage returns a few lines telling how to use the files with signet.
func (d *DevCerts) Usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Development PKI written to %s (for testing only; do not trust its root outside development).\n", d.Dir)
	fmt.Fprintf(&b, "  root CA:          %s (DER: %s)\n", d.RootPEM, d.RootDER)
	fmt.Fprintf(&b, "  code signing:     %s (empty password), or %s with %s\n", d.CodeSigningPFX, d.CodeSigningPEM, d.CodeSigningKey)
	fmt.Fprintf(&b, "  repository:       %s (empty password), or %s with %s\n", d.RepositoryPFX, d.RepositoryPEM, d.RepositoryKey)
	fmt.Fprintf(&b, "  timestamping:     %s with %s\n", d.TimestampingPEM, d.TimestampingKey)
	b.WriteString("Try:\n")
	fmt.Fprintf(&b, "  signet tsa --listen 127.0.0.1:8318 --certificate-path %s --key-path %s\n", d.TimestampingPEM, d.TimestampingKey)
	fmt.Fprintf(&b, "  signet sign My.Package.1.0.0.nupkg --certificate-path %s --timestamper http://127.0.0.1:8318/\n", d.CodeSigningPFX)
	fmt.Fprintf(&b, "  signet repository-sign My.Package.1.0.0.nupkg --certificate-path %s --timestamper http://127.0.0.1:8318/ --service-index-url https://feed.example/v3/index.json\n", d.RepositoryPFX)
	fmt.Fprintf(&b, "  signet verify My.Package.1.0.0.nupkg --trust-bundle %s\n", d.RootPEM)
	return b.String()
}
