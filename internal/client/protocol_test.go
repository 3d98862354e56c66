package client

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeFeed is a minimal V3 feed whose handlers a test replaces.
type fakeFeed struct {
	srv     *httptest.Server
	mu      sync.Mutex
	handler map[string]http.HandlerFunc // by path
	seen    []*http.Request
	index   string // service index JSON; {base} is replaced
}

func newFakeFeed(t *testing.T) *fakeFeed {
	f := &fakeFeed{handler: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen = append(f.seen, r.Clone(context.Background()))
		h := f.handler[r.URL.Path]
		idx := f.index
		f.mu.Unlock()
		switch {
		case h != nil:
			h(w, r)
		case r.URL.Path == "/v3/index.json":
			if idx == "" {
				idx = `{"version":"3.0.0","resources":[
				  {"@id":"{base}/flat/","@type":"PackageBaseAddress/3.0.0"},
				  {"@id":"{base}/push","@type":["PackagePublish/2.0.0","Other"]}]}`
			}
			io.WriteString(w, strings.ReplaceAll(idx, "{base}", f.srv.URL))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeFeed) handle(path string, h http.HandlerFunc) {
	f.mu.Lock()
	f.handler[path] = h
	f.mu.Unlock()
}

func (f *fakeFeed) requests(path string) []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*http.Request
	for _, r := range f.seen {
		if r.URL.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// TestRetries: GETs are retried on 5xx, 429 and dropped connections up to
// MaxAttempts; a 4xx is not retried; pushes are never retried.
func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int
		fail     func(w http.ResponseWriter)
		attempts int
		wantErr  bool
	}{
		{"503 then ok", 2, func(w http.ResponseWriter) { w.WriteHeader(503) }, 3, false},
		{"429 then ok", 1, func(w http.ResponseWriter) { w.Header().Set("Retry-After", "0"); w.WriteHeader(429) }, 2, false},
		{"dropped connection then ok", 1, func(w http.ResponseWriter) { panic(http.ErrAbortHandler) }, 2, false},
		{"always 500", 99, func(w http.ResponseWriter) { w.WriteHeader(500) }, 3, true},
		{"403 not retried", 99, func(w http.ResponseWriter) { w.WriteHeader(403) }, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeFeed(t)
			var n atomic.Int32
			f.handle("/flat/x/index.json", func(w http.ResponseWriter, r *http.Request) {
				if int(n.Add(1)) <= tc.failures {
					tc.fail(w)
					return
				}
				io.WriteString(w, `{"versions":["1.0.0"]}`)
			})
			c := newClient(t, f.srv.URL+"/v3/index.json", fastOptions())
			vs, err := c.Versions(ctx, "x")
			if (err != nil) != tc.wantErr || int(n.Load()) != tc.attempts {
				t.Fatalf("Versions = %v, %v after %d attempts, want error %v after %d", vs, err, n.Load(), tc.wantErr, tc.attempts)
			}
			if !tc.wantErr && (len(vs) != 1 || vs[0].String() != "1.0.0") {
				t.Errorf("versions = %v", vs)
			}
		})
	}

	f := newFakeFeed(t)
	var puts atomic.Int32
	f.handle("/push/", func(w http.ResponseWriter, r *http.Request) { puts.Add(1); w.WriteHeader(503) })
	c := newClient(t, f.srv.URL+"/v3/index.json", fastOptions())
	if _, err := c.Push(ctx, strings.NewReader("pkg"), 3, "k", PushOptions{}); err == nil || puts.Load() != 1 {
		t.Errorf("push on 503 = %v after %d tries", err, puts.Load())
	}
}

// TestRetryHonoursContext: a cancelled context ends the backoff at once.
func TestRetryHonoursContext(t *testing.T) {
	f := newFakeFeed(t)
	f.handle("/flat/x/index.json", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	c := newClient(t, f.srv.URL+"/v3/index.json", Options{RetryDelay: time.Hour, MaxAttempts: 5})
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Versions(cctx, "x")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("Versions = %v after %v", err, time.Since(start))
	}
}

// TestGzipAndHeaders: gzip is asked for and decompressed; every request
// carries the User-Agent and the NuGet protocol version; the service index
// is fetched once.
func TestGzipAndHeaders(t *testing.T) {
	f := newFakeFeed(t)
	f.handle("/flat/gz/index.json", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, `{"versions":["1.0.0","2.0.0"]}`)
		zw.Close()
	})
	c := newClient(t, f.srv.URL+"/v3/index.json", Options{UserAgent: "signet-test/1"})
	for range 3 {
		if vs, err := c.Versions(ctx, "GZ"); err != nil || len(vs) != 2 {
			t.Fatalf("Versions = %v, %v", vs, err)
		}
	}
	if n := len(f.requests("/v3/index.json")); n != 1 {
		t.Errorf("service index fetched %d times", n)
	}
	for _, r := range f.seen {
		if r.Header.Get("User-Agent") != "signet-test/1" || r.Header.Get("X-NuGet-Protocol-Version") == "" {
			t.Errorf("%s headers: %v", r.URL.Path, r.Header)
		}
	}
}

