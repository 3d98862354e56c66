package cms

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// TestParsedCertificateCache: a certificate parsed twice is one value,
// equal to a fresh parse; garbage is not cached; the cache stays within its
// bound however many certificates pass through it.
func TestParsedCertificateCache(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert := func(n int64) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: "cache test"},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	raw := cert(1)
	a, err := parseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseCertificate(append([]byte{}, raw...))
	fresh, _ := x509.ParseCertificate(raw)
	if err != nil || a != b || !a.Equal(fresh) {
		t.Fatalf("second parse = %p, %v; want the cached %p", b, err, a)
	}
	if _, err := parseCertificate([]byte("not a certificate")); err == nil {
		t.Fatal("garbage parsed")
	}
	for i := range int64(maxParsedCertificates + 10) {
		if _, err := parseCertificate(cert(i + 2)); err != nil {
			t.Fatal(err)
		}
		parsedCertificates.Lock()
		n := len(parsedCertificates.m)
		parsedCertificates.Unlock()
		if n > maxParsedCertificates {
			t.Fatalf("cache holds %d certificates", n)
		}
	}
}
