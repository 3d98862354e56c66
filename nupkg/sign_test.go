package nupkg

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/internal/nupkgtest"
)

var fakeSignature = []byte("not really a CMS, but nupkg does not parse it\x00\x01\x02")

func testPackage(t testing.TB) []byte {
	t.Helper()
	return nupkgtest.Bytes(t, nupkgtest.Spec{
		ID: "Signet.Test", Version: "1.2.3-beta.1",
		Dependencies: map[string][]nupkgtest.Dependency{"net8.0": {{ID: "Newtonsoft.Json", Version: "13.0.3"}}},
		Files: map[string][]byte{
			"lib/net8.0/Signet.Test.dll": bytes.Repeat([]byte("binary\x00"), 3000),
			"README.md":                  []byte("# hello\n"),
			"content/empty.txt":          nil,
		},
	})
}

func signBytes(t testing.TB, b, sig []byte, when time.Time) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := Sign(&out, openBytes(t, b), sig, when); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return out.Bytes()
}

func TestSignRoundTrip(t *testing.T) {
	orig := testPackage(t)
	when := time.Date(2025, 3, 4, 5, 6, 7, 0, time.Local)
	signed := signBytes(t, orig, fakeSignature, when)

	if want := len(orig) + signatureLocalLen + len(fakeSignature) + signatureCentralLen; len(signed) != want {
		t.Fatalf("signed package is %d bytes, want %d", len(signed), want)
	}
	p := openBytes(t, signed)
	if !p.IsSigned() || p.IsZip64() {
		t.Fatalf("signed %v zip64 %v", p.IsSigned(), p.IsZip64())
	}
	sig, err := p.Signature()
	if err != nil || !bytes.Equal(sig, fakeSignature) {
		t.Fatalf("Signature() = %q, %v", sig, err)
	}
	var u bytes.Buffer
	if err := p.WriteUnsigned(&u); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(u.Bytes(), orig) {
		t.Fatalf("WriteUnsigned does not give back the original package")
	}
	h, err := p.HashUnsigned(crypto.SHA256)
	if sum := sha256.Sum256(orig); err != nil || !bytes.Equal(h, sum[:]) {
		t.Fatalf("HashUnsigned = %x, %v; want %x", h, err, sum)
	}
	// The entry is the last local entry and the last central header, with
	// NuGet's fields.
	es := p.Entries()
	e := es[len(es)-1]
	if e.Name != SignatureName || e.HeaderOffset != openBytes(t, orig).end.cdOffset {
		t.Fatalf("signature entry %q at %d", e.Name, e.HeaderOffset)
	}
	if e.VersionMadeBy != 20 || e.VersionNeeded != 20 || e.Flags != 0 || e.Method != 0 || e.ExternalAttrs != 0 || len(e.Extra) != 0 {
		t.Fatalf("signature entry fields %+v", e)
	}
	if got := e.Modified(); !got.Equal(when.Truncate(2 * time.Second)) {
		t.Fatalf("signature entry time %v, want %v", got, when)
	}
	checkValidZip(t, signed, len(es))
}

// checkValidZip checks that archive/zip (and unzip -t, when installed)
// reads every entry of b, CRCs included.
func checkValidZip(t testing.TB, b []byte, entries int) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("archive/zip: %v", err)
	}
	if len(zr.File) != entries {
		t.Fatalf("archive/zip sees %d entries, want %d", len(zr.File), entries)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("archive/zip: %q: %v", f.Name, err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("archive/zip: %q: %v", f.Name, err)
		}
		rc.Close()
	}
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		t.Log("unzip not installed: skipping unzip -t")
		return
	}
	path := filepath.Join(t.TempDir(), "p.nupkg")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(unzip, "-t", path).CombinedOutput(); err != nil {
		t.Fatalf("unzip -t: %v\n%s", err, out)
	}
}

// TestSignReproducesRealPackages signs the unsigned form of every real
// package with its own signature and the time of its signature entry, and
// expects the original file byte for byte: our Sign writes exactly what
// nuget.org's signing wrote. Signing the signed package directly (re-sign)
// must give the same bytes.
func TestSignReproducesRealPackages(t *testing.T) {
	for _, path := range fixtures.Glob(t, "real/*.nupkg") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p, orig := openFixture(t, "real/"+filepath.Base(path))
			sig, err := p.Signature()
			if err != nil {
				t.Fatal(err)
			}
			e := entry(t, p, SignatureName)
			when := e.Modified()
			var u bytes.Buffer
			if err := p.WriteUnsigned(&u); err != nil {
				t.Fatal(err)
			}
			again := signBytes(t, u.Bytes(), sig, when)
			if !bytes.Equal(again, orig) {
				t.Fatalf("signing the unsigned package does not reproduce the original")
			}
			resigned := signBytes(t, orig, sig, when)
			if !bytes.Equal(resigned, orig) {
				t.Fatalf("re-signing the signed package does not reproduce the original")
			}
			// With another time, only the time fields differ, and the hash
			// still matches the signature.
			other := signBytes(t, u.Bytes(), sig, when.Add(-48*time.Hour))
			h, want, err := signedHash(sig)
			if err != nil {
				t.Fatal(err)
			}
			got, err := openBytes(t, other).HashUnsigned(h)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("hash after re-signing %x, %v; want %x", got, err, want)
			}
		})
	}
}

