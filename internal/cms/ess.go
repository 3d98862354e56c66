package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"math/big"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// tagDirectoryName is the directoryName choice of GeneralName ([4], explicit
// because Name is a CHOICE).
var tagDirectoryName = cbasn1.Tag(4).ContextSpecific().Constructed()

// IssuerSerial is the issuerSerial of an ESS certificate identifier
// (RFC 2634 5.4.1, RFC 5035 4): the certificate's issuer and serial.
type IssuerSerial struct {
	// IssuerRaw is the issuer Name (raw DER) from the single directoryName
	// GeneralName.
	IssuerRaw []byte
	// Serial is the certificate serial number.
	Serial *big.Int
}

// ESSCertIDv2 is one entry of a signing-certificate-v2 attribute (RFC 5035
// 4).
type ESSCertIDv2 struct {
	// Hash is the hashAlgorithm; SHA-256 when the field is absent (its
	// DEFAULT).
	Hash crypto.Hash
	// HashOIDPresent reports whether hashAlgorithm was written out (NuGet
	// always writes it, even for SHA-256).
	HashOIDPresent bool
	// CertHash is the hash of the whole certificate DER.
	CertHash []byte
	// IssuerSerial names the certificate; nil when absent.
	IssuerSerial *IssuerSerial
}

// ESSCertID is one entry of a signing-certificate attribute (RFC 2634
// 5.4.1); its certHash is SHA-1.
type ESSCertID struct {
	// CertHash is the SHA-1 hash of the whole certificate DER.
	CertHash []byte
	// IssuerSerial names the certificate; nil when absent.
	IssuerSerial *IssuerSerial
}

// MarshalSigningCertificateV2 returns the signing-certificate-v2 attribute
// value that NuGet writes for cert (NuGet spec 3.3 item 5): one ESSCertIDv2
// whose hashAlgorithm is always present as the OID alone (no NULL), certHash
// h(cert DER), and issuerSerial with the issuer as a [4] directoryName; no
// policies.
func MarshalSigningCertificateV2(cert *x509.Certificate, h crypto.Hash) ([]byte, error) {
	oid, ok := OIDFromHash(h)
	if !ok || !signatureHash(h) || !h.Available() {
		return nil, fmt.Errorf("cms: ESS hash %v: %w", h, ErrUnsupportedAlgorithm)
	}
	if cert == nil || cert.SerialNumber == nil {
		return nil, fmt.Errorf("cms: ESS needs a parsed certificate: %w", ErrInvalidOptions)
	}
	b, err := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
					b.AddASN1OctetString(digest(h, cert.Raw))
					addIssuerSerial(b, cert)
				})
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("cms: encoding signing-certificate-v2: %w", err)
	}
	return b, nil
}

// addIssuerSerial writes IssuerSerial { GeneralNames { [4] issuer }, serial }.
func addIssuerSerial(b *cryptobyte.Builder, cert *x509.Certificate) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(tagDirectoryName, func(b *cryptobyte.Builder) { b.AddBytes(cert.RawIssuer) })
		})
		b.AddASN1BigInt(cert.SerialNumber)
	})
}

