package der

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadElement(t *testing.T) {
	in := unhex(t, "a0030201050400")
	s := cryptobyte.String(in)
	tag, raw, content, ok := ReadElement(&s)
	if !ok || tag != cbasn1.Tag(0).ContextSpecific().Constructed() || !bytes.Equal(raw, in[:5]) || !bytes.Equal(content, in[2:5]) {
		t.Fatalf("ReadElement = %x %x %x %v", uint8(tag), raw, content, ok)
	}
	raw, content, ok = ReadTagged(&s, cbasn1.OCTET_STRING)
	if !ok || !bytes.Equal(raw, []byte{4, 0}) || len(content) != 0 || !s.Empty() {
		t.Fatalf("ReadTagged = %x %x %v", raw, content, ok)
	}
	for _, bad := range []string{"", "30", "3081", "308100", "3004020105", "1f0100", "3080020100000000"} {
		s := cryptobyte.String(unhex(t, bad))
		if _, _, _, ok := ReadElement(&s); ok {
			t.Errorf("ReadElement(%s) succeeded", bad)
		}
	}
}

func TestIsElement(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0500", true},
		{"050000", false},
		{"", false},
		{"0401ff", true},
		{"0402ff", false},
	}
	for _, tt := range tests {
		if got := IsElement(unhex(t, tt.in)); got != tt.want {
			t.Errorf("IsElement(%s) = %v", tt.in, got)
		}
	}
}

func TestSortSetOf(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"by first byte", []string{"31", "30", "02"}, []string{"02", "30", "31"}},
		{"shorter length first", []string{"300302010a", "3000"}, []string{"3000", "300302010a"}},
		{"prefix before longer", []string{"0401aa00ff", "0401aa"}, []string{"0401aa", "0401aa00ff"}},
		{"zero padding ties keep order", []string{"0401aa00", "0401aa"}, []string{"0401aa00", "0401aa"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in [][]byte
			for _, s := range tt.in {
				in = append(in, unhex(t, s))
			}
			got := SortSetOf(in)
			for i := range got {
				if hex.EncodeToString(got[i]) != tt.want[i] {
					t.Fatalf("SortSetOf = %x, want %v", got, tt.want)
				}
			}
			if !IsSortedSetOf(got) {
				t.Fatal("IsSortedSetOf false after sorting")
			}
		})
	}
	if IsSortedSetOf([][]byte{{0x31}, {0x30}}) {
		t.Fatal("IsSortedSetOf true for an unsorted set")
	}
}

func TestAddSetOf(t *testing.T) {
	elems := [][]byte{{0x04, 0x01, 0x02}, {0x04, 0x01, 0x01}}
	got, err := Marshal(func(b *cryptobyte.Builder) { AddSetOf(b, cbasn1.SET, elems) })
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "3106040101040102"); !bytes.Equal(got, want) {
		t.Fatalf("AddSetOf = %x, want %x", got, want)
	}
	if elems[0][2] != 2 {
		t.Fatal("AddSetOf reordered its argument")
	}
	got, _ = Marshal(func(b *cryptobyte.Builder) { AddSequenceOf(b, cbasn1.SET, elems) })
	if want := unhex(t, "3106040102040101"); !bytes.Equal(got, want) {
		t.Fatalf("AddSequenceOf = %x, want %x", got, want)
	}
}

func TestOID(t *testing.T) {
	oid := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	b, err := MarshalOID(oid)
	if err != nil || hex.EncodeToString(b) != "06092a864886f70d010702" {
		t.Fatalf("MarshalOID = %x, %v", b, err)
	}
	back, err := ParseOID(b)
	if err != nil || !back.Equal(oid) {
		t.Fatalf("ParseOID = %v, %v", back, err)
	}
	for _, bad := range []string{"0600", "06092a864886f70d01070200", "0603808001", "0401aa"} {
		if _, err := ParseOID(unhex(t, bad)); err == nil {
			t.Errorf("ParseOID(%s) succeeded", bad)
		}
	}
	if _, err := MarshalOID(asn1.ObjectIdentifier{7}); err == nil {
		t.Error("MarshalOID accepted a one-arc OID")
	}
}

func TestAlgorithmIdentifier(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		absentNull bool
		absent     bool
	}{
		{"absent", "300b0609608648016503040201", true, true},
		{"null", "300d06092a864886f70d0101010500", true, false},
		{"sequence params", "300f06092a864886f70d01010a3002a000", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := unhex(t, tt.in)
			s := cryptobyte.String(in)
			ai, ok := ReadAlgorithmIdentifier(&s)
			if !ok || !s.Empty() {
				t.Fatal("ReadAlgorithmIdentifier failed")
			}
			out, err := Marshal(func(b *cryptobyte.Builder) { AddAlgorithmIdentifier(b, ai) })
			if err != nil || !bytes.Equal(out, in) {
				t.Fatalf("round trip = %x, %v", out, err)
			}
			if ParamsAbsentOrNull(ai) != tt.absentNull || ParamsAbsent(ai) != tt.absent {
				t.Fatalf("ParamsAbsentOrNull = %v, ParamsAbsent = %v", ParamsAbsentOrNull(ai), ParamsAbsent(ai))
			}
			if !EqualAlgorithmIdentifier(ai, ai) {
				t.Fatal("EqualAlgorithmIdentifier(a, a) false")
			}
		})
	}
	// A NULL built from asn1.NullRawValue encodes as 05 00.
	ai := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, Parameters: asn1.NullRawValue}
	out, _ := Marshal(func(b *cryptobyte.Builder) { AddAlgorithmIdentifier(b, ai) })
	if hex.EncodeToString(out) != "300d06092a864886f70d0101010500" || !ParamsAbsentOrNull(ai) {
		t.Fatalf("NullRawValue encodes as %x", out)
	}
	for _, bad := range []string{"3000", "30030500", "300f06092a864886f70d01010105000500", "0609608648016503040201"} {
		s := cryptobyte.String(unhex(t, bad))
		if _, ok := ReadAlgorithmIdentifier(&s); ok {
			t.Errorf("ReadAlgorithmIdentifier(%s) succeeded", bad)
		}
	}
}

