// Package devpki is a small certificate authority for development and tests:
// roots, intermediates and leaf certificates for code signing, repository
// signing, timestamping and OCSP, CRLs, and an in-process OCSP responder and
// CRL endpoint on 127.0.0.1 (responder.go).
//
// `signet dev-certs` uses WriteDevCerts. Tests use the same CA to mint every
// kind of certificate NuGet's rules must accept or reject (weak keys, SHA-1
// signatures, wrong or missing EKUs, lifetime signing, not-yet-valid and
// expired certificates), and TestKey (testing.go) to avoid generating an RSA
// key per test.
//
// Nothing here is meant to protect anything real: keys are created in
// memory and dev-certs writes them unencrypted (mode 0600).
package devpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DefaultBits is the RSA key size of generated keys: 3072 bits, the size
// NIST recommends for use beyond 2030 (NuGet's floor is 2048).
const DefaultBits = 3072

// Default validity periods. NotBefore is backdated by clockSkew so that a
// certificate made now is valid on a machine whose clock is a little behind.
const (
	DefaultRootValidity = 10 * 365 * 24 * time.Hour
	DefaultCAValidity   = 5 * 365 * 24 * time.Hour
	DefaultLeafValidity = 2 * 365 * 24 * time.Hour
	clockSkew           = time.Hour
)

// serialBits is the size of random serial numbers: CA/Browser Forum rules
// ask for at least 64 bits of entropy; 127 keeps the DER INTEGER positive in
// 16 bytes.
const serialBits = 127

// CA is a certificate authority: its certificate and key. Use NewRoot or
// CA.NewIntermediate; the zero value is not usable.
type CA struct {
	// Cert is the CA's certificate.
	Cert *x509.Certificate
	// Key is the CA's private key.
	Key crypto.Signer
	// Issuers are the certificates above Cert, nearest first, ending with
	// the root; empty for a root.
	Issuers []*x509.Certificate
	// OCSPServer and CRLDistributionPoints are written into every
	// certificate this CA issues whose options name none (Responder.Register
	// sets them).
	OCSPServer            []string
	CRLDistributionPoints []string

	mu        sync.Mutex
	crlNumber int64
	issued    map[string]bool // serial numbers (decimal) issued by this CA
}

// CAOptions configure a root or intermediate CA. The zero value gives an RSA
// 3072-bit key, sha256WithRSA, and the default validity.
type CAOptions struct {
	// Key is the CA's key; nil generates an RSA key of Bits bits.
	Key crypto.Signer
	// Bits is the RSA key size when Key is nil; DefaultBits when zero.
	Bits int
	// NotBefore and NotAfter default to now − 1 h and NotBefore plus
	// DefaultRootValidity (root) or DefaultCAValidity (intermediate).
	NotBefore, NotAfter time.Time
	// SignatureAlgorithm is the algorithm of the certificate's own signature
	// (by itself for a root, by the parent for an intermediate); chosen from
	// the signing key when zero (sha256WithRSA for RSA). SHA1WithRSA is
	// allowed, for tests of old chains.
	SignatureAlgorithm x509.SignatureAlgorithm
	// OCSPServer and CRLDistributionPoints go into an intermediate's
	// certificate; the parent's defaults when nil.
	OCSPServer, CRLDistributionPoints []string
}

