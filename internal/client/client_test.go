package client

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/client/testfeed"
	"github.com/signet-nuget/signet/internal/nupkgtest"
)

var ctx = context.Background()

// fastOptions retry quickly so that tests stay fast.
func fastOptions() Options { return Options{RetryDelay: time.Millisecond} }

func newClient(t *testing.T, u string, o Options) *Client {
	t.Helper()
	c, err := New(u, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFeedRoundTrip: against a real feed, a push is created, the version
// list, the package bytes and the manifest come back, a second push of the
// same version is a conflict carrying the feed's message, --skip-duplicate
// makes it a success, a wrong key is refused with the feed's 403 message,
// and unlisting works with the owner's key only.
func TestFeedRoundTrip(t *testing.T) {
	f := testfeed.Start(t)
	var mu sync.Mutex
	var events []Event
	o := fastOptions()
	o.Trace = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	c := newClient(t, f.IndexURL, o)

	pkgs := map[string][]byte{}
	for _, v := range []string{"1.0.0", "1.10.0", "1.2.0-beta.1", "2.0.0"} {
		b := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Round.Trip", Version: v, Files: map[string][]byte{"lib/net8.0/a.dll": []byte("dll " + v)}})
		pkgs[v] = b
		res, err := c.Push(ctx, bytes.NewReader(b), int64(len(b)), f.Key, PushOptions{})
		if err != nil || res.StatusCode != 201 || res.Duplicate || !strings.HasSuffix(res.URL, "/api/v2/package/") {
			t.Fatalf("push %s = %+v, %v", v, res, err)
		}
	}
	var sawPut bool
	for _, e := range events {
		if e.Method == "PUT" && e.Done && e.Status == 201 {
			sawPut = true
		}
	}
	if !sawPut {
		t.Errorf("trace saw no PUT: %+v", events)
	}

	vs, err := c.Versions(ctx, "ROUND.trip")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.String())
	}
	if strings.Join(got, " ") != "1.0.0 1.2.0-beta.1 1.10.0 2.0.0" {
		t.Errorf("versions = %v", got)
	}
	if vs, err := c.Versions(ctx, "No.Such.Package"); vs != nil || err != nil {
		t.Errorf("unknown package versions = %v, %v", vs, err)
	}

	var buf bytes.Buffer
	n, err := c.DownloadNupkg(ctx, "round.trip", "1.10", &buf)
	if err != nil || n != int64(len(pkgs["1.10.0"])) || !bytes.Equal(buf.Bytes(), pkgs["1.10.0"]) {
		t.Fatalf("download = %d, %v (equal %v)", n, err, bytes.Equal(buf.Bytes(), pkgs["1.10.0"]))
	}
	dir := t.TempDir()
	p, err := c.DownloadNupkgFile(ctx, "Round.Trip", "1.2.0-BETA.1", dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, pkgs["1.2.0-beta.1"]) || filepath.Dir(p) != dir {
		t.Errorf("downloaded file %s differs", p)
	}
	if _, err := c.DownloadNupkg(ctx, "Round.Trip", "9.9.9", &buf); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing version: %v", err)
	}
	if _, err := c.DownloadNupkgFile(ctx, "Round.Trip", "9.9.9", dir); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing version to file: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("failed download left files: %v", ents)
	}

	ns, err := c.Nuspec(ctx, "Round.Trip", "2.0.0")
	if err != nil || ns.ID != "Round.Trip" || ns.Version != "2.0.0" {
		t.Fatalf("nuspec = %+v, %v", ns, err)
	}

	dup := pkgs["1.0.0"]
	res, err := c.Push(ctx, bytes.NewReader(dup), int64(len(dup)), f.Key, PushOptions{})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 409 || !strings.Contains(se.Reason, "already exists") || !IsConflict(err) || res == nil || res.StatusCode != 409 {
		t.Fatalf("duplicate push = %+v, %v", res, err)
	}
	res, err = c.Push(ctx, bytes.NewReader(dup), int64(len(dup)), f.Key, PushOptions{SkipDuplicate: true})
	if err != nil || !res.Duplicate || res.StatusCode != 409 {
		t.Fatalf("skip-duplicate push = %+v, %v", res, err)
	}

	other := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Bad.Key"})
	for _, key := range []string{"sgn_not-a-key", ""} {
		res, err = c.Push(ctx, bytes.NewReader(other), int64(len(other)), key, PushOptions{})
		if !errors.As(err, &se) || (se.StatusCode != 403 && se.StatusCode != 401) || !strings.Contains(se.Reason, "API key is invalid") {
			t.Fatalf("push with key %q = %+v, %v", key, res, err)
		}
		if strings.Contains(err.Error(), "sgn_") {
			t.Errorf("error shows the key: %v", err)
		}
	}

	stranger := f.NewUser(t, "stranger")
	if err := c.Unlist(ctx, "Round.Trip", "1.0.0", stranger); !errors.As(err, &se) || se.StatusCode != 403 {
		t.Errorf("unlist by a stranger: %v", err)
	}
	if err := c.Unlist(ctx, "Round.Trip", "1.0.0", f.Key); err != nil {
		t.Errorf("unlist: %v", err)
	}
	if err := c.Unlist(ctx, "Round.Trip", "7.0.0", f.Key); !errors.Is(err, ErrNotFound) {
		t.Errorf("unlist of a missing version: %v", err)
	}
	if vs, _ := c.Versions(ctx, "Round.Trip"); len(vs) != 4 {
		t.Errorf("unlisted version gone from the flat container: %v", vs)
	}
}

