package account

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the SHA-1 key of the test vectors of RFC 4226 (appendix D)
// and RFC 6238 (appendix B).
var rfcSecret = []byte("12345678901234567890")

func TestHOTPVectors(t *testing.T) {
	// RFC 4226, appendix D: HOTP values for counters 0 to 9.
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for c, w := range want {
		if got := hotp(rfcSecret, uint64(c), 6); got != w {
			t.Errorf("hotp(counter %d) = %s; want %s", c, got, w)
		}
	}
}

func TestTOTPVectors(t *testing.T) {
	// RFC 6238, appendix B, the SHA1 rows (8 digits).
	tests := []struct {
		unix int64
		step int64
		code string
	}{
		{59, 0x1, "94287082"},
		{1111111109, 0x23523EC, "07081804"},
		{1111111111, 0x23523ED, "14050471"},
		{1234567890, 0x273EF07, "89005924"},
		{2000000000, 0x3F940AA, "69279037"},
		{20000000000, 0x27BC86AA, "65353130"},
	}
	for _, tt := range tests {
		at := time.Unix(tt.unix, 0)
		if got := totpStep(at); got != tt.step {
			t.Errorf("totpStep(%d) = %#x; want %#x", tt.unix, got, tt.step)
		}
		if got := hotp(rfcSecret, uint64(tt.step), 8); got != tt.code {
			t.Errorf("8-digit code at %d = %s; want %s", tt.unix, got, tt.code)
		}
		// Six digits are the same number modulo 10^6.
		if got := TOTPCode(rfcSecret, at); got != tt.code[2:] {
			t.Errorf("TOTPCode at %d = %s; want %s", tt.unix, got, tt.code[2:])
		}
	}
	if got := totpStep(time.Unix(-1, 0)); got != -1 {
		t.Errorf("totpStep(-1 s) = %d; want -1", got)
	}
}

func TestCheckTOTP(t *testing.T) {
	secret, err := NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 6, 1, 12, 0, 10, 0, time.UTC)
	cur := totpStep(now)
	at := func(steps int64) time.Time { return now.Add(time.Duration(steps) * TOTPPeriod) }
	spaced := func(c string) string { return " " + c[:3] + " " + c[3:] + " " }
	tests := []struct {
		name     string
		code     string
		lastStep int64
		step     int64
		want     error
	}{
		{"current", TOTPCode(secret, now), 0, cur, nil},
		{"one step behind", TOTPCode(secret, at(-1)), 0, cur - 1, nil},
		{"one step ahead", TOTPCode(secret, at(1)), 0, cur + 1, nil},
		{"two steps behind", TOTPCode(secret, at(-2)), 0, 0, ErrTOTPInvalid},
		{"two steps ahead", TOTPCode(secret, at(2)), 0, 0, ErrTOTPInvalid},
		{"spaces", spaced(TOTPCode(secret, now)), 0, cur, nil},
		{"replayed", TOTPCode(secret, now), cur, 0, ErrTOTPReplayed},
		{"older than the last", TOTPCode(secret, at(-1)), cur, 0, ErrTOTPReplayed},
		{"newer than the last", TOTPCode(secret, at(1)), cur, cur + 1, nil},
		{"after a code ahead", TOTPCode(secret, now), cur + 1, 0, ErrTOTPReplayed},
		{"five digits", TOTPCode(secret, now)[:5], 0, 0, ErrTOTPInvalid},
		{"seven digits", TOTPCode(secret, now) + "0", 0, 0, ErrTOTPInvalid},
		{"letter", "12345a", 0, 0, ErrTOTPInvalid},
		{"dash", TOTPCode(secret, now)[:3] + "-" + TOTPCode(secret, now)[3:], 0, 0, ErrTOTPInvalid},
		{"tab", "\t" + TOTPCode(secret, now), 0, 0, ErrTOTPInvalid},
		{"fullwidth digits", "１２３４５６", 0, 0, ErrTOTPInvalid},
		{"too many spaces", strings.Repeat(" ", maxTOTPCodeLength) + TOTPCode(secret, now), 0, 0, ErrTOTPInvalid},
		{"empty", "", 0, 0, ErrTOTPInvalid},
	}
	for _, tt := range tests {
		step, err := CheckTOTP(secret, tt.code, now, tt.lastStep)
		if tt.want == nil && (err != nil || step != tt.step) || tt.want != nil && (!errors.Is(err, tt.want) || step != 0) {
			t.Errorf("%s: CheckTOTP(%q, last %d) = %d, %v; want %d, %v", tt.name, tt.code, tt.lastStep, step, err, tt.step, tt.want)
		}
	}
	// A wrong code: one that is not the code of any step in the window.
	wrong := TOTPCode(secret, at(-5))
	for s := int64(-1); s <= 1; s++ {
		if wrong == TOTPCode(secret, at(s)) {
			t.Skip("random secret gave equal codes; vanishingly rare")
		}
	}
	if _, err := CheckTOTP(secret, wrong, now, 0); !errors.Is(err, ErrTOTPInvalid) {
		t.Errorf("CheckTOTP(wrong) = %v; want ErrTOTPInvalid", err)
	}
	for _, n := range []int{0, minTOTPSecretBytes - 1, maxTOTPSecretBytes + 1} {
		s := make([]byte, n)
		_, err := CheckTOTP(s, TOTPCode(s, now), now, 0)
		if err == nil || errors.Is(err, ErrTOTPInvalid) || errors.Is(err, ErrTOTPReplayed) {
			t.Errorf("CheckTOTP with a %d-byte secret = %v; want a plain error", n, err)
		}
	}
}

