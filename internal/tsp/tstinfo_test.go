package tsp

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/der"
)

// TestFixtureTSTInfo parses the TSTInfo of every token in the real corpus
// and compares it with MANIFEST.tsv, then checks that marshalling the parsed
// fields gives the TSA's bytes back.
func TestFixtureTSTInfo(t *testing.T) {
	toks := fixtureTokens(t, "real/*.nupkg")
	fractional := 0
	for _, tk := range toks {
		raw, err := tokenTSTInfo(tk.token)
		if err != nil {
			t.Fatalf("%s %s: %v", tk.file, tk.role, err)
		}
		info, err := ParseTSTInfo(raw)
		if err != nil {
			t.Fatalf("%s %s: %v", tk.file, tk.role, err)
		}
		col := "primary_ts_genTime"
		if tk.role == "countersignature" {
			col = "countersig_ts_genTime"
		}
		if got, want := formatGeneralizedTime(info.GenTime), tk.manifest[col]; got != want {
			t.Errorf("%s %s: genTime %s, manifest says %s", tk.file, tk.role, got, want)
		}
		if info.GenTime.Nanosecond() != 0 {
			fractional++
		}
		if want := tk.manifest["ts_imprint_alg"]; want != "sha256" || info.Hash != crypto.SHA256 {
			t.Errorf("%s %s: imprint %v, manifest %s", tk.file, tk.role, info.Hash, want)
		}
		if len(info.Policy) == 0 || info.SerialNumber == nil || info.Version != 1 {
			t.Errorf("%s %s: policy %v serial %v version %d", tk.file, tk.role, info.Policy, info.SerialNumber, info.Version)
		}
		h := crypto.SHA256.New()
		h.Write(tk.sigValue)
		if !bytes.Equal(h.Sum(nil), info.HashedMessage) {
			t.Errorf("%s %s: imprint is not SHA-256 of the signature value", tk.file, tk.role)
		}
		again, err := info.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, raw) {
			t.Errorf("%s %s: re-marshalled TSTInfo differs from the TSA's", tk.file, tk.role)
		}
	}
	if fractional != 1 {
		t.Errorf("%d tokens with fractional genTime, want 1 (Microsoft's)", fractional)
	}
}

func TestGeneralizedTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"20250916080426.418Z", time.Date(2025, 9, 16, 8, 4, 26, 418e6, time.UTC), true},
		{"20250916080426Z", time.Date(2025, 9, 16, 8, 4, 26, 0, time.UTC), true},
		{"20250916080426.000001Z", time.Date(2025, 9, 16, 8, 4, 26, 1000, time.UTC), true},
		{"20250916080426.4180Z", time.Time{}, false}, // DER forbids trailing zeros
		{"20250916080426.123456789Z", time.Date(2025, 9, 16, 8, 4, 26, 123456789, time.UTC), true},
		{"20250916080426.1234567891Z", time.Time{}, false},
		{"20250916080426.Z", time.Time{}, false},
		{"20250916080426", time.Time{}, false},
		{"20250916080426+0100", time.Time{}, false},
		{"2025091608042Z", time.Time{}, false},
		{"20251316080426Z", time.Time{}, false},
		{"2025091608042aZ", time.Time{}, false},
		{"20250916080426.-1Z", time.Time{}, false},
	} {
		got, err := der.ParseGeneralizedTime([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("%q: got %v, %v", tc.in, got, err)
		}
	}
	for in, want := range map[time.Time]string{
		time.Date(2025, 9, 16, 8, 4, 26, 418e6, time.UTC):                     "20250916080426.418Z",
		time.Date(2025, 9, 16, 8, 4, 26, 0, time.FixedZone("x", 3600)):        "20250916070426Z",
		time.Date(2025, 9, 16, 8, 4, 26, 100, time.UTC):                       "20250916080426.0000001Z",
		time.Date(2025, 9, 16, 8, 4, 26, 500*int(time.Millisecond), time.UTC): "20250916080426.5Z",
	} {
		if got := formatGeneralizedTime(in); got != want {
			t.Errorf("format %v: %s, want %s", in, got, want)
		}
	}
}