// TestPushFile pushes from a path, and refuses a directory.
func TestPushFile(t *testing.T) {
	f := testfeed.Start(t)
	c := newClient(t, f.IndexURL, fastOptions())
	p := filepath.Join(t.TempDir(), "x.nupkg")
	os.WriteFile(p, nupkgtest.Bytes(t, nupkgtest.Spec{ID: "From.File", Version: "3.0.0"}), 0o644)
	if res, err := c.PushFile(ctx, p, f.Key, PushOptions{}); err != nil || res.StatusCode != 201 {
		t.Fatalf("PushFile = %+v, %v", res, err)
	}
	if _, err := c.PushFile(ctx, t.TempDir(), f.Key, PushOptions{}); err == nil {
		t.Error("PushFile of a directory succeeded")
	}
	if _, err := c.PushFile(ctx, filepath.Join(t.TempDir(), "missing.nupkg"), f.Key, PushOptions{}); err == nil {
		t.Error("PushFile of a missing file succeeded")
	}
	if vs, err := c.Versions(ctx, "From.File"); err != nil || len(vs) != 1 || vs[0].String() != "3.0.0" {
		t.Errorf("versions = %v %v", vs, err)
	}
}

// TestDownloadLimit: a package over MaxPackageSize is refused, without a
// retry and without leaving a file.
func TestDownloadLimit(t *testing.T) {
	f := testfeed.Start(t)
	b := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Big.One", Files: map[string][]byte{"content/x.txt": bytes.Repeat([]byte("x"), 5000)}})
	if _, err := newClient(t, f.IndexURL, fastOptions()).Push(ctx, bytes.NewReader(b), int64(len(b)), f.Key, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	o := fastOptions()
	o.MaxPackageSize = int64(len(b)) - 1
	gets := 0
	o.Trace = func(e Event) {
		if e.Done && strings.HasSuffix(e.URL, ".nupkg") {
			gets++
		}
	}
	c := newClient(t, f.IndexURL, o)
	dir := t.TempDir()
	if _, err := c.DownloadNupkgFile(ctx, "Big.One", "1.0.0", dir); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("oversized download: %v", err)
	}
	if gets != 1 {
		t.Errorf("oversized download tried %d times", gets)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	var buf bytes.Buffer
	if _, err := c.DownloadNupkg(ctx, "Big.One", "1.0.0", &buf); err == nil {
		t.Error("oversized download to a writer succeeded")
	}
}

// TestBadArguments: ids and versions are checked before anything is sent.
func TestBadArguments(t *testing.T) {
	sent := false
	c := newClient(t, "http://127.0.0.1:1/v3/index.json", Options{Trace: func(Event) { sent = true }})
	if _, err := c.Versions(ctx, "../etc"); err == nil {
		t.Error("bad id accepted")
	}
	if _, err := c.Nuspec(ctx, "ok", "not-a-version"); err == nil {
		t.Error("bad version accepted")
	}
	if err := c.Unlist(ctx, "a/b", "1.0.0", "k"); err == nil {
		t.Error("bad id accepted by Unlist")
	}
	if sent {
		t.Error("a request was sent")
	}
	for _, u := range []string{"ftp://x/index.json", "not a url", "https://user:pw@host/index.json", "/relative"} {
		if _, err := New(u, Options{}); err == nil {
			t.Errorf("New(%q) succeeded", u)
		} else if strings.Contains(err.Error(), "pw@") {
			t.Errorf("New error shows the password: %v", err)
		}
	}
}
