package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"slices"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// tagSKI is the [0] IMPLICIT SubjectKeyIdentifier choice of a
// SignerIdentifier.
var tagSKI = cbasn1.Tag(0).ContextSpecific()

// SignerIdentifier names the signer's certificate (RFC 5652 5.3): either
// issuerAndSerialNumber (IssuerRaw and Serial set) or subjectKeyIdentifier
// (SubjectKeyID set).
type SignerIdentifier struct {
	// IssuerRaw is the issuer Name as received (raw DER).
	IssuerRaw []byte
	// Serial is the certificate serial number.
	Serial *big.Int
	// SubjectKeyID is the subjectKeyIdentifier; non-nil selects that choice.
	SubjectKeyID []byte
}

// Matches reports whether c is the certificate s names: by subject key
// identifier when s uses that choice, else by raw issuer Name and serial.
func (s SignerIdentifier) Matches(c *x509.Certificate) bool {
	if c == nil {
		return false
	}
	if s.SubjectKeyID != nil {
		return len(s.SubjectKeyID) > 0 && bytes.Equal(s.SubjectKeyID, c.SubjectKeyId)
	}
	return s.Serial != nil && c.SerialNumber != nil &&
		bytes.Equal(s.IssuerRaw, c.RawIssuer) && s.Serial.Cmp(c.SerialNumber) == 0
}

// SignerInfo is one signer of a SignedData (RFC 5652 5.3), or a
// countersignature (RFC 5652 11.4). Everything a signature covers is kept as
// received: RawSignedAttrs is what CheckSignature verifies, and Marshal
// writes it back verbatim.
type SignerInfo struct {
	// Raw is the SignerInfo as received by Parse or Countersignatures, or
	// as built by NewSignerInfo.
	Raw []byte
	// Version is the CMSVersion (1 with issuerAndSerialNumber, 3 with
	// subjectKeyIdentifier).
	Version int
	// SID identifies the signer's certificate.
	SID SignerIdentifier
	// DigestAlgorithm digests the content and the signed attributes.
	DigestAlgorithm pkix.AlgorithmIdentifier
	// RawSignedAttrs is the [0] IMPLICIT signedAttrs field exactly as
	// received (tag, length, content); nil when absent.
	RawSignedAttrs []byte
	// SignedAttrs is a parsed, read-only view of RawSignedAttrs in received
	// order. Changing it changes nothing that is marshalled or verified.
	SignedAttrs []Attribute
	// SignatureAlgorithm is the signature algorithm (rsaEncryption for .NET
	// signers).
	SignatureAlgorithm pkix.AlgorithmIdentifier
	// Signature is the signature value.
	Signature []byte
	// UnsignedAttrs holds timestamp tokens and countersignatures. Change it
	// with SetUnsignedAttr, AddUnsignedAttrValue and RemoveUnsignedAttr.
	UnsignedAttrs []Attribute

	// depth is 0 for a SignedData's signer, n+1 for a countersignature of a
	// SignerInfo of depth n.
	depth int
}