func TestParseTimes(t *testing.T) {
	tests := []struct {
		tag  cbasn1.Tag
		in   string
		want time.Time
		ok   bool
	}{
		{cbasn1.UTCTime, "181007213947Z", time.Date(2018, 10, 7, 21, 39, 47, 0, time.UTC), true},
		{cbasn1.UTCTime, "500101000000Z", time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{cbasn1.UTCTime, "491231235959Z", time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{cbasn1.UTCTime, "1810072139Z", time.Time{}, false},
		{cbasn1.UTCTime, "181007213947+0100", time.Time{}, false},
		{cbasn1.UTCTime, "181307213947Z", time.Time{}, false},
		{cbasn1.UTCTime, "180230213947Z", time.Time{}, false},
		{cbasn1.UTCTime, "18100721394aZ", time.Time{}, false},
		{cbasn1.UTCTime, "18100721396 Z", time.Time{}, false},
		{cbasn1.GeneralizedTime, "20250916080426.418Z", time.Date(2025, 9, 16, 8, 4, 26, 418e6, time.UTC), true},
		{cbasn1.GeneralizedTime, "20250916080426.000000001Z", time.Date(2025, 9, 16, 8, 4, 26, 1, time.UTC), true},
		{cbasn1.GeneralizedTime, "21160101000000Z", time.Date(2116, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{cbasn1.GeneralizedTime, "20250916080426.410Z", time.Time{}, false},
		{cbasn1.GeneralizedTime, "20250916080426.Z", time.Time{}, false},
		{cbasn1.GeneralizedTime, "20250916080426,4Z", time.Time{}, false},
		{cbasn1.GeneralizedTime, "20250916080426.1234567891Z", time.Time{}, false},
		{cbasn1.GeneralizedTime, "20250916080426", time.Time{}, false},
		{cbasn1.GeneralizedTime, "202509160804Z", time.Time{}, false},
		{cbasn1.GeneralizedTime, "20250916080460Z", time.Time{}, false},
		{cbasn1.GeneralizedTime, "20250916080426.-1Z", time.Time{}, false},
		{cbasn1.OCTET_STRING, "20250916080426Z", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			el, _ := Marshal(func(b *cryptobyte.Builder) {
				b.AddASN1(tt.tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(tt.in)) })
			})
			s := cryptobyte.String(el)
			got, tag, err := ReadTime(&s)
			if (err == nil) != tt.ok {
				t.Fatalf("ReadTime err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			if !got.Equal(tt.want) || tag != tt.tag {
				t.Fatalf("ReadTime = %v %x, want %v", got, uint8(tag), tt.want)
			}
			// Canonical inputs are written back identically.
			var out string
			if tag == cbasn1.UTCTime {
				out, err = FormatUTCTime(got)
			} else {
				out, err = FormatGeneralizedTime(got)
			}
			if err != nil || out != tt.in {
				t.Fatalf("format = %q, %v; want %q", out, err, tt.in)
			}
		})
	}
}

func TestAddTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2025, 9, 16, 8, 4, 26, 418e6, time.UTC), "170d3235303931363038303432365a"},
		{time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), "170d3530303130313030303030305a"},
		{time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC), "180f31393439313233313233353935395a"},
		{time.Date(2050, 1, 1, 0, 0, 0, 5, time.UTC), "180f32303530303130313030303030305a"},
		{time.Date(2025, 9, 16, 10, 4, 26, 0, time.FixedZone("CEST", 7200)), "170d3235303931363038303432365a"},
	}
	for _, tt := range tests {
		got, err := Marshal(func(b *cryptobyte.Builder) { AddTime(b, tt.in) })
		if err != nil || hex.EncodeToString(got) != tt.want {
			t.Errorf("AddTime(%v) = %x, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	if _, err := Marshal(func(b *cryptobyte.Builder) { AddUTCTime(b, time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)) }); err == nil {
		t.Error("AddUTCTime accepted 2050")
	}
	if _, err := Marshal(func(b *cryptobyte.Builder) { AddGeneralizedTime(b, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) }); err == nil {
		t.Error("AddGeneralizedTime accepted 10000")
	}
	got, _ := Marshal(func(b *cryptobyte.Builder) { AddGeneralizedTime(b, time.Date(2025, 9, 16, 8, 4, 26, 418e6, time.UTC)) })
	if string(got[2:]) != "20250916080426.418Z" {
		t.Errorf("AddGeneralizedTime = %q", got[2:])
	}
}

func FuzzReadTime(f *testing.F) {
	f.Add([]byte("\x17\x0d181007213947Z"))
	f.Add([]byte("\x18\x1320250916080426.418Z"))
	f.Add([]byte("\x18\x0f21160101000000Z"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := cryptobyte.String(in)
		got, tag, err := ReadTime(&s)
		if err != nil {
			return
		}
		var out []byte
		if tag == cbasn1.UTCTime {
			out, err = Marshal(func(b *cryptobyte.Builder) { AddUTCTime(b, got) })
		} else {
			out, err = Marshal(func(b *cryptobyte.Builder) { AddGeneralizedTime(b, got) })
		}
		if err != nil {
			t.Fatalf("re-encoding %v: %v", got, err)
		}
		if !bytes.Equal(out, in[:len(in)-len(s)]) {
			t.Fatalf("re-encoding %x gave %x", in[:len(in)-len(s)], out)
		}
	})
}
