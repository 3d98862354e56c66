package tsp

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/der"
)

// Bounds on what the parsers accept. Each keeps a hostile input from costing
// more than a legitimate one ever needs.
const (
	// maxIntegerBytes bounds nonces and serial numbers. RFC 3161 section 2.4.2
	// asks TSAs to handle serials up to 160 bits and .NET sends 32-byte
	// nonces; 64 bytes leaves room for anything sane.
	maxIntegerBytes = 64
	// maxExtensions bounds the extensions of a request or TSTInfo. Real TSAs
	// send none or one or two.
	maxExtensions = 32
	// maxStatusStrings bounds the PKIFreeText of a response status.
	maxStatusStrings = 16
)

// Extension is an X.509-style extension (RFC 5280 section 4.1) as carried by
// a TimeStampReq or a TSTInfo.
type Extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool
	Value    []byte // the contents of extnValue
}

// readExtensions reads the contents of an Extensions SEQUENCE OF.
func readExtensions(s cryptobyte.String) ([]Extension, error) {
	var exts []Extension
	for !s.Empty() {
		if len(exts) == maxExtensions {
			return nil, fmt.Errorf("more than %d extensions", maxExtensions)
		}
		var e Extension
		var ext, val cryptobyte.String
		if !s.ReadASN1(&ext, cbasn1.SEQUENCE) ||
			!ext.ReadASN1ObjectIdentifier(&e.ID) ||
			!readOptionalBoolean(&ext, &e.Critical) ||
			!ext.ReadASN1(&val, cbasn1.OCTET_STRING) || !ext.Empty() {
			return nil, errors.New("malformed extension")
		}
		e.Value = append([]byte(nil), val...)
		exts = append(exts, e)
	}
	return exts, nil
}

// addExtensions writes the elements of an Extensions SEQUENCE OF.
func addExtensions(b *cryptobyte.Builder, exts []Extension) {
	for _, e := range exts {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(e.ID)
			if e.Critical {
				b.AddASN1Boolean(true)
			}
			b.AddASN1OctetString(e.Value)
		})
	}
}

// readBoundedInteger reads an INTEGER of at most maxIntegerBytes content
// bytes. cryptobyte rejects non-minimal encodings.
func readBoundedInteger(s *cryptobyte.String, what string) (*big.Int, error) {
	var raw cryptobyte.String
	if !s.PeekASN1Tag(cbasn1.INTEGER) {
		return nil, fmt.Errorf("missing %s", what)
	}
	peek := *s
	if !peek.ReadASN1(&raw, cbasn1.INTEGER) {
		return nil, fmt.Errorf("malformed %s", what)
	}
	if len(raw) > maxIntegerBytes {
		return nil, fmt.Errorf("%s longer than %d bytes", what, maxIntegerBytes)
	}
	n := new(big.Int)
	if !s.ReadASN1Integer(n) {
		return nil, fmt.Errorf("malformed %s", what)
	}
	return n, nil
}

// readGeneralizedTime reads a GeneralizedTime in the form RFC 3161 section
// 2.4.2 prescribes, YYYYMMDDhhmmss[.s...]Z, keeping any fraction of a second
// (Microsoft's TSA sends milliseconds); internal/der parses it strictly.
func readGeneralizedTime(s *cryptobyte.String) (time.Time, error) {
	var raw cryptobyte.String
	if !s.ReadASN1(&raw, cbasn1.GeneralizedTime) {
		return time.Time{}, errors.New("malformed genTime")
	}
	t, err := der.ParseGeneralizedTime(raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("genTime: %w", err)
	}
	return t, nil
}

// formatGeneralizedTime formats t as a GeneralizedTime for messages.
func formatGeneralizedTime(t time.Time) string {
	s, err := der.FormatGeneralizedTime(t)
	if err != nil {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// readOptionalBoolean reads a BOOLEAN DEFAULT FALSE that is not tagged
// (cryptobyte's helper expects an explicit tag around it). DER forbids
// encoding the default, but BER-minded encoders do, so FALSE is accepted.
func readOptionalBoolean(s *cryptobyte.String, out *bool) bool {
	*out = false
	if !s.PeekASN1Tag(cbasn1.BOOLEAN) {
		return true
	}
	return s.ReadASN1Boolean(out)
}
