package main

import (
	"bytes"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/signer"
)

// TestSignBadInput: every bad input is one error line naming the problem,
// exit code 1, and the package byte-identical afterwards.
func TestSignBadInput(t *testing.T) {
	p := makePKI(t)
	tsaURL := startTSA(t, p)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + closed.Addr().String() + "/"
	closed.Close()

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write([]byte("this is not a timestamp response"))
	}))
	defer garbage.Close()
	// replay answers every request with the first reply the real TSA gave:
	// from the second request on, the nonce (and imprint) are wrong.
	var once sync.Once
	var first []byte
	replay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		once.Do(func() {
			resp, err := http.Post(tsaURL, "application/timestamp-query", bytes.NewReader(body))
			if err == nil {
				first, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
		})
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(first)
	}))
	defer replay.Close()
	// Prime the replaying server with one request.
	primeDir := t.TempDir()
	primePkg := filepath.Join(primeDir, "Prime.1.0.0.nupkg")
	writeTestPackage(t, primePkg, "Prime", "1.0.0")
	if code, _, errOut := runCLI(t, "sign", primePkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.codePFX, "--certificate-password", p.codePassword, "--timestamper", replay.URL+"/"); code != 0 {
		t.Fatalf("priming the replay server: %s", errOut)
	}

	signed := filepath.Join(t.TempDir(), "Signed.1.0.0.nupkg")
	writeTestPackage(t, signed, "Signed", "1.0.0")
	if code, _, errOut := runCLI(t, "sign", signed, "--trust-bundle", p.rootPEM, "--certificate-path", p.codePFX, "--certificate-password", p.codePassword, "--timestamper", tsaURL); code != 0 {
		t.Fatal(errOut)
	}

	pfx := []string{"--trust-bundle", p.rootPEM, "--certificate-path", p.codePFX, "--certificate-password", p.codePassword}
	tests := []struct {
		name    string
		corrupt bool   // the package is not a zip
		pkg     string // an existing package to use instead of a fresh one
		args    []string
		want    string // in the error line
	}{
		{name: "corrupt zip", corrupt: true, args: append(pfx, "--timestamper", tsaURL), want: "zip"},
		{name: "wrong PFX password", args: []string{"--trust-bundle", p.rootPEM, "--certificate-path", p.codePFX, "--certificate-password", "wrong", "--timestamper", tsaURL}, want: "password"},
		{name: "key not matching the certificate", args: []string{"--trust-bundle", p.rootPEM, "--certificate-path", p.codePEM, "--key-path", p.otherKey, "--timestamper", tsaURL}, want: "match"},
		{name: "no code-signing EKU", args: []string{"--trust-bundle", p.rootPEM, "--certificate-path", p.serverAuthPFX, "--timestamper", tsaURL}, want: "NU3018"},
		{name: "TSA down", args: append(pfx, "--timestamper", downURL), want: downURL},
		{name: "TSA slow", args: append(pfx, "--timestamper", slow.URL+"/", "--timestamp-timeout", "300ms"), want: "time"},
		{name: "TSA garbage", args: append(pfx, "--timestamper", garbage.URL+"/"), want: garbage.URL},
		{name: "TSA wrong nonce", args: append(pfx, "--timestamper", replay.URL+"/"), want: "nonce"},
		{name: "unsupported hash", args: append(pfx, "--timestamper", tsaURL, "--hash-algorithm", "SHA1"), want: "NU3001"},
		{name: "already signed", pkg: signed, args: append(pfx, "--timestamper", tsaURL), want: "NU3001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkg := tt.pkg
			if pkg == "" {
				pkg = filepath.Join(t.TempDir(), "Bad.1.0.0.nupkg")
				if tt.corrupt {
					os.WriteFile(pkg, []byte("PK\x03\x04 this is not a zip file at all"), 0o644)
				} else {
					writeTestPackage(t, pkg, "Bad", "1.0.0")
				}
			}
			before, _ := os.ReadFile(pkg)
			code, _, errOut := runCLI(t, append([]string{"sign", pkg}, tt.args...)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
			}
			var errLines []string
			for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
				if strings.HasPrefix(l, "signet: error: ") {
					errLines = append(errLines, l)
				}
			}
			if len(errLines) != 1 {
				t.Fatalf("want exactly one error line, got:\n%s", errOut)
			}
			if !strings.Contains(strings.ToLower(errLines[0]), strings.ToLower(tt.want)) {
				t.Errorf("error line %q does not mention %q", errLines[0], tt.want)
			}
			after, _ := os.ReadFile(pkg)
			if !bytes.Equal(before, after) {
				t.Fatal("the package changed")
			}
			ents, _ := os.ReadDir(filepath.Dir(pkg))
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Fatalf("temporary file left: %s", e.Name())
				}
			}
		})
	}
}

