package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeScript writes an executable shell script into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSignWithExternalSigner: --key "exec:<program>" signs through a
// program that receives the DigestInfo and prints the signature (here
// openssl, as a cloud key service's CLI would); the result passes openssl
// cms -verify. A program that fails, hangs or prints garbage is a one-line
// error with the package untouched.
func TestSignWithExternalSigner(t *testing.T) {
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	dir := t.TempDir()
	good := writeScript(t, dir, "sign.sh", `exec openssl pkeyutl -sign -inkey "$1"`)
	fails := writeScript(t, dir, "fails.sh", `echo "key vault: access denied" >&2; exit 3`)
	hangs := writeScript(t, dir, "hangs.sh", `sleep 30`)
	garbage := writeScript(t, dir, "garbage.sh", `head -c 256 /dev/urandom`)
	wrongKey := writeScript(t, dir, "wrong.sh", `exec openssl pkeyutl -sign -inkey "$1"`)

	pkg := filepath.Join(dir, "Ext.1.0.0.nupkg")
	orig := writeTestPackage(t, pkg, "Ext", "1.0.0")
	base := []string{"sign", pkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.codePEM, "--timestamper", tsaURL}
	if code, out, errOut := runCLI(t, append(base, "--key", "exec:"+good+" "+p.codeKey)...); code != 0 {
		t.Fatalf("exec signer: %d\n%s\n%s", code, out, errOut)
	}
	sigPath := filepath.Join(dir, "sig.p7s")
	os.WriteFile(sigPath, readSignature(t, pkg), 0o644)
	openssl(t, dir, "cms", "-verify", "-inform", "DER", "-in", sigPath, "-binary", "-CAfile", p.rootPEM, "-purpose", "any", "-out", filepath.Join(dir, "c.txt"))

	for _, tt := range []struct {
		name, key, want string
	}{
		{"fails", "exec:" + fails, "access denied"},
		{"hangs", "exec:" + hangs, "did not answer"},
		{"garbage", "exec:" + garbage, "not a valid signature"},
		{"wrong key", "exec:" + wrongKey + " " + p.otherKey, "not a valid signature"},
		{"missing program", "exec:" + filepath.Join(dir, "nope"), "nope"},
		{"unsupported scheme", "pkcs11:token=x", "not supported"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pkg := filepath.Join(t.TempDir(), "Ext.1.0.0.nupkg")
			os.WriteFile(pkg, orig, 0o644)
			args := []string{"sign", pkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.codePEM, "--timestamper", tsaURL, "--key", tt.key, "--key-timeout", "1s"}
			code, _, errOut := runCLI(t, args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and one line naming %q", code, errOut, tt.want)
			}
			if after, _ := os.ReadFile(pkg); !bytes.Equal(after, orig) {
				t.Fatal("the package changed")
			}
		})
	}
}
