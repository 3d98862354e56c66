package feed

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base32"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/blob"
	"github.com/signet-nuget/signet/internal/blob/blobopen"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/store"
)

var ctx = context.Background()

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) != "" {
		os.Exit(serverMain())
	}
	restore := account.UseCheapParamsForTests()
	code := m.Run()
	restore()
	os.Exit(code)
}

// backend names a fresh database and blob store for one test, by the URLs
// that signet serve takes.
type backend struct {
	name string
	urls func(t *testing.T) (database, storage string)
}

// sqliteBackend is the embedded default: SQLite and a directory.
var sqliteBackend = backend{"sqlite+dir", func(t *testing.T) (string, string) {
	dir := t.TempDir()
	return "sqlite:" + filepath.Join(dir, "signet.db"), filepath.Join(dir, "blobs")
}}

// open opens the backend's stores, closed when t ends.
func (b backend) open(t *testing.T) (*store.Store, blob.Store) {
	t.Helper()
	db, storage := b.urls(t)
	return openURLs(t, db, storage)
}

func openURLs(t *testing.T, db, storage string) (*store.Store, blob.Store) {
	t.Helper()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bs, err := blobopen.Open(ctx, storage)
	if err != nil {
		t.Fatal(err)
	}
	return st, bs
}

// harness is a feed on a loopback HTTP server.
type harness struct {
	t     *testing.T
	srv   *Server
	http  *httptest.Server
	store *store.Store
	blobs blob.Store
	base  string
}

// newFeed starts a feed on b with open sign-up; configure may change the
// configuration first.
func newFeed(t *testing.T, b backend, configure ...func(*Config)) *harness {
	t.Helper()
	st, bs := b.open(t)
	return newFeedOn(t, st, bs, configure...)
}

func newFeedOn(t *testing.T, st *store.Store, bs blob.Store, configure ...func(*Config)) *harness {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	cfg := Config{BaseURL: base, AllowSignup: true, TempDir: t.TempDir(),
		Logger: testLogger()}
	for _, c := range configure {
		c(&cfg)
	}
	srv, err := New(cfg, st, bs)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &harness{t: t, srv: srv, http: ts, store: st, blobs: bs, base: base}
}

// client is a user of the feed: a cookie jar for the JSON API and an API
// key for NuGet's endpoints.
type client struct {
	h    *harness
	http *http.Client
	csrf string
	key  string
	name string

	mu        sync.Mutex
	resources map[string]string
}

func (h *harness) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, http: &http.Client{Jar: jar}}
}

// signup creates a user, logs in and creates a push key.
func (h *harness) signup(name string) *client {
	h.t.Helper()
	c := h.anon()
	c.name = name
	c.mustJSON("POST", "/api/v1/users", map[string]any{"username": name, "password": testPassword, "email": name + "@example.com"}, 201, nil)
	c.login(testPassword)
	var k keyJSON
	c.mustJSON("POST", "/api/v1/apikeys", map[string]any{"name": "push", "scopes": []string{"package:push", "package:unlist"}}, 201, &k)
	c.key = k.Key
	return c
}

func (c *client) login(password string) {
	c.h.t.Helper()
	var s sessionJSON
	c.mustJSON("POST", "/api/v1/session", map[string]any{"username": c.name, "password": password}, 200, &s)
	c.csrf = s.CSRFToken
}

// do sends a request to a feed path (or absolute URL).
func (c *client) do(method, path string, body io.Reader, header map[string]string) *http.Response {
	c.h.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = c.h.base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		c.h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// json sends v as JSON and decodes the answer into out (when not nil),
// returning the status and the raw body.
func (c *client) json(method, path string, v any, out any) (int, []byte) {
	c.h.t.Helper()
	var body io.Reader
	hdr := map[string]string{}
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
		hdr["Content-Type"] = "application/json"
	}
	resp := c.do(method, path, body, hdr)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			c.h.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, b
}

func (c *client) mustJSON(method, path string, v any, want int, out any) {
	c.h.t.Helper()
	if got, body := c.json(method, path, v, out); got != want {
		c.h.t.Fatalf("%s %s = %d %s, want %d", method, path, got, body, want)
	}
}

// getJSON fetches a protocol document, failing unless it answers 200.
func (c *client) getJSON(url string, out any) {
	c.h.t.Helper()
	// Go's transport asks for gzip and decompresses, as NuGet clients do.
	resp := c.do("GET", url, nil, nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		c.h.t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		c.h.t.Fatalf("GET %s: %v in %s", url, err, b)
	}
}

