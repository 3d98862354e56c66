package cms

import (
	"encoding/asn1"
	"fmt"
	"slices"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Attribute is one CMS attribute (RFC 5652 5.3): a type and its SET OF
// values, each value kept as its complete raw DER element.
type Attribute struct {
	// Type is the attribute type OID.
	Type asn1.ObjectIdentifier
	// Values are the raw DER encodings of the values, in the order
	// received (or given).
	Values [][]byte
}

// Tags of the IMPLICIT attribute fields of a SignerInfo.
var (
	tagSignedAttrs   = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagUnsignedAttrs = cbasn1.Tag(1).ContextSpecific().Constructed()
)

// parseAttributes reads the content of a SET OF Attribute. It refuses an
// empty set (RFC 5652: SIZE (1..MAX)) and more than maxAttributes.
func parseAttributes(content cryptobyte.String) ([]Attribute, error) {
	if content.Empty() {
		return nil, fmt.Errorf("empty attribute set: %w", ErrMalformed)
	}
	var attrs []Attribute
	for !content.Empty() {
		if len(attrs) == maxAttributes {
			return nil, fmt.Errorf("more than %d attributes: %w", maxAttributes, ErrLimit)
		}
		var seq, values cryptobyte.String
		var a Attribute
		if !content.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.Type) ||
			!seq.ReadASN1(&values, cbasn1.SET) || !seq.Empty() {
			return nil, fmt.Errorf("attribute %d: %w", len(attrs), ErrMalformed)
		}
		for !values.Empty() {
			if len(a.Values) == maxAttributeValues {
				return nil, fmt.Errorf("attribute %q has more than %d values: %w", a.Type.String(), maxAttributeValues, ErrLimit)
			}
			_, raw, _, ok := der.ReadElement(&values)
			if !ok {
				return nil, fmt.Errorf("a value of attribute %q: %w", a.Type.String(), ErrMalformed)
			}
			a.Values = append(a.Values, raw)
		}
		attrs = append(attrs, a)
	}
	return attrs, nil
}

// addAttributes writes attrs as a SET OF Attribute under tag. With sorted,
// the attributes and each attribute's values are put in DER order (X.690
// 11.6); without, they are written in the order given (which reproduces
// what was parsed).
func addAttributes(b *cryptobyte.Builder, tag cbasn1.Tag, attrs []Attribute, sorted bool) {
	var encs [][]byte
	for _, a := range attrs {
		e, err := marshalAttribute(a, sorted)
		if err != nil {
			b.SetError(err)
			return
		}
		encs = append(encs, e)
	}
	if sorted {
		der.AddSetOf(b, tag, encs)
	} else {
		der.AddSequenceOf(b, tag, encs)
	}
}

// marshalAttribute encodes one Attribute, checking that each value is one
// DER element.
func marshalAttribute(a Attribute, sorted bool) ([]byte, error) {
	for _, v := range a.Values {
		if !der.IsElement(v) {
			return nil, fmt.Errorf("a value of attribute %q is not one DER element: %w", a.Type.String(), ErrMalformed)
		}
	}
	b, err := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(a.Type)
			if sorted {
				der.AddSetOf(b, cbasn1.SET, a.Values)
			} else {
				der.AddSequenceOf(b, cbasn1.SET, a.Values)
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("attribute %q: %w: %w", a.Type.String(), ErrMalformed, err)
	}
	return b, nil
}

// findAttrs returns every attribute of type oid, in order.
func findAttrs(attrs []Attribute, oid asn1.ObjectIdentifier) []Attribute {
	var out []Attribute
	for _, a := range attrs {
		if a.Type.Equal(oid) {
			out = append(out, a)
		}
	}
	return out
}

// singleValue returns the one value of the one attribute of type oid, or
// false when there are none, several attributes, or several values.
func singleValue(attrs []Attribute, oid asn1.ObjectIdentifier) ([]byte, bool) {
	found := findAttrs(attrs, oid)
	if len(found) != 1 || len(found[0].Values) != 1 {
		return nil, false
	}
	return found[0].Values[0], true
}

// cloneAttribute copies a's slices (not the value bytes, which are never
// modified in place).
func cloneAttribute(a Attribute) Attribute {
	return Attribute{Type: slices.Clone(a.Type), Values: slices.Clone(a.Values)}
}