func TestNewTOTPSecret(t *testing.T) {
	a, err := NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != TOTPSecretBytes || bytes.Equal(a, b) {
		t.Errorf("secrets %x and %x: want two different %d-byte secrets", a, b, TOTPSecretBytes)
	}
}

func TestTOTPURI(t *testing.T) {
	tests := []struct{ issuer, account string }{
		{"Signet", "alice"},
		{"My Feed: dev & test", "bob:smith?x=1#y"},
		{"Fëed/100%", "ü+ser"},
	}
	for _, tt := range tests {
		s := TOTPURI(tt.issuer, tt.account, rfcSecret)
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("TOTPURI = %q: %v", s, err)
		}
		if u.Scheme != "otpauth" || u.Host != "totp" {
			t.Errorf("%q: scheme %q host %q", s, u.Scheme, u.Host)
		}
		rawLabel := strings.TrimPrefix(u.EscapedPath(), "/")
		if strings.Count(rawLabel, ":") != 1 || strings.ContainsAny(rawLabel, " /+") {
			t.Errorf("%q: escaped label %q is not issuer:account", s, rawLabel)
		}
		if want := "/" + tt.issuer + ":" + tt.account; u.Path != want {
			t.Errorf("%q: label %q; want %q", s, u.Path, want)
		}
		q := u.Query()
		if q.Get("issuer") != tt.issuer || q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
			t.Errorf("%q: query %v", s, q)
		}
		if strings.Contains(u.RawQuery, "+") || strings.Contains(q.Get("secret"), "=") {
			t.Errorf("%q: query %q has a '+' or padding", s, u.RawQuery)
		}
		secret, err := totpEncoding.DecodeString(q.Get("secret"))
		if err != nil || !bytes.Equal(secret, rfcSecret) {
			t.Errorf("%q: secret decodes to %q, %v", s, secret, err)
		}
	}
}

func FuzzCheckTOTP(f *testing.F) {
	now := time.Unix(1111111111, 0)
	f.Add(TOTPCode(rfcSecret, now))
	f.Add(" 050 471 ")
	f.Add("12345a")
	f.Add("")
	f.Fuzz(func(t *testing.T, code string) {
		norm, ok := normalizeTOTPCode(code)
		if ok && (len(norm) != TOTPDigits || strings.Trim(norm, "0123456789") != "" || norm != strings.ReplaceAll(code, " ", "")) {
			t.Fatalf("normalizeTOTPCode(%q) = %q", code, norm)
		}
		step, err := CheckTOTP(rfcSecret, code, now, 0)
		switch {
		case err == nil:
			if !ok || step < totpStep(now)-1 || step > totpStep(now)+1 || hotp(rfcSecret, uint64(step), TOTPDigits) != norm {
				t.Fatalf("CheckTOTP accepted %q at step %d", code, step)
			}
		case !errors.Is(err, ErrTOTPInvalid):
			t.Fatalf("CheckTOTP(%q) = %v", code, err)
		}
	})
}
