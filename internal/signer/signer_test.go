package signer_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/signer"
)

// pki is a root → intermediate → leaf chain with cached test keys.
type testChain struct {
	root, inter *devpki.CA
	leaf        *signer.Identity
}

func newChain(t *testing.T) *testChain {
	t.Helper()
	root, err := devpki.NewRoot("Signer Test Root", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 0)})
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Signer Test Intermediate", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 1)})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.Issue(devpki.LeafOptions{CommonName: "Signer Test Leaf", Key: devpki.TestKey(t, 2048, 2)})
	if err != nil {
		t.Fatal(err)
	}
	return &testChain{root, inter, leaf}
}

func pemCerts(certs ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

func pkcs8(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func openssl(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("/usr/bin/openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// wantChain checks the identity's leaf and chain order by subject.
func wantChain(t *testing.T, id *signer.Identity, names ...string) {
	t.Helper()
	if id.Certificate != id.Chain[0] {
		t.Errorf("Chain[0] is not the Certificate")
	}
	var got []string
	for _, c := range id.Chain {
		got = append(got, c.Subject.CommonName)
	}
	if strings.Join(got, "|") != strings.Join(names, "|") {
		t.Errorf("chain = %q, want %q", got, names)
	}
}

// TestLoadPFXFromOpenSSL loads PFX files exported by openssl with its
// default (AES-256/PBES2) and legacy (RC2/3DES) algorithms, with and
// without a password.
func TestLoadPFXFromOpenSSL(t *testing.T) {
	ch := newChain(t)
	dir := t.TempDir()
	leaf := write(t, dir, "leaf.pem", pemCerts(ch.leaf.Certificate))
	key := write(t, dir, "key.pem", pkcs8(t, ch.leaf.Signer))
	cas := write(t, dir, "cas.pem", pemCerts(ch.root.Cert, ch.inter.Cert))
	tests := []struct {
		name     string
		password string
		extra    []string
	}{
		{"aes-password", "s3cret pass", nil},
		{"aes-empty-password", "", nil},
		{"legacy-password", "s3cret pass", []string{"-legacy"}},
		{"legacy-empty-password", "", []string{"-legacy"}},
		{"descert", "pw", []string{"-descert"}},
		{"unencrypted-with-mac", "", []string{"-keypbe", "NONE", "-certpbe", "NONE"}},
		{"sha512-mac", "pw", []string{"-macalg", "sha512", "-iter", "10000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name+".pfx")
			args := append([]string{"pkcs12", "-export", "-in", leaf, "-inkey", key, "-certfile", cas,
				"-out", out, "-passout", "pass:" + tt.password}, tt.extra...)
			openssl(t, args...)
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			id, err := signer.LoadPFX(data, tt.password)
			if err != nil {
				t.Fatalf("LoadPFX: %v", err)
			}
			if !id.Certificate.Equal(ch.leaf.Certificate) {
				t.Errorf("leaf = %q", id.Certificate.Subject)
			}
			wantChain(t, id, "Signer Test Leaf", "Signer Test Intermediate", "Signer Test Root")

			_, err = signer.LoadPFX(data, tt.password+"wrong")
			if !errors.Is(err, signer.ErrWrongPassword) {
				t.Fatalf("wrong password: err = %v, want ErrWrongPassword", err)
			}
			if !strings.HasPrefix(err.Error(), "NU3001: signer: ") || !strings.Contains(err.Error(), "password is incorrect") {
				t.Errorf("wrong password message = %q", err)
			}
		})
	}
}

func TestLoadPFXNoPasswordGiven(t *testing.T) {
	ch := newChain(t)
	pfx, err := devpki.EncodePFX(ch.leaf, "secret")
	if err != nil {
		t.Fatal(err)
	}
	_, err = signer.LoadPFX(pfx, "")
	if !errors.Is(err, signer.ErrWrongPassword) || !strings.Contains(err.Error(), "no password was given") {
		t.Fatalf("err = %v", err)
	}
}

// TestLoadPFXLeafNotFirst: the leaf is found by its key, not its position.
func TestLoadPFXLeafNotFirst(t *testing.T) {
	ch := newChain(t)
	// go-pkcs12 puts "certificate" first; make it the root, with the leaf's key.
	pfx, err := pkcs12.Modern2023.Encode(ch.leaf.Signer, ch.root.Cert, []*x509.Certificate{ch.inter.Cert, ch.leaf.Certificate}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	id, err := signer.LoadPFX(pfx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	wantChain(t, id, "Signer Test Leaf", "Signer Test Intermediate", "Signer Test Root")
}

func TestLoadPFXKeyMatchesNoCertificate(t *testing.T) {
	ch := newChain(t)
	pfx, err := pkcs12.Modern2023.Encode(devpki.TestKey(t, 2048, 9), ch.leaf.Certificate, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signer.LoadPFX(pfx, "pw"); !errors.Is(err, signer.ErrKeyMismatch) {
		t.Fatalf("err = %v, want ErrKeyMismatch", err)
	}
}

func TestLoadPFXGarbage(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("not a pfx"), {0x30, 0x03, 0x02, 0x01, 0x03}} {
		_, err := signer.LoadPFX(data, "")
		var e *signer.Error
		if !errors.As(err, &e) || e.Code != "NU3001" {
			t.Errorf("LoadPFX(%q) err = %v, want *signer.Error NU3001", data, err)
		}
	}
}

func TestLoadPEM(t *testing.T) {
	ch := newChain(t)
	rsaKey := ch.leaf.Signer.(*rsa.PrivateKey)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	p8 := pkcs8(t, rsaKey)
	l, i, r := ch.leaf.Certificate, ch.inter.Cert, ch.root.Cert
	full := []string{"Signer Test Leaf", "Signer Test Intermediate", "Signer Test Root"}
	tests := []struct {
		name      string
		cert, key []byte
		want      []string
	}{
		{"pkcs1", pemCerts(l, i, r), pkcs1, full},
		{"pkcs8", pemCerts(l, i, r), p8, full},
		{"root-first", pemCerts(r, i, l), p8, full},
		{"leaf-last-mixed", pemCerts(i, r, l), p8, full},
		{"leaf-only", pemCerts(l), p8, full[:1]},
		{"key-in-cert-file", append(pemCerts(r, l, i), p8...), nil, full},
		{"key-first-in-cert-file", append(append([]byte{}, pkcs1...), pemCerts(i, l)...), nil, full[:2]},
		{"text-around-blocks", append([]byte("subject=CN=leaf\n"), append(pemCerts(l, i), []byte("trailing text\n")...)...), p8, full[:2]},
		{"unrelated-extra-cert", pemCerts(l, newChain(t).root.Cert), p8, []string{"Signer Test Leaf", "Signer Test Root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := signer.LoadPEM(tt.cert, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			wantChain(t, id, tt.want...)
			if err := signer.CheckKeyMatchesCertificate(id.Signer, id.Certificate); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLoadPEMErrors(t *testing.T) {
	ch := newChain(t)
	other := pkcs8(t, devpki.TestKey(t, 2048, 9))
	p8 := pkcs8(t, ch.leaf.Signer)
	tests := []struct {
		name      string
		cert, key []byte
		want      error
	}{
		{"key-mismatch", pemCerts(ch.leaf.Certificate), other, signer.ErrKeyMismatch},
		{"key-mismatch-chain", pemCerts(ch.leaf.Certificate, ch.root.Cert), other, signer.ErrKeyMismatch},
		{"no-key", pemCerts(ch.leaf.Certificate), nil, signer.ErrNoKey},
		{"no-cert", p8, p8, signer.ErrNoCertificate},
		{"legacy-encrypted", pemCerts(ch.leaf.Certificate), []byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"), signer.ErrEncryptedKey},
		{"pkcs8-encrypted", pemCerts(ch.leaf.Certificate), []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"), signer.ErrEncryptedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := signer.LoadPEM(tt.cert, tt.key)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "NU3001: signer: ") {
				t.Errorf("message %q: want one line starting with NU3001", err)
			}
		})
	}
	// Two keys in one file are ambiguous.
	if _, err := signer.LoadPEM(pemCerts(ch.leaf.Certificate), append(append([]byte{}, p8...), other...)); err == nil || !strings.Contains(err.Error(), "more than one private key") {
		t.Errorf("two keys: err = %v", err)
	}
}

// TestLoadPEMFromOpenSSL loads what openssl writes: a PKCS#8 key from req,
// its PKCS#1 form, SEC 1 and PKCS#8 EC keys, and encrypted keys (refused).
func TestLoadPEMFromOpenSSL(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	openssl(t, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("rsa.key"), "-out", p("rsa.pem"),
		"-subj", "/CN=openssl rsa", "-days", "30", "-addext", "extendedKeyUsage=codeSigning")
	openssl(t, "rsa", "-in", p("rsa.key"), "-traditional", "-out", p("rsa-pkcs1.key"))
	openssl(t, "ecparam", "-name", "prime256v1", "-genkey", "-out", p("ec-sec1.key"))
	openssl(t, "req", "-x509", "-key", p("ec-sec1.key"), "-out", p("ec.pem"), "-subj", "/CN=openssl ec", "-days", "30")
	openssl(t, "pkey", "-in", p("ec-sec1.key"), "-out", p("ec-pkcs8.key"))
	openssl(t, "pkey", "-in", p("rsa.key"), "-aes256", "-passout", "pass:pw", "-out", p("rsa-enc.key"))
	openssl(t, "rsa", "-in", p("rsa.key"), "-aes256", "-traditional", "-passout", "pass:pw", "-out", p("rsa-enc-legacy.key"))

	for _, tt := range []struct {
		cert, key string
		wantErr   error
		ecdsa     bool
	}{
		{"rsa.pem", "rsa.key", nil, false},
		{"rsa.pem", "rsa-pkcs1.key", nil, false},
		{"ec.pem", "ec-sec1.key", nil, true},
		{"ec.pem", "ec-pkcs8.key", nil, true},
		{"rsa.pem", "rsa-enc.key", signer.ErrEncryptedKey, false},
		{"rsa.pem", "rsa-enc-legacy.key", signer.ErrEncryptedKey, false},
		{"rsa.pem", "ec-pkcs8.key", signer.ErrKeyMismatch, false},
	} {
		t.Run(tt.key, func(t *testing.T) {
			id, err := signer.Load(p(tt.cert), p(tt.key), "")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := id.Signer.(*ecdsa.PrivateKey); ok != tt.ecdsa {
				t.Errorf("signer is %T", id.Signer)
			}
		})
	}
}

// TestLoad covers the content sniffing of Load and the file names in errors.
func TestLoad(t *testing.T) {
	ch := newChain(t)
	dir := t.TempDir()
	pfx, err := devpki.EncodePFX(ch.leaf, "pw")
	if err != nil {
		t.Fatal(err)
	}
	chainPEM := pemCerts(ch.leaf.Certificate, ch.inter.Cert, ch.root.Cert)
	keyPEM := pkcs8(t, ch.leaf.Signer)
	der, err := x509.MarshalPKCS8PrivateKey(ch.leaf.Signer)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"pfx":      write(t, dir, "id.pfx", pfx),
		"chain":    write(t, dir, "chain.pem", chainPEM),
		"key":      write(t, dir, "key.pem", keyPEM),
		"combined": write(t, dir, "combined.pem", append(append([]byte{}, chainPEM...), keyPEM...)),
		"cer":      write(t, dir, "leaf.cer", ch.leaf.Certificate.Raw),
		"derkey":   write(t, dir, "key.der", der),
	}
	ok := []struct{ name, cert, key, password string }{
		{"pfx", files["pfx"], "", "pw"},
		{"pem-and-key", files["chain"], files["key"], "ignored"},
		{"combined-pem", files["combined"], "", ""},
		{"der-cert-pem-key", files["cer"], files["key"], ""},
		{"der-cert-der-key", files["cer"], files["derkey"], ""},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			id, err := signer.Load(tt.cert, tt.key, tt.password)
			if err != nil {
				t.Fatal(err)
			}
			if !id.Certificate.Equal(ch.leaf.Certificate) {
				t.Errorf("leaf = %q", id.Certificate.Subject)
			}
		})
	}
	bad := []struct {
		name, cert, key, password string
		wantFile                  string
		want                      error
	}{
		{"missing-cert", filepath.Join(dir, "nope.pfx"), "", "", "nope.pfx", os.ErrNotExist},
		{"missing-key", files["chain"], filepath.Join(dir, "nope.key"), "", "nope.key", os.ErrNotExist},
		{"pfx-wrong-password", files["pfx"], "", "bad", "id.pfx", signer.ErrWrongPassword},
		{"pem-without-key", files["chain"], "", "", "chain.pem", signer.ErrNoKey},
		{"key-file-without-key", files["chain"], files["chain"], "", "chain.pem", signer.ErrNoKey},
		{"pfx-with-key-path", files["pfx"], files["key"], "pw", "id.pfx", nil},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := signer.Load(tt.cert, tt.key, tt.password)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			var e *signer.Error
			if !errors.As(err, &e) || e.Code != signer.CodeInvalidInput || filepath.Base(e.File) != tt.wantFile {
				t.Errorf("err = %#v, want *signer.Error NU3001 for %s", err, tt.wantFile)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tt.wantFile) {
				t.Errorf("message %q: want one line naming %s", msg, tt.wantFile)
			}
		})
	}
}

func TestLoadTooLarge(t *testing.T) {
	p := write(t, t.TempDir(), "big.pem", make([]byte, 2<<20))
	if _, err := signer.Load(p, "", ""); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
	}
}

// lyingSigner claims the certificate's public key but signs with another.
type lyingSigner struct {
	pub crypto.PublicKey
	key crypto.Signer
}

func (s lyingSigner) Public() crypto.PublicKey { return s.pub }
func (s lyingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return s.key.Sign(r, d, o)
}

func TestCheckKeyMatchesCertificate(t *testing.T) {
	ch := newChain(t)
	other := devpki.TestKey(t, 2048, 9)
	tests := []struct {
		name string
		s    crypto.Signer
		ok   bool
	}{
		{"match", ch.leaf.Signer, true},
		{"other-key", other, false},
		{"lying-public", lyingSigner{ch.leaf.Certificate.PublicKey, other}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := signer.CheckKeyMatchesCertificate(tt.s, ch.leaf.Certificate)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && !errors.Is(err, signer.ErrKeyMismatch) {
				t.Errorf("err = %v, want ErrKeyMismatch", err)
			}
		})
	}
}

// TestECDSALoads: an ECDSA identity loads (NuGet's NU3014 rejects it later,
// in internal/pki).
func TestECDSALoads(t *testing.T) {
	ch := newChain(t)
	id, err := ch.inter.Issue(devpki.LeafOptions{ECDSA: true})
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := devpki.EncodePFX(id, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := signer.LoadPFX(pfx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Signer.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("signer is %T", got.Signer)
	}
}
