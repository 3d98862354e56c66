package tsa

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/tsp"
	"github.com/signet-nuget/signet/internal/tsp/tsptest"
)

// requireOpenSSL returns /usr/bin/openssl and fails (never skips) when it
// is missing: interoperability with openssl is part of what must be shown.
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	const path = "/usr/bin/openssl"
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("openssl is required for this test: %v", err)
	}
	return path
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestOpenSSLInterop: openssl writes the query, the server answers over
// HTTP, openssl reads the reply and verifies it against the query with the
// test root as the only trust anchor.
func TestOpenSSLInterop(t *testing.T) {
	openssl := requireOpenSSL(t)
	s, p, _ := newServer(t, tsptest.Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(file("data"), []byte("package signature value"), 0o600)
	os.WriteFile(file("root.pem"), p.RootPEM, 0o600)
	os.WriteFile(file("tsa.pem"), p.CertPEM, 0o600)
	for _, tc := range []struct {
		name string
		args []string
		alg  string
	}{
		{"sha256", []string{"-sha256", "-cert"}, "sha256"},
		{"sha384", []string{"-sha384", "-cert"}, "sha384"},
		{"sha512", []string{"-sha512", "-cert"}, "sha512"},
		{"sha256 without certReq", []string{"-sha256"}, "sha256"},
		{"sha256 without nonce", []string{"-sha256", "-cert", "-no_nonce"}, "sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, r := file(tc.name+".tsq"), file(tc.name+".tsr")
			run(t, openssl, append([]string{"ts", "-query", "-data", file("data"), "-out", q}, tc.args...)...)
			query, _ := os.ReadFile(q)
			resp, err := http.Post(srv.URL, tsp.ContentTypeQuery, bytes.NewReader(query))
			if err != nil {
				t.Fatal(err)
			}
			reply, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			os.WriteFile(r, reply, 0o600)

			text := run(t, openssl, "ts", "-reply", "-in", r, "-text")
			// openssl's own configuration names 1.2.3.4.1 "tsa_policy1".
			for _, want := range []string{"Status: Granted.", "Policy OID: tsa_policy1", "Hash Algorithm: " + tc.alg,
				"Accuracy: 0x01 seconds, unspecified millis, unspecified micros", "Ordering: no"} {
				if !strings.Contains(text, want) {
					t.Errorf("reply text lacks %q:\n%s", want, text)
				}
			}
			if hasNonce := !strings.Contains(text, "Nonce: unspecified"); hasNonce == strings.Contains(tc.name, "without nonce") {
				t.Errorf("nonce presence wrong:\n%s", text)
			}
			out := run(t, openssl, "ts", "-verify", "-in", r, "-queryfile", q, "-CAfile", file("root.pem"), "-untrusted", file("tsa.pem"))
			if !strings.Contains(out, "Verification: OK") {
				t.Fatalf("openssl ts -verify:\n%s", out)
			}
			out = run(t, openssl, "ts", "-verify", "-in", r, "-data", file("data"), "-CAfile", file("root.pem"), "-untrusted", file("tsa.pem"))
			if !strings.Contains(out, "Verification: OK") {
				t.Fatalf("openssl ts -verify -data:\n%s", out)
			}
		})
	}
	// A reply for other data must not verify: the check above can fail.
	os.WriteFile(file("other"), []byte("something else"), 0o600)
	cmd := exec.Command(openssl, "ts", "-verify", "-in", file("sha256.tsr"), "-data", file("other"), "-CAfile", file("root.pem"), "-untrusted", file("tsa.pem"))
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("openssl verified a token over other data:\n%s", out)
	}
}
