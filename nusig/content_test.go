package nusig

import (
	"bytes"
	"crypto"
	"errors"
	"testing"
)

func TestContentMarshalExactBytes(t *testing.T) {
	c := Content{Hash: crypto.SHA256, HashValue: bytes.Repeat([]byte{0xAB}, 32)}
	got, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "Version:1\n\n2.16.840.1.101.3.4.2.1-Hash:q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n"
	if string(got) != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	back, err := ParseContent(got)
	if err != nil || back.Hash != crypto.SHA256 || !bytes.Equal(back.HashValue, c.HashValue) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for _, h := range []crypto.Hash{crypto.SHA384, crypto.SHA512} {
		c := Content{Hash: h, HashValue: make([]byte, h.Size())}
		b, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseContent(b)
		if err != nil || back.Hash != h {
			t.Fatalf("%v: %+v %v", h, back, err)
		}
	}
	if _, err := (Content{Hash: crypto.SHA1, HashValue: make([]byte, 20)}).Marshal(); err == nil {
		t.Fatal("SHA-1 content marshalled")
	}
	if _, err := (Content{Hash: crypto.SHA256, HashValue: make([]byte, 31)}).Marshal(); err == nil {
		t.Fatal("short hash marshalled")
	}
}

func TestParseContent(t *testing.T) {
	h32 := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	tests := []struct {
		name string
		in   string
		code Code // "" means valid
	}{
		{"lf", "Version:1\n\n2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\n\n", ""},
		{"crlf", "Version:1\r\n\r\n2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\r\n\r\n", ""},
		{"cr", "Version:1\r\r2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\r\r", ""},
		{"extra keys ignored", "Version:1\nOther:x\n\nFoo:bar\n2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\n\ntrailing junk", ""},
		{"empty", "", NU3000},
		{"version only", "Version:1", NU3000},
		{"version lf", "Version:1\n", NU3000},
		{"one section", "Version:1\n\n", NU3000},
		{"unterminated second", "Version:1\n\n2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\n", NU3000},
		{"version 2", "Version:2\n\n2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\n\n", NU3007},
		{"no version", "V:1\n\n2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\n\n", NU3000},
		{"sha1 only", "Version:1\n\n1.3.14.3.2.26-Hash:AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", NU3000},
		{"bad base64", "Version:1\n\n2.16.840.1.101.3.4.2.1-Hash:!!!\n\n", NU3000},
		{"wrong length", "Version:1\n\n2.16.840.1.101.3.4.2.1-Hash:AAAA\n\n", NU3000},
		{"duplicate key", "Version:1\nVersion:1\n\n2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\n\n", NU3000},
		{"empty value", "Version:1\nX:\n\n2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\n\n", NU3000},
		{"bad key", "Version:1\nbad key:x\n\n2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\n\n", NU3000},
		{"bom", "\ufeffVersion:1\n\n2.16.840.1.101.3.4.2.1-Hash:" + h32 + "\n\n", NU3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseContent([]byte(tt.in))
			if tt.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
}

func FuzzParseContent(f *testing.F) {
	f.Add([]byte("Version:1\n\n2.16.840.1.101.3.4.2.1-Hash:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"))
	f.Add([]byte("Version:1\r\n\r\n2.16.840.1.101.3.4.2.3-Hash:AAAA\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseContent(b)
		if err != nil {
			return
		}
		if len(c.HashValue) != c.Hash.Size() {
			t.Fatalf("parsed a %d-byte %v hash", len(c.HashValue), c.Hash)
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if c2, err := ParseContent(out); err != nil || !bytes.Equal(c2.HashValue, c.HashValue) {
			t.Fatalf("re-parse: %v", err)
		}
	})
}