// TestSecretsStayHome: basic credentials go only to the source's origin,
// and the API key is dropped on a redirect to another origin.
func TestSecretsStayHome(t *testing.T) {
	other := newFakeFeed(t)
	f := newFakeFeed(t)
	f.index = `{"version":"3.0.0","resources":[
	  {"@id":"` + other.srv.URL + `/flat/","@type":"PackageBaseAddress/3.0.0"},
	  {"@id":"{base}/push","@type":"PackagePublish/2.0.0"}]}`
	other.handle("/flat/x/index.json", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"versions":[]}`) })
	f.handle("/push/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.srv.URL+"/landing", http.StatusTemporaryRedirect)
	})
	other.handle("/landing", func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body); w.WriteHeader(201) })

	c := newClient(t, f.srv.URL+"/v3/index.json", Options{Username: "me", Password: "pw", RetryDelay: time.Millisecond})
	if _, err := c.Versions(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	body := "package bytes"
	res, err := c.Push(ctx, strings.NewReader(body), int64(len(body)), "the-key", PushOptions{})
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("push = %+v, %v", res, err)
	}
	if u, p, ok := f.requests("/v3/index.json")[0].BasicAuth(); !ok || u != "me" || p != "pw" {
		t.Errorf("source origin got no credentials")
	}
	if r := f.requests("/push/"); len(r) != 1 || r[0].Header.Get(apiKeyHeader) != "the-key" {
		t.Errorf("push endpoint got no key")
	}
	for _, p := range []string{"/flat/x/index.json", "/landing"} {
		for _, r := range other.requests(p) {
			if r.Header.Get("Authorization") != "" || r.Header.Get(apiKeyHeader) != "" {
				t.Errorf("%s on another origin got secrets: %v", p, r.Header)
			}
		}
	}
	if len(other.requests("/landing")) != 1 {
		t.Error("redirect not followed")
	}
}

// TestPushBody: the body is multipart/form-data with one part named
// "package", file name "package.nupkg", holding exactly the bytes, with a
// Content-Length.
func TestPushBody(t *testing.T) {
	f := newFakeFeed(t)
	var got []byte
	var name, file string
	var length int64
	f.handle("/push/", func(w http.ResponseWriter, r *http.Request) {
		length = r.ContentLength
		mr, err := r.MultipartReader()
		if err != nil {
			w.WriteHeader(400)
			return
		}
		p, err := mr.NextPart()
		if err != nil {
			w.WriteHeader(400)
			return
		}
		name, file = p.FormName(), p.FileName()
		got, _ = io.ReadAll(p)
		if _, err := mr.NextPart(); err != io.EOF {
			w.WriteHeader(400)
			return
		}
		w.WriteHeader(202)
	})
	c := newClient(t, f.srv.URL+"/v3/index.json", fastOptions())
	pkg := bytes.Repeat([]byte{0, 1, 2, 3, '\r', '\n', '-'}, 10000)
	res, err := c.Push(ctx, bytes.NewReader(pkg), int64(len(pkg)), "k", PushOptions{})
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("push = %+v, %v", res, err)
	}
	if name != "package" || file != "package.nupkg" || !bytes.Equal(got, pkg) || length <= int64(len(pkg)) {
		t.Errorf("part %q %q, %d bytes (equal %v), content length %d", name, file, len(got), bytes.Equal(got, pkg), length)
	}
}

// TestReasonPhrase: the status line's reason phrase and the body are kept.
func TestReasonPhrase(t *testing.T) {
	f := newFakeFeed(t)
	f.handle("/push/", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, buf, _ := w.(http.Hijacker).Hijack()
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 400 The package is bad, really.\r\nContent-Length: 7\r\nConnection: close\r\n\r\ndetails")
		buf.Flush()
	})
	c := newClient(t, f.srv.URL+"/v3/index.json", fastOptions())
	_, err := c.Push(ctx, strings.NewReader("x"), 1, "k", PushOptions{})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 400 || se.Reason != "The package is bad, really." || se.Body != "details" {
		t.Fatalf("err = %#v", err)
	}
}

// TestPushTimeout: a push that gets no answer in time fails with a message
// naming the timeout.
func TestPushTimeout(t *testing.T) {
	f := newFakeFeed(t)
	release := make(chan struct{})
	defer close(release)
	f.handle("/push/", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := newClient(t, f.srv.URL+"/v3/index.json", fastOptions())
	_, err := c.Push(ctx, strings.NewReader("x"), 1, "k", PushOptions{Timeout: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v", err)
	}
}

// TestV2Sources: NuGet's rules for a source that is not a V3 index: pushes
// go to the URL, or to /api/v2/package on a bare host; downloads are
// refused with ErrNotV3; protocolVersion 3 makes any URL a V3 index.
func TestV2Sources(t *testing.T) {
	for _, tc := range []struct {
		src  string
		pv   int
		want string
	}{
		{"https://host", 0, "https://host/api/v2/package/"},
		{"https://host/", 2, "https://host/api/v2/package/"},
		{"https://host/nuget", 0, "https://host/nuget/"},
		{"https://host/api/v2/package/", 0, "https://host/api/v2/package/"},
	} {
		c := newClient(t, tc.src, Options{ProtocolVersion: tc.pv})
		got, err := c.PublishURL(ctx)
		if err != nil || got != tc.want || c.IsV3() {
			t.Errorf("PublishURL(%s) = %q, %v", tc.src, got, err)
		}
		if _, err := c.Versions(ctx, "x"); !errors.Is(err, ErrNotV3) {
			t.Errorf("Versions on V2 %s: %v", tc.src, err)
		}
	}
	f := newFakeFeed(t)
	f.handle("/feed", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"version":"3.0.0","resources":[{"@id":"push","@type":"PackagePublish/2.0.0"}]}`)
	})
	c := newClient(t, f.srv.URL+"/feed", Options{ProtocolVersion: 3})
	if got, err := c.PublishURL(ctx); err != nil || got != f.srv.URL+"/push/" {
		t.Errorf("relative resource = %q, %v", got, err)
	}
}

