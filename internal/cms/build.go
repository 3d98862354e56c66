package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SignerOptions say how NewSignerInfo signs.
type SignerOptions struct {
	// Signer holds the private key; its public key must be Certificate's.
	// RSA keys sign PKCS#1 v1.5, ECDSA keys ASN.1 ECDSA.
	Signer crypto.Signer
	// Certificate is the signer's certificate; it sets the signer
	// identifier.
	Certificate *x509.Certificate
	// Hash is the digest algorithm: SHA-256, SHA-384 or SHA-512.
	Hash crypto.Hash
	// Attributes are the signed attributes besides message-digest and
	// content-type, which NewSignerInfo adds itself: signing-time, ESS,
	// commitment type, NuGet attributes... One attribute per type, each
	// with at least one value.
	Attributes []Attribute
	// Countersignature marks a countersignature (RFC 5652 11.4): the
	// content is the countersigned SignerInfo's signature value, and no
	// content-type attribute is written (RFC 5652 11.1).
	Countersignature bool
	// ContentType is the value of the content-type attribute of a
	// non-countersignature (id-data for NuGet, id-ct-TSTInfo for a token);
	// nil means id-data. It must be nil for a countersignature.
	ContentType asn1.ObjectIdentifier
}

// NewSignerInfo signs content (RFC 5652 5.4, 5.5). It adds message-digest
// and, unless o.Countersignature, content-type to o.Attributes, puts the
// SET OF into DER order, and identifies the signer by subjectKeyIdentifier
// (version 3) when the certificate has one, else by issuer and serial
// (version 1). The digestAlgorithm is written without parameters and the
// signatureAlgorithm as rsaEncryption with NULL parameters (as .NET does) or
// ecdsa-with-SHA*. The signature is checked with the certificate's public
// key before returning: a key that does not match is ErrKeyMismatch.
func NewSignerInfo(content []byte, o SignerOptions) (*SignerInfo, error) {
	si, err := newSignerInfo(content, o)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	return si, nil
}

func newSignerInfo(content []byte, o SignerOptions) (*SignerInfo, error) {
	if o.Signer == nil || o.Certificate == nil {
		return nil, fmt.Errorf("a signer and its certificate are required: %w", ErrInvalidOptions)
	}
	if !signatureHash(o.Hash) || !o.Hash.Available() {
		return nil, fmt.Errorf("hash %v is not SHA-256, SHA-384 or SHA-512: %w", o.Hash, ErrUnsupportedAlgorithm)
	}
	if k, ok := o.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(o.Certificate.PublicKey) {
		return nil, ErrKeyMismatch
	}
	sigAlg, err := signatureAlgorithm(o.Certificate, o.Hash)
	if err != nil {
		return nil, err
	}
	attrs, err := signedAttributes(content, o)
	if err != nil {
		return nil, err
	}
	var encs [][]byte
	for _, a := range attrs {
		e, err := marshalAttribute(a, true)
		if err != nil {
			return nil, err
		}
		encs = append(encs, e)
	}
	set, err := der.Marshal(func(b *cryptobyte.Builder) { der.AddSetOf(b, cbasn1.SET, encs) })
	if err != nil {
		return nil, fmt.Errorf("encoding signed attributes: %w", err)
	}
	sig, err := o.Signer.Sign(rand.Reader, digest(o.Hash, set), o.Hash)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	hashOID, _ := OIDFromHash(o.Hash)
	si := &SignerInfo{
		Version:            1,
		DigestAlgorithm:    pkix.AlgorithmIdentifier{Algorithm: hashOID},
		RawSignedAttrs:     append([]byte{byte(tagSignedAttrs)}, set[1:]...),
		SignatureAlgorithm: sigAlg,
		Signature:          sig,
	}
	if ski := o.Certificate.SubjectKeyId; len(ski) > 0 {
		si.Version, si.SID.SubjectKeyID = 3, slices.Clone(ski)
	} else {
		si.SID = SignerIdentifier{IssuerRaw: slices.Clone(o.Certificate.RawIssuer), Serial: o.Certificate.SerialNumber}
	}
	// The signed attributes as a reader sees them, in DER order.
	s := cryptobyte.String(set)
	var content2 cryptobyte.String
	s.ReadASN1(&content2, cbasn1.SET)
	if si.SignedAttrs, err = parseAttributes(content2); err != nil {
		return nil, err
	}
	if si.Raw, err = si.encode(true); err != nil {
		return nil, err
	}
	if err := si.checkSignature(o.Certificate, content); err != nil {
		return nil, fmt.Errorf("the new signature does not verify with the certificate: %w: %w", ErrKeyMismatch, err)
	}
	return si, nil
}