func TestSignatureAnywhere(t *testing.T) {
	orig := testPackage(t)
	signed := signBytes(t, orig, fakeSignature, time.Now())
	n := len(openBytes(t, signed).Entries())
	want := sha256.Sum256(orig)
	for _, pos := range [][2]int{{0, 0}, {0, -1}, {-1, 0}, {2, 3}, {3, 2}, {n - 1, n - 1}, {1, 0}} {
		t.Run(fmt.Sprintf("local%d_central%d", pos[0], pos[1]), func(t *testing.T) {
			moved := moveSignature(t, signed, pos[0], pos[1])
			p := openBytes(t, moved)
			if sig, err := p.Signature(); err != nil || !bytes.Equal(sig, fakeSignature) {
				t.Fatalf("Signature() = %q, %v", sig, err)
			}
			got, err := p.HashUnsigned(crypto.SHA256)
			if err != nil || !bytes.Equal(got, want[:]) {
				t.Fatalf("hash %x, %v; want %x", got, err, want)
			}
			var u bytes.Buffer
			if err := p.WriteUnsigned(&u); err != nil || !bytes.Equal(u.Bytes(), orig) {
				t.Fatalf("WriteUnsigned does not give back the original (%v)", err)
			}
			// Re-signing puts the signature back at the end.
			resigned := signBytes(t, moved, fakeSignature, time.Now())
			rp := openBytes(t, resigned)
			es := rp.Entries()
			if es[len(es)-1].Name != SignatureName {
				t.Fatalf("re-signed package has %q last", es[len(es)-1].Name)
			}
			if got, _ := rp.HashUnsigned(crypto.SHA256); !bytes.Equal(got, want[:]) {
				t.Fatalf("re-signed hash %x, want %x", got, want)
			}
			checkValidZip(t, moved, n)
			checkValidZip(t, resigned, n)
		})
	}
}

func TestSignReplacesSignature(t *testing.T) {
	orig := testPackage(t)
	first := signBytes(t, orig, fakeSignature, time.Now())
	second := signBytes(t, first, bytes.Repeat([]byte("countersigned "), 100), time.Now())
	p := openBytes(t, second)
	if sig, _ := p.Signature(); !bytes.HasPrefix(sig, []byte("countersigned ")) {
		t.Fatalf("signature not replaced: %q", sig)
	}
	if n := len(p.Entries()); n != len(openBytes(t, orig).Entries())+1 {
		t.Fatalf("%d entries after replacing the signature", n)
	}
	var u bytes.Buffer
	if err := p.WriteUnsigned(&u); err != nil || !bytes.Equal(u.Bytes(), orig) {
		t.Fatalf("WriteUnsigned after replacement does not give the original (%v)", err)
	}
}

func TestSignRefuses(t *testing.T) {
	orig := testPackage(t)
	withPrefix := shiftArchive(t, orig, []byte("#!/bin/sh\nexit 0\n"))

	emptyZip := func() []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		zw.Close()
		return b.Bytes()
	}()
	tests := []struct {
		name string
		pkg  []byte
		sig  []byte
		code string
		want string
	}{
		{"empty signature", orig, nil, "", "out of range"},
		{"huge signature", orig, make([]byte, MaxSignatureSize+1), "", "out of range"},
		{"no entries", emptyZip, fakeSignature, "", "without entries"},
		{"prefix", withPrefix, fakeSignature, "", "before its first entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Sign(io.Discard, openBytes(t, tt.pkg), tt.sig, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "nupkg: ") {
				t.Fatalf("Sign: %v, want %q", err, tt.want)
			}
		})
	}
	// A maximal signature is fine.
	signed := signBytes(t, orig, bytes.Repeat([]byte{0x30}, MaxSignatureSize), time.Now())
	if sig, err := openBytes(t, signed).Signature(); err != nil || len(sig) != MaxSignatureSize {
		t.Fatalf("maximal signature: %d bytes, %v", len(sig), err)
	}
}

