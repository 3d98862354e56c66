package pkcs11_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/signer/pkcs11"
	"github.com/signet-nuget/signet/internal/signer/pkcs11/softhsmtest"
)

// hsm is a SoftHSM2 token holding:
//   - "code" (id 01): an RSA key with its certificate, issued by root;
//   - "nocert" (id 02): an RSA key without a certificate;
//   - "ec" (id 03): an ECDSA key;
//
// and the root certificate (id 10).
type hsm struct {
	tok                *softhsmtest.Token
	root               *devpki.CA
	code, nocert       *signer.Identity
	chainPEM, otherPEM string
}

func writePEM(t *testing.T, path, typ string, ders ...[]byte) string {
	t.Helper()
	var b []byte
	for _, d := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeKey(t *testing.T, path string, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, path, "PRIVATE KEY", der)
}

func newHSM(t *testing.T) *hsm {
	t.Helper()
	tok := softhsmtest.New(t, "signet-test")
	root, err := devpki.NewRoot("PKCS11 Test Root", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 0)})
	if err != nil {
		t.Fatal(err)
	}
	code, err := root.Issue(devpki.LeafOptions{CommonName: "PKCS11 Test Author", Key: devpki.TestKey(t, 2048, 1)})
	if err != nil {
		t.Fatal(err)
	}
	nocert, err := root.Issue(devpki.LeafOptions{CommonName: "PKCS11 Test No Cert", Key: devpki.TestKey(t, 2048, 2)})
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	tok.ImportKey(t, writeKey(t, filepath.Join(d, "code.key"), code.Signer), "code", "01")
	tok.ImportCertificate(t, writePEM(t, filepath.Join(d, "code.pem"), "CERTIFICATE", code.Certificate.Raw), "code", "01")
	tok.ImportKey(t, writeKey(t, filepath.Join(d, "nocert.key"), nocert.Signer), "nocert", "02")
	tok.ImportKey(t, writeKey(t, filepath.Join(d, "ec.key"), ec), "ec", "03")
	tok.ImportCertificate(t, writePEM(t, filepath.Join(d, "root.pem"), "CERTIFICATE", root.Root().Raw), "root", "10")
	return &hsm{
		tok: tok, root: root, code: code, nocert: nocert,
		chainPEM: writePEM(t, filepath.Join(d, "nocert-chain.pem"), "CERTIFICATE", nocert.Certificate.Raw, root.Root().Raw),
		otherPEM: writePEM(t, filepath.Join(d, "other.pem"), "CERTIFICATE", code.Certificate.Raw),
	}
}

func noenv(string) string { return "" }

