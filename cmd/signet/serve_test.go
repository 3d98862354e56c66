package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/nupkg"
)

var feedURL = regexp.MustCompile(`Signet feed: (http://\S+)/v3/index.json`)

// startServe runs signet serve in-process until the test ends, and returns
// the feed's base URL, its output and a stop function that returns the exit
// code.
func startServe(t *testing.T, environ map[string]string, args ...string) (string, *syncBuffer, func() int) {
	t.Helper()
	c := startCommand(t, environ, append([]string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	var url string
	c.waitFor("the feed URL", func() bool {
		if m := feedURL.FindStringSubmatch(c.out.String()); m != nil {
			url = m[1]
		}
		return url != ""
	})
	return url, c.out, c.stop
}

// TestServeEmbeddedDefault: serve on a fresh data directory creates the
// administrator with a generated password and a push key in a private
// file, serves the feed, and takes a push with that key; a restart keeps
// everything and creates nothing.
func TestServeEmbeddedDefault(t *testing.T) {
	data := filepath.Join(t.TempDir(), "signet-data")
	base, out, stop := startServe(t, nil, "--data", data)
	creds := filepath.Join(data, adminCredentialsFile)
	if !strings.Contains(out.String(), `administrator "admin" created`) || !strings.Contains(out.String(), creds) ||
		!strings.Contains(out.String(), "repository signing: CN=") || !strings.Contains(out.String(), "the built-in timestamp authority at http://127.0.0.1:") ||
		!strings.Contains(out.String(), "dotnet nuget push") {
		t.Fatalf("banner:\n%s", out.String())
	}
	fi, err := os.Stat(creds)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}
	text, _ := os.ReadFile(creds)
	key := regexp.MustCompile(`api-key: (\S+)`).FindStringSubmatch(string(text))
	pw := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(string(text))
	if key == nil || pw == nil || len(pw[1]) < 20 {
		t.Fatalf("credentials file:\n%s", text)
	}

	pkg := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Served.Pkg", Version: "1.2.3"})
	if code := pushTo(t, base, key[1], pkg); code != 201 {
		t.Fatalf("push = %d", code)
	}
	resp, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"username":"admin","password":"`+pw[1]+`"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin log-in: %v %v", resp, err)
	}
	resp.Body.Close()
	if code := stop(); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}

	base, out, _ = startServe(t, nil, "--data", data)
	if strings.Contains(out.String(), "created") || !strings.Contains(out.String(), "administrator credentials: "+creds) {
		t.Fatalf("restart banner:\n%s", out.String())
	}
	resp, err = http.Get(base + "/v3-flatcontainer/served.pkg/1.2.3/served.pkg.1.2.3.nupkg")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("download after restart = %d", resp.StatusCode)
	}
	// The feed served it repository-signed: without the signature it is
	// the package pushed, and signet verify accepts it with the feed CA.
	served, err := nupkg.Open(bytes.NewReader(got), int64(len(got)))
	if err != nil || !served.IsSigned() {
		t.Fatalf("served package: signed %v, %v", served != nil && served.IsSigned(), err)
	}
	var unsigned bytes.Buffer
	if err := served.WriteUnsigned(&unsigned); err != nil || !bytes.Equal(unsigned.Bytes(), pkg) {
		t.Fatalf("served package without its signature differs from the push (%v)", err)
	}
	path := filepath.Join(t.TempDir(), "served.nupkg")
	os.WriteFile(path, got, 0o644)
	if code, stdout, stderr := runCLI(t, "verify", path, "--trust-bundle", filepath.Join(data, "pki", "root.pem")); code != 0 {
		t.Fatalf("verify of the served package = %d\n%s%s", code, stdout, stderr)
	}
}

