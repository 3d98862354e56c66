package der

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// nullElement is the DER NULL (05 00), the parameters of rsaEncryption and of
// the sha*WithRSAEncryption algorithms.
var nullElement = []byte{0x05, 0x00}

// ReadAlgorithmIdentifier reads an AlgorithmIdentifier (RFC 5280 4.1.1.2):
// SEQUENCE { algorithm OID, parameters ANY OPTIONAL }. The parameters keep
// their raw bytes in Parameters.FullBytes, so that AddAlgorithmIdentifier
// writes back exactly what was read; absent parameters leave Parameters zero.
func ReadAlgorithmIdentifier(s *cryptobyte.String) (pkix.AlgorithmIdentifier, bool) {
	var seq cryptobyte.String
	var ai pkix.AlgorithmIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&ai.Algorithm) {
		return pkix.AlgorithmIdentifier{}, false
	}
	if seq.Empty() {
		return ai, true
	}
	tag, raw, content, ok := ReadElement(&seq)
	if !ok || !seq.Empty() {
		return pkix.AlgorithmIdentifier{}, false
	}
	ai.Parameters = asn1.RawValue{
		Class:      int(tag) >> 6,
		Tag:        int(tag & 0x1f),
		IsCompound: tag&0x20 != 0,
		Bytes:      content,
		FullBytes:  raw,
	}
	return ai, true
}

// AddAlgorithmIdentifier writes a. Parameters are written from FullBytes when
// set, else from Class, Tag, IsCompound and Bytes unless all are zero (which
// means absent). asn1.NullRawValue therefore writes 05 00.
func AddAlgorithmIdentifier(b *cryptobyte.Builder, a pkix.AlgorithmIdentifier) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(a.Algorithm)
		p := a.Parameters
		switch {
		case len(p.FullBytes) > 0:
			if !IsElement(p.FullBytes) {
				b.SetError(errors.New("der: algorithm parameters are not one DER element"))
				return
			}
			b.AddBytes(p.FullBytes)
		case p.Class != 0 || p.Tag != 0 || p.IsCompound || len(p.Bytes) > 0:
			if p.Class < 0 || p.Class > 3 || p.Tag < 0 || p.Tag >= 0x1f {
				b.SetError(errors.New("der: algorithm parameters have an unsupported tag"))
				return
			}
			t := cbasn1.Tag(p.Class<<6 | p.Tag)
			if p.IsCompound {
				t = t.Constructed()
			}
			b.AddASN1(t, func(b *cryptobyte.Builder) { b.AddBytes(p.Bytes) })
		}
	})
}

// ParamsAbsentOrNull reports whether the parameters of a are absent or a DER
// NULL, the two forms RFC 4055 and RFC 5754 readers must accept for the RSA
// and SHA-2 algorithm identifiers.
func ParamsAbsentOrNull(a pkix.AlgorithmIdentifier) bool {
	p := a.Parameters
	if len(p.FullBytes) > 0 {
		return bytes.Equal(p.FullBytes, nullElement)
	}
	if p.Class == 0 && p.Tag == 0 && !p.IsCompound && len(p.Bytes) == 0 {
		return true
	}
	return p.Class == 0 && p.Tag == asn1.TagNull && !p.IsCompound && len(p.Bytes) == 0
}

// ParamsAbsent reports whether a carries no parameters at all.
func ParamsAbsent(a pkix.AlgorithmIdentifier) bool {
	p := a.Parameters
	return len(p.FullBytes) == 0 && p.Class == 0 && p.Tag == 0 && !p.IsCompound && len(p.Bytes) == 0
}

// EqualAlgorithmIdentifier reports whether a and b encode identically.
func EqualAlgorithmIdentifier(a, b pkix.AlgorithmIdentifier) bool {
	ea, err1 := Marshal(func(bb *cryptobyte.Builder) { AddAlgorithmIdentifier(bb, a) })
	eb, err2 := Marshal(func(bb *cryptobyte.Builder) { AddAlgorithmIdentifier(bb, b) })
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}
