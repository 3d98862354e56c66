package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CheckSignature verifies si over content with cert's public key (RFC 5652
// 5.4, 5.6). content is the eContent for a signer of a SignedData, or the
// countersigned SignerInfo's Signature for a countersignature (RFC 5652
// 11.4).
//
// With signed attributes, there must be exactly one message-digest attribute
// with one value, equal to the digest of content, and the signature is
// checked over RawSignedAttrs with only its tag byte changed to SET (0x31):
// the attributes are never re-encoded, because real signers' order differs.
// Without signed attributes the signature is over content itself.
//
// Accepted: digest SHA-256/384/512; RSA PKCS#1 v1.5 as rsaEncryption or
// sha*WithRSAEncryption (parameters absent or NULL; the hash in the OID must
// be the digestAlgorithm's); ecdsa-with-SHA* (parameters absent). Errors wrap
// ErrUnsupportedAlgorithm, ErrMessageDigestAttribute, ErrDigestMismatch or
// ErrSignatureInvalid. CheckSignature does not look at the content-type
// attribute: see CheckContentType and SignedData.CheckSignerInfo.
func (si *SignerInfo) CheckSignature(cert *x509.Certificate, content []byte) error {
	if err := si.checkSignature(cert, content); err != nil {
		return fmt.Errorf("cms: %w", err)
	}
	return nil
}

func (si *SignerInfo) checkSignature(cert *x509.Certificate, content []byte) error {
	if cert == nil {
		return fmt.Errorf("no certificate: %w", ErrSignatureInvalid)
	}
	h, err := si.signatureHash()
	if err != nil {
		return err
	}
	kind, err := si.signatureKind(h)
	if err != nil {
		return err
	}
	signed := content
	if si.RawSignedAttrs != nil {
		attrs, err := si.signedAttrsFromRaw()
		if err != nil {
			return err
		}
		md, ok := singleValue(attrs, OIDMessageDigest)
		if !ok {
			return fmt.Errorf("need exactly one message-digest attribute with one value: %w", ErrMessageDigestAttribute)
		}
		s := cryptobyte.String(md)
		var want cryptobyte.String
		if !s.ReadASN1(&want, cbasn1.OCTET_STRING) || !s.Empty() {
			return fmt.Errorf("message-digest value is not an OCTET STRING: %w", ErrMessageDigestAttribute)
		}
		got := digest(h, content)
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return ErrDigestMismatch
		}
		// RFC 5652 5.4: the DER of the SET OF, i.e. the received bytes with
		// the IMPLICIT [0] tag replaced by the SET tag.
		signed = bytes.Clone(si.RawSignedAttrs)
		signed[0] = byte(cbasn1.SET)
	}
	return verifyWith(cert, kind, h, digest(h, signed), si.Signature)
}

// signatureHash returns the digestAlgorithm's hash, refusing what may not
// digest a signature.
func (si *SignerInfo) signatureHash() (crypto.Hash, error) {
	h, ok := HashFromOID(si.DigestAlgorithm.Algorithm)
	if !ok || !signatureHash(h) || !h.Available() {
		return 0, fmt.Errorf("digest algorithm %q: %w", si.DigestAlgorithm.Algorithm.String(), ErrUnsupportedAlgorithm)
	}
	if !der.ParamsAbsentOrNull(si.DigestAlgorithm) {
		return 0, fmt.Errorf("digest algorithm parameters are neither absent nor NULL: %w", ErrUnsupportedAlgorithm)
	}
	return h, nil
}

// signatureKind checks the signatureAlgorithm against the digest h and
// returns the key family it needs.
func (si *SignerInfo) signatureKind(h crypto.Hash) (sigKind, error) {
	alg := si.SignatureAlgorithm
	for _, a := range sigAlgs {
		if !a.oid.Equal(alg.Algorithm) {
			continue
		}
		if a.hash != 0 && a.hash != h {
			return 0, fmt.Errorf("signature algorithm %q does not use the digest algorithm's hash: %w", alg.Algorithm.String(), ErrUnsupportedAlgorithm)
		}
		// RFC 4055 5 / RFC 3370 3.2: NULL or absent for RSA; RFC 5758
		// 3.2: absent for ECDSA.
		if (a.kind == kindRSA && !der.ParamsAbsentOrNull(alg)) || (a.kind == kindECDSA && !der.ParamsAbsent(alg)) {
			return 0, fmt.Errorf("signature algorithm %q has unexpected parameters: %w", alg.Algorithm.String(), ErrUnsupportedAlgorithm)
		}
		return a.kind, nil
	}
	return 0, fmt.Errorf("signature algorithm %q: %w", alg.Algorithm.String(), ErrUnsupportedAlgorithm)
}