// TestServeAdminFromEnvironment: with SIGNET_ADMIN_PASSWORD the password
// is the one given and no credentials file is written.
func TestServeAdminFromEnvironment(t *testing.T) {
	data := filepath.Join(t.TempDir(), "d")
	base, out, _ := startServe(t, map[string]string{"SIGNET_ADMIN_PASSWORD": "a long admin password"}, "--data", data, "--admin-user", "root")
	if !strings.Contains(out.String(), `administrator "root" created with the password in SIGNET_ADMIN_PASSWORD`) {
		t.Fatalf("banner:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(data, adminCredentialsFile)); !os.IsNotExist(err) {
		t.Fatalf("credentials file written: %v", err)
	}
	resp, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"username":"root","password":"a long admin password"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("log-in: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestServeRefusesBadConfiguration: bad URLs fail at start with a clear
// error.
func TestServeRefusesBadConfiguration(t *testing.T) {
	for _, args := range [][]string{
		{"--database", "mysql://x"},
		{"--storage", "ftp://x/y"},
		{"--base-url", "not a url"},
	} {
		code, _, stderr := runCLI(t, append([]string{"serve", "--listen", "127.0.0.1:0", "--data", t.TempDir()}, args...)...)
		if code != 1 || !strings.HasPrefix(stderr, "signet: error: ") {
			t.Errorf("serve %v = %d %q", args, code, stderr)
		}
	}
}

func pushTo(t *testing.T, base, key string, pkg []byte) int {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("package", "package.nupkg")
	w.Write(pkg)
	mw.Close()
	req, _ := http.NewRequest("PUT", base+"/api/v2/package", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-NuGet-ApiKey", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// slowReader yields its bytes in small pieces with pauses, like a push over
// a slow link, and signals when it has started.
type slowReader struct {
	b       []byte
	started chan struct{}
	once    sync.Once
}

func (r *slowReader) Read(p []byte) (int, error) {
	r.once.Do(func() { close(r.started) })
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	time.Sleep(20 * time.Millisecond)
	n := copy(p, r.b[:min(len(r.b), 4096)])
	r.b = r.b[n:]
	return n, nil
}

// TestServeGracefulShutdown: a push in flight when the feed is told to stop
// completes (201), and the process exits 0.
func TestServeGracefulShutdown(t *testing.T) {
	data := filepath.Join(t.TempDir(), "d")
	base, _, stop := startServe(t, nil, "--data", data)
	text, _ := os.ReadFile(filepath.Join(data, adminCredentialsFile))
	key := regexp.MustCompile(`api-key: (\S+)`).FindStringSubmatch(string(text))[1]

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("package", "package.nupkg")
	noise := make([]byte, 128<<10) // incompressible: about 32 reads of the slow body
	rand.Read(noise)
	w.Write(nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Slow.Pkg", Files: map[string][]byte{"lib/x.bin": noise}}))
	mw.Close()
	body := &slowReader{b: buf.Bytes(), started: make(chan struct{})}
	req, _ := http.NewRequest("PUT", base+"/api/v2/package", body)
	req.ContentLength = int64(buf.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-NuGet-ApiKey", key)
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-body.started
	time.Sleep(100 * time.Millisecond)
	select {
	case code := <-done:
		t.Fatalf("push finished (%d) before the shutdown began; the test needs it in flight", code)
	default:
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}
	if code := <-done; code != 201 {
		t.Fatalf("push in flight at shutdown = %d, want 201", code)
	}
}

// TestServeRepositoryCertificate: a feed with its own repository
// certificate and TSA signs with them, and lists earlier certificates
// given for a rotation after the current one.
func TestServeRepositoryCertificate(t *testing.T) {
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	data := filepath.Join(t.TempDir(), "d")
	base, out, _ := startServe(t, nil, "--data", data, "--repository-certificate-path", p.repoPFX, "--timestamper", tsaURL,
		"--trust-bundle", p.rootPEM, "--previous-repository-certificate", p.codePEM)
	if !strings.Contains(out.String(), "repository signing: CN=Signet Test Repository") || !strings.Contains(out.String(), "also listed (rotated)") {
		t.Fatalf("banner:\n%s", out.String())
	}
	resp, err := http.Get(base + "/v3/repository-signatures/index.json")
	if err != nil {
		t.Fatal(err)
	}
	var rs struct {
		SigningCertificates []struct{ Subject string }
	}
	json.NewDecoder(resp.Body).Decode(&rs)
	resp.Body.Close()
	if len(rs.SigningCertificates) != 2 || !strings.Contains(rs.SigningCertificates[0].Subject, "Signet Test Repository") ||
		!strings.Contains(rs.SigningCertificates[1].Subject, "Signet Test Author") {
		t.Fatalf("repository signatures = %+v", rs)
	}
	text, _ := os.ReadFile(filepath.Join(data, adminCredentialsFile))
	key := regexp.MustCompile(`api-key: (\S+)`).FindStringSubmatch(string(text))[1]
	if code := pushTo(t, base, key, nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Rotated.Pkg"})); code != 201 {
		t.Fatalf("push = %d", code)
	}
	resp, err = http.Get(base + "/v3-flatcontainer/rotated.pkg/1.0.0/rotated.pkg.1.0.0.nupkg")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	path := filepath.Join(t.TempDir(), "rotated.nupkg")
	os.WriteFile(path, got, 0o644)
	code, stdout, stderr := runCLI(t, "verify", path, "--trust-bundle", p.rootPEM, "-v", "detailed")
	if code != 0 || !strings.Contains(stdout, "Signet Test Repository") {
		t.Fatalf("verify = %d\n%s%s", code, stdout, stderr)
	}
	// Without a timestamp authority a given certificate is refused.
	code, _, stderr = runCLI(t, "serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--repository-certificate-path", p.repoPFX, "--trust-bundle", p.rootPEM)
	if code != 1 || !strings.Contains(stderr, "--timestamper is required") {
		t.Fatalf("serve without --timestamper = %d %q", code, stderr)
	}
}
