package der

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxFractionDigits bounds the fractional seconds of a GeneralizedTime:
// time.Time counts nanoseconds, so a tenth digit could not be represented and
// would be silently dropped. Real TSAs write three at most.
const maxFractionDigits = 9

// UTCTime covers 1950–2049 (RFC 5280 4.1.2.5, RFC 5652 11.3): two-digit years
// 50–99 mean 19xx, 00–49 mean 20xx.
const (
	utcTimeFirstYear = 1950
	utcTimeLastYear  = 2049
)

// ErrTime is wrapped by every time parsing and encoding error.
var ErrTime = errors.New("der: malformed time")

// ParseUTCTime parses the content of a DER UTCTime: exactly YYMMDDHHMMSSZ
// (X.690 11.8; no omitted seconds, no offsets).
func ParseUTCTime(content []byte) (time.Time, error) {
	if len(content) != len("YYMMDDHHMMSSZ") || content[12] != 'Z' {
		return time.Time{}, fmt.Errorf("%w: UTCTime %q is not YYMMDDHHMMSSZ", ErrTime, content)
	}
	yy, ok := digits(content[0:2])
	if !ok {
		return time.Time{}, fmt.Errorf("%w: UTCTime %q", ErrTime, content)
	}
	year := 2000 + yy
	if yy >= 50 {
		year = 1900 + yy
	}
	t, err := dateTime(year, content[2:12])
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: UTCTime %q", err, content)
	}
	return t, nil
}

// ParseGeneralizedTime parses the content of a DER GeneralizedTime:
// YYYYMMDDHHMMSS, then optionally '.' and 1–9 digits without trailing zeros,
// then 'Z' (X.690 11.7; RFC 3161 2.4.2 writes genTime this way, e.g.
// 20250916080426.418Z).
func ParseGeneralizedTime(content []byte) (time.Time, error) {
	const base = len("YYYYMMDDHHMMSS")
	n := len(content)
	if n < base+1 || content[n-1] != 'Z' {
		return time.Time{}, fmt.Errorf("%w: GeneralizedTime %q does not end in Z", ErrTime, content)
	}
	year, ok := digits(content[0:4])
	if !ok {
		return time.Time{}, fmt.Errorf("%w: GeneralizedTime %q", ErrTime, content)
	}
	t, err := dateTime(year, content[4:base])
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: GeneralizedTime %q", err, content)
	}
	frac := content[base : n-1]
	if len(frac) == 0 {
		return t, nil
	}
	if frac[0] != '.' || len(frac) < 2 || len(frac)-1 > maxFractionDigits || frac[len(frac)-1] == '0' {
		return time.Time{}, fmt.Errorf("%w: GeneralizedTime %q has malformed fractional seconds", ErrTime, content)
	}
	ns, ok := digits(frac[1:])
	if !ok {
		return time.Time{}, fmt.Errorf("%w: GeneralizedTime %q", ErrTime, content)
	}
	for range maxFractionDigits - (len(frac) - 1) {
		ns *= 10
	}
	return t.Add(time.Duration(ns)), nil
}

// ReadTime reads a UTCTime or a GeneralizedTime element from s (the Time
// CHOICE of RFC 5280 and RFC 5652) and returns it with the tag it had.
func ReadTime(s *cryptobyte.String) (time.Time, cbasn1.Tag, error) {
	var content cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&content, &tag) {
		return time.Time{}, 0, fmt.Errorf("%w: not a DER element", ErrTime)
	}
	var t time.Time
	var err error
	switch tag {
	case cbasn1.UTCTime:
		t, err = ParseUTCTime(content)
	case cbasn1.GeneralizedTime:
		t, err = ParseGeneralizedTime(content)
	default:
		return time.Time{}, 0, fmt.Errorf("%w: tag 0x%02x is neither UTCTime nor GeneralizedTime", ErrTime, uint8(tag))
	}
	return t, tag, err
}

// FormatUTCTime returns the DER UTCTime content for t in UTC, truncated to
// the second. It fails outside 1950–2049.
func FormatUTCTime(t time.Time) (string, error) {
	t = t.UTC()
	if t.Year() < utcTimeFirstYear || t.Year() > utcTimeLastYear {
		return "", fmt.Errorf("%w: year %d cannot be a UTCTime", ErrTime, t.Year())
	}
	return t.Format("060102150405Z"), nil
}

// FormatGeneralizedTime returns the DER GeneralizedTime content for t in UTC,
// with fractional seconds when t has any (trailing zeros removed). It fails
// for years outside 0–9999.
func FormatGeneralizedTime(t time.Time) (string, error) {
	t = t.UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return "", fmt.Errorf("%w: year %d cannot be a GeneralizedTime", ErrTime, t.Year())
	}
	s := fmt.Sprintf("%04d%02d%02d%02d%02d%02d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second())
	if ns := t.Nanosecond(); ns != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
	}
	return s + "Z", nil
}

// AddUTCTime writes t as a UTCTime (see FormatUTCTime).
func AddUTCTime(b *cryptobyte.Builder, t time.Time) {
	s, err := FormatUTCTime(t)
	if err != nil {
		b.SetError(err)
		return
	}
	b.AddASN1(cbasn1.UTCTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
}

// AddGeneralizedTime writes t as a GeneralizedTime (see
// FormatGeneralizedTime).
func AddGeneralizedTime(b *cryptobyte.Builder, t time.Time) {
	s, err := FormatGeneralizedTime(t)
	if err != nil {
		b.SetError(err)
		return
	}
	b.AddASN1(cbasn1.GeneralizedTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
}

// AddTime writes t, truncated to the second, as RFC 5280 4.1.2.5 and
// RFC 5652 11.3 require: a UTCTime for 1950–2049, a GeneralizedTime
// otherwise.
func AddTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC().Truncate(time.Second)
	if y := t.Year(); y >= utcTimeFirstYear && y <= utcTimeLastYear {
		AddUTCTime(b, t)
		return
	}
	AddGeneralizedTime(b, t)
}

// dateTime parses MMDDHHMMSS for year, refusing anything time.Date would
// normalise (month 13, February 30, second 60).
func dateTime(year int, b []byte) (time.Time, error) {
	var v [5]int
	for i := range v {
		n, ok := digits(b[2*i : 2*i+2])
		if !ok {
			return time.Time{}, ErrTime
		}
		v[i] = n
	}
	t := time.Date(year, time.Month(v[0]), v[1], v[2], v[3], v[4], 0, time.UTC)
	if t.Year() != year || int(t.Month()) != v[0] || t.Day() != v[1] || t.Hour() != v[2] || t.Minute() != v[3] || t.Second() != v[4] {
		return time.Time{}, fmt.Errorf("%w: field out of range", ErrTime)
	}
	return t, nil
}

// digits parses an unsigned decimal of ASCII digits only (no sign, no
// spaces); b must be non-empty and at most 9 digits long.
func digits(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
