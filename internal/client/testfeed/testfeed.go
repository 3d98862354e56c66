// Package testfeed runs Signet's feed in-process for tests of its clients:
// internal/feed on an httptest server at 127.0.0.1, over SQLite and a blob
// directory in the test's temporary directory, with a user and an API key
// made directly in the store (no password hashing, so it is fast). Only
// test code imports it.
package testfeed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/account"
	"github.com/signet-nuget/signet/internal/blob"
	"github.com/signet-nuget/signet/internal/feed"
	"github.com/signet-nuget/signet/internal/store"
)

// Feed is a running feed.
type Feed struct {
	// IndexURL is the service index URL; Base the feed's base URL.
	IndexURL, Base string
	// Key is an API key of the user "tester" with the push and unlist
	// scopes.
	Key string
	// Store and Blobs are the feed's stores.
	Store *store.Store
	Blobs blob.Store
	// Server is the feed.
	Server *feed.Server
}

// Start starts a feed that stops when t ends. configure may change the
// feed's configuration (BaseURL is set already).
func Start(t testing.TB, configure ...func(*feed.Config)) *Feed {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "signet.db"))
	if err != nil {
		t.Fatalf("testfeed: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	bs, err := blob.NewDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatalf("testfeed: %v", err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	cfg := feed.Config{BaseURL: base, TempDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, c := range configure {
		c(&cfg)
	}
	srv, err := feed.New(cfg, st, bs)
	if err != nil {
		t.Fatalf("testfeed: %v", err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	f := &Feed{IndexURL: srv.ServiceIndexURL(), Base: base, Store: st, Blobs: bs, Server: srv}
	f.Key = f.NewUser(t, "tester")
	return f
}

// NewUser creates a user (who cannot log in) and returns an API key of
// theirs with the push and unlist scopes.
func (f *Feed) NewUser(t testing.TB, name string) string {
	t.Helper()
	ctx := context.Background()
	u, err := f.Store.CreateUser(ctx, store.NewUser{Name: name, Email: name + "@example.com", PasswordHash: "!no-login"})
	if err != nil {
		t.Fatalf("testfeed: creating user %q: %v", name, err)
	}
	key, hash, err := account.NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.CreateAPIKey(ctx, store.NewAPIKey{UserID: u.ID, OwnerID: u.ID, Name: "test", Hash: hash,
		Scopes: []string{account.ScopePush, account.ScopeUnlist}, Expires: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatalf("testfeed: creating key: %v", err)
	}
	return key
}

// Tamper rewrites the stored .nupkg of id and version with change, as a
// compromised storage would, and returns its new bytes.
func (f *Feed) Tamper(t testing.TB, id, version string, change func([]byte) []byte) []byte {
	t.Helper()
	ctx := context.Background()
	prefix := "packages/" + strings.ToLower(id) + "/" + strings.ToLower(version) + "/"
	for key, err := range f.Blobs.List(ctx, prefix) {
		if err != nil {
			t.Fatalf("testfeed: %v", err)
		}
		if !strings.HasSuffix(key, ".nupkg") {
			continue
		}
		obj, err := f.Blobs.Open(ctx, key)
		if err != nil {
			t.Fatalf("testfeed: %v", err)
		}
		b, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			t.Fatalf("testfeed: %v", err)
		}
		b = change(b)
		if _, _, err := f.Blobs.Put(ctx, key, bytes.NewReader(b)); err != nil {
			t.Fatalf("testfeed: %v", err)
		}
		return b
	}
	t.Fatalf("testfeed: no stored package %s", fmt.Sprintf("%s %s", id, version))
	return nil
}
