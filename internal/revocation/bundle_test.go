package revocation

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
)

// bundleEnv has a good and a revoked leaf whose OCSP responses are in the
// cache directory dir, and a leaf revoked on the CRL (its OCSP responder is
// unreachable) whose CRL is there too.
type bundleEnv struct {
	*env
	dir                   string
	revoked, revokedOnCRL *x509.Certificate
	results               []Result
}

func newBundleEnv(t *testing.T) *bundleEnv {
	t.Helper()
	b := &bundleEnv{env: newEnv(t), dir: t.TempDir()}
	b.revoked = b.issue(t, devpki.LeafOptions{})
	b.revoke(t, b.revoked, devpki.ReasonKeyCompromise)
	b.revokedOnCRL = b.issue(t, devpki.LeafOptions{OCSPServer: []string{deadURL(t)}})
	b.revoke(t, b.revokedOnCRL, devpki.ReasonSuperseded)
	c := checker(func(c *Checker) { c.CacheDir = b.dir })
	for i, l := range []*x509.Certificate{b.leaf, b.revoked, b.revokedOnCRL} {
		r, err := c.Lookup(context.Background(), l, b.inter.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if want := []Source{SourceOCSP, SourceOCSP, SourceCRL}[i]; r.Source != want {
			t.Fatalf("lookup %d: %v via %v, want via %v", i, r.Status, r.Source, want)
		}
		b.results = append(b.results, r)
	}
	return b
}

func TestOfflineBundle(t *testing.T) {
	e := newBundleEnv(t)
	fromCache, err := BundleFromCache(e.dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if o, c := fromCache.Len(); o != 2 || c != 1 {
		t.Fatalf("bundle from the cache has %d OCSP responses and %d CRLs, want 2 and 1", o, c)
	}
	fromResults := &Bundle{}
	for _, r := range append(e.results, e.results...) { // twice: kept once
		if err := fromResults.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if o, c := fromResults.Len(); o != 2 || c != 1 {
		t.Fatalf("bundle from results has %d OCSP responses and %d CRLs, want 2 and 1", o, c)
	}
	path := filepath.Join(t.TempDir(), "revocation.pem")
	if err := WriteBundle(path, fromResults); err != nil {
		t.Fatal(err)
	}
	read, err := ReadBundle(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read.Marshal(), fromResults.Marshal()) {
		t.Error("the bundle read back differs from the one written")
	}
	o, crls := e.requests()
	for name, b := range map[string]*Bundle{"from the cache": fromCache, "from results, via a file": read} {
		t.Run(name, func(t *testing.T) {
			c := checker(func(c *Checker) { c.Mode, c.Bundles = Offline, []*Bundle{b} })
			for _, tt := range []struct {
				cert   *x509.Certificate
				want   Status
				source Source
				reason Reason
			}{
				{e.leaf, Good, SourceOCSP, 0},
				{e.revoked, Revoked, SourceOCSP, ReasonKeyCompromise},
				{e.revokedOnCRL, Revoked, SourceCRL, ReasonSuperseded},
			} {
				r, err := c.Lookup(context.Background(), tt.cert, e.inter.Cert)
				if err != nil || r.Status != tt.want || r.Source != tt.source || r.Origin != OriginBundle || r.Reason != tt.reason {
					t.Errorf("%v via %v from %v (%v), %v; want %v via %v (%v)", r.Status, r.Source, r.Origin, r.Reason, err, tt.want, tt.source, tt.reason)
				}
			}
			// Another issuer's certificate finds nothing, even though its
			// serial number is in the bundle.
			if r, err := c.Lookup(context.Background(), e.leaf, e.root.Cert); r.Status != Unknown || !errors.Is(err, ErrWrongCertificate) {
				t.Errorf("wrong issuer: %v, %v", r.Status, err)
			}
		})
	}
	t.Run("offline without a bundle", func(t *testing.T) {
		r, err := checker(func(c *Checker) { c.Mode = Offline }).Lookup(context.Background(), e.leaf, e.inter.Cert)
		if r.Status != Unknown || !errors.Is(err, ErrOffline) {
			t.Fatalf("%v, %v", r.Status, err)
		}
	})
	t.Run("expired bundle", func(t *testing.T) {
		later := func() time.Time { return time.Now().Add(48 * time.Hour) }
		r, err := checker(func(c *Checker) { c.Mode, c.Bundles, c.Now = Offline, []*Bundle{read}, later }).Lookup(context.Background(), e.leaf, e.inter.Cert)
		if r.Status != Unknown || !errors.Is(err, ErrStale) {
			t.Fatalf("%v, %v", r.Status, err)
		}
		if b, _ := BundleFromCache(e.dir, later()); b == nil || func() bool { o, c := b.Len(); return o+c != 0 }() {
			t.Error("BundleFromCache exported expired entries")
		}
	})
	if o2, crls2 := e.requests(); o2 != o || crls2 != crls {
		t.Errorf("offline checks made requests: %d→%d OCSP, %d→%d CRL", o, o2, crls, crls2)
	}
}

// TestBundleBeforeNetwork checks that an online Checker uses a bundle's
// answer without asking the responder.
func TestBundleBeforeNetwork(t *testing.T) {
	e := newBundleEnv(t)
	b, err := BundleFromCache(e.dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	o, _ := e.requests()
	r, err := checker(func(c *Checker) { c.Bundles = []*Bundle{b} }).Lookup(context.Background(), e.revoked, e.inter.Cert)
	if err != nil || r.Status != Revoked || r.Origin != OriginBundle {
		t.Fatalf("%v from %v, %v", r.Status, r.Origin, err)
	}
	if o2, _ := e.requests(); o2 != o {
		t.Errorf("%d OCSP requests, want none", o2-o)
	}
}

func TestParseBundle(t *testing.T) {
	e := newBundleEnv(t)
	b := &Bundle{}
	for _, r := range e.results {
		if err := b.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	good := b.Marshal()
	block := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	tests := []struct {
		name string
		data string
		err  error
		n    int
	}{
		{"empty", "", nil, 0},
		{"text around blocks", "exported by signet\n" + string(good) + "end\n", nil, 3},
		{"certificate block", block("CERTIFICATE", e.leaf.Raw), ErrMalformed, 0},
		{"OCSP block holding a CRL", block(PEMTypeOCSPResponse, e.results[2].Raw), ErrMalformed, 0},
		{"CRL block holding garbage", block(PEMTypeCRL, []byte("garbage")), ErrMalformed, 0},
		{"truncated block", string(good[:len(good)-40]), ErrMalformed, 0},
		{"headers", "-----BEGIN X509 CRL-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END X509 CRL-----\n", ErrMalformed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBundle([]byte(tt.data))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o, c := got.Len(); o+c != tt.n {
				t.Errorf("%d items, want %d", o+c, tt.n)
			}
		})
	}
	// A sparse file larger than the limit is refused before it is read.
	huge := filepath.Join(t.TempDir(), "huge.pem")
	if err := os.WriteFile(huge, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, maxBundleSize+1); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBundle(huge); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge bundle: %v", err)
	}
	if _, err := ReadBundle(filepath.Join(t.TempDir(), "missing.pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing bundle: %v", err)
	}
	if err := (&Bundle{}).Add(Result{}); err == nil {
		t.Error("adding a result without evidence succeeded")
	}
}