// shiftArchive returns b with prefix inserted before it and every offset
// moved accordingly: a valid zip with data before its first entry.
func shiftArchive(t testing.TB, b, prefix []byte) []byte {
	t.Helper()
	p := openBytes(t, b)
	out := append(bytes.Clone(prefix), b...)
	shift := uint32(len(prefix))
	for _, e := range p.Entries() {
		put32(out, int64(len(prefix))+e.CentralOffset+centralOffsetField, uint32(e.HeaderOffset)+shift)
	}
	put32(out, int64(len(prefix))+p.end.offset+16, uint32(p.end.cdOffset)+shift)
	if _, err := zip.NewReader(bytes.NewReader(out), int64(len(out))); err != nil {
		t.Fatalf("shifted archive: %v", err)
	}
	return out
}

func TestZip64(t *testing.T) {
	t.Run("EmptyZip64.zip", func(t *testing.T) {
		p, _ := openFixture(t, "invalid/EmptyZip64.zip")
		if !p.IsZip64() || p.IsSigned() || len(p.Entries()) != 0 {
			t.Fatalf("zip64 %v signed %v entries %d", p.IsZip64(), p.IsSigned(), len(p.Entries()))
		}
		wantCode(t, Sign(io.Discard, p, fakeSignature, time.Now()), CodeZip64, "Zip64")
	})
	t.Run("Zip64Package.Corrupted.1.0.0.nupkg", func(t *testing.T) {
		// Its Zip64 locator points past the end of the file: the package
		// cannot be read, and the error carries NuGet's Zip64 code, which is
		// what signing it reports.
		b := fixtures.Read(t, "invalid/Zip64Package.Corrupted.1.0.0.nupkg")
		_, err := Open(bytes.NewReader(b), int64(len(b)))
		wantCode(t, err, CodeZip64, "locator")
	})
	t.Run("zip64 extra field", func(t *testing.T) {
		// A Zip64 extended information field with nothing to extend still
		// makes a Zip64 package for NuGet (spec 1.4).
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "a.txt", Method: zip.Store, Extra: []byte{1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0}})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("hello"))
		zw.Close()
		p := openBytes(t, b.Bytes())
		if !p.IsZip64() {
			t.Fatal("not Zip64")
		}
		wantCode(t, Sign(io.Discard, p, fakeSignature, time.Now()), CodeZip64, "Zip64")
		if got := readEntry(t, p, "a.txt"); string(got) != "hello" {
			t.Fatalf("read %q", got)
		}
	})
}

func TestSignEntryCountLimit(t *testing.T) {
	build := func(n int) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for i := range n {
			fh := &zip.FileHeader{Name: fmt.Sprintf("f/%d", i), Method: zip.Store}
			if _, err := zw.CreateRaw(fh); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	// 0xFFFD entries: the signed package has 0xFFFE, still without Zip64.
	ok := build(maxSignEntries - 1)
	signed := signBytes(t, ok, fakeSignature, time.Now())
	p := openBytes(t, signed)
	if len(p.Entries()) != maxSignEntries || p.end.entries != maxSignEntries {
		t.Fatalf("%d entries, end record says %d", len(p.Entries()), p.end.entries)
	}
	if sig, err := p.Signature(); err != nil || !bytes.Equal(sig, fakeSignature) {
		t.Fatalf("Signature: %v", err)
	}
	// Re-signing it is fine too: the unsigned package still has 0xFFFD.
	_ = signBytes(t, signed, fakeSignature, time.Now())
	// 0xFFFE entries: signing would need Zip64.
	wantCode(t, Sign(io.Discard, openBytes(t, build(maxSignEntries)), fakeSignature, time.Now()), CodeZip64Required, "Zip64")
}

func TestDOSDateTime(t *testing.T) {
	tests := []struct {
		t    time.Time
		want uint32
	}{
		{time.Date(2025, 3, 4, 5, 6, 7, 0, time.Local), 45<<25 | 3<<21 | 4<<16 | 5<<11 | 6<<5 | 3},
		{time.Date(1980, 1, 1, 0, 0, 0, 0, time.Local), 1<<21 | 1<<16},
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.Local), 1<<21 | 1<<16},
		{time.Time{}, 1<<21 | 1<<16},
		{time.Date(2107, 12, 31, 23, 59, 59, 0, time.Local), 127<<25 | 12<<21 | 31<<16 | 23<<11 | 59<<5 | 29},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.Local), 127<<25 | 12<<21 | 31<<16 | 23<<11 | 59<<5 | 29},
	}
	for _, tt := range tests {
		if got := dosDateTime(tt.t); got != tt.want {
			t.Errorf("dosDateTime(%v) = %#x, want %#x", tt.t, got, tt.want)
		}
	}
	// Local time is what counts: the same instant in UTC gives the local
	// fields.
	local := time.Date(2025, 6, 7, 8, 9, 10, 0, time.Local)
	if dosDateTime(local.UTC()) != dosDateTime(local) {
		t.Errorf("dosDateTime depends on the time's location, not local time")
	}
}
