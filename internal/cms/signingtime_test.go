package cms

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

var testTime = time.Date(2025, 9, 16, 8, 4, 26, 0, time.UTC)

func TestSigningTime(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		der  string
	}{
		{"utc", testTime, "170d3235303931363038303432365a"},
		{"fraction dropped", testTime.Add(418 * time.Millisecond), "170d3235303931363038303432365a"},
		{"other zone", testTime.In(time.FixedZone("X", -5*3600)), "170d3235303931363038303432365a"},
		{"first utc year", time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), "170d3530303130313030303030305a"},
		{"last utc year", time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), "170d3439313233313233353935395a"},
		{"before 1950", time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC), "180f31393439313233313233353935395a"},
		{"2116", time.Date(2116, 11, 1, 7, 0, 0, 0, time.UTC), "180f32313136313130313037303030305a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := MarshalSigningTime(tt.in)
			if err != nil || hex.EncodeToString(b) != tt.der {
				t.Fatalf("MarshalSigningTime = %x, %v; want %s", b, err, tt.der)
			}
			got, err := ParseSigningTime(b)
			if err != nil || !got.Equal(tt.in.Truncate(time.Second)) {
				t.Fatalf("ParseSigningTime = %v, %v", got, err)
			}
		})
	}
	if _, err := MarshalSigningTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("MarshalSigningTime accepted year 10000")
	}
}

func TestParseSigningTimeErrors(t *testing.T) {
	good, _ := hex.DecodeString("180f32303235303931363038303432365a") // GeneralizedTime in the UTCTime range: accepted
	if got, err := ParseSigningTime(good); err != nil || !got.Equal(testTime) {
		t.Fatalf("GeneralizedTime 2025: %v, %v", got, err)
	}
	for _, bad := range []string{
		"",
		"170d3235303931363038303432365a00", // trailing byte
		"1813" + "32303235303931363038303432362e3431385a", // fractional seconds
		"170b323530393136303830345a",                      // no seconds
		"0c0d3235303931363038303432365a",                  // UTF8String
		"170d3235313331363038303432365a",                  // month 13
	} {
		b, _ := hex.DecodeString(bad)
		if _, err := ParseSigningTime(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSigningTime(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}

func FuzzSigningTime(f *testing.F) {
	for _, s := range fixtureSignatures(f) {
		sd, err := Parse(s.p7s)
		if err != nil {
			f.Fatal(err)
		}
		if v, ok := singleValue(sd.SignerInfos[0].SignedAttrs, OIDSigningTime); ok {
			f.Add(v)
		}
	}
	f.Add([]byte("\x18\x0f21161101070000Z"))
	f.Add([]byte("\x18\x0f20250916080426Z"))
	f.Fuzz(func(t *testing.T, in []byte) {
		tm, err := ParseSigningTime(in)
		if err != nil {
			return
		}
		out, err := MarshalSigningTime(tm)
		if err != nil {
			t.Fatalf("MarshalSigningTime(%v): %v", tm, err)
		}
		back, err := ParseSigningTime(out)
		if err != nil || !back.Equal(tm) {
			t.Fatalf("round trip %v -> %x -> %v, %v", tm, out, back, err)
		}
		// Only the UTCTime/GeneralizedTime choice may differ from the input.
		if in[0] == out[0] && !bytes.Equal(in, out) {
			t.Fatalf("%x re-encodes as %x", in, out)
		}
	})
}
