package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testPKI is a root CA and leaves minted for these tests (RSA 2048 to keep
// them fast).
type testPKI struct {
	rootKey *rsa.PrivateKey
	root    *x509.Certificate
	// leafKey signs for leaf (with a subjectKeyIdentifier) and leafNoSKI
	// (same key, without one).
	leafKey   *rsa.PrivateKey
	leaf      *x509.Certificate
	leafNoSKI *x509.Certificate
	// otherKey matches no certificate.
	otherKey *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	ecLeaf   *x509.Certificate
}

var (
	pkiOnce sync.Once
	pkiVal  *testPKI
	pkiErr  error
)

// getPKI returns the shared test PKI, minting it on first use.
func getPKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() { pkiVal, pkiErr = newTestPKI() })
	if pkiErr != nil {
		t.Fatalf("test PKI: %v", pkiErr)
	}
	return pkiVal
}

func newTestPKI() (*testPKI, error) {
	p := &testPKI{}
	var err error
	if p.rootKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if p.leafKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if p.otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if p.ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Signet CMS Test Root"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	if p.root, err = mint(rootTmpl, rootTmpl, &p.rootKey.PublicKey, p.rootKey); err != nil {
		return nil, err
	}
	leaf := func(serial int64, cn string, pub crypto.PublicKey, ski bool) (*x509.Certificate, error) {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		}
		if ski {
			der, err := x509.MarshalPKIXPublicKey(pub)
			if err != nil {
				return nil, err
			}
			sum := sha1.Sum(der)
			tmpl.SubjectKeyId = sum[:]
		}
		return mint(tmpl, p.root, pub, p.rootKey)
	}
	if p.leaf, err = leaf(0x1234567890, "Signet CMS Test Signer", &p.leafKey.PublicKey, true); err != nil {
		return nil, err
	}
	if p.leafNoSKI, err = leaf(0x2345, "Signet CMS Test Signer (no SKI)", &p.leafKey.PublicKey, false); err != nil {
		return nil, err
	}
	if p.ecLeaf, err = leaf(0x3456, "Signet CMS Test ECDSA Signer", &p.ecKey.PublicKey, true); err != nil {
		return nil, err
	}
	return p, nil
}

func mint(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// opensslPath is where the tests expect openssl; they fail, never skip,
// without it.
const opensslPath = "/usr/bin/openssl"

// opensslVerify runs openssl cms -verify on a DER SignedData with root as
// the only trust anchor and returns the content it outputs.
func opensslVerify(t *testing.T, sig []byte, root *x509.Certificate) ([]byte, error) {
	t.Helper()
	if _, err := os.Stat(opensslPath); err != nil {
		t.Fatalf("openssl is required for this test: %v", err)
	}
	dir := t.TempDir()
	sigPath, rootPath, outPath := filepath.Join(dir, "sig.der"), filepath.Join(dir, "root.pem"), filepath.Join(dir, "out.bin")
	if err := os.WriteFile(sigPath, sig, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rootPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(opensslPath, "cms", "-verify", "-inform", "DER", "-binary", "-in", sigPath,
		"-CAfile", rootPath, "-purpose", "any", "-out", outPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, &opensslError{err: err, out: string(out)}
	}
	return os.ReadFile(outPath)
}

type opensslError struct {
	err error
	out string
}

func (e *opensslError) Error() string { return "openssl: " + e.err.Error() + ": " + e.out }

// lyingSigner claims the certificate's public key but signs with another.
type lyingSigner struct {
	pub crypto.PublicKey
	key crypto.Signer
}

func (l lyingSigner) Public() crypto.PublicKey { return l.pub }
func (l lyingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return l.key.Sign(r, d, o)
}
