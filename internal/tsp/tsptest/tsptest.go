// Package tsptest gives timestamp tests a root and a TSA certificate, minted
// with internal/devpki over its cached test keys, whose properties (key,
// EKU, validity, issuer algorithm) tests vary to hit each verification rule.
package tsptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
)

// OIDTimeStamping is id-kp-timeStamping.
var OIDTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}

// OIDCodeSigning is id-kp-codeSigning.
var OIDCodeSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 3}

// Options vary the TSA certificate. The zero value gives a certificate
// NuGet accepts: RSA 2048, sha256WithRSA, critical EKU timeStamping only,
// valid from an hour ago for a year.
type Options struct {
	SmallKey       bool                    // RSA 1024 instead of 2048
	ECDSAKey       bool                    // ECDSA P-256 key instead of RSA
	ECDSAIssuer    bool                    // issued by an ECDSA root (ecdsa-with-SHA256)
	SHA1Issuer     bool                    // signed with sha1WithRSA
	EKU            []asn1.ObjectIdentifier // nil: timeStamping only
	NoEKU          bool                    // no EKU extension at all
	NonCriticalEKU bool                    // EKU extension not critical
	NotBefore      time.Time               // zero: an hour ago
	NotAfter       time.Time               // zero: a year from NotBefore
}

// PKI is a root and a TSA certificate with its key.
type PKI struct {
	Root    *x509.Certificate
	Cert    *x509.Certificate
	Signer  crypto.Signer
	RootPEM []byte
	CertPEM []byte
}

// Test key numbers in devpki.TestKey's caller range.
const (
	keyRoot = 310 + iota
	keyTSA
)

var (
	ecOnce sync.Once
	ecKey  *ecdsa.PrivateKey
	ecErr  error
)

func ecdsaKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	ecOnce.Do(func() { ecKey, ecErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	if ecErr != nil {
		t.Fatalf("tsptest: %v", ecErr)
	}
	return ecKey
}

// New mints a root and a TSA certificate.
func New(t testing.TB, o Options) *PKI {
	t.Helper()
	var rootKey crypto.Signer = devpki.TestKey(t, 2048, keyRoot)
	if o.ECDSAIssuer {
		rootKey = ecdsaKey(t)
	}
	root, err := devpki.NewRoot("Signet Test Timestamping Root", devpki.CAOptions{Key: rootKey})
	if err != nil {
		t.Fatalf("tsptest: %v", err)
	}
	var key crypto.Signer = devpki.TestKey(t, 2048, keyTSA)
	switch {
	case o.SmallKey:
		key = devpki.TestKey(t, 1024, keyTSA)
	case o.ECDSAKey:
		key = ecdsaKey(t)
	}
	lo := devpki.LeafOptions{
		CommonName:  "Signet Test TSA",
		Key:         key,
		EKUs:        []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		NoEKU:       o.NoEKU,
		CriticalEKU: !o.NonCriticalEKU,
		NotBefore:   o.NotBefore,
		NotAfter:    o.NotAfter,
	}
	if lo.NotBefore.IsZero() {
		lo.NotBefore = time.Now().Add(-time.Hour)
	}
	if lo.NotAfter.IsZero() {
		lo.NotAfter = lo.NotBefore.Add(365 * 24 * time.Hour)
	}
	if o.SHA1Issuer {
		lo.SignatureAlgorithm = x509.SHA1WithRSA
	}
	if o.EKU != nil {
		lo.EKUs = nil
		for _, oid := range o.EKU {
			switch {
			case oid.Equal(OIDTimeStamping):
				lo.EKUs = append(lo.EKUs, x509.ExtKeyUsageTimeStamping)
			case oid.Equal(OIDCodeSigning):
				lo.EKUs = append(lo.EKUs, x509.ExtKeyUsageCodeSigning)
			default:
				lo.UnknownEKUs = append(lo.UnknownEKUs, oid)
			}
		}
	}
	id, err := root.Issue(lo)
	if err != nil {
		t.Fatalf("tsptest: %v", err)
	}
	return &PKI{
		Root: root.Cert, Cert: id.Certificate, Signer: id.Signer,
		RootPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Certificate.Raw}),
	}
}
