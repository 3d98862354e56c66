package pkcs11

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func uintp(n uint) *uint { return &n }

func TestParseURI(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want URI
	}{
		{"pkcs11:", URI{}},
		{"pkcs11:token=Signet;object=author?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/pin",
			URI{Token: "Signet", Object: "author", ModulePath: "/usr/lib/softhsm/libsofthsm2.so", PINSource: "/run/pin"}},
		// RFC 7512 section 3 examples, restricted to the attributes Signet uses.
		{"pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91",
			URI{Token: "The Software PKCS#11 Softtoken", Manufacturer: "Snake Oil, Inc.", Model: "1.0", Object: "my-certificate", Type: "cert", ID: []byte{0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91}}},
		{"PKCS11:id=%01%02%ff;slot-id=0042;type=private?pin-source=env:TOKEN_PIN",
			URI{ID: []byte{1, 2, 0xff}, SlotID: uintp(42), Type: "private", PINSource: "env:TOKEN_PIN"}},
		{"pkcs11:serial=80f8e111beb02355;model=SoftHSM%20v2;manufacturer=SoftHSM%20project;type=public",
			URI{Serial: "80f8e111beb02355", Model: "SoftHSM v2", Manufacturer: "SoftHSM project", Type: "public"}},
		{"pkcs11:object=a+b%3Bc?pin-source=file:///etc/pin%26x", URI{Object: "a+b;c", PINSource: "file:///etc/pin&x"}},
	} {
		got, err := ParseURI(tt.in)
		if err != nil {
			t.Errorf("ParseURI(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("ParseURI(%q) = %+v, want %+v", tt.in, *got, tt.want)
		}
		again, err := ParseURI(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q through %q: %+v, %v", tt.in, got.String(), again, err)
		}
	}
}

func TestParseURIRefuses(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"pkcs11:token=x?pin-value=1234", "pin-value is refused"},
		{"pkcs11:token=x;pin-value=1234", "pin-value is refused"},
		{"pkcs11:tokn=x", `"tokn" is not supported`},
		{"pkcs11:library-description=x", "not supported"},
		{"pkcs11:token=x?module-name=softhsm2", `"module-name" is not supported`},
		{"pkcs11:token=x;token=y", "more than once"},
		{"pkcs11:token=x;serial=", `"serial" is empty`},
		{"pkcs11:token=x;", "is not name=value"},
		{"pkcs11:token", "is not name=value"},
		{"pkcs11:=x", "is not name=value"},
		{"pkcs11:token=%zz", "bad percent-encoding"},
		{"pkcs11:token=a%0Ab", "not printable"},
		{"pkcs11:token=%ff", "not printable"},
		{"pkcs11:module-path=/x.so", "wrong part"},
		{"pkcs11:token=x?object=y", "wrong part"},
		{"pkcs11:slot-id=-1", "not a decimal slot number"},
		{"pkcs11:slot-id=0x10", "not a decimal slot number"},
		{"pkcs11:slot-id=99999999999999999999", "not a decimal slot number"},
		{"pkcs11:type=secret-key", "names no key pair"},
		{"exec:openssl", "is not a PKCS#11 URI"},
		{"pkcs1", "is not a PKCS#11 URI"},
		{"pkcs11:object=" + strings.Repeat("a", maxURILength), "longer than"},
	} {
		_, err := ParseURI(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "pkcs11: ") {
			t.Errorf("ParseURI(%.60q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "1234") {
			t.Errorf("ParseURI(%q): the error %q shows the PIN", tt.in, err)
		}
	}
}

func TestMatchesToken(t *testing.T) {
	tok := tokenDesc{Label: "Signet", Manufacturer: "SoftHSM project", Model: "SoftHSM v2", Serial: "abc", Slot: 7}
	for _, tt := range []struct {
		uri  string
		want bool
	}{
		{"pkcs11:", true},
		{"pkcs11:token=Signet", true},
		{"pkcs11:token=signet", false},
		{"pkcs11:token=Signet;serial=abc;slot-id=7;model=SoftHSM%20v2;manufacturer=SoftHSM%20project", true},
		{"pkcs11:token=Signet;serial=abd", false},
		{"pkcs11:slot-id=8", false},
		{"pkcs11:model=x", false},
		{"pkcs11:manufacturer=x", false},
	} {
		u, err := ParseURI(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.matchesToken(tok); got != tt.want {
			t.Errorf("%s matches %v: %v, want %v", tt.uri, tok, got, tt.want)
		}
	}
}

func TestSelectToken(t *testing.T) {
	seen := []tokenDesc{{Label: "a", Serial: "1", Slot: 1}, {Label: "b", Serial: "2", Slot: 2}, {Label: "b", Serial: "3", Slot: 3}}
	for _, tt := range []struct {
		uri      string
		wantSlot uint
		wantErr  []string
	}{
		{"pkcs11:token=a?module-path=/m.so", 1, nil},
		{"pkcs11:token=b;serial=3?module-path=/m.so", 3, nil},
		{"pkcs11:token=c?module-path=/m.so", 0, []string{"token not found", `token="c"`, `"/m.so"`, `"a" (serial "1", slot 1)`, `"b" (serial "3", slot 3)`}},
		{"pkcs11:token=b?module-path=/m.so", 0, []string{"2 tokens match", "serial="}},
		{"pkcs11:?module-path=/m.so", 0, []string{"3 tokens match any token"}},
	} {
		u, err := ParseURI(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		got, err := selectToken(u, seen)
		if tt.wantErr == nil {
			if err != nil || got.Slot != tt.wantSlot {
				t.Errorf("%s: slot %d, %v; want slot %d", tt.uri, got.Slot, err, tt.wantSlot)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error, want %q", tt.uri, tt.wantErr)
			continue
		}
		for _, w := range tt.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tt.uri, err, w)
			}
		}
	}
	if _, err := selectToken(&URI{Token: "x"}, nil); err == nil || !strings.Contains(err.Error(), "tokens seen: none") {
		t.Errorf("no tokens: %v", err)
	}
}

// FuzzParseURI: ParseURI never panics; whatever it accepts prints (String)
// as a URI that parses back to the same value and never holds a control
// character; a rejected URI's error is one line starting with "pkcs11: ".
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"pkcs11:token=Signet;object=author?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/pin",
		"pkcs11:id=%01%02%ff;slot-id=42;type=private?pin-source=env:PIN",
		"pkcs11:serial=80f8e111beb02355;model=SoftHSM%20v2;manufacturer=SoftHSM%20project;type=cert",
		"pkcs11:token=x?pin-value=1234",
		"pkcs11:object=a+b%3Bc?pin-source=file:///etc/pin%26x",
		"pkcs11:token=%zz;token=y",
		"pkcs11:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "pkcs11: ") || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error %q is not one pkcs11 line", err)
			}
			return
		}
		out := u.String()
		if strings.ContainsFunc(out, isControl) {
			t.Fatalf("String() = %q holds a control character", out)
		}
		again, err := ParseURI(out)
		if err != nil {
			t.Fatalf("ParseURI(%q) accepted, but its String %q fails: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, u) || !bytes.Equal(again.ID, u.ID) {
			t.Fatalf("round trip %q -> %q: %+v != %+v", s, out, again, u)
		}
	})
}
