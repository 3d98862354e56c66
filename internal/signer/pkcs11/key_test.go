package pkcs11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/devpki"
)

func TestReadPIN(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lf, crlf, bare := write("lf", "1234\n"), write("crlf", "5678\r\n"), write("bare", "9 9")
	empty, big := write("empty", "\n"), write("big", strings.Repeat("7", maxPINFileSize+1))
	env := map[string]string{"PIN": "4321"}
	getenv := func(k string) string { return env[k] }
	for _, tt := range []struct {
		source, want, wantErr string
	}{
		{lf, "1234", ""},
		{crlf, "5678", ""},
		{bare, "9 9", ""},
		{"file:" + lf, "1234", ""},
		{"file://" + lf, "1234", ""},
		{"env:PIN", "4321", ""},
		{"env:NOPE", "", `"NOPE" named by pin-source is not set`},
		{"env:", "", "names no environment variable"},
		{"|/bin/get-pin", "", "not supported"},
		{"file://host/pin", "", "only local file"},
		{filepath.Join(dir, "missing"), "", "cannot open the PIN file"},
		{empty, "", "is empty"},
		{big, "", "larger than"},
	} {
		got, err := readPIN(tt.source, getenv)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("readPIN(%q) = %q, %v; want %q", tt.source, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("readPIN(%q) = %q, %v; want an error containing %q", tt.source, got, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "7777") {
			t.Errorf("readPIN(%q): the error shows the file's content", tt.source)
		}
	}
}

// garbageSigner returns bytes that are not a signature.
type garbageSigner struct{ crypto.Signer }

func (g garbageSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return make([]byte, 256), nil
}

// optsRecorder records the options the token signer is called with.
type optsRecorder struct {
	crypto.Signer
	got crypto.SignerOpts
}

func (o *optsRecorder) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	o.got = opts
	return o.Signer.Sign(r, d, opts)
}

func TestKeySign(t *testing.T) {
	priv := devpki.TestKey(t, 2048, 0)
	rec := &optsRecorder{Signer: priv}
	k := &Key{Label: "code", ID: []byte{1}, pub: &priv.PublicKey, inner: rec, token: "t"}
	msg := []byte("package")
	s256, s384, s512 := sha256.Sum256(msg), sha512.Sum384(msg), sha512.Sum512(msg)
	for _, tt := range []struct {
		h crypto.Hash
		d []byte
	}{{crypto.SHA256, s256[:]}, {crypto.SHA384, s384[:]}, {crypto.SHA512, s512[:]}} {
		sig, err := k.Sign(rand.Reader, tt.d, tt.h)
		if err != nil {
			t.Fatalf("%v: %v", tt.h, err)
		}
		if err := rsa.VerifyPKCS1v15(&priv.PublicKey, tt.h, tt.d, sig); err != nil {
			t.Errorf("%v: the signature does not verify: %v", tt.h, err)
		}
	}
	// Options richer than a hash reach the token as the bare hash.
	if _, err := k.Sign(nil, s256[:], &rsa.PSSOptions{Hash: crypto.SHA256}); err == nil || !strings.Contains(err.Error(), "PKCS#1 v1.5") {
		t.Errorf("PSS: %v", err)
	}
	if rec.got != crypto.SHA512 {
		t.Errorf("the token signer got %v, want the bare hash of the last good call", rec.got)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tt := range []struct {
		name    string
		k       *Key
		d       []byte
		opts    crypto.SignerOpts
		wantErr string
	}{
		{"sha1", k, make([]byte, 20), crypto.SHA1, "not supported"},
		{"short digest", k, s256[:31], crypto.SHA256, "has 32 bytes, not 31"},
		{"garbage from token", &Key{Label: "code", pub: &priv.PublicKey, inner: garbageSigner{priv}, token: "t"}, s256[:], crypto.SHA256, "does not verify"},
		{"ecdsa", &Key{Label: "ec", ID: []byte{3}, pub: &ec.PublicKey, inner: ec, token: "t"}, s256[:], crypto.SHA256, `"ec" (id 03) on token "t" is an ECDSA key, not an RSA key`},
	} {
		if _, err := tt.k.Sign(nil, tt.d, tt.opts); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestCertificateFor(t *testing.T) {
	root, err := devpki.NewRoot("PKCS11 Test Root", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 0)})
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := devpki.TestKey(t, 2048, 1), devpki.TestKey(t, 2048, 2)
	issue := func(cn string, k crypto.Signer) *x509.Certificate {
		id, err := root.Issue(devpki.LeafOptions{CommonName: cn, Key: k})
		if err != nil {
			t.Fatal(err)
		}
		return id.Certificate
	}
	a, b, other := issue("a", k1), issue("b", k1), issue("other", k2)
	certs := []tokenCertificate{{id: []byte{9}, label: "other", cert: other}, {id: []byte{1}, label: "x", cert: a}, {id: []byte{2}, label: "code", cert: b}}
	for _, tt := range []struct {
		name  string
		id    []byte
		label string
		want  *x509.Certificate
	}{
		{"same id wins", []byte{2}, "", b},
		{"same label next", []byte{7}, "x", a},
		{"else the first with the key", nil, "", a},
		{"never another key's", []byte{9}, "other", a},
	} {
		if got := certificateFor(&k1.PublicKey, tt.id, tt.label, certs); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got.Subject, tt.want.Subject)
		}
	}
	if got := certificateFor(&devpki.TestKey(t, 2048, 3).PublicKey, nil, "", certs); got != nil {
		t.Errorf("a key without a certificate got %v", got.Subject)
	}
}

// TestOpenWithoutCgo: a build without cgo says so, whatever the URI.
func TestOpenWithoutCgo(t *testing.T) {
	if Supported {
		t.Skip("built with cgo: PKCS#11 is supported")
	}
	_, err := Open(&URI{Token: "t", ModulePath: "/usr/lib/softhsm/libsofthsm2.so"}, os.Getenv)
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "cgo disabled") {
		t.Errorf("Open: %v, want ErrNotSupported", err)
	}
}