// TestSoftHSMLoadIdentity: a key on a SoftHSM2 token signs SHA-256/384/512
// digests that verify with its certificate, taken from the token (with the
// root found there too) or from a file.
func TestSoftHSMLoadIdentity(t *testing.T) {
	h := newHSM(t)
	id, closer, err := pkcs11.LoadIdentity(h.tok.URI("object=code"), "", noenv)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if !id.Certificate.Equal(h.code.Certificate) {
		t.Fatalf("certificate %q, want the token's %q", id.Certificate.Subject, h.code.Certificate.Subject)
	}
	if len(id.Chain) != 2 || !id.Chain[1].Equal(h.root.Root()) {
		t.Fatalf("chain of %d certificates, want leaf and the token's root", len(id.Chain))
	}
	msg := []byte("signed on the token")
	s256, s384, s512 := sha256.Sum256(msg), sha512.Sum384(msg), sha512.Sum512(msg)
	for _, tt := range []struct {
		h crypto.Hash
		d []byte
	}{{crypto.SHA256, s256[:]}, {crypto.SHA384, s384[:]}, {crypto.SHA512, s512[:]}} {
		sig, err := id.Signer.Sign(rand.Reader, tt.d, tt.h)
		if err != nil {
			t.Fatalf("%v: %v", tt.h, err)
		}
		if err := rsa.VerifyPKCS1v15(id.Certificate.PublicKey.(*rsa.PublicKey), tt.h, tt.d, sig); err != nil {
			t.Errorf("%v: %v", tt.h, err)
		}
	}

	// Concurrent signatures (the TSA signs from several goroutines) share
	// the token's few sessions.
	errs := make(chan error, 16)
	for i := 0; i < cap(errs); i++ {
		go func() {
			sig, err := id.Signer.Sign(nil, s256[:], crypto.SHA256)
			if err == nil {
				err = rsa.VerifyPKCS1v15(id.Certificate.PublicKey.(*rsa.PublicKey), crypto.SHA256, s256[:], sig)
			}
			errs <- err
		}()
	}
	for i := 0; i < cap(errs); i++ {
		if err := <-errs; err != nil {
			t.Errorf("concurrent signature: %v", err)
		}
	}

	// By id, with the PIN from the environment, and the certificate from a
	// file: the leaf is the file's certificate with the key's public key.
	env := map[string]string{"HSM_PIN": h.tok.PIN}
	uri := strings.Replace(h.tok.URI("id=%02"), "pin-source="+h.tok.PINFile, "pin-source=env:HSM_PIN", 1)
	id2, closer2, err := pkcs11.LoadIdentity(uri, h.chainPEM, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !id2.Certificate.Equal(h.nocert.Certificate) || len(id2.Chain) != 2 {
		t.Errorf("certificate %q with %d in the chain, want the file's leaf and root", id2.Certificate.Subject, len(id2.Chain))
	}
	// Two tokens open on one module: closing one leaves the other usable.
	closer2.Close()
	if _, err := id.Signer.Sign(nil, s256[:], crypto.SHA256); err != nil {
		t.Errorf("signing after another token's Close: %v", err)
	}
}

// TestSoftHSMErrors: each failure is one line naming what is wrong.
func TestSoftHSMErrors(t *testing.T) {
	h := newHSM(t)
	d := t.TempDir()
	wrongPIN := filepath.Join(d, "wrong-pin")
	os.WriteFile(wrongPIN, []byte("00000000\n"), 0o600)
	notLib := filepath.Join(d, "libnot.so")
	os.WriteFile(notLib, []byte("not a library"), 0o600)
	mod := "module-path=" + h.tok.Module
	for _, tt := range []struct {
		name, uri, certPath string
		want                []string
	}{
		{"wrong PIN", strings.Replace(h.tok.URI("object=code"), h.tok.PINFile, wrongPIN, 1), "", []string{`wrong PIN for token "signet-test"`}},
		{"missing token", "pkcs11:token=nope;object=code?" + mod + "&pin-source=" + h.tok.PINFile, "", []string{"token not found", `token="nope"`, `"signet-test" (serial`}},
		{"missing module", strings.Replace(h.tok.URI("object=code"), h.tok.Module, "/nonexistent/libp11.so", 1), "", []string{`module "/nonexistent/libp11.so" not found`}},
		{"module not a library", strings.Replace(h.tok.URI("object=code"), h.tok.Module, notLib, 1), "", []string{"cannot be loaded"}},
		{"no module", "pkcs11:token=signet-test;object=code", "", []string{"no module", "module-path="}},
		{"object not found", h.tok.URI("object=nope"), "", []string{"object not found", `object="nope"`, `"code" (id 01, RSA)`, `"ec" (id 03, ECDSA)`}},
		{"id not found", h.tok.URI("id=%99"), "", []string{"object not found", "id=99"}},
		{"not RSA", h.tok.URI("object=ec"), "", []string{`"ec" (id 03)`, "is an ECDSA key, not an RSA key"}},
		{"several keys", h.tok.URI(""), "", []string{"3 key pairs match any key", "object= or id="}},
		{"no certificate", h.tok.URI("object=nocert"), "", []string{"holds no certificate", "--certificate-path"}},
		{"certificate of another key", h.tok.URI("object=nocert"), h.otherPEM, []string{"NU3001", "does not match"}},
		{"no PIN", strings.Replace(h.tok.URI("object=code"), "&pin-source="+h.tok.PINFile, "", 1), "", []string{"needs a PIN", "pin-source="}},
		{"PIN file missing", strings.Replace(h.tok.URI("object=code"), h.tok.PINFile, filepath.Join(d, "nope"), 1), "", []string{"cannot open the PIN file"}},
		{"pin-value", h.tok.URI("object=code") + "&pin-value=" + h.tok.PIN, "", []string{"pin-value is refused"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, closer, err := pkcs11.LoadIdentity(tt.uri, tt.certPath, noenv)
			if err == nil {
				closer.Close()
				t.Fatalf("no error; want one containing %q", tt.want)
			}
			msg := err.Error()
			t.Log(msg)
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error %q is more than one line", msg)
			}
			if strings.Contains(msg, h.tok.PIN) {
				t.Errorf("error %q shows the PIN", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

// TestSoftHSMFindInStoreAndToken: --certificate-fingerprint and
// --certificate-subject-name reach keys on a configured token.
func TestSoftHSMFindInStoreAndToken(t *testing.T) {
	h := newHSM(t)
	store := t.TempDir()
	fp := fmt.Sprintf("%X", sha256.Sum256(h.code.Certificate.Raw))
	id, closer, err := pkcs11.FindInStoreAndToken([]string{store}, signer.Selector{Fingerprint: fp}, h.tok.URI(""), noenv)
	if err != nil {
		t.Fatal(err)
	}
	if !id.Certificate.Equal(h.code.Certificate) {
		t.Errorf("found %q", id.Certificate.Subject)
	}
	sum := sha256.Sum256([]byte("x"))
	if _, err := id.Signer.Sign(nil, sum[:], crypto.SHA256); err != nil {
		t.Error(err)
	}
	closer.Close()

	// The same certificate in the store too: two candidates.
	pfx, err := devpki.EncodePFX(h.code, "")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(store, "code.pfx"), pfx, 0o600)
	_, _, err = pkcs11.FindInStoreAndToken([]string{store}, signer.Selector{SubjectName: "pkcs11 test author"}, h.tok.URI(""), noenv)
	if err == nil || !strings.Contains(err.Error(), "2 certificates match") || !strings.Contains(err.Error(), `token "signet-test", key "code" (id 01)`) || !strings.Contains(err.Error(), "certificate store") {
		t.Errorf("store and token: %v", err)
	}
	// Only in the store: found there.
	os.Remove(filepath.Join(store, "code.pfx"))
	pfx, _ = devpki.EncodePFX(h.nocert, "")
	os.WriteFile(filepath.Join(store, "nocert.pfx"), pfx, 0o600)
	id, closer, err = pkcs11.FindInStoreAndToken([]string{store}, signer.Selector{SubjectName: "No Cert"}, h.tok.URI(""), noenv)
	if err != nil || !id.Certificate.Equal(h.nocert.Certificate) {
		t.Fatalf("store only: %v", err)
	}
	closer.Close()
	_, _, err = pkcs11.FindInStoreAndToken([]string{store}, signer.Selector{SubjectName: "nobody"}, h.tok.URI(""), noenv)
	if err == nil || !strings.Contains(err.Error(), "NU3001") || !strings.Contains(err.Error(), `on PKCS#11 token "signet-test"`) {
		t.Errorf("no match: %v", err)
	}
}