func TestSignWithoutTimestamperWarns(t *testing.T) {
	p := makePKI(t)
	pkg := filepath.Join(t.TempDir(), "NoTs.1.0.0.nupkg")
	writeTestPackage(t, pkg, "NoTs", "1.0.0")
	code, _, errOut := runCLI(t, "sign", pkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.codePFX, "--certificate-password", p.codePassword)
	if code != 0 || !strings.Contains(errOut, "NU3002") {
		t.Fatalf("exit %d, stderr %q; want 0 with an NU3002 warning", code, errOut)
	}
}

// TestSignUntrustedRoot: like NuGet, signing refuses a certificate whose
// chain ends at an untrusted root (NU3018) unless told otherwise.
func TestSignUntrustedRoot(t *testing.T) {
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	pkg := filepath.Join(t.TempDir(), "Untrusted.1.0.0.nupkg")
	writeTestPackage(t, pkg, "Untrusted", "1.0.0")
	before, _ := os.ReadFile(pkg)
	code, _, errOut := runCLI(t, "sign", pkg, "--certificate-path", p.codePFX, "--certificate-password", p.codePassword, "--timestamper", tsaURL)
	if code != 1 || !strings.Contains(errOut, "NU3018") || !strings.Contains(errOut, "signet: hint: ") {
		t.Fatalf("exit %d, stderr %q; want 1, NU3018 and a hint", code, errOut)
	}
	if after, _ := os.ReadFile(pkg); !bytes.Equal(before, after) {
		t.Fatal("the package changed")
	}
	code, _, errOut = runCLI(t, "sign", pkg, "--certificate-path", p.codePFX, "--certificate-password", p.codePassword, "--timestamper", tsaURL, "--allow-untrusted-root")
	if code != 0 || !strings.Contains(errOut, "signet: warning: NU3018") {
		t.Fatalf("--allow-untrusted-root: exit %d, stderr %q; want 0 with an NU3018 warning", code, errOut)
	}
}

// TestSignRevokedCertificate: like NuGet, signing refuses a certificate
// whose chain has a revoked certificate (NU3018), checked online against
// the CA's OCSP responder; with the responder's answer "good" it signs.
func TestSignRevokedCertificate(t *testing.T) {
	root, err := devpki.NewRoot("Signet Revocation Test Root", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 40)})
	if err != nil {
		t.Fatal(err)
	}
	resp := devpki.NewResponder()
	defer resp.Close()
	resp.Register(root)
	dir := t.TempDir()
	write := func(name string, id *signer.Identity) string {
		pfx, err := devpki.EncodePFX(id, "")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, pfx, 0o600)
		return p
	}
	good, err := root.Issue(devpki.LeafOptions{CommonName: "Good Author", Key: devpki.TestKey(t, 2048, 41)})
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := root.Issue(devpki.LeafOptions{CommonName: "Revoked Author", Key: devpki.TestKey(t, 2048, 42)})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Revoke(revoked.Certificate, time.Now().Add(-time.Hour), 1); err != nil {
		t.Fatal(err)
	}
	rootPEM := filepath.Join(dir, "root.pem")
	os.WriteFile(rootPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw}), 0o644)

	pkg := filepath.Join(dir, "Rev.1.0.0.nupkg")
	writeTestPackage(t, pkg, "Rev", "1.0.0")
	before, _ := os.ReadFile(pkg)
	code, _, errOut := runCLI(t, "sign", pkg, "--trust-bundle", rootPEM, "--certificate-path", write("revoked.pfx", revoked))
	if code != 1 || !strings.Contains(errOut, "NU3018") || !strings.Contains(errOut, "revoked") {
		t.Fatalf("revoked: exit %d, stderr %q", code, errOut)
	}
	if after, _ := os.ReadFile(pkg); !bytes.Equal(before, after) {
		t.Fatal("the package changed")
	}
	code, _, errOut = runCLI(t, "sign", pkg, "--trust-bundle", rootPEM, "--certificate-path", write("good.pfx", good))
	if code != 0 || strings.Contains(errOut, "revocation status") {
		t.Fatalf("good: exit %d, stderr %q", code, errOut)
	}
}
