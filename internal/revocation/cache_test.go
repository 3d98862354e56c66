package revocation

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
)

func TestDiskCacheReused(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	// viaCRL's OCSP responder is unreachable, so its answer comes from the
	// CRL, which is cached by URL.
	viaCRL := e.issue(t, devpki.LeafOptions{OCSPServer: []string{deadURL(t)}})
	at := e.revoke(t, viaCRL, int(ReasonCACompromise))
	for _, c := range []struct {
		name   string
		cert   *x509.Certificate
		want   Status
		source Source
	}{
		{"OCSP response", e.leaf, Good, SourceOCSP},
		{"CRL", viaCRL, Revoked, SourceCRL},
	} {
		t.Run(c.name, func(t *testing.T) {
			first, err := checker(func(c *Checker) { c.CacheDir = dir }).Lookup(context.Background(), c.cert, e.inter.Cert)
			if err != nil || first.Status != c.want || first.Origin != OriginNetwork || first.Source != c.source {
				t.Fatalf("first lookup: %+v, %v", first, err)
			}
			o, cr := e.requests()
			for _, mode := range []Mode{Online, Offline} {
				r, err := checker(func(c *Checker) { c.CacheDir, c.Mode = dir, mode }).Lookup(context.Background(), c.cert, e.inter.Cert)
				if err != nil || r.Status != c.want || r.Origin != OriginDisk || r.Source != c.source || !bytes.Equal(r.Raw, first.Raw) {
					t.Fatalf("mode %d: %v from %v, %v", mode, r.Status, r.Origin, err)
				}
				if c.want == Revoked && !r.RevokedAt.Equal(at) {
					t.Errorf("revoked at %v, want %v", r.RevokedAt, at)
				}
			}
			if o2, cr2 := e.requests(); o2 != o || cr2 != cr {
				t.Errorf("requests went from %d OCSP and %d CRL to %d and %d; the cache should have answered", o, cr, o2, cr2)
			}
		})
	}
}

func TestDiskCacheExpiredEntryRefetched(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	if _, err := checker(func(c *Checker) { c.CacheDir = dir }).Lookup(context.Background(), e.leaf, e.inter.Cert); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ocspFilePrefix+certKey(e.leaf, e.inter.Cert)+ocspFileExt)
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no cache file: %v", err)
	}
	// Two hours later the cached response (valid for one) has expired.
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	e.responder.SetNow(later)
	r, err := checker(func(c *Checker) { c.CacheDir, c.Mode, c.Now = dir, Offline, later }).Lookup(context.Background(), e.leaf, e.inter.Cert)
	if r.Status != Unknown || !errors.Is(err, ErrStale) || !errors.Is(err, ErrOffline) {
		t.Fatalf("offline with an expired entry: %v, %v", r.Status, err)
	}
	o, _ := e.requests()
	r, err = checker(func(c *Checker) { c.CacheDir, c.Now = dir, later }).Lookup(context.Background(), e.leaf, e.inter.Cert)
	if err != nil || r.Status != Good || r.Origin != OriginNetwork {
		t.Fatalf("online: %v from %v, %v", r.Status, r.Origin, err)
	}
	if o2, _ := e.requests(); o2 != o+1 {
		t.Errorf("%d OCSP requests, want %d", o2, o+1)
	}
	if cur, _ := os.ReadFile(path); bytes.Equal(cur, old) || !bytes.Equal(cur, r.Raw) {
		t.Error("the cache file was not replaced by the new response")
	}
}

// TestDiskCacheVerifiedOnLoad replaces cache files with bytes that must not
// be believed.
func TestDiskCacheVerifiedOnLoad(t *testing.T) {
	e := newEnv(t)
	revoked := e.issue(t, devpki.LeafOptions{})
	e.revoke(t, revoked, devpki.ReasonKeyCompromise)
	dir := t.TempDir()
	var good Result
	for _, c := range []*x509.Certificate{e.leaf, revoked} {
		r, err := checker(func(c *Checker) { c.CacheDir = dir }).Lookup(context.Background(), c, e.inter.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == Good {
			good = r
		}
	}
	path := filepath.Join(dir, ocspFilePrefix+certKey(revoked, e.inter.Cert)+ocspFileExt)
	for _, tt := range []struct {
		name    string
		content []byte
		err     error
	}{
		{"garbage", []byte("garbage"), ErrMalformed},
		{"another certificate's response", good.Raw, ErrWrongCertificate},
		{"too large", make([]byte, maxOCSPResponseSize+1), ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := checker(func(c *Checker) { c.CacheDir, c.Mode = dir, Offline }).Lookup(context.Background(), revoked, e.inter.Cert)
			if r.Status != Unknown || !errors.Is(err, tt.err) {
				t.Fatalf("offline: %v, %v; want Unknown with %v", r.Status, err, tt.err)
			}
			r, err = checker(func(c *Checker) { c.CacheDir = dir }).Lookup(context.Background(), revoked, e.inter.Cert)
			if err != nil || r.Status != Revoked || r.Origin != OriginNetwork {
				t.Fatalf("online: %v from %v, %v", r.Status, r.Origin, err)
			}
			if cur, _ := os.ReadFile(path); !bytes.Equal(cur, r.Raw) {
				t.Error("the bad cache file was not replaced")
			}
		})
	}
}

func TestMemoryCacheAndSharedLookups(t *testing.T) {
	e := newEnv(t)
	slow := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		proxy(e.responder.URL)(w, r)
	})
	leaf := e.issue(t, devpki.LeafOptions{OCSPServer: []string{slow.URL + "/ocsp/0"}})
	c := checker()
	const n = 8
	var wg sync.WaitGroup
	results := make([]Result, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = c.Lookup(context.Background(), leaf, e.inter.Cert) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i].Status != Good {
			t.Fatalf("lookup %d: %v, %v", i, results[i].Status, errs[i])
		}
	}
	if got := slow.n.Load(); got != 1 {
		t.Errorf("%d concurrent lookups made %d requests, want 1", n, got)
	}
	r, err := c.Lookup(context.Background(), leaf, e.inter.Cert)
	if err != nil || r.Status != Good || r.Origin != OriginMemory || slow.n.Load() != 1 {
		t.Errorf("later lookup: %v from %v, %v, %d requests", r.Status, r.Origin, err, slow.n.Load())
	}
	// Past the response's nextUpdate the memory entry is not used.
	later := time.Now().Add(2 * time.Hour)
	e.responder.SetNow(func() time.Time { return later })
	c.Now = func() time.Time { return later }
	r, err = c.Lookup(context.Background(), leaf, e.inter.Cert)
	if err != nil || r.Status != Good || r.Origin != OriginNetwork || slow.n.Load() != 2 {
		t.Errorf("after nextUpdate: %v from %v, %v, %d requests", r.Status, r.Origin, err, slow.n.Load())
	}
}

// TestSharedCRLDownload checks that certificates sharing a distribution
// point share one download and one parsed CRL.
func TestSharedCRLDownload(t *testing.T) {
	e := newEnv(t)
	dead := deadURL(t)
	c := checker()
	for range 3 {
		leaf := e.issue(t, devpki.LeafOptions{OCSPServer: []string{dead}})
		if r, err := c.Lookup(context.Background(), leaf, e.inter.Cert); err != nil || r.Status != Good || r.Source != SourceCRL {
			t.Fatalf("%v via %v, %v", r.Status, r.Source, err)
		}
	}
	if _, crls := e.requests(); crls != 1 {
		t.Errorf("%d CRL downloads, want 1", crls)
	}
}
