package main

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/tsp"
)

// TestDevCertsAndTSACommands: dev-certs writes a PKI and says how to use it;
// signet tsa serves timestamps with it until its context ends, and keeps its
// serial numbers in the serial file.
func TestDevCertsAndTSACommands(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	code, out, errOut := runCLI(t, "dev-certs", pki)
	if code != 0 {
		t.Fatalf("dev-certs: %d\n%s", code, errOut)
	}
	for _, f := range []string{"root.pem", "code-signing.pfx", "timestamping.pem", "timestamping.key", "repository.pfx"} {
		if _, err := os.Stat(filepath.Join(pki, f)); err != nil {
			t.Errorf("dev-certs did not write %s: %v", f, err)
		}
	}
	if !strings.Contains(out, "signet sign") {
		t.Errorf("dev-certs output does not say how to sign:\n%s", out)
	}
	if code, _, _ := runCLI(t, "dev-certs", pki); code != 1 {
		t.Errorf("dev-certs over an existing PKI: exit %d, want 1", code)
	}

	url, tsa := startTSACommand(t, "--certificate-path", filepath.Join(pki, "timestamping.pem"), "--key-path", filepath.Join(pki, "timestamping.key"),
		"--serial-file", filepath.Join(dir, "tsa.serial"), "--policy", "1.3.6.1.4.1.99999.1")
	var resp *http.Response
	sum := sha256.Sum256([]byte("data"))
	req, _ := tsp.NewRequest(crypto.SHA256, sum[:])
	der, _ := req.Marshal()
	resp, err := http.Post(url, "application/timestamp-query", bytes.NewReader(der))
	if err != nil {
		t.Fatalf("the TSA does not answer: %v\n%s", err, tsa.err.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r, err := tsp.ParseResponse(body)
	if err != nil || !r.Granted() {
		t.Fatalf("response: %v %+v", err, r)
	}
	tok, err := tsp.ParseToken(r.Token)
	if err != nil || tok.Info.Policy.String() != "1.3.6.1.4.1.99999.1" {
		t.Fatalf("token: %v", err)
	}
	if code := tsa.stop(); code != 0 {
		t.Fatalf("tsa exit %d\n%s", code, tsa.err.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "tsa.serial")); err != nil {
		t.Errorf("serial file: %v", err)
	}
}