// status fetches a URL and returns its status and body.
func (c *client) status(url string) (int, []byte) {
	c.h.t.Helper()
	resp := c.do("GET", url, nil, nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// pushResult is the answer to a push: its status line (where the feed puts
// the reason, as nuget.org does) and body.
type pushResult struct {
	code   int
	status string
	body   string
}

// push uploads a package as NuGet clients do: multipart/form-data with one
// file part, the key in X-NuGet-ApiKey.
func (c *client) push(key string, nupkg []byte) pushResult {
	c.h.t.Helper()
	req, body, err := pushRequest(c.resource("PackagePublish/2.0.0"), key, nupkg)
	if err != nil {
		c.h.t.Fatal(err)
	}
	req.Body = body
	resp, err := c.http.Do(req)
	if err != nil {
		c.h.t.Fatalf("push: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return pushResult{code: resp.StatusCode, status: resp.Status, body: string(b)}
}

func (c *client) mustPush(nupkg []byte) {
	c.h.t.Helper()
	if r := c.push(c.key, nupkg); r.code != 201 {
		c.h.t.Fatalf("push = %s %s", r.status, r.body)
	}
}

// resource finds a resource in the service index by type, as clients do.
func (c *client) resource(typ string) string {
	c.h.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.resources[typ]; ok {
		return u
	}
	var idx serviceIndex
	c.getJSON("/v3/index.json", &idx)
	for _, r := range idx.Resources {
		if r.Type == typ {
			if c.resources == nil {
				c.resources = map[string]string{}
			}
			c.resources[typ] = r.ID
			return r.ID
		}
	}
	c.h.t.Fatalf("service index has no %s", typ)
	return ""
}

// testPassword is every test user's password.
const testPassword = "correct horse battery staple"

// versionRowFor is the row a push of the generated package would store.
func versionRowFor(t *testing.T, s nupkgtest.Spec) store.Version {
	t.Helper()
	b := nupkgtest.Bytes(t, s)
	f, err := os.CreateTemp(t.TempDir(), "*.nupkg")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(b)
	u, err := inspect(f, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(b)
	v, err := versionRow(u, sum[:], int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func storeQueryAll() store.SearchQuery {
	return store.SearchQuery{Prerelease: true, SemVer2: true}
}

// pushRequest builds a push as NuGet clients send it.
func pushRequest(url, key string, nupkg []byte) (*http.Request, io.ReadCloser, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="package"; filename="package.nupkg"`)
	hdr.Set("Content-Type", "application/octet-stream")
	pw, _ := mw.CreatePart(hdr)
	pw.Write(nupkg)
	mw.Close()
	req, err := http.NewRequestWithContext(ctx, "PUT", url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if key != "" {
		req.Header.Set(apiKeyHeader, key)
	}
	req.ContentLength = int64(buf.Len())
	return req, io.NopCloser(&buf), nil
}

// testLogger discards logs unless SIGNET_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SIGNET_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testClock is a settable clock for Config.Now: second-factor tests step
// it from one TOTP period to the next.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// use makes a feed run on the clock: newFeed(t, b, clk.use).
func (c *testClock) use(cfg *Config) { cfg.Now = c.now }

// authenticator is a user's TOTP app, and the recovery codes it was
// given.
type authenticator struct {
	secret   []byte
	recovery []string
}

// code is the app's code at t.
func (a *authenticator) code(t time.Time) string { return account.TOTPCode(a.secret, t) }

// enableTwoFactor enrols and confirms a second factor for the logged-in
// client at the feed's time now, as a user does with an app. Its session
// becomes a two-factor session.
func (c *client) enableTwoFactor(now time.Time) *authenticator {
	c.h.t.Helper()
	var begin struct{ Secret, URI string }
	c.mustJSON("POST", "/api/v1/account/2fa", nil, 200, &begin)
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(begin.Secret)
	if err != nil {
		c.h.t.Fatalf("2FA secret %q: %v", begin.Secret, err)
	}
	a := &authenticator{secret: secret}
	var done struct {
		CSRFToken     string
		TwoFactor     bool
		RecoveryCodes []string
	}
	c.mustJSON("POST", "/api/v1/account/2fa/confirm", map[string]string{"code": a.code(now)}, 200, &done)
	if !done.TwoFactor || done.CSRFToken == "" || len(done.RecoveryCodes) == 0 {
		c.h.t.Fatalf("2FA confirmation = %+v", done)
	}
	c.csrf, a.recovery = done.CSRFToken, done.RecoveryCodes
	return a
}

// loginCode logs in with the password and a second-factor code, and
// returns the status and body; on 200 the client has the new session.
func (c *client) loginCode(otp string) (int, []byte) {
	c.h.t.Helper()
	var s sessionJSON
	code, body := c.json("POST", "/api/v1/session", map[string]any{"username": c.name, "password": testPassword, "otp": otp}, &s)
	if code == 200 {
		c.csrf = s.CSRFToken
	}
	return code, body
}

// upload posts a certificate file as the raw body with the content type
// to a path, and decodes a 201 answer into out (when not nil).
func (c *client) upload(path, contentType string, file []byte, out any) (int, []byte) {
	c.h.t.Helper()
	resp := c.do("POST", path, bytes.NewReader(file), map[string]string{"Content-Type": contentType})
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 201 {
		if err := json.Unmarshal(b, out); err != nil {
			c.h.t.Fatalf("POST %s: decoding %s: %v", path, b, err)
		}
	}
	return resp.StatusCode, b
}
