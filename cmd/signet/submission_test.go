package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base32"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/blob"
	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/feed"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/store"
	"github.com/signet-nuget/signet/internal/tsa"
	"github.com/signet-nuget/signet/nupkg"
	"github.com/signet-nuget/signet/nusig"
)

// feedClock is the feed's clock in the end-to-end test: real time plus an
// offset the test moves forward, so that each TOTP code falls in a new
// 30-second step (a step is accepted once).
type feedClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *feedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *feedClock) step() {
	c.mu.Lock()
	c.offset += 31 * time.Second
	c.mu.Unlock()
}

// TestSignedSubmissionEndToEnd is issue #5's walk through a signed
// submission, over HTTPS against a real feed, ending with signet verify in
// require mode trusting the feed through its RepositorySignatures resource.
func TestSignedSubmissionEndToEnd(t *testing.T) {
	restore := account.UseCheapParamsForTests()
	defer restore()
	dir := t.TempDir()

	// The project's own PKI: a root, the feed's repository certificate, a
	// TSA and two author certificates.
	root, err := devpki.NewRoot("Signet E2E Root", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 700)})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(o devpki.LeafOptions) *signer.Identity {
		id, err := root.Issue(o)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	repo := issue(devpki.LeafOptions{CommonName: "Signet E2E Feed", Key: devpki.TestKey(t, 2048, 701)})
	author := issue(devpki.LeafOptions{CommonName: "Alice Author", Key: devpki.TestKey(t, 2048, 702)})
	other := issue(devpki.LeafOptions{CommonName: "Not Alice", Key: devpki.TestKey(t, 2048, 703)})
	tsaID := issue(devpki.LeafOptions{CommonName: "Signet E2E TSA", Key: devpki.TestKey(t, 2048, 704),
		EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, CriticalEKU: true})
	tsaSrv := httptest.NewServer(&tsa.Server{Certificate: tsaID.Certificate, Chain: tsaID.Chain[1:], Signer: tsaID.Signer,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer tsaSrv.Close()
	ts := nusig.NewRFC3161Timestamper([]string{tsaSrv.URL}, 10*time.Second)
	rootPEM := filepath.Join(dir, "root.pem")
	os.WriteFile(rootPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Root().Raw}), 0o644)

	// The feed, over TLS.
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	blobs, err := blob.NewDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &feedClock{}
	hs := httptest.NewUnstartedServer(nil)
	hs.StartTLS()
	defer hs.Close()
	base := hs.URL
	srv, err := feed.New(feed.Config{BaseURL: base, AllowSignup: true, TempDir: dir, Now: clock.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Signing: &feed.Signing{Certificate: repo.Certificate, Chain: repo.Chain[1:], Signer: repo.Signer, Timestamper: ts,
			Roots: []*x509.Certificate{root.Root()}, TimestampRoots: []*x509.Certificate{root.Root()}},
	}, st, blobs)
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv.Handler()
	jar, _ := cookiejar.New(nil)
	c := hs.Client()
	c.Jar = jar
	csrf := ""
	call := func(method, path, ctype string, body []byte, want int, out any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s = %s %s, want %d", method, path, resp.Status, b, want)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
	}
	j := func(v any) []byte { b, _ := json.Marshal(v); return b }
	var session struct{ CSRFToken string }

	// Sign up and log in; registering a certificate needs a 2FA log-in.
	call("POST", "/api/v1/users", "application/json", j(map[string]string{"username": "alice", "password": "correct horse battery staple", "email": "alice@example.com"}), 201, nil)
	call("POST", "/api/v1/session", "application/json", j(map[string]string{"username": "alice", "password": "correct horse battery staple"}), 200, &session)
	csrf = session.CSRFToken
	call("POST", "/api/v1/account/certificates", "application/pkix-cert", author.Certificate.Raw, 403, nil)

	// Enrol TOTP, then log in again with password and code.
	var enrol struct{ Secret, URI string }
	call("POST", "/api/v1/account/2fa", "application/json", nil, 200, &enrol)
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(enrol.Secret))
	if err != nil || !strings.HasPrefix(enrol.URI, "otpauth://totp/") {
		t.Fatalf("enrolment = %+v, %v", enrol, err)
	}
	call("POST", "/api/v1/account/2fa/confirm", "application/json", j(map[string]string{"code": account.TOTPCode(secret, clock.now())}), 200, &session)
	csrf = session.CSRFToken
	call("DELETE", "/api/v1/session", "", nil, 204, nil)
	clock.step()
	call("POST", "/api/v1/session", "application/json", j(map[string]string{"username": "alice", "password": "correct horse battery staple"}), 401, nil)
	call("POST", "/api/v1/session", "application/json", j(map[string]string{"username": "alice", "password": "correct horse battery staple",
		"otp": account.TOTPCode(secret, clock.now())}), 200, &session)
	csrf = session.CSRFToken
	var registered struct{ SHA256 string }
	call("POST", "/api/v1/account/certificates", "application/pkix-cert", author.Certificate.Raw, 201, &registered)
	if registered.SHA256 != nusig.Fingerprint(author.Certificate) {
		t.Fatalf("registered %s, want %s", registered.SHA256, nusig.Fingerprint(author.Certificate))
	}
	var key struct{ Key string }
	call("POST", "/api/v1/apikeys", "application/json", j(map[string]any{"name": "ci", "scopes": []string{"package:push"}}), 201, &key)

	// Pushes: unsigned, signed by another certificate, signed right.
	push := func(pkg []byte) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		w, _ := mw.CreateFormFile("package", "package.nupkg")
		w.Write(pkg)
		mw.Close()
		req, _ := http.NewRequest("PUT", base+"/api/v2/package", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("X-NuGet-ApiKey", key.Key)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Status
	}
	unsigned := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Alice.Lib", Version: "1.0.0"})
	if code, status := push(unsigned); code != 400 || !strings.Contains(status, "This package must be signed with a registered certificate.") {
		t.Fatalf("unsigned push = %s", status)
	}
	if code, status := push(signWith(t, unsigned, other, ts)); code != 400 || !strings.Contains(status, nusig.Fingerprint(other.Certificate)) {
		t.Fatalf("push signed by another certificate = %s", status)
	}
	if code, status := push(signWith(t, unsigned, author, ts)); code != 201 {
		t.Fatalf("signed push = %s", status)
	}

	// The download carries the feed's countersignature.
	resp, err := c.Get(base + "/v3-flatcontainer/alice.lib/1.0.0/alice.lib.1.0.0.nupkg")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pkgPath := filepath.Join(dir, "Alice.Lib.1.0.0.nupkg")
	os.WriteFile(pkgPath, served, 0o644)

	// signet verify in require mode: refused (NU3034) until the feed is
	// trusted through its RepositorySignatures resource.
	cfg := filepath.Join(dir, "nuget.config")
	os.WriteFile(cfg, []byte(`<?xml version="1.0" encoding="utf-8"?>
<configuration><config><add key="signatureValidationMode" value="require" /></config></configuration>`), 0o644)
	code, stdout, stderr := runCLI(t, "verify", pkgPath, "--configfile", cfg, "--trust-bundle", rootPEM)
	if code != 1 || !strings.Contains(stdout+stderr, "NU3034") {
		t.Fatalf("verify in require mode without trust = %d\n%s%s", code, stdout, stderr)
	}
	old := trustHTTPClient
	trustHTTPClient = hs.Client()
	defer func() { trustHTTPClient = old }()
	if code, stdout, stderr := runCLI(t, "trust", "source", "signet", "--source-url", base+"/v3/index.json", "--configfile", cfg); code != 0 {
		t.Fatalf("trust source = %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "verify", pkgPath, "--configfile", cfg, "--trust-bundle", rootPEM)
	if code != 0 || !strings.Contains(stdout, "Signature type: Repository") {
		t.Fatalf("verify in require mode trusting the feed = %d\n%s%s", code, stdout, stderr)
	}
	p, _ := nupkg.Open(bytes.NewReader(served), int64(len(served)))
	if !p.IsSigned() {
		t.Fatal("served package unsigned")
	}

	// The signature endpoint shows the facts, to anyone.
	resp, err = hs.Client().Get(base + "/api/v1/packages/Alice.Lib/1.0.0/signature")
	if err != nil {
		t.Fatal(err)
	}
	var facts struct {
		Status string
		Author struct {
			SHA256    string
			Timestamp struct{ Authority string }
		}
		Repository struct{ SHA256 string }
	}
	json.NewDecoder(resp.Body).Decode(&facts)
	resp.Body.Close()
	if facts.Status != "valid" || facts.Author.SHA256 != nusig.Fingerprint(author.Certificate) ||
		!strings.Contains(facts.Author.Timestamp.Authority, "Signet E2E TSA") || facts.Repository.SHA256 != nusig.Fingerprint(repo.Certificate) {
		t.Fatalf("signature facts = %+v", facts)
	}
}

// signWith author-signs a package.
func signWith(t *testing.T, pkg []byte, id *signer.Identity, ts nusig.Timestamper) []byte {
	t.Helper()
	p, err := nupkg.Open(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := nusig.SignPackage(context.Background(), &out, p, nusig.Request{Type: nusig.TypeAuthor,
		SignOptions: nusig.SignOptions{Signer: id.Signer, Certificate: id.Certificate, Chain: id.Chain[1:], Timestamper: ts}}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