// parseSignerInfo parses one SignerInfo element. The result marshals back to
// raw byte for byte: anything that would not (a non-canonical encoding the
// readers accepted) is refused.
func parseSignerInfo(raw []byte, depth int) (*SignerInfo, error) {
	s := cryptobyte.String(raw)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, fmt.Errorf("SignerInfo is not one SEQUENCE: %w", ErrMalformed)
	}
	si := &SignerInfo{Raw: raw, depth: depth}
	if !seq.ReadASN1Integer(&si.Version) || si.Version < 0 || si.Version > 5 {
		return nil, fmt.Errorf("SignerInfo version: %w", ErrMalformed)
	}
	sid, err := readSID(&seq)
	if err != nil {
		return nil, err
	}
	si.SID = sid
	var ok bool
	if si.DigestAlgorithm, ok = der.ReadAlgorithmIdentifier(&seq); !ok {
		return nil, fmt.Errorf("SignerInfo digestAlgorithm: %w", ErrMalformed)
	}
	if seq.PeekASN1Tag(tagSignedAttrs) {
		rawAttrs, content, _ := der.ReadTagged(&seq, tagSignedAttrs)
		if rawAttrs == nil {
			return nil, fmt.Errorf("signedAttrs: %w", ErrMalformed)
		}
		if si.SignedAttrs, err = parseAttributes(content); err != nil {
			return nil, fmt.Errorf("signed attributes: %w", err)
		}
		si.RawSignedAttrs = rawAttrs
	}
	if si.SignatureAlgorithm, ok = der.ReadAlgorithmIdentifier(&seq); !ok {
		return nil, fmt.Errorf("SignerInfo signatureAlgorithm: %w", ErrMalformed)
	}
	var sig cryptobyte.String
	if !seq.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, fmt.Errorf("SignerInfo signature: %w", ErrMalformed)
	}
	si.Signature = sig
	if seq.PeekASN1Tag(tagUnsignedAttrs) {
		var content cryptobyte.String
		if !seq.ReadASN1(&content, tagUnsignedAttrs) {
			return nil, fmt.Errorf("unsignedAttrs: %w", ErrMalformed)
		}
		if si.UnsignedAttrs, err = parseAttributes(content); err != nil {
			return nil, fmt.Errorf("unsigned attributes: %w", err)
		}
	}
	if !seq.Empty() {
		return nil, fmt.Errorf("trailing data in SignerInfo: %w", ErrMalformed)
	}
	enc, err := si.encode(false)
	if err != nil || !bytes.Equal(enc, raw) {
		return nil, fmt.Errorf("SignerInfo is not DER: %w", ErrMalformed)
	}
	return si, nil
}

// readSID reads the sid CHOICE.
func readSID(s *cryptobyte.String) (SignerIdentifier, error) {
	var sid SignerIdentifier
	switch {
	case s.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, name cryptobyte.String
		sid.Serial = new(big.Int)
		if !s.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&name, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(sid.Serial) || !ias.Empty() {
			return sid, fmt.Errorf("issuerAndSerialNumber: %w", ErrMalformed)
		}
		sid.IssuerRaw = name
	case s.PeekASN1Tag(tagSKI):
		var ski cryptobyte.String
		if !s.ReadASN1(&ski, tagSKI) || ski.Empty() {
			return sid, fmt.Errorf("subjectKeyIdentifier: %w", ErrMalformed)
		}
		sid.SubjectKeyID = ski
	default:
		return sid, fmt.Errorf("unknown SignerIdentifier choice: %w", ErrMalformed)
	}
	return sid, nil
}

// addSID writes the sid CHOICE.
func addSID(b *cryptobyte.Builder, sid SignerIdentifier) {
	if sid.SubjectKeyID != nil {
		b.AddASN1(tagSKI, func(b *cryptobyte.Builder) { b.AddBytes(sid.SubjectKeyID) })
		return
	}
	if sid.Serial == nil || !der.IsElement(sid.IssuerRaw) {
		b.SetError(fmt.Errorf("incomplete issuerAndSerialNumber: %w", ErrMalformed))
		return
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(sid.IssuerRaw)
		b.AddASN1BigInt(sid.Serial)
	})
}

// encode writes si from its fields. sorted puts the unsigned attributes into
// DER order; without it they are written in their current order, which for a
// parsed, unchanged SignerInfo reproduces Raw.
func (si *SignerInfo) encode(sorted bool) ([]byte, error) {
	if si.RawSignedAttrs != nil {
		s := cryptobyte.String(si.RawSignedAttrs)
		var c cryptobyte.String
		if !s.ReadASN1(&c, tagSignedAttrs) || !s.Empty() {
			return nil, fmt.Errorf("RawSignedAttrs is not one [0] element: %w", ErrMalformed)
		}
	}
	b, err := der.MarshalSize(len(si.Raw), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(si.Version))
			addSID(b, si.SID)
			der.AddAlgorithmIdentifier(b, si.DigestAlgorithm)
			b.AddBytes(si.RawSignedAttrs)
			der.AddAlgorithmIdentifier(b, si.SignatureAlgorithm)
			b.AddASN1OctetString(si.Signature)
			if len(si.UnsignedAttrs) > 0 {
				addAttributes(b, tagUnsignedAttrs, si.UnsignedAttrs, sorted)
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("encoding SignerInfo: %w", err)
	}
	return b, nil
}

