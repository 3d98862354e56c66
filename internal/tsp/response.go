package tsp

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MaxResponseSize bounds a TimeStampResp. Real responses are 3–12 KiB (a
// token with a chain of two or three certificates); 1 MiB is generous and
// keeps a hostile TSA from exhausting memory.
const MaxResponseSize = 1 << 20

// Status is a PKIStatus (RFC 3161 section 2.4.2).
type Status int

// PKIStatus values.
const (
	StatusGranted                Status = 0
	StatusGrantedWithMods        Status = 1
	StatusRejection              Status = 2
	StatusWaiting                Status = 3
	StatusRevocationWarning      Status = 4
	StatusRevocationNotification Status = 5
)

func (s Status) String() string {
	switch s {
	case StatusGranted:
		return "granted"
	case StatusGrantedWithMods:
		return "grantedWithMods"
	case StatusRejection:
		return "rejection"
	case StatusWaiting:
		return "waiting"
	case StatusRevocationWarning:
		return "revocationWarning"
	case StatusRevocationNotification:
		return "revocationNotification"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// FailInfo is a PKIFailureInfo bit set: bit n of the BIT STRING is 1<<n.
type FailInfo uint32

// PKIFailureInfo bits (RFC 3161 section 2.4.2).
const (
	FailBadAlg              FailInfo = 1 << 0  // unrecognized or unsupported algorithm
	FailBadRequest          FailInfo = 1 << 2  // transaction not permitted or supported
	FailBadDataFormat       FailInfo = 1 << 5  // the data submitted has the wrong format
	FailTimeNotAvailable    FailInfo = 1 << 14 // the TSA's time source is not available
	FailUnacceptedPolicy    FailInfo = 1 << 15 // the requested policy is not supported
	FailUnacceptedExtension FailInfo = 1 << 16 // the requested extension is not supported
	FailAddInfoNotAvailable FailInfo = 1 << 17 // additional information not available
	FailSystemFailure       FailInfo = 1 << 25 // the request cannot be handled due to system failure
)

// maxFailInfoBits is the width of FailInfo.
const maxFailInfoBits = 32

var failNames = []struct {
	f    FailInfo
	name string
}{
	{FailBadAlg, "badAlg"}, {FailBadRequest, "badRequest"}, {FailBadDataFormat, "badDataFormat"},
	{FailTimeNotAvailable, "timeNotAvailable"}, {FailUnacceptedPolicy, "unacceptedPolicy"},
	{FailUnacceptedExtension, "unacceptedExtension"}, {FailAddInfoNotAvailable, "addInfoNotAvailable"},
	{FailSystemFailure, "systemFailure"},
}

func (f FailInfo) String() string {
	var names []string
	for _, n := range failNames {
		if f&n.f != 0 {
			names = append(names, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("bits(%#x)", uint32(f)))
	}
	return strings.Join(names, "|")
}

// Response is a TimeStampResp (RFC 3161 section 2.4.2).
type Response struct {
	Status        Status
	StatusStrings []string // PKIFreeText, UTF-8
	FailInfo      FailInfo // zero when absent
	// Token is the DER ContentInfo of the timestamp token, nil when absent.
	Token []byte
}

// Granted reports whether the status carries a token (granted or
// grantedWithMods).
func (r *Response) Granted() bool {
	return r.Status == StatusGranted || r.Status == StatusGrantedWithMods
}

// ParseResponse parses a DER TimeStampResp of at most MaxResponseSize bytes.
// The token is returned as raw bytes; ParseToken reads it.
func ParseResponse(der []byte) (*Response, error) {
	if len(der) > MaxResponseSize {
		return nil, fmt.Errorf("tsp: response of %d bytes exceeds %d", len(der), MaxResponseSize)
	}
	in := cryptobyte.String(der)
	var s, info cryptobyte.String
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("tsp: response is not a DER SEQUENCE")
	}
	if !s.ReadASN1(&info, cbasn1.SEQUENCE) {
		return nil, errors.New("tsp: malformed response status")
	}
	r := &Response{}
	var status int64
	if !info.ReadASN1Int64WithTag(&status, cbasn1.INTEGER) || status < 0 || status > int64(StatusRevocationNotification) {
		return nil, errors.New("tsp: malformed response status value")
	}
	r.Status = Status(status)
	if info.PeekASN1Tag(cbasn1.SEQUENCE) {
		var text cryptobyte.String
		if !info.ReadASN1(&text, cbasn1.SEQUENCE) {
			return nil, errors.New("tsp: malformed response status text")
		}
		for !text.Empty() {
			if len(r.StatusStrings) == maxStatusStrings {
				return nil, fmt.Errorf("tsp: more than %d status strings", maxStatusStrings)
			}
			var str cryptobyte.String
			if !text.ReadASN1(&str, cbasn1.UTF8String) || !utf8.Valid(str) {
				return nil, errors.New("tsp: malformed response status string")
			}
			r.StatusStrings = append(r.StatusStrings, string(str))
		}
	}
	if info.PeekASN1Tag(cbasn1.BIT_STRING) {
		var bits cryptobyte.String
		if !info.ReadASN1(&bits, cbasn1.BIT_STRING) {
			return nil, errors.New("tsp: malformed response failInfo")
		}
		f, err := parseFailInfo(bits)
		if err != nil {
			return nil, err
		}
		r.FailInfo = f
	}
	if !info.Empty() {
		return nil, errors.New("tsp: trailing data in response status")
	}
	if !s.Empty() {
		var tok cryptobyte.String
		if !s.ReadASN1Element(&tok, cbasn1.SEQUENCE) {
			return nil, errors.New("tsp: malformed response token")
		}
		r.Token = append([]byte(nil), tok...)
	}
	if !s.Empty() {
		return nil, errors.New("tsp: trailing data in response")
	}
	return r, nil
}

// parseFailInfo decodes a BIT STRING's contents (unused-bits byte, then the
// bits, most significant first). Bits beyond maxFailInfoBits are refused.
func parseFailInfo(b []byte) (FailInfo, error) {
	if len(b) == 0 || b[0] > 7 || (len(b) == 1 && b[0] != 0) {
		return 0, errors.New("tsp: malformed response failInfo")
	}
	bits := b[1:]
	if len(bits)*8 > maxFailInfoBits {
		return 0, errors.New("tsp: response failInfo too long")
	}
	var f FailInfo
	for i, c := range bits {
		for j := 0; j < 8; j++ {
			if c&(0x80>>j) != 0 {
				f |= 1 << (i*8 + j)
			}
		}
	}
	return f, nil
}

// Marshal returns the DER of the response. FailInfo is written as a DER
// named-bit BIT STRING, trailing zero bits removed.
func (r *Response) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(r.Status))
			if len(r.StatusStrings) > 0 {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, s := range r.StatusStrings {
						b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
					}
				})
			}
			if r.FailInfo != 0 {
				b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddBytes(marshalFailInfo(r.FailInfo)) })
			}
		})
		if r.Token != nil {
			b.AddBytes(r.Token)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("tsp: marshal response: %w", err)
	}
	return der, nil
}

// marshalFailInfo encodes f as BIT STRING contents with the minimal number
// of bits (X.690 11.2.2 for named bit lists).
func marshalFailInfo(f FailInfo) []byte {
	n := 0 // number of significant bits
	for i := 0; i < maxFailInfoBits; i++ {
		if f&(1<<i) != 0 {
			n = i + 1
		}
	}
	out := make([]byte, 1+(n+7)/8)
	out[0] = byte((8 - n%8) % 8)
	for i := 0; i < n; i++ {
		if f&(1<<i) != 0 {
			out[1+i/8] |= 0x80 >> (i % 8)
		}
	}
	return out
}

// Err summarises a non-granted response as an error, or returns nil when
// the status is granted or grantedWithMods.
func (r *Response) Err() error {
	if r.Granted() {
		return nil
	}
	msg := fmt.Sprintf("tsp: timestamp authority answered %s", r.Status)
	if r.FailInfo != 0 {
		msg += fmt.Sprintf(" (failInfo %s)", r.FailInfo)
	}
	if len(r.StatusStrings) > 0 {
		msg += fmt.Sprintf(": %q", strings.Join(r.StatusStrings, "; "))
	}
	return errors.New(msg)
}