// NewRoot makes a self-signed root CA named name (the subject's common name).
func NewRoot(name string, o CAOptions) (*CA, error) {
	key, err := o.key()
	if err != nil {
		return nil, err
	}
	nb, na := validity(o.NotBefore, o.NotAfter, DefaultRootValidity)
	tmpl := caTemplate(name, nb, na, o.SignatureAlgorithm)
	cert, err := create(tmpl, nil, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("devpki: root %q: %w", name, err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// NewIntermediate makes a CA named name issued by ca.
func (ca *CA) NewIntermediate(name string, o CAOptions) (*CA, error) {
	key, err := o.key()
	if err != nil {
		return nil, err
	}
	nb, na := validity(o.NotBefore, o.NotAfter, DefaultCAValidity)
	tmpl := caTemplate(name, nb, na, o.SignatureAlgorithm)
	tmpl.OCSPServer, tmpl.CRLDistributionPoints = ca.urls(o.OCSPServer, o.CRLDistributionPoints)
	cert, err := ca.sign(tmpl, key.Public())
	if err != nil {
		return nil, fmt.Errorf("devpki: intermediate %q: %w", name, err)
	}
	return &CA{Cert: cert, Key: key, Issuers: ca.Chain()}, nil
}

// Chain returns the CA's certificate followed by its issuers up to the root.
func (ca *CA) Chain() []*x509.Certificate {
	return append([]*x509.Certificate{ca.Cert}, ca.Issuers...)
}

// Root returns the root certificate above (or of) the CA.
func (ca *CA) Root() *x509.Certificate {
	c := ca.Chain()
	return c[len(c)-1]
}

// Issued reports whether ca issued a certificate with this serial number.
func (ca *CA) Issued(serial *big.Int) bool {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	return ca.issued[serial.String()]
}

func (o *CAOptions) key() (crypto.Signer, error) {
	if o.Key != nil {
		return o.Key, nil
	}
	return newRSAKey(o.Bits)
}

// newRSAKey generates an RSA key of bits bits (DefaultBits when zero).
func newRSAKey(bits int) (crypto.Signer, error) {
	if bits == 0 {
		bits = DefaultBits
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("devpki: generating an RSA %d key: %w", bits, err)
	}
	return k, nil
}

// newECKey generates an ECDSA P-256 key.
func newECKey() (crypto.Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devpki: generating an ECDSA key: %w", err)
	}
	return k, nil
}

// validity applies the defaults to a validity period.
func validity(nb, na time.Time, d time.Duration) (time.Time, time.Time) {
	if nb.IsZero() {
		nb = time.Now().Add(-clockSkew).Truncate(time.Second)
	}
	if na.IsZero() {
		na = nb.Add(d)
	}
	return nb, na
}

func caTemplate(name string, nb, na time.Time, alg x509.SignatureAlgorithm) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Signet development PKI"}},
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    alg,
	}
}

// urls returns the OCSP and CRL URLs for a certificate the CA issues.
func (ca *CA) urls(ocsp, crl []string) ([]string, []string) {
	if ocsp == nil {
		ocsp = ca.OCSPServer
	}
	if crl == nil {
		crl = ca.CRLDistributionPoints
	}
	return ocsp, crl
}

// sign issues tmpl for pub with the CA's key and records the serial.
func (ca *CA) sign(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	c, err := create(tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, err
	}
	ca.mu.Lock()
	if ca.issued == nil {
		ca.issued = map[string]bool{}
	}
	ca.issued[c.SerialNumber.String()] = true
	ca.mu.Unlock()
	return c, nil
}

// create fills in the serial number and subject key identifier, signs tmpl
// with key (self-signed when parent is nil) and parses the result.
func create(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	if tmpl.SerialNumber == nil {
		s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), serialBits))
		if err != nil {
			return nil, err
		}
		tmpl.SerialNumber = s.Add(s, big.NewInt(1)) // never zero
	}
	if tmpl.SubjectKeyId == nil {
		ski, err := subjectKeyID(pub)
		if err != nil {
			return nil, err
		}
		tmpl.SubjectKeyId = ski
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// subjectKeyID is RFC 5280 4.2.1.2 method (1): the SHA-1 of the
// subjectPublicKey BIT STRING's value.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	bits, err := publicKeyBits(spki)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(bits)
	return sum[:], nil
}

// subjectPublicKeyBits returns the value of c's subjectPublicKey BIT STRING.
func subjectPublicKeyBits(c *x509.Certificate) ([]byte, error) {
	return publicKeyBits(c.RawSubjectPublicKeyInfo)
}

// publicKeyBits returns the subjectPublicKey BIT STRING value of a DER
// SubjectPublicKeyInfo.
func publicKeyBits(spki []byte) ([]byte, error) {
	s := cryptobyte.String(spki)
	var inner, alg cryptobyte.String
	var bits asn1.BitString
	if !s.ReadASN1(&inner, cbasn1.SEQUENCE) || !inner.ReadASN1(&alg, cbasn1.SEQUENCE) || !inner.ReadASN1BitString(&bits) {
		return nil, errors.New("devpki: malformed SubjectPublicKeyInfo")
	}
	return bits.Bytes, nil
}