// Marshal returns the DER SignerInfo. When nothing changed since it was
// parsed or built, that is a copy of Raw; otherwise it is rebuilt from the
// fields, with RawSignedAttrs and Signature verbatim and the unsigned
// attributes in DER order.
func (si *SignerInfo) Marshal() ([]byte, error) {
	return si.marshal(true)
}

// marshal is Marshal; without clone, an unchanged SignerInfo's Raw itself
// is returned, for callers that copy it at once.
func (si *SignerInfo) marshal(clone bool) ([]byte, error) {
	if si.Raw != nil {
		if enc, err := si.encode(false); err == nil && bytes.Equal(enc, si.Raw) {
			if !clone {
				return si.Raw, nil
			}
			return slices.Clone(si.Raw), nil
		}
	}
	b, err := si.encode(true)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	return b, nil
}

// Hash returns the hash the digestAlgorithm names.
func (si *SignerInfo) Hash() (crypto.Hash, error) {
	h, ok := HashFromOID(si.DigestAlgorithm.Algorithm)
	if !ok {
		return 0, fmt.Errorf("cms: digest algorithm %q: %w", si.DigestAlgorithm.Algorithm.String(), ErrUnsupportedAlgorithm)
	}
	return h, nil
}

// SignedAttr returns every signed attribute of type oid, in order.
func (si *SignerInfo) SignedAttr(oid asn1.ObjectIdentifier) []Attribute {
	return findAttrs(si.SignedAttrs, oid)
}

// UnsignedAttr returns every unsigned attribute of type oid, in order.
func (si *SignerInfo) UnsignedAttr(oid asn1.ObjectIdentifier) []Attribute {
	return findAttrs(si.UnsignedAttrs, oid)
}

// SetUnsignedAttr replaces every unsigned attribute of type a.Type with a
// (at the place of the first), or adds a when there is none.
func (si *SignerInfo) SetUnsignedAttr(a Attribute) {
	a = cloneAttribute(a)
	out := make([]Attribute, 0, len(si.UnsignedAttrs)+1)
	placed := false
	for _, x := range si.UnsignedAttrs {
		if !x.Type.Equal(a.Type) {
			out = append(out, x)
		} else if !placed {
			out = append(out, a)
			placed = true
		}
	}
	if !placed {
		out = append(out, a)
	}
	si.UnsignedAttrs = out
}

// AddUnsignedAttrValue adds value (one DER element) to the first unsigned
// attribute of type oid, or adds that attribute with value as its only value.
func (si *SignerInfo) AddUnsignedAttrValue(oid asn1.ObjectIdentifier, value []byte) {
	out := slices.Clone(si.UnsignedAttrs)
	for i, x := range out {
		if x.Type.Equal(oid) {
			out[i] = Attribute{Type: x.Type, Values: append(slices.Clone(x.Values), value)}
			si.UnsignedAttrs = out
			return
		}
	}
	si.UnsignedAttrs = append(out, Attribute{Type: slices.Clone(oid), Values: [][]byte{value}})
}

// RemoveUnsignedAttr removes every unsigned attribute of type oid.
func (si *SignerInfo) RemoveUnsignedAttr(oid asn1.ObjectIdentifier) {
	si.UnsignedAttrs = slices.DeleteFunc(slices.Clone(si.UnsignedAttrs), func(a Attribute) bool { return a.Type.Equal(oid) })
}

// Countersignatures parses the values of every countersignature unsigned
// attribute (RFC 5652 11.4), in order. Each is a SignerInfo over this
// SignerInfo's Signature; check it with CheckSignature(cert, si.Signature).
// To change one, marshal it and put it back with SetUnsignedAttr.
func (si *SignerInfo) Countersignatures() ([]*SignerInfo, error) {
	attrs := si.UnsignedAttr(OIDCounterSignature)
	if len(attrs) == 0 {
		return nil, nil
	}
	if si.depth >= maxCountersignatureDepth {
		return nil, fmt.Errorf("cms: countersignatures nested more than %d deep: %w", maxCountersignatureDepth, ErrLimit)
	}
	var out []*SignerInfo
	for _, a := range attrs {
		for _, v := range a.Values {
			cs, err := parseSignerInfo(v, si.depth+1)
			if err != nil {
				return nil, fmt.Errorf("cms: countersignature %d: %w", len(out), err)
			}
			out = append(out, cs)
		}
	}
	return out, nil
}