// TestServiceIndexParsing: a version other than 3.x, bad JSON and a
// missing resource are clear errors; unusable entries are skipped.
func TestServiceIndexParsing(t *testing.T) {
	base, _ := url.Parse("https://feed.example/v3/index.json")
	for _, tc := range []struct {
		doc     string
		wantErr string
		found   bool
	}{
		{`{"version":"3.0.0","resources":[{"@id":"https://x/flat/","@type":"PackageBaseAddress/3.0.0"}]}`, "", true},
		{`{"version":"3.0.0-beta","resources":[{"@id":"/flat/","@type":["A","PackageBaseAddress/3.0.0"]}]}`, "", true},
		{`{"version":"3.0.0","resources":[{"@id":"ftp://x/","@type":"PackageBaseAddress/3.0.0"},{"@id":"x","@type":5}]}`, "", false},
		{`{"version":"2.0.0","resources":[]}`, "not 3.x", false},
		{`<html>`, "not valid JSON", false},
	} {
		idx, err := parseServiceIndex(base, []byte(tc.doc))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v", tc.doc, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.doc, err)
		}
		if _, ok := idx.Find(TypePackageBaseAddress); ok != tc.found {
			t.Errorf("%s: found = %v", tc.doc, ok)
		}
	}
	f := newFakeFeed(t)
	f.index = `{"version":"3.0.0","resources":[]}`
	c := newClient(t, f.srv.URL+"/v3/index.json", fastOptions())
	if _, err := c.Versions(ctx, "x"); err == nil || !strings.Contains(err.Error(), "no PackageBaseAddress/3.0.0") {
		t.Errorf("missing resource: %v", err)
	}
	f2 := newFakeFeed(t)
	f2.handle("/v3/index.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(MaxJSONSize+1))
		w.WriteHeader(200)
	})
	if _, err := newClient(t, f2.srv.URL+"/v3/index.json", fastOptions()).ServiceIndex(ctx); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("huge index: %v", err)
	}
}

// TestMissingServiceIndex: a source whose index is not found is an error
// that does not read as a missing package.
func TestMissingServiceIndex(t *testing.T) {
	f := newFakeFeed(t)
	c := newClient(t, f.srv.URL+"/nothing/index.json", fastOptions())
	var buf bytes.Buffer
	if _, err := c.DownloadNupkg(ctx, "x", "1.0.0", &buf); err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "service index") {
		t.Errorf("DownloadNupkg = %v", err)
	}
	if vs, err := c.Versions(ctx, "x"); err == nil || vs != nil {
		t.Errorf("Versions = %v, %v", vs, err)
	}
}
