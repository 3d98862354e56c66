package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/signer/pkcs11"
	"github.com/signet-nuget/signet/internal/signer/pkcs11/softhsmtest"
)

// runCLIEnv is runCLI with an environment.
func runCLIEnv(t testing.TB, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return environ[k] }}, args)
	return code, out.String(), errb.String()
}

// pkcs11Token makes a SoftHSM2 token holding the test PKI's author key and
// certificate ("author", id 01), its TSA key and certificate ("tsa", id 02)
// and an ECDSA key ("ec", id 03).
func pkcs11Token(t *testing.T, p *testPKI) *softhsmtest.Token {
	t.Helper()
	tok := softhsmtest.New(t, "signet-cli")
	tok.ImportKey(t, p.codeKey, "author", "01")
	tok.ImportCertificate(t, p.codePEM, "author", "01")
	tok.ImportKey(t, p.tsaKey, "tsa", "02")
	tok.ImportCertificate(t, p.tsaPEM, "tsa", "02")
	openssl(t, tok.Dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.key")
	tok.ImportKey(t, filepath.Join(tok.Dir, "ec.key"), "ec", "03")
	waitPastNotBefore(t, p.codePEM, p.tsaPEM)
	return tok
}

// waitPastNotBefore sleeps until the certificates in the PEM files are more
// than two seconds old. The test PKI's certificates start "now" (openssl
// x509 -req cannot backdate), and a timestamp's lower limit (genTime minus
// its one-second accuracy) must be after the signing certificate's
// notBefore (nusig's validAt, as NuGet), so a package signed in the PKI's
// first seconds fails verification with NU3037.
func waitPastNotBefore(t *testing.T, paths ...string) {
	t.Helper()
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(pemDER(t, b))
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(c.NotBefore.Add(2*time.Second + 100*time.Millisecond)); d > 0 {
			time.Sleep(d)
		}
	}
}

