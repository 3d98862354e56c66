// Package der holds the small DER helpers that the CMS and timestamp code
// share, on top of golang.org/x/crypto/cryptobyte: reading a TLV while
// keeping its raw bytes (anything signed is verified over the bytes as
// received), DER SET OF sorting (X.690 11.6), AlgorithmIdentifier, OID and
// time (UTCTime, GeneralizedTime with fractional seconds) encoding.
//
// Everything here reads untrusted bytes: readers report failure and never
// panic; cryptobyte already refuses indefinite and non-minimal lengths,
// high tag numbers and non-minimal INTEGER and OID encodings.
package der

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ReadElement reads one TLV of any tag from s. It returns the tag, the whole
// element (header and content, as received) and its content.
func ReadElement(s *cryptobyte.String) (tag cbasn1.Tag, raw, content cryptobyte.String, ok bool) {
	if !s.ReadAnyASN1Element(&raw, &tag) {
		return 0, nil, nil, false
	}
	c := raw
	var t cbasn1.Tag
	if !c.ReadAnyASN1(&content, &t) {
		return 0, nil, nil, false
	}
	return tag, raw, content, true
}

// ReadTagged reads one TLV with the given tag from s, returning the whole
// element as received and its content.
func ReadTagged(s *cryptobyte.String, tag cbasn1.Tag) (raw, content cryptobyte.String, ok bool) {
	if !s.ReadASN1Element(&raw, tag) {
		return nil, nil, false
	}
	c := raw
	if !c.ReadASN1(&content, tag) {
		return nil, nil, false
	}
	return raw, content, true
}

// IsElement reports whether b is exactly one well-formed DER TLV (header and
// length only; the content is not descended into).
func IsElement(b []byte) bool {
	s := cryptobyte.String(b)
	var e cryptobyte.String
	var t cbasn1.Tag
	return s.ReadAnyASN1Element(&e, &t) && s.Empty()
}

// SortSetOf sorts the encodings of the components of a SET OF into DER order
// (X.690 11.6: ascending as octet strings, the shorter padded with trailing
// zero octets). It sorts in place and returns elems.
func SortSetOf(elems [][]byte) [][]byte {
	slices.SortStableFunc(elems, compareSetOf)
	return elems
}

// IsSortedSetOf reports whether elems are in DER SET OF order.
func IsSortedSetOf(elems [][]byte) bool {
	return slices.IsSortedFunc(elems, compareSetOf)
}

// compareSetOf orders two encodings as X.690 11.6 does: a proper prefix
// padded with zeros equals the longer string when the rest of the longer one
// is all zero octets.
func compareSetOf(a, b []byte) int {
	n := min(len(a), len(b))
	if c := bytes.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	rest, sign := b[n:], -1
	if len(a) > len(b) {
		rest, sign = a[n:], 1
	}
	for _, x := range rest {
		if x != 0 {
			return sign
		}
	}
	return 0
}

// AddSetOf writes elems (each a complete DER element) as a SET OF with the
// given tag (cbasn1.SET, or an IMPLICIT context tag), sorted into DER order.
// elems itself is not reordered.
func AddSetOf(b *cryptobyte.Builder, tag cbasn1.Tag, elems [][]byte) {
	sorted := SortSetOf(slices.Clone(elems))
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		for _, e := range sorted {
			b.AddBytes(e)
		}
	})
}

// AddSequenceOf writes elems (each a complete DER element) in the given order
// under tag: a SEQUENCE OF, or a SET OF whose order must be kept as received.
func AddSequenceOf(b *cryptobyte.Builder, tag cbasn1.Tag, elems [][]byte) {
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		for _, e := range elems {
			b.AddBytes(e)
		}
	})
}

// Marshal runs f on a fresh builder and returns the bytes it wrote.
func Marshal(f func(b *cryptobyte.Builder)) ([]byte, error) {
	var b cryptobyte.Builder
	f(&b)
	return b.Bytes()
}

// MarshalSize is Marshal into a buffer of capacity size, the expected
// length of the output (re-encoding a parsed structure to check that it
// was DER), so that the builder does not grow and copy as it writes.
func MarshalSize(size int, f func(b *cryptobyte.Builder)) ([]byte, error) {
	b := cryptobyte.NewBuilder(make([]byte, 0, size))
	f(b)
	return b.Bytes()
}

// ParseOID parses a complete DER OBJECT IDENTIFIER element.
func ParseOID(b []byte) (asn1.ObjectIdentifier, error) {
	s := cryptobyte.String(b)
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1ObjectIdentifier(&oid) || !s.Empty() {
		return nil, errors.New("der: malformed object identifier")
	}
	return oid, nil
}

// MarshalOID returns the DER OBJECT IDENTIFIER element for oid.
func MarshalOID(oid asn1.ObjectIdentifier) ([]byte, error) {
	b, err := Marshal(func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
	if err != nil {
		return nil, fmt.Errorf("der: invalid object identifier %q: %w", oid.String(), err)
	}
	return b, nil
}
