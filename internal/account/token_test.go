package account

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

const b64urlChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestNewToken(t *testing.T) {
	tok, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != TokenLength || strings.Trim(tok, b64urlChars) != "" {
		t.Errorf("token %q is not %d characters of base64url", tok, TokenLength)
	}
	if again, err := HashToken(tok); err != nil || !bytes.Equal(again, hash) || len(hash) != sha256.Size {
		t.Errorf("HashToken(NewToken token) = %x, %v; want %x", again, err, hash)
	}
	tok2, hash2, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok || bytes.Equal(hash, hash2) {
		t.Error("two new tokens are equal")
	}
}

func TestHashTokenMalformed(t *testing.T) {
	tok, _, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	// The last character holds 2 unused bits, zero in a canonical token:
	// flipping its lowest bit gives a string that lenient decoding reads as
	// the same bytes.
	nonCanonical := tok[:TokenLength-1] + string(b64urlChars[strings.IndexByte(b64urlChars, tok[TokenLength-1])^1])
	a, errA := base64.RawURLEncoding.DecodeString(tok)
	b, errB := base64.RawURLEncoding.DecodeString(nonCanonical)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("test setup: %q and %q do not decode alike", tok, nonCanonical)
	}
	tests := map[string]string{
		"empty":        "",
		"short":        tok[:TokenLength-1],
		"long":         tok + "A",
		"padded":       tok + "=",
		"std base64":   strings.Repeat("+/", TokenLength/2) + "A",
		"space":        " " + tok[1:],
		"unused bits":  nonCanonical,
		"non-ASCII":    "é" + tok[2:],
		"not a string": strings.Repeat("\x00", TokenLength),
	}
	for name, s := range tests {
		if h, err := HashToken(s); !errors.Is(err, ErrMalformedToken) || h != nil {
			t.Errorf("%s: HashToken(%q) = %x, %v; want ErrMalformedToken", name, s, h, err)
		}
	}
}

func TestCSRF(t *testing.T) {
	s1, _, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	s2, _, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := CSRFToken(s1), CSRFToken(s2)
	if c1 == "" || c1 == c2 || c1 == s1 || CSRFToken(s1) != c1 {
		t.Fatalf("CSRF tokens %q and %q of sessions %q and %q: want distinct, stable, not the session", c1, c2, s1, s2)
	}
	if !CheckCSRF(s1, c1) || !CheckCSRF(s2, c2) {
		t.Error("CheckCSRF refuses a session's own token")
	}
	for _, bad := range []struct{ session, got string }{
		{s1, c2},
		{s1, ""},
		{s1, c1[:len(c1)-1]},
		{s1, c1 + "A"},
		{s1, s1},
		{"", CSRFToken("")},
		{"", ""},
		{"not a session", CSRFToken("not a session")},
	} {
		if CheckCSRF(bad.session, bad.got) {
			t.Errorf("CheckCSRF(%q, %q) = true", bad.session, bad.got)
		}
	}
	if CSRFToken("") != "" || CSRFToken(s1+"x") != "" {
		t.Error("CSRFToken of a malformed session token is not empty")
	}
}

func FuzzHashToken(f *testing.F) {
	tok, _, _ := NewToken()
	f.Add(tok)
	f.Add(strings.Repeat("A", TokenLength))
	f.Add(strings.Repeat("_", TokenLength))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := HashToken(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedToken) || CSRFToken(s) != "" || CheckCSRF(s, "") {
				t.Fatalf("HashToken(%q) = %v, CSRFToken %q", s, err, CSRFToken(s))
			}
			return
		}
		b, err := tokenEncoding.DecodeString(s)
		want := sha256.Sum256([]byte(s))
		if err != nil || len(b) != tokenBytes || tokenEncoding.EncodeToString(b) != s || !bytes.Equal(h, want[:]) {
			t.Fatalf("HashToken accepted %q", s)
		}
		if !CheckCSRF(s, CSRFToken(s)) {
			t.Fatalf("CheckCSRF refuses the CSRF token of %q", s)
		}
	})
}
