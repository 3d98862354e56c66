package pki

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
)

func mustRoot(t *testing.T, name string, o devpki.CAOptions) *devpki.CA {
	t.Helper()
	ca, err := devpki.NewRoot(name, o)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestBuildChain(t *testing.T) {
	rootA := mustRoot(t, "Chain Test Root A", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 10)})
	// G4 exists twice, as in DigiCert's tokens: self-signed, and
	// cross-certified by root A with the same subject and key.
	g4Key := devpki.TestKey(t, 2048, 11)
	g4 := mustRoot(t, "Chain Test G4", devpki.CAOptions{Key: g4Key})
	g4Cross, err := rootA.NewIntermediate("Chain Test G4", devpki.CAOptions{Key: g4Key})
	if err != nil {
		t.Fatal(err)
	}
	if string(g4Cross.Cert.RawSubject) != string(g4.Cert.RawSubject) {
		t.Fatal("test setup: cross-certificate subject differs")
	}
	inter, err := g4.NewIntermediate("Chain Test Intermediate", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 12)})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 13)})
	if err != nil {
		t.Fatal(err)
	}
	expiredInter, err := rootA.NewIntermediate("Chain Test Expired CA", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 14),
		NotBefore: time.Now().Add(-3 * 365 * 24 * time.Hour), NotAfter: time.Now().Add(-365 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	oldLeaf, err := expiredInter.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 15),
		NotBefore: time.Now().Add(-2 * 365 * 24 * time.Hour), NotAfter: time.Now().Add(-400 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	sha1Inter, err := rootA.NewIntermediate("Chain Test SHA-1 CA", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 16), SignatureAlgorithm: x509.SHA1WithRSA})
	if err != nil {
		t.Fatal(err)
	}
	sha1Leaf, err := sha1Inter.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 17)})
	if err != nil {
		t.Fatal(err)
	}
	tsaLeaf, err := inter.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 18), EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, CriticalEKU: true})
	if err != nil {
		t.Fatal(err)
	}

	bag := []*x509.Certificate{g4.Cert, g4Cross.Cert, inter.Cert, g4.Cert, inter.Cert} // duplicates, as real bags have
	tests := []struct {
		name     string
		leaf     *x509.Certificate
		roots    []*x509.Certificate
		pool     []*x509.Certificate
		usage    x509.ExtKeyUsage
		want     ChainStatus
		wantRoot *x509.Certificate
		wantLen  int
	}{
		{"trusted through self-signed G4", leaf.Certificate, []*x509.Certificate{g4.Cert}, bag, x509.ExtKeyUsageCodeSigning, ChainTrusted, g4.Cert, 3},
		{"trusted through the cross-certificate", leaf.Certificate, []*x509.Certificate{rootA.Cert}, bag, x509.ExtKeyUsageCodeSigning, ChainTrusted, rootA.Cert, 4},
		{"untrusted root", leaf.Certificate, nil, bag, x509.ExtKeyUsageCodeSigning, ChainUntrustedRoot, g4.Cert, 3},
		{"partial chain", leaf.Certificate, []*x509.Certificate{rootA.Cert}, nil, x509.ExtKeyUsageCodeSigning, ChainPartial, leaf.Certificate, 1},
		{"expired CA still builds", oldLeaf.Certificate, []*x509.Certificate{rootA.Cert}, []*x509.Certificate{expiredInter.Cert}, x509.ExtKeyUsageCodeSigning, ChainTrusted, rootA.Cert, 3},
		{"SHA-1 signed CA builds", sha1Leaf.Certificate, []*x509.Certificate{rootA.Cert}, []*x509.Certificate{sha1Inter.Cert}, x509.ExtKeyUsageCodeSigning, ChainTrusted, rootA.Cert, 3},
		{"wrong usage", tsaLeaf.Certificate, []*x509.Certificate{g4.Cert}, bag, x509.ExtKeyUsageCodeSigning, ChainNotValidForUsage, g4.Cert, 3},
		{"timestamping usage", tsaLeaf.Certificate, []*x509.Certificate{g4.Cert}, bag, x509.ExtKeyUsageTimeStamping, ChainTrusted, g4.Cert, 3},
		{"the leaf itself is trusted", leaf.Certificate, []*x509.Certificate{leaf.Certificate}, nil, x509.ExtKeyUsageCodeSigning, ChainTrusted, leaf.Certificate, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := BuildChain(tt.leaf, ChainOptions{Roots: tt.roots, Pool: tt.pool, Usage: tt.usage})
			if c.Status != tt.want {
				t.Fatalf("status %v, want %v", c.Status, tt.want)
			}
			if c.Root() != tt.wantRoot && string(c.Root().Raw) != string(tt.wantRoot.Raw) {
				t.Errorf("chain ends at %q, want %q", c.Root().Subject, tt.wantRoot.Subject)
			}
			if len(c.Certificates) != tt.wantLen {
				t.Errorf("chain length %d, want %d", len(c.Certificates), tt.wantLen)
			}
		})
	}
}

// TestBuildChainBounded: a bag of many certificates naming each other is
// walked within the depth and candidate bounds.
func TestBuildChainBounded(t *testing.T) {
	root := mustRoot(t, "Bounded Root", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 20)})
	ca := root
	var pool []*x509.Certificate
	for i := 0; i < maxChainDepth+4; i++ {
		next, err := ca.NewIntermediate("Bounded CA", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 21+i%2)})
		if err != nil {
			t.Fatal(err)
		}
		pool = append(pool, next.Cert)
		ca = next
	}
	leaf, err := ca.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 30)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *Chain, 1)
	go func() {
		done <- BuildChain(leaf.Certificate, ChainOptions{Roots: []*x509.Certificate{root.Cert}, Pool: pool, Usage: x509.ExtKeyUsageCodeSigning})
	}()
	select {
	case c := <-done:
		if len(c.Certificates) > maxChainDepth {
			t.Fatalf("chain of %d certificates exceeds the bound %d", len(c.Certificates), maxChainDepth)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("chain building did not finish: unbounded search")
	}
}