// verifyWith checks sig over the digest d with the certificate's key.
func verifyWith(cert *x509.Certificate, kind sigKind, h crypto.Hash, d, sig []byte) error {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if kind != kindRSA {
			return fmt.Errorf("an RSA key cannot check an ECDSA signature: %w", ErrUnsupportedAlgorithm)
		}
		if pub.N == nil || pub.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key shorter than %d bits: %w", minRSABits, ErrUnsupportedAlgorithm)
		}
		if err := rsa.VerifyPKCS1v15(pub, h, d, sig); err != nil {
			return ErrSignatureInvalid
		}
	case *ecdsa.PublicKey:
		if kind != kindECDSA {
			return fmt.Errorf("an ECDSA key cannot check an RSA signature: %w", ErrUnsupportedAlgorithm)
		}
		if !ecdsa.VerifyASN1(pub, d, sig) {
			return ErrSignatureInvalid
		}
	default:
		return fmt.Errorf("public key type %T: %w", cert.PublicKey, ErrUnsupportedAlgorithm)
	}
	return nil
}

// digest returns h(b).
func digest(h crypto.Hash, b []byte) []byte {
	w := h.New()
	w.Write(b)
	return w.Sum(nil)
}

// CheckContentType checks the content-type signed attribute (RFC 5652 5.3,
// 11.1). With want non-nil (a signer of a SignedData whose eContentType is
// want) there must be exactly one such attribute with one value equal to
// want; without signed attributes only id-data content is allowed.
//
// With want nil (a countersignature), RFC 5652 11.4 forbids the attribute,
// but every real countersignature in the corpus (nuget.org's, NuGet.Client's
// test signatures, other feeds') carries one content-type of id-data, as
// Windows CryptoAPI writes it. So: absent, or exactly one with the one value
// id-data; anything else is refused. Errors wrap ErrContentTypeAttribute.
func (si *SignerInfo) CheckContentType(want asn1.ObjectIdentifier) error {
	signed, err := si.signedAttrsFromRaw()
	if err != nil {
		return fmt.Errorf("cms: %w", err)
	}
	attrs := findAttrs(signed, OIDContentType)
	switch {
	case want == nil:
		if len(attrs) == 0 {
			return nil
		}
		v, ok := singleValue(signed, OIDContentType)
		if !ok {
			return fmt.Errorf("cms: a countersignature carries several content-type values: %w", ErrContentTypeAttribute)
		}
		if got, err := der.ParseOID(v); err != nil || !got.Equal(OIDData) {
			return fmt.Errorf("cms: a countersignature carries a content-type other than id-data: %w", ErrContentTypeAttribute)
		}
	case si.RawSignedAttrs == nil:
		if !want.Equal(OIDData) {
			return fmt.Errorf("cms: content type %q needs signed attributes: %w", want.String(), ErrContentTypeAttribute)
		}
	default:
		v, ok := singleValue(signed, OIDContentType)
		if !ok {
			return fmt.Errorf("cms: need exactly one content-type attribute with one value: %w", ErrContentTypeAttribute)
		}
		got, err := der.ParseOID(v)
		if err != nil || !got.Equal(want) {
			return fmt.Errorf("cms: content-type attribute does not name %q: %w", want.String(), ErrContentTypeAttribute)
		}
	}
	return nil
}

// signedAttrsFromRaw parses RawSignedAttrs afresh, so that checks read the
// attributes the signature covers, whatever became of the SignedAttrs view.
func (si *SignerInfo) signedAttrsFromRaw() ([]Attribute, error) {
	if si.RawSignedAttrs == nil {
		return nil, nil
	}
	s := cryptobyte.String(si.RawSignedAttrs)
	var content cryptobyte.String
	if !s.ReadASN1(&content, tagSignedAttrs) || !s.Empty() {
		return nil, fmt.Errorf("RawSignedAttrs is not one [0] element: %w", ErrMalformed)
	}
	attrs, err := parseAttributes(content)
	if err != nil {
		return nil, fmt.Errorf("signed attributes: %w", err)
	}
	return attrs, nil
}