// signatureAlgorithm picks the signatureAlgorithm for cert's key type.
func signatureAlgorithm(cert *x509.Certificate, h crypto.Hash) (pkix.AlgorithmIdentifier, error) {
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: OIDRSAEncryption, Parameters: asn1.NullRawValue}, nil
	case *ecdsa.PublicKey:
		oid, _ := ecdsaSigOID(h)
		return pkix.AlgorithmIdentifier{Algorithm: oid}, nil
	}
	return pkix.AlgorithmIdentifier{}, fmt.Errorf("public key type %T: %w", cert.PublicKey, ErrUnsupportedAlgorithm)
}

// signedAttributes returns o.Attributes plus content-type (unless
// countersigning) and message-digest, refusing duplicates and empty ones.
func signedAttributes(content []byte, o SignerOptions) ([]Attribute, error) {
	var attrs []Attribute
	if o.Countersignature {
		if o.ContentType != nil {
			return nil, fmt.Errorf("a countersignature has no content type (RFC 5652 11.1): %w", ErrInvalidOptions)
		}
	} else {
		ct := o.ContentType
		if ct == nil {
			ct = OIDData
		}
		v, err := der.MarshalOID(ct)
		if err != nil {
			return nil, fmt.Errorf("content type: %w", err)
		}
		attrs = append(attrs, Attribute{Type: OIDContentType, Values: [][]byte{v}})
	}
	md, err := der.Marshal(func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest(o.Hash, content)) })
	if err != nil {
		return nil, err
	}
	attrs = append(attrs, Attribute{Type: OIDMessageDigest, Values: [][]byte{md}})
	for _, a := range o.Attributes {
		if a.Type.Equal(OIDContentType) || a.Type.Equal(OIDMessageDigest) {
			return nil, fmt.Errorf("attribute %q is added by NewSignerInfo: %w", a.Type.String(), ErrInvalidOptions)
		}
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("attribute %q has no value: %w", a.Type.String(), ErrInvalidOptions)
		}
		if len(findAttrs(attrs, a.Type)) > 0 {
			return nil, fmt.Errorf("attribute %q is given twice: %w", a.Type.String(), ErrInvalidOptions)
		}
		attrs = append(attrs, cloneAttribute(a))
	}
	if len(attrs) > maxAttributes {
		return nil, fmt.Errorf("more than %d signed attributes: %w", maxAttributes, ErrLimit)
	}
	return attrs, nil
}

// NewSignedData assembles a SignedData with one signer (RFC 5652 5.1):
// content is attached unless nil, certs are the bag (byte-identical
// duplicates dropped), digestAlgorithms is the signer's, and the version
// follows RFC 5652 5.1. Marshal writes it with every SET OF in DER order.
func NewSignedData(eContentType asn1.ObjectIdentifier, content []byte, si *SignerInfo, certs [][]byte) *SignedData {
	sd := &SignedData{
		DigestAlgorithms: []pkix.AlgorithmIdentifier{si.DigestAlgorithm},
		EContentType:     slices.Clone(eContentType),
		EContent:         slices.Clone(content),
		SignerInfos:      []*SignerInfo{si},
	}
	if content != nil && sd.EContent == nil {
		sd.EContent = []byte{}
	}
	sd.AddCertificates(certs...)
	sd.Version = sd.computeVersion()
	return sd
}

// computeVersion applies RFC 5652 5.1: 5 with "other" certificates or CRLs,
// 4 with v2 attribute certificates, 3 with v1 attribute certificates, a
// version-3 SignerInfo or content other than id-data, else 1.
func (sd *SignedData) computeVersion() int {
	var other, v2attr, v1attr bool
	for _, c := range sd.RawCertificates {
		if len(c) == 0 {
			continue
		}
		switch cbasn1.Tag(c[0]) {
		case cbasn1.Tag(3).ContextSpecific().Constructed():
			other = true
		case cbasn1.Tag(2).ContextSpecific().Constructed():
			v2attr = true
		case cbasn1.Tag(1).ContextSpecific().Constructed():
			v1attr = true
		}
	}
	switch {
	case other:
		return 5
	case v2attr:
		return 4
	case v1attr || !sd.EContentType.Equal(OIDData):
		return 3
	}
	for _, si := range sd.SignerInfos {
		if si.Version == 3 {
			return 3
		}
	}
	return 1
}
