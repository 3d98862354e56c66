package tsp

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/der"
)

// TokenSigner signs TSTInfos into timestamp tokens: what a TSA does after it
// decided to grant a request.
//
// The token is a CMS SignedData (RFC 5652) built by internal/cms: eContentType
// id-ct-TSTInfo, one SignerInfo (version 1, identified by issuer and serial
// number, as openssl ts requires), digest algorithm Hash,
// signature algorithm rsaEncryption (or ecdsa-with-SHA*), and the signed
// attributes content-type, message-digest, signing-time, ESS
// signing-certificate-v2 (SHA-256, with issuerSerial) and, when
// IncludeESSv1, ESS signing-certificate (SHA-1) for verifiers that know only
// v1. Attributes and certificates are DER SET OFs, sorted.
type TokenSigner struct {
	// Signer is the TSA's private key (required).
	Signer crypto.Signer
	// Certificate is the TSA certificate (required).
	Certificate *x509.Certificate
	// Chain holds certificates to include after Certificate when
	// IncludeCertificates is set.
	Chain []*x509.Certificate
	// Hash is the SignerInfo digest algorithm: SHA-256 (when zero), SHA-384
	// or SHA-512.
	Hash crypto.Hash
	// IncludeCertificates puts Certificate and Chain in the token (the
	// request's certReq).
	IncludeCertificates bool
	// IncludeESSv1 adds the ESS signing-certificate (v1) attribute.
	IncludeESSv1 bool

	// Test hooks for building defective tokens; zero in production.
	omitESS     bool                  // no ESS attribute at all
	essCert     *x509.Certificate     // ESS attributes name this certificate instead
	contentType asn1.ObjectIdentifier // eContentType (and content-type attribute) instead of id-ct-TSTInfo
	twoSigners  bool                  // duplicate the SignerInfo
	badSig      bool                  // flip a bit of the signature
	sha1Digest  bool                  // relabel the digest algorithm SHA-1 after signing
}

// Sign marshals info and returns the DER ContentInfo of a token over it,
// signed at signingTime (written as the signing-time attribute).
func (s *TokenSigner) Sign(info *TSTInfo, signingTime time.Time) ([]byte, error) {
	if s.Signer == nil || s.Certificate == nil {
		return nil, errors.New("tsp: a signer and a certificate are required")
	}
	h := s.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	content, err := info.Marshal()
	if err != nil {
		return nil, err
	}
	ctype := cms.OIDTSTInfo
	if s.contentType != nil {
		ctype = s.contentType
	}
	attrs, err := s.attributes(signingTime)
	if err != nil {
		return nil, err
	}
	si, err := cms.NewSignerInfo(content, cms.SignerOptions{
		Signer: s.Signer, Certificate: s.Certificate, Hash: h, Attributes: attrs, ContentType: ctype,
	})
	if err != nil {
		return nil, fmt.Errorf("tsp: sign token: %w", err)
	}
	// cms.NewSignerInfo names the signer by subjectKeyIdentifier when the
	// certificate has one, but RFC 3161 verifiers built on PKCS #7 (openssl
	// ts) read only issuerAndSerialNumber, which every real token uses. The
	// sid is outside the signed attributes, so it can be replaced.
	si.SID = cms.SignerIdentifier{IssuerRaw: s.Certificate.RawIssuer, Serial: s.Certificate.SerialNumber}
	si.Version = 1
	var certs [][]byte
	if s.IncludeCertificates {
		certs = append(certs, s.Certificate.Raw)
		for _, c := range s.Chain {
			certs = append(certs, c.Raw)
		}
	}
	if s.badSig {
		si.Signature[len(si.Signature)/2] ^= 1
	}
	if s.sha1Digest {
		si.DigestAlgorithm.Algorithm = cms.OIDSHA1
	}
	sd := cms.NewSignedData(ctype, content, si, certs)
	if s.twoSigners {
		sd.SignerInfos = append(sd.SignerInfos, si)
	}
	out, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("tsp: marshal token: %w", err)
	}
	return out, nil
}

// attributes returns the signed attributes besides content-type and
// message-digest, which cms.NewSignerInfo adds.
func (s *TokenSigner) attributes(signingTime time.Time) ([]cms.Attribute, error) {
	st, err := cms.MarshalSigningTime(signingTime)
	if err != nil {
		return nil, fmt.Errorf("tsp: %w", err)
	}
	attrs := []cms.Attribute{{Type: cms.OIDSigningTime, Values: [][]byte{st}}}
	if s.omitESS {
		return attrs, nil
	}
	essCert := s.Certificate
	if s.essCert != nil {
		essCert = s.essCert
	}
	v2, err := cms.MarshalSigningCertificateV2(essCert, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("tsp: %w", err)
	}
	attrs = append(attrs, cms.Attribute{Type: cms.OIDSigningCertificateV2, Values: [][]byte{v2}})
	if s.IncludeESSv1 {
		v1, err := marshalSigningCertificate(essCert)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, cms.Attribute{Type: cms.OIDSigningCertificate, Values: [][]byte{v1}})
	}
	return attrs, nil
}

// marshalSigningCertificate returns an ESS signing-certificate (v1) value
// naming cert (RFC 2634 section 5.4): one ESSCertID with the SHA-1 hash of
// the certificate and its issuerSerial. internal/cms builds only v2.
func marshalSigningCertificate(cert *x509.Certificate) ([]byte, error) {
	sum := sha1.Sum(cert.Raw)
	out, err := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificate
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertID
					b.AddASN1OctetString(sum[:])
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
							b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
								b.AddBytes(cert.RawIssuer)
							})
						})
						b.AddASN1BigInt(cert.SerialNumber)
					})
				})
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tsp: marshal signing-certificate: %w", err)
	}
	return out, nil
}
