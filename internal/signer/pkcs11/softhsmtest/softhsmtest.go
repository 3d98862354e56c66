// Package softhsmtest makes SoftHSM2 tokens for tests: a token directory
// and configuration in a temporary directory, a token initialised with
// softhsm2-util, keys imported with softhsm2-util and certificates written
// with pkcs11-tool (Debian packages softhsm2 and opensc).
//
// Tests that call New are skipped when SoftHSM2 or the tools are missing,
// or when the binary is built without cgo, except when
// SIGNET_REQUIRE_SERVICES=1 (scripts/test sets it): then they fail.
package softhsmtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/signer/pkcs11"
)

// modulePaths are where distributions install SoftHSM2's module.
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// Token is an initialised SoftHSM2 token.
type Token struct {
	Module  string // the SoftHSM2 module's path
	Label   string
	PIN     string // the user PIN (random)
	PINFile string // a file holding PIN
	Dir     string // the temporary directory of the configuration and token
}

// unavailable skips the test, or fails it under SIGNET_REQUIRE_SERVICES=1.
func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("SIGNET_REQUIRE_SERVICES") == "1" {
		t.Fatalf("SoftHSM2 tests cannot run: %s (SIGNET_REQUIRE_SERVICES=1)", why)
	}
	t.Skipf("SoftHSM2 tests skipped: %s; run ./scripts/test, which installs softhsm2 and opensc", why)
}

// Module returns the SoftHSM2 module's path, skipping (or failing) the
// test when SoftHSM2, its tools or PKCS#11 support are missing.
func Module(t testing.TB) string {
	t.Helper()
	if !pkcs11.Supported {
		unavailable(t, "built without cgo (CGO_ENABLED=0)")
	}
	for _, tool := range []string{"softhsm2-util", "pkcs11-tool", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, tool+" is not installed")
		}
	}
	for _, p := range modulePaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	unavailable(t, "libsofthsm2.so is not installed")
	return ""
}

// New makes a SoftHSM2 configuration in a temporary directory, points
// SOFTHSM2_CONF at it for the rest of the test (t.Setenv: the test cannot
// be parallel) and initialises a token labelled label with a random PIN.
func New(t testing.TB, label string) *Token {
	t.Helper()
	module := Module(t)
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	b := make([]byte, 8)
	rand.Read(b)
	tok := &Token{Module: module, Label: label, PIN: hex.EncodeToString(b), PINFile: filepath.Join(dir, "pin"), Dir: dir}
	if err := os.WriteFile(tok.PINFile, []byte(tok.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tok.run(t, "softhsm2-util", "--init-token", "--free", "--label", label, "--pin", tok.PIN, "--so-pin", tok.PIN+"so")
	return tok
}

func (tok *Token) run(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = tok.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// ImportKey imports the private key in keyPEM (a PEM file; it is
// converted to PKCS#8 first) and its public half as objects labelled
// label with CKA_ID idHex (hex).
func (tok *Token) ImportKey(t testing.TB, keyPEM, label, idHex string) {
	t.Helper()
	p8 := filepath.Join(tok.Dir, label+"-"+idHex+".p8")
	tok.run(t, "openssl", "pkcs8", "-topk8", "-nocrypt", "-in", keyPEM, "-out", p8)
	tok.run(t, "softhsm2-util", "--import", p8, "--token", tok.Label, "--label", label, "--id", idHex, "--pin", tok.PIN)
	os.Remove(p8)
}

// ImportCertificate writes the PEM certificate in certPEM to the token as
// a certificate object labelled label with CKA_ID idHex.
func (tok *Token) ImportCertificate(t testing.TB, certPEM, label, idHex string) {
	t.Helper()
	der := filepath.Join(tok.Dir, label+"-"+idHex+".der")
	tok.run(t, "openssl", "x509", "-in", certPEM, "-outform", "DER", "-out", der)
	tok.run(t, "pkcs11-tool", "--module", tok.Module, "--token-label", tok.Label, "--login", "--pin", tok.PIN,
		"--write-object", der, "--type", "cert", "--id", idHex, "--label", label)
}

// URI returns a pkcs11: URI naming this token, with path (more path
// attributes, e.g. "object=code", or "") and the module and PIN file.
func (tok *Token) URI(path string) string {
	u := pkcs11.URI{Token: tok.Label, ModulePath: tok.Module, PINSource: tok.PINFile}
	s := u.String()
	if path == "" {
		return s
	}
	head, query, _ := strings.Cut(s, "?")
	return head + ";" + path + "?" + query
}