func TestAccuracyLimits(t *testing.T) {
	gen := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	other := asn1.ObjectIdentifier{1, 2, 3}
	for _, tc := range []struct {
		name   string
		policy asn1.ObjectIdentifier
		has    bool
		acc    time.Duration
		want   time.Duration
	}{
		{"ETSI without accuracy", OIDETSIBaselinePolicy, false, 0, time.Second},
		{"other policy without accuracy", other, false, 0, 0},
		{"ETSI with accuracy", OIDETSIBaselinePolicy, true, 250 * time.Millisecond, 250 * time.Millisecond},
		{"explicit micros", other, true, 1500 * time.Microsecond, 1500 * time.Microsecond},
		{"explicit zero", OIDETSIBaselinePolicy, true, 0, 0},
	} {
		info := &TSTInfo{Policy: tc.policy, GenTime: gen, HasAccuracy: tc.has, Accuracy: tc.acc}
		if got := info.EffectiveAccuracy(); got != tc.want {
			t.Errorf("%s: accuracy %v, want %v", tc.name, got, tc.want)
		}
		if !info.UpperLimit().Equal(gen.Add(tc.want)) || !info.LowerLimit().Equal(gen.Add(-tc.want)) {
			t.Errorf("%s: limits %v..%v", tc.name, info.LowerLimit(), info.UpperLimit())
		}
	}
}

func TestTSTInfoRoundTrip(t *testing.T) {
	base := TSTInfo{
		Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Hash: crypto.SHA384,
		HashedMessage: bytes.Repeat([]byte{3}, 48), SerialNumber: big.NewInt(12345),
		GenTime: time.Date(2030, 1, 2, 3, 4, 5, 678e6, time.UTC),
	}
	for _, mod := range []func(*TSTInfo){
		func(*TSTInfo) {},
		func(i *TSTInfo) { i.HasAccuracy, i.Accuracy = true, time.Second+2*time.Millisecond+3*time.Microsecond },
		func(i *TSTInfo) { i.HasAccuracy, i.Accuracy = true, 0 },
		func(i *TSTInfo) { i.Ordering, i.Nonce = true, new(big.Int).Lsh(big.NewInt(1), 250) },
		func(i *TSTInfo) { i.TSAName = []byte{0x82, 0x03, 'a', '.', 'b'} },
		func(i *TSTInfo) { i.Extensions = []Extension{{ID: asn1.ObjectIdentifier{1, 2}, Value: []byte{1}}} },
	} {
		in := base
		mod(&in)
		der, err := in.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseTSTInfo(der)
		if err != nil {
			t.Fatal(err)
		}
		if !got.GenTime.Equal(in.GenTime) || got.HasAccuracy != in.HasAccuracy || got.Accuracy != in.Accuracy ||
			got.Ordering != in.Ordering || !bytes.Equal(got.TSAName, in.TSAName) ||
			len(got.Extensions) != len(in.Extensions) || got.SerialNumber.Cmp(in.SerialNumber) != 0 ||
			(in.Nonce != nil && got.Nonce.Cmp(in.Nonce) != 0) || got.Hash != in.Hash {
			t.Errorf("round trip: got %+v, want %+v", got, in)
		}
		again, _ := got.Marshal()
		if !bytes.Equal(again, der) {
			t.Errorf("re-marshal differs")
		}
	}
}

func TestParseTSTInfoRejects(t *testing.T) {
	good := &TSTInfo{Policy: asn1.ObjectIdentifier{1, 2}, Hash: crypto.SHA256, HashedMessage: make([]byte, 32),
		SerialNumber: big.NewInt(1), GenTime: time.Unix(0, 0), HasAccuracy: true, Accuracy: time.Second}
	der, _ := good.Marshal()
	acc := []byte{0x30, 0x03, 0x02, 0x01, 0x01} // accuracy { seconds 1 }
	replace := func(old, new []byte) []byte {
		i := bytes.Index(der, old)
		if i < 0 {
			t.Fatalf("%x not in %x", old, der)
		}
		out := append(append(append([]byte{}, der[:i]...), new...), der[i+len(old):]...)
		out[1] = byte(int(out[1]) + len(new) - len(old))
		return out
	}
	for _, tc := range []struct {
		name string
		der  []byte
	}{
		{"trailing", append(append([]byte{}, der...), 0)},
		{"truncated", der[:len(der)-2]},
		{"millis 0", replace(acc, []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x80, 0x01, 0x00})},
		{"millis 1000", replace(acc, []byte{0x30, 0x07, 0x02, 0x01, 0x01, 0x80, 0x02, 0x03, 0xe8})},
		{"negative seconds", replace(acc, []byte{0x30, 0x03, 0x02, 0x01, 0xff})},
		{"huge seconds", replace(acc, []byte{0x30, 0x06, 0x02, 0x04, 0x7f, 0xff, 0xff, 0xff})},
		{"local genTime", replace([]byte("19700101000000Z"), []byte("19700101000000+0000"))},
		{"too big", make([]byte, MaxTSTInfoSize+1)},
	} {
		_, err := ParseTSTInfo(tc.der)
		if err == nil {
			t.Errorf("%s: parsed", tc.name)
		} else if !strings.HasPrefix(err.Error(), "tsp: ") {
			t.Errorf("%s: message %q", tc.name, err)
		}
	}
}