// checkSignedPackage checks a signed package as issue 8 asks: openssl cms
// -verify against the root, a timestamp that openssl ts -verify accepts,
// and signet verify.
func checkSignedPackage(t *testing.T, p *testPKI, pkg string) {
	t.Helper()
	dir := t.TempDir()
	sig := readSignature(t, pkg)
	sigPath := filepath.Join(dir, "sig.p7s")
	os.WriteFile(sigPath, sig, 0o644)
	openssl(t, dir, "cms", "-verify", "-inform", "DER", "-in", sigPath, "-binary", "-CAfile", p.rootPEM, "-purpose", "any", "-out", filepath.Join(dir, "content.txt"))
	sd, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	si := sd.SignerInfos[0]
	tokens := si.UnsignedAttr(cms.OIDTimeStampToken)
	if len(tokens) != 1 || len(tokens[0].Values) != 1 {
		t.Fatalf("want one timestamp token, have %v", tokens)
	}
	tokPath := filepath.Join(dir, "token.der")
	os.WriteFile(tokPath, tokens[0].Values[0], 0o644)
	sum := sha256.Sum256(si.Signature)
	openssl(t, dir, "ts", "-verify", "-in", tokPath, "-token_in", "-digest", hex.EncodeToString(sum[:]), "-CAfile", p.rootPEM, "-untrusted", p.tsaPEM)
	if code, out, errOut := runCLI(t, "verify", pkg, "--trust-bundle", p.rootPEM, "--offline"); code != 0 {
		t.Fatalf("signet verify: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestSignWithPKCS11Key: sign and repository-sign with a key held in
// SoftHSM2, the certificate taken from the token or from
// --certificate-path, the PIN from a file or the environment.
func TestSignWithPKCS11Key(t *testing.T) {
	softhsmtest.Module(t) // skip before making the PKI when SoftHSM2 is missing
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	tok := pkcs11Token(t, p)
	dir := t.TempDir()

	pkg := filepath.Join(dir, "Hsm.1.0.0.nupkg")
	writeTestPackage(t, pkg, "Hsm", "1.0.0")
	code, out, errOut := runCLI(t, "sign", pkg, "--trust-bundle", p.rootPEM, "--timestamper", tsaURL, "--key", tok.URI("object=author"))
	if code != 0 || !strings.Contains(out, "Signet Test Author") {
		t.Fatalf("sign: exit %d\n%s\n%s", code, out, errOut)
	}
	checkSignedPackage(t, p, pkg)

	// The certificate from a file, the key by id, the PIN from the
	// environment; SHA-512.
	pkg2 := filepath.Join(dir, "Hsm.2.0.0.nupkg")
	writeTestPackage(t, pkg2, "Hsm", "2.0.0")
	uri := strings.Replace(tok.URI("id=%01"), "pin-source="+tok.PINFile, "pin-source=env:HSM_PIN", 1)
	code, out, errOut = runCLIEnv(t, map[string]string{"HSM_PIN": tok.PIN}, "sign", pkg2, "--trust-bundle", p.rootPEM, "--timestamper", tsaURL,
		"--key", uri, "--certificate-path", p.codePEM, "--hash-algorithm", "SHA512")
	if code != 0 {
		t.Fatalf("sign with --certificate-path: exit %d\n%s\n%s", code, out, errOut)
	}
	checkSignedPackage(t, p, pkg2)

	// A repository countersignature with the same key.
	code, out, errOut = runCLI(t, "repository-sign", pkg, "--trust-bundle", p.rootPEM, "--timestamper", tsaURL,
		"--key", tok.URI("object=author"), "--service-index-url", "https://feed.example/v3/index.json")
	if code != 0 {
		t.Fatalf("repository-sign: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "verify", pkg, "--trust-bundle", p.rootPEM, "--offline"); code != 0 {
		t.Fatalf("verify after repository-sign: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestSignPKCS11FromCertificateStore: --certificate-fingerprint and
// --certificate-subject-name find a key on the token SIGNET_PKCS11_URI
// names.
func TestSignPKCS11FromCertificateStore(t *testing.T) {
	softhsmtest.Module(t) // skip before making the PKI when SoftHSM2 is missing
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	tok := pkcs11Token(t, p)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	codeCert, err := os.ReadFile(p.codePEM)
	if err != nil {
		t.Fatal(err)
	}
	fp := fmt.Sprintf("%X", sha256.Sum256(pemDER(t, codeCert)))
	environ := map[string]string{envPKCS11URI: tok.URI("")}
	for _, sel := range [][]string{{"--certificate-fingerprint", fp}, {"--certificate-subject-name", "Signet Test Author"}} {
		pkg := filepath.Join(t.TempDir(), "Store.1.0.0.nupkg")
		writeTestPackage(t, pkg, "Store", "1.0.0")
		code, out, errOut := runCLIEnv(t, environ, append([]string{"sign", pkg, "--trust-bundle", p.rootPEM, "--timestamper", tsaURL}, sel...)...)
		if code != 0 || !strings.Contains(out, "Signet Test Author") {
			t.Fatalf("sign %v: exit %d\n%s\n%s", sel, code, out, errOut)
		}
		checkSignedPackage(t, p, pkg)
	}
	pkg := filepath.Join(t.TempDir(), "Store.1.0.0.nupkg")
	orig := writeTestPackage(t, pkg, "Store", "1.0.0")
	code, _, errOut := runCLIEnv(t, environ, "sign", pkg, "--trust-bundle", p.rootPEM, "--timestamper", tsaURL, "--certificate-subject-name", "Signet Test")
	if code != 1 || !strings.Contains(errOut, "2 certificates match") || !strings.Contains(errOut, `key "author" (id 01)`) || !strings.Contains(errOut, `key "tsa" (id 02)`) {
		t.Errorf("ambiguous subject: exit %d, stderr %q", code, errOut)
	}
	if after, _ := os.ReadFile(pkg); !bytes.Equal(after, orig) {
		t.Error("the package changed")
	}
}

// pemDER returns the DER of the first PEM block in b.
func pemDER(t *testing.T, b []byte) []byte {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	return blk.Bytes
}

// TestTSAWithPKCS11Key: signet tsa signs timestamps with a key on the
// token while signet sign uses another key of the same token.
func TestTSAWithPKCS11Key(t *testing.T) {
	softhsmtest.Module(t) // skip before making the PKI when SoftHSM2 is missing
	p := makePKI(t)
	tok := pkcs11Token(t, p)
	tsaURL, tsa := startTSACommand(t, "--key", tok.URI("object=tsa"), "--serial-file", filepath.Join(t.TempDir(), "tsa.serial"))
	defer func() {
		if code := tsa.stop(); code != 0 {
			t.Errorf("tsa exit %d\n%s", code, tsa.err.String())
		}
	}()
	pkg := filepath.Join(t.TempDir(), "Tsa.1.0.0.nupkg")
	writeTestPackage(t, pkg, "Tsa", "1.0.0")
	code, out, errOut := runCLI(t, "sign", pkg, "--trust-bundle", p.rootPEM, "--timestamper", tsaURL, "--key", tok.URI("object=author"))
	if code != 0 {
		t.Fatalf("sign: exit %d\n%s\n%s\ntsa: %s", code, out, errOut, tsa.err.String())
	}
	checkSignedPackage(t, p, pkg)
}

// TestSignPKCS11Errors: a wrong PIN, a missing token, module or object,
// a key that is not RSA: each one error line naming it, exit 1, the
// package byte-identical.
func TestSignPKCS11Errors(t *testing.T) {
	softhsmtest.Module(t) // skip before making the PKI when SoftHSM2 is missing
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	tok := pkcs11Token(t, p)
	dir := t.TempDir()
	wrongPIN := filepath.Join(dir, "wrong-pin")
	os.WriteFile(wrongPIN, []byte("00000000\n"), 0o600)
	good := tok.URI("object=author")
	fp := strings.Repeat("AB", 32)
	for _, tt := range []struct {
		name  string
		args  []string
		want  []string
		usage bool // exit 2
	}{
		{"wrong PIN", []string{"--key", strings.Replace(good, tok.PINFile, wrongPIN, 1)}, []string{`wrong PIN for token "signet-cli"`}, false},
		{"missing token", []string{"--key", strings.Replace(good, "token=signet-cli", "token=absent", 1)}, []string{"token not found", `token="absent"`, `"signet-cli"`}, false},
		{"missing module", []string{"--key", strings.Replace(good, tok.Module, "/nonexistent/libp11.so", 1)}, []string{`module "/nonexistent/libp11.so" not found`}, false},
		{"object not found", []string{"--key", tok.URI("object=nope")}, []string{"object not found", `object="nope"`, `"author" (id 01, RSA)`}, false},
		{"not RSA", []string{"--key", tok.URI("object=ec")}, []string{"not an RSA key"}, false},
		{"wrong certificate", []string{"--key", good, "--certificate-path", p.tsaPEM}, []string{"NU3001", "does not match"}, false},
		{"PIN on the command line", []string{"--key", good + "&pin-value=" + tok.PIN}, []string{"pin-value is refused"}, false},
		{"key and fingerprint", []string{"--key", good, "--certificate-fingerprint", fp}, []string{"NU3001", "cannot be combined", envPKCS11URI}, false},
		{"key and key path", []string{"--key", good, "--key-path", p.codeKey}, []string{"cannot be combined"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pkg := filepath.Join(t.TempDir(), "Err.1.0.0.nupkg")
			orig := writeTestPackage(t, pkg, "Err", "1.0.0")
			code, _, errOut := runCLI(t, append([]string{"sign", pkg, "--trust-bundle", p.rootPEM, "--timestamper", tsaURL}, tt.args...)...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != 1 || len(lines) != 1 {
				t.Fatalf("exit %d, stderr %q; want exit 1 and one line", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("stderr %q lacks %q", lines[0], w)
				}
			}
			if strings.Contains(errOut, tok.PIN) {
				t.Errorf("stderr %q shows the PIN", errOut)
			}
			if after, _ := os.ReadFile(pkg); !bytes.Equal(after, orig) {
				t.Error("the package changed")
			}
		})
	}
	// The token named for store lookups is opened and its errors reported.
	pkg := filepath.Join(t.TempDir(), "Err.1.0.0.nupkg")
	orig := writeTestPackage(t, pkg, "Err", "1.0.0")
	code, _, errOut := runCLIEnv(t, map[string]string{envPKCS11URI: strings.Replace(tok.URI(""), tok.PINFile, wrongPIN, 1)},
		"sign", pkg, "--trust-bundle", p.rootPEM, "--timestamper", tsaURL, "--certificate-fingerprint", fp)
	if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "wrong PIN") {
		t.Errorf("store lookup with a wrong PIN: exit %d, stderr %q", code, errOut)
	}
	if after, _ := os.ReadFile(pkg); !bytes.Equal(after, orig) {
		t.Error("the package changed")
	}
}

// TestVersionReportsPKCS11: signet version says whether PKCS#11 support is
// built in.
func TestVersionReportsPKCS11(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	want := "PKCS#11 support: built in"
	if !pkcs11.Supported {
		want = "PKCS#11 support: not built in"
	}
	if code != 0 || !strings.Contains(out, want+"\n") && !strings.Contains(out, want+" ") {
		t.Errorf("version: exit %d, output %q; want a line %q", code, out, want)
	}
}
