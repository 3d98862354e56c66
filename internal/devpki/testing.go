package devpki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"sync"

	"github.com/signet-nuget/signet/internal/signer"
)

// TB is the part of testing.TB the test helpers use (so that this package
// does not import testing into the signet binary).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

type keyID struct{ bits, n int }

var (
	testKeysMu sync.Mutex
	testKeys   = map[keyID]*rsa.PrivateKey{}
)

// TestKey returns RSA key number n of the given size, generating it on the
// first call in the process: tests that need many certificates share a few
// keys instead of spending 0.1–0.5 s on each. Different n give different
// keys. Numbers from 1000 up are used by NewTestPKI; callers use 0–999.
//
// Never use a TestKey outside tests: the key is shared across the process.
func TestKey(t TB, bits, n int) *rsa.PrivateKey {
	t.Helper()
	testKeysMu.Lock()
	defer testKeysMu.Unlock()
	id := keyID{bits, n}
	if k, ok := testKeys[id]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatalf("devpki: generating test key RSA %d #%d: %v", bits, n, err)
	}
	testKeys[id] = k
	return k
}

// testPKIKeyBase is the first TestKey number NewTestPKI uses.
const testPKIKeyBase = 1000

// TestPKI is a ready-made test PKI: a root, an intermediate below it, and
// three leaves issued by the intermediate, with RSA 2048 test keys.
type TestPKI struct {
	Root         *CA
	Intermediate *CA
	// CodeSigning has EKU codeSigning (an author certificate).
	CodeSigning *signer.Identity
	// Repository has EKU codeSigning, as nuget.org's repository certificates.
	Repository *signer.Identity
	// Timestamping has a critical EKU with timeStamping only (RFC 3161 2.3).
	Timestamping *signer.Identity
}

// Roots returns the root certificate, as a trust anchor list.
func (p *TestPKI) Roots() []*x509.Certificate { return []*x509.Certificate{p.Root.Cert} }

// NewTestPKI makes a TestPKI; it fails the test on error. Each call makes
// new certificates (new serial numbers) over the same cached keys.
func NewTestPKI(t TB) *TestPKI {
	t.Helper()
	key := func(i int) *rsa.PrivateKey { return TestKey(t, 2048, testPKIKeyBase+i) }
	root, err := NewRoot("Signet Test Root CA", CAOptions{Key: key(0)})
	if err != nil {
		t.Fatalf("%v", err)
	}
	inter, err := root.NewIntermediate("Signet Test Intermediate CA", CAOptions{Key: key(1)})
	if err != nil {
		t.Fatalf("%v", err)
	}
	p := &TestPKI{Root: root, Intermediate: inter}
	leaves := []struct {
		dst *(*signer.Identity)
		o   LeafOptions
	}{
		{&p.CodeSigning, LeafOptions{CommonName: "Signet Test Author", Key: key(2)}},
		{&p.Repository, LeafOptions{CommonName: "Signet Test Repository", Key: key(3)}},
		{&p.Timestamping, LeafOptions{CommonName: "Signet Test Timestamping", Key: key(4),
			EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, CriticalEKU: true}},
	}
	for _, l := range leaves {
		id, err := inter.Issue(l.o)
		if err != nil {
			t.Fatalf("%v", err)
		}
		*l.dst = id
	}
	return p
}
