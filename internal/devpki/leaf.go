package devpki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/signer"
)

// Object identifiers of extended key usages and extensions that crypto/x509
// has no constant for.
var (
	// OIDLifetimeSigning is Microsoft's lifetime-signing EKU, which NuGet
	// rejects (NU3015).
	OIDLifetimeSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 3, 13}
	// oidExtKeyUsage is the extended key usage extension (RFC 5280 4.2.1.12).
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
	// oidOCSPNoCheck is id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1).
	oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
)

// ekuOIDs maps the key usages a critical EKU extension may be built from to
// their OIDs (RFC 5280 4.2.1.12).
var ekuOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageAny:             {2, 5, 29, 37, 0},
	x509.ExtKeyUsageServerAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 1},
	x509.ExtKeyUsageClientAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageCodeSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 3},
	x509.ExtKeyUsageEmailProtection: {1, 3, 6, 1, 5, 5, 7, 3, 4},
	x509.ExtKeyUsageTimeStamping:    {1, 3, 6, 1, 5, 5, 7, 3, 8},
	x509.ExtKeyUsageOCSPSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 9},
}

// LeafOptions describe an end-entity certificate. The zero value is a code
// signing certificate with a fresh RSA 3072-bit key, signed with
// sha256WithRSA, valid from an hour ago for DefaultLeafValidity.
type LeafOptions struct {
	// CommonName is the subject's CN; "Signet Test Signer" when empty.
	CommonName string
	// Key is the certificate's key; nil generates one (RSA of Bits bits, or
	// ECDSA P-256 when ECDSA is set).
	Key crypto.Signer
	// Bits is the RSA key size when Key is nil: DefaultBits when zero;
	// 1024, 2048 and 4096 are useful in tests.
	Bits int
	// ECDSA generates an ECDSA P-256 key instead of RSA when Key is nil.
	ECDSA bool
	// EKUs are the extended key usages; code signing when empty and neither
	// NoEKU nor UnknownEKUs is set.
	EKUs []x509.ExtKeyUsage
	// UnknownEKUs are extra EKU OIDs, such as OIDLifetimeSigning.
	UnknownEKUs []asn1.ObjectIdentifier
	// NoEKU leaves the extended key usage extension out.
	NoEKU bool
	// CriticalEKU marks the EKU extension critical, as RFC 3161 2.3 requires
	// of a TSA certificate (whose only EKU must be timeStamping).
	CriticalEKU bool
	// NotBefore and NotAfter default to now − 1 h and NotBefore plus
	// DefaultLeafValidity.
	NotBefore, NotAfter time.Time
	// SignatureAlgorithm is the issuer's signature algorithm over the
	// certificate; chosen from the issuer's key when zero. SHA1WithRSA is
	// allowed, for negative tests (NU3013, NU3022).
	SignatureAlgorithm x509.SignatureAlgorithm
	// OCSPServer, CRLDistributionPoints and IssuingCertificateURL are the
	// AIA and CDP URLs; the CA's defaults when nil.
	OCSPServer, CRLDistributionPoints, IssuingCertificateURL []string
	// OCSPNoCheck adds id-pkix-ocsp-nocheck, for a delegated OCSP
	// responder's certificate.
	OCSPNoCheck bool
	// SerialNumber is the serial; random when nil.
	SerialNumber *big.Int
}

// Issue makes a leaf certificate issued by ca. The identity's Chain is the
// leaf, the CA and its issuers, ending with the root.
func (ca *CA) Issue(o LeafOptions) (*signer.Identity, error) {
	key, tmpl, err := o.template()
	if err != nil {
		return nil, err
	}
	tmpl.OCSPServer, tmpl.CRLDistributionPoints = ca.urls(o.OCSPServer, o.CRLDistributionPoints)
	cert, err := ca.sign(tmpl, key.Public())
	if err != nil {
		return nil, fmt.Errorf("devpki: leaf %q: %w", tmpl.Subject.CommonName, err)
	}
	return &signer.Identity{Signer: key, Certificate: cert, Chain: append([]*x509.Certificate{cert}, ca.Chain()...)}, nil
}

// NewSelfSigned makes a self-signed (and so self-issued) end-entity
// certificate, as `New-SelfSignedCertificate -Type CodeSigningCert` does.
func NewSelfSigned(o LeafOptions) (*signer.Identity, error) {
	key, tmpl, err := o.template()
	if err != nil {
		return nil, err
	}
	tmpl.OCSPServer, tmpl.CRLDistributionPoints = o.OCSPServer, o.CRLDistributionPoints
	cert, err := create(tmpl, nil, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("devpki: self-signed %q: %w", tmpl.Subject.CommonName, err)
	}
	return &signer.Identity{Signer: key, Certificate: cert, Chain: []*x509.Certificate{cert}}, nil
}

// template returns the key and certificate template o describes.
func (o *LeafOptions) template() (crypto.Signer, *x509.Certificate, error) {
	key := o.Key
	var err error
	switch {
	case key != nil:
	case o.ECDSA:
		key, err = newECKey()
	default:
		key, err = newRSAKey(o.Bits)
	}
	if err != nil {
		return nil, nil, err
	}
	cn := o.CommonName
	if cn == "" {
		cn = "Signet Test Signer"
	}
	nb, na := validity(o.NotBefore, o.NotAfter, DefaultLeafValidity)
	tmpl := &x509.Certificate{
		SerialNumber:          o.SerialNumber,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Signet development PKI"}},
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    o.SignatureAlgorithm,
		IssuingCertificateURL: o.IssuingCertificateURL,
	}
	if !o.NoEKU {
		tmpl.ExtKeyUsage = o.EKUs
		tmpl.UnknownExtKeyUsage = o.UnknownEKUs
		if len(o.EKUs) == 0 && len(o.UnknownEKUs) == 0 {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
		}
		if o.CriticalEKU {
			ext, err := criticalEKU(tmpl.ExtKeyUsage, tmpl.UnknownExtKeyUsage)
			if err != nil {
				return nil, nil, err
			}
			// An ExtraExtensions entry replaces the one crypto/x509 would
			// build from ExtKeyUsage, which is never critical.
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
		}
	}
	if o.OCSPNoCheck {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidOCSPNoCheck, Value: []byte{0x05, 0x00}})
	}
	return key, tmpl, nil
}

// criticalEKU builds a critical extended key usage extension.
func criticalEKU(ekus []x509.ExtKeyUsage, unknown []asn1.ObjectIdentifier) (pkix.Extension, error) {
	var b cryptobyte.Builder
	var err error
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, u := range ekus {
			oid, ok := ekuOIDs[u]
			if !ok {
				err = fmt.Errorf("devpki: no OID known for extended key usage %d", u)
				return
			}
			b.AddASN1ObjectIdentifier(oid)
		}
		for _, oid := range unknown {
			b.AddASN1ObjectIdentifier(oid)
		}
	})
	if err != nil {
		return pkix.Extension{}, err
	}
	v, err := b.Bytes()
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("devpki: building the EKU extension: %w", err)
	}
	return pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: v}, nil
}
