package cms

import (
	"fmt"
	"time"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
)

// MarshalSigningTime returns the signing-time attribute value for t (RFC 5652
// 11.3): t in UTC truncated to the second, as a UTCTime for 1950–2049 and a
// GeneralizedTime otherwise (what .NET's Pkcs9SigningTime writes).
func MarshalSigningTime(t time.Time) ([]byte, error) {
	b, err := der.Marshal(func(b *cryptobyte.Builder) { der.AddTime(b, t) })
	if err != nil {
		return nil, fmt.Errorf("cms: signing-time: %w", err)
	}
	return b, nil
}

// ParseSigningTime parses a signing-time attribute value: a DER UTCTime or
// GeneralizedTime (the latter without fractional seconds, RFC 5652 11.3).
// A GeneralizedTime inside 1950–2049 is accepted, as .NET does.
func ParseSigningTime(value []byte) (time.Time, error) {
	s := cryptobyte.String(value)
	t, _, err := der.ReadTime(&s)
	if err != nil {
		return time.Time{}, fmt.Errorf("cms: signing-time: %w: %w", ErrMalformed, err)
	}
	if !s.Empty() {
		return time.Time{}, fmt.Errorf("cms: signing-time: trailing data: %w", ErrMalformed)
	}
	if t.Nanosecond() != 0 {
		return time.Time{}, fmt.Errorf("cms: signing-time: fractional seconds: %w", ErrMalformed)
	}
	return t, nil
}