// ParseSigningCertificateV2 parses a signing-certificate-v2 attribute value
// (RFC 5035 3): the ESSCertIDv2 list, at least one; policies are skipped.
// Hash algorithms must be known (SHA-1/256/384/512) with parameters absent or
// NULL; which ones are acceptable is the caller's policy.
func ParseSigningCertificateV2(value []byte) ([]ESSCertIDv2, error) {
	var out []ESSCertIDv2
	err := parseESS(value, func(id *cryptobyte.String) error {
		e := ESSCertIDv2{Hash: crypto.SHA256}
		if id.PeekASN1Tag(cbasn1.SEQUENCE) {
			ai, ok := der.ReadAlgorithmIdentifier(id)
			if !ok {
				return fmt.Errorf("ESSCertIDv2 hashAlgorithm: %w", ErrMalformed)
			}
			h, ok := HashFromOID(ai.Algorithm)
			if !ok || !der.ParamsAbsentOrNull(ai) {
				return fmt.Errorf("ESSCertIDv2 hash algorithm %q: %w", ai.Algorithm.String(), ErrUnsupportedAlgorithm)
			}
			e.Hash, e.HashOIDPresent = h, true
		}
		var err error
		if e.CertHash, e.IssuerSerial, err = readCertHashAndIssuer(id); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cms: signing-certificate-v2: %w", err)
	}
	return out, nil
}

// ParseSigningCertificate parses a signing-certificate attribute value
// (RFC 2634 5.4): the ESSCertID list, at least one; policies are skipped.
func ParseSigningCertificate(value []byte) ([]ESSCertID, error) {
	var out []ESSCertID
	err := parseESS(value, func(id *cryptobyte.String) error {
		var e ESSCertID
		var err error
		if e.CertHash, e.IssuerSerial, err = readCertHashAndIssuer(id); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cms: signing-certificate: %w", err)
	}
	return out, nil
}

// parseESS walks SEQUENCE { certs SEQUENCE OF SEQUENCE, policies SEQUENCE
// OF PolicyInformation OPTIONAL }, calling f on the content of each cert
// identifier; f must consume it all.
func parseESS(value []byte, f func(id *cryptobyte.String) error) error {
	s := cryptobyte.String(value)
	var seq, certs cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1(&certs, cbasn1.SEQUENCE) {
		return fmt.Errorf("not a SEQUENCE of certs: %w", ErrMalformed)
	}
	if !seq.Empty() {
		var policies cryptobyte.String
		if !seq.ReadASN1(&policies, cbasn1.SEQUENCE) || !seq.Empty() {
			return fmt.Errorf("policies: %w", ErrMalformed)
		}
	}
	if certs.Empty() {
		return fmt.Errorf("no certificate identifier: %w", ErrMalformed)
	}
	for n := 0; !certs.Empty(); n++ {
		if n == maxESSCertIDs {
			return fmt.Errorf("more than %d certificate identifiers: %w", maxESSCertIDs, ErrLimit)
		}
		var id cryptobyte.String
		if !certs.ReadASN1(&id, cbasn1.SEQUENCE) {
			return fmt.Errorf("certificate identifier %d: %w", n, ErrMalformed)
		}
		if err := f(&id); err != nil {
			return fmt.Errorf("certificate identifier %d: %w", n, err)
		}
		if !id.Empty() {
			return fmt.Errorf("certificate identifier %d: trailing data: %w", n, ErrMalformed)
		}
	}
	return nil
}

// readCertHashAndIssuer reads certHash OCTET STRING and the optional
// IssuerSerial. The GeneralNames must hold exactly one directoryName, as
// OpenSSL also requires.
func readCertHashAndIssuer(id *cryptobyte.String) ([]byte, *IssuerSerial, error) {
	var hash cryptobyte.String
	if !id.ReadASN1(&hash, cbasn1.OCTET_STRING) {
		return nil, nil, fmt.Errorf("certHash: %w", ErrMalformed)
	}
	if id.Empty() {
		return hash, nil, nil
	}
	var is, names, name cryptobyte.String
	is2 := &IssuerSerial{Serial: new(big.Int)}
	if !id.ReadASN1(&is, cbasn1.SEQUENCE) || !is.ReadASN1(&names, cbasn1.SEQUENCE) ||
		!names.ReadASN1(&name, tagDirectoryName) || !names.Empty() ||
		!name.ReadASN1Element((*cryptobyte.String)(&is2.IssuerRaw), cbasn1.SEQUENCE) || !name.Empty() ||
		!is.ReadASN1Integer(is2.Serial) || !is.Empty() {
		return nil, nil, fmt.Errorf("issuerSerial (one directoryName and a serial): %w", ErrMalformed)
	}
	return hash, is2, nil
}

// Matches checks that e identifies cert: certHash equals e.Hash(cert DER),
// and issuerSerial, when present, names cert's issuer (raw DER) and serial.
// Errors wrap ErrESSCertHash, ErrESSIssuerSerial or ErrUnsupportedAlgorithm.
func (e ESSCertIDv2) Matches(cert *x509.Certificate) error {
	if err := essMatch(e.Hash, e.CertHash, e.IssuerSerial, cert); err != nil {
		return fmt.Errorf("cms: ESSCertIDv2: %w", err)
	}
	return nil
}

// Matches checks that e identifies cert: certHash equals SHA-1(cert DER)
// (stricter than NuGet, which only checks its length), and issuerSerial,
// when present, names cert's issuer and serial.
func (e ESSCertID) Matches(cert *x509.Certificate) error {
	if err := essMatch(crypto.SHA1, e.CertHash, e.IssuerSerial, cert); err != nil {
		return fmt.Errorf("cms: ESSCertID: %w", err)
	}
	return nil
}

func essMatch(h crypto.Hash, certHash []byte, is *IssuerSerial, cert *x509.Certificate) error {
	if cert == nil {
		return fmt.Errorf("no certificate: %w", ErrESSCertHash)
	}
	if !h.Available() {
		return fmt.Errorf("hash %v: %w", h, ErrUnsupportedAlgorithm)
	}
	if !bytes.Equal(digest(h, cert.Raw), certHash) {
		return ErrESSCertHash
	}
	if is != nil && (!bytes.Equal(is.IssuerRaw, cert.RawIssuer) || is.Serial == nil ||
		cert.SerialNumber == nil || is.Serial.Cmp(cert.SerialNumber) != 0) {
		return ErrESSIssuerSerial
	}
	return nil
}
