package tsp

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/cms"
)

func TestNewRequestNonce(t *testing.T) {
	d := sha256.Sum256([]byte("x"))
	seen := map[string]bool{}
	for i := 0; i < 64; i++ {
		r, err := NewRequest(crypto.SHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		if r.Nonce.Sign() <= 0 {
			t.Fatalf("nonce %v not positive", r.Nonce)
		}
		if r.Nonce.BitLen() > 8*nonceSize-1 {
			t.Fatalf("nonce has %d bits, top bit of byte 0 must be clear", r.Nonce.BitLen())
		}
		if !r.CertReq || r.Policy != nil {
			t.Fatalf("request %+v: want certReq and no policy", r)
		}
		if seen[r.Nonce.String()] {
			t.Fatal("nonce repeated")
		}
		seen[r.Nonce.String()] = true
	}
}

func TestNewRequestErrors(t *testing.T) {
	d := sha256.Sum256([]byte("x"))
	for _, tc := range []struct {
		name string
		h    crypto.Hash
		d    []byte
	}{
		{"md5", crypto.MD5, d[:16]},
		{"short digest", crypto.SHA256, d[:31]},
		{"sha384 with sha256 digest", crypto.SHA384, d[:]},
	} {
		if _, err := NewRequest(tc.h, tc.d); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestRequestRoundTrip(t *testing.T) {
	d := bytes.Repeat([]byte{7}, 48)
	for _, r := range []*Request{
		{Hash: crypto.SHA256, Digest: d[:32]},
		{Hash: crypto.SHA384, Digest: d, HashParamsNull: true, Nonce: big.NewInt(-5), CertReq: true},
		{Hash: crypto.SHA512, Digest: bytes.Repeat([]byte{1}, 64), Policy: asn1.ObjectIdentifier{1, 2, 3},
			Nonce: new(big.Int).Lsh(big.NewInt(1), 255), Extensions: []Extension{{ID: asn1.ObjectIdentifier{1, 9}, Critical: true, Value: []byte{5, 0}}}},
	} {
		der, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseRequest(der)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if got.Hash != r.Hash || !bytes.Equal(got.Digest, r.Digest) || got.HashParamsNull != r.HashParamsNull ||
			!got.Policy.Equal(r.Policy) || got.CertReq != r.CertReq || len(got.Extensions) != len(r.Extensions) ||
			(r.Nonce == nil) != (got.Nonce == nil) || (r.Nonce != nil && r.Nonce.Cmp(got.Nonce) != 0) {
			t.Fatalf("round trip: got %+v, want %+v", got, r)
		}
		again, _ := got.Marshal()
		if !bytes.Equal(again, der) {
			t.Fatalf("re-marshal differs")
		}
	}
}

func TestParseRequestRejects(t *testing.T) {
	good := &Request{Hash: crypto.SHA256, Digest: make([]byte, 32), Nonce: big.NewInt(1), CertReq: true}
	der, _ := good.Marshal()
	sha1Req, _ := (&Request{Hash: crypto.SHA1, Digest: make([]byte, 20)}).Marshal()
	if r, err := ParseRequest(sha1Req); err != nil || r.Hash != crypto.SHA1 {
		t.Fatalf("a SHA-1 request must parse (the TSA refuses it by policy): %v", err)
	}
	for _, tc := range []struct {
		name string
		der  []byte
	}{
		{"empty", nil},
		{"trailing", append(append([]byte{}, der...), 0)},
		{"truncated", der[:len(der)-1]},
		{"version 2", bytes.Replace(der, []byte{0x02, 0x01, 0x01}, []byte{0x02, 0x01, 0x02}, 1)},
		{"huge", make([]byte, MaxRequestSize+1)},
		{"digest length", mustMarshal(t, &Request{Hash: crypto.SHA384, Digest: make([]byte, 32)})},
	} {
		if _, err := ParseRequest(tc.der); err == nil {
			t.Errorf("%s: parsed", tc.name)
		} else if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "tsp: ") {
			t.Errorf("%s: bad message %q", tc.name, err)
		}
	}
}

func mustMarshal(t *testing.T, r *Request) []byte {
	t.Helper()
	// Marshal does not check the digest length; ParseRequest must.
	der, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParseRequestUnknownHash(t *testing.T) {
	r := &Request{Hash: crypto.SHA256, Digest: make([]byte, 16)}
	der, _ := r.Marshal()
	// Swap the SHA-256 OID's last arc (…2.1) for MD5's place in an unknown arc (…2.9).
	i := bytes.Index(der, oidBytes(cms.OIDSHA256))
	der[i+len(oidBytes(cms.OIDSHA256))-1] = 9
	_, err := ParseRequest(der)
	if !errors.Is(err, ErrUnsupportedHash) {
		t.Fatalf("got %v, want ErrUnsupportedHash", err)
	}
}

func oidBytes(o asn1.ObjectIdentifier) []byte {
	b, _ := asn1.Marshal(o)
	return b
}

// TestParseOpenSSLQuery checks that queries written by openssl ts parse:
// openssl writes NULL digest parameters and an 8-byte nonce.
func TestParseOpenSSLQuery(t *testing.T) {
	openssl := requireOpenSSL(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.WriteFile(data, []byte("hello"), 0o600)
	for _, tc := range []struct {
		flag string
		h    crypto.Hash
	}{{"-sha256", crypto.SHA256}, {"-sha384", crypto.SHA384}, {"-sha512", crypto.SHA512}} {
		q := filepath.Join(dir, "q"+tc.flag)
		out, err := exec.Command(openssl, "ts", "-query", "-data", data, tc.flag, "-cert", "-out", q).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl: %v: %s", err, out)
		}
		der, _ := os.ReadFile(q)
		r, err := ParseRequest(der)
		if err != nil {
			t.Fatalf("%s: %v", tc.flag, err)
		}
		h := tc.h.New()
		h.Write([]byte("hello"))
		if r.Hash != tc.h || !bytes.Equal(r.Digest, h.Sum(nil)) || !r.CertReq || r.Nonce == nil || !r.HashParamsNull {
			t.Fatalf("%s: parsed %+v", tc.flag, r)
		}
		again, _ := r.Marshal()
		if !bytes.Equal(again, der) {
			t.Fatalf("%s: re-marshal differs from openssl's bytes", tc.flag)
		}
	}
}

// requireOpenSSL returns the path of /usr/bin/openssl and fails (never
// skips) when it is missing.
func requireOpenSSL(t testing.TB) string {
	t.Helper()
	const path = "/usr/bin/openssl"
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("openssl is required for this test: %v", err)
	}
	return path
}
