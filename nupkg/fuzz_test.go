package nupkg

import (
	"archive/zip"
	"bytes"
	"crypto"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/fixtures"
)

// fuzzSeedLimit keeps seeds small enough for the fuzzer to mutate usefully;
// the larger fixtures are covered by the ordinary tests.
const fuzzSeedLimit = 64 << 10

func addPackageSeeds(f *testing.F) {
	f.Helper()
	for _, dir := range []string{"real/*.nupkg", "invalid/*", "unsigned/*.nupkg"} {
		for _, path := range fixtures.Glob(f, dir) {
			b, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			if len(b) <= fuzzSeedLimit {
				f.Add(b)
			}
		}
	}
	small := testPackage(f)
	f.Add(small)
	f.Add(signBytes(f, small, fakeSignature, time.Now()))
}

// FuzzOpen checks that Open never panics and, differentially, that whatever
// Open accepts archive/zip reads too, with the same entries (name, sizes,
// CRC, method, flags, attributes, comment) and, for every entry OpenEntry
// reads in full, the same contents.
//
// Open is stricter than archive/zip, so the converse does not hold (bytes
// after the archive comment, a central directory not ending at the end
// record, shared or misplaced local header offsets, unresolved Zip64
// fields, multi-disk fields). Contents are not compared for entries that
// archive/zip treats specially: names ending in "/" (directories, whose
// data it refuses), entries with a data descriptor (it checks the
// descriptor, Open trusts the central directory as NuGet does) and entries
// whose CRC field is 0 (it then skips the CRC check, OpenEntry does not).
func FuzzOpen(f *testing.F) {
	addPackageSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "nupkg: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
			t.Fatalf("Open accepts what archive/zip refuses: %v", err)
		}
		es := p.Entries()
		if len(es) != len(zr.File) {
			t.Fatalf("%d entries, archive/zip %d", len(es), len(zr.File))
		}
		for i, zf := range zr.File {
			e := es[i]
			if e.Name != zf.Name || e.CompressedSize != zf.CompressedSize64 || e.UncompressedSize != zf.UncompressedSize64 ||
				e.CRC32 != zf.CRC32 || e.Method != zf.Method || e.Flags != zf.Flags || e.ExternalAttrs != zf.ExternalAttrs || e.Comment != zf.Comment {
				t.Fatalf("entry %d: %+v, archive/zip %+v", i, e, zf.FileHeader)
			}
			if strings.HasSuffix(e.Name, "/") || e.Flags&0x8 != 0 || e.CRC32 == 0 || p.names[e.Name] < 0 {
				continue
			}
			rc, err := p.OpenEntry(e.Name)
			if err != nil {
				continue
			}
			ours, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				continue
			}
			zrc, err := zf.Open()
			if err != nil {
				t.Fatalf("entry %q: OpenEntry reads it, archive/zip does not open it: %v", e.Name, err)
			}
			theirs, err := io.ReadAll(zrc)
			zrc.Close()
			if err != nil || !bytes.Equal(ours, theirs) {
				t.Fatalf("entry %q: OpenEntry reads %d bytes, archive/zip %d bytes, %v", e.Name, len(ours), len(theirs), err)
			}
		}
		p.IsZip64()
		p.IsSigned()
	})
}

// FuzzSignature runs the signature entry checks, the content hash and Sign
// over arbitrary packages: no panics, errors with the package prefix, and
// Sign's output must reopen with the new signature and the same unsigned
// package as its input.
func FuzzSignature(f *testing.F) {
	addPackageSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if sig, err := p.Signature(); err == nil {
			if !p.IsSigned() || len(sig) == 0 || len(sig) > MaxSignatureSize {
				t.Fatalf("Signature returned %d bytes for signed=%v", len(sig), p.IsSigned())
			}
		} else if !strings.HasPrefix(err.Error(), "nupkg: NU3005: ") {
			t.Fatalf("Signature error %q is not NU3005", err)
		}
		var u bytes.Buffer
		uerr := p.WriteUnsigned(&u)
		h, herr := p.HashUnsigned(crypto.SHA256)
		if (uerr == nil) != (herr == nil) {
			t.Fatalf("WriteUnsigned %v, HashUnsigned %v", uerr, herr)
		}
		if uerr == nil {
			sum := crypto.SHA256.New()
			sum.Write(u.Bytes())
			if !bytes.Equal(sum.Sum(nil), h) {
				t.Fatal("HashUnsigned differs from the hash of WriteUnsigned")
			}
		}
		var out bytes.Buffer
		if err := Sign(&out, p, fakeSignature, time.Now()); err != nil {
			if !strings.HasPrefix(err.Error(), "nupkg: ") {
				t.Fatalf("Sign error %q", err)
			}
			return
		}
		if uerr != nil {
			t.Fatalf("Sign succeeds where WriteUnsigned fails: %v", uerr)
		}
		sp, err := Open(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("Sign's output does not open: %v", err)
		}
		if sig, err := sp.Signature(); err != nil || !bytes.Equal(sig, fakeSignature) {
			t.Fatalf("Sign's output signature: %q, %v", sig, err)
		}
		var u2 bytes.Buffer
		if err := sp.WriteUnsigned(&u2); err != nil || !bytes.Equal(u2.Bytes(), u.Bytes()) {
			t.Fatalf("Sign's output does not unsign to its input's unsigned package (%v)", err)
		}
	})
}

// FuzzParseNuspec checks that ParseNuspec never panics and that what it
// accepts has a valid id and a normalised version.
func FuzzParseNuspec(f *testing.F) {
	for _, dir := range []string{"real/*.nupkg", "unsigned/*.nupkg"} {
		for _, path := range fixtures.Glob(f, dir) {
			p, _ := openFixture(f, filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path))
			for _, e := range p.Entries() {
				if strings.HasSuffix(strings.ToLower(e.Name), ".nuspec") && !strings.Contains(e.Name, "/") {
					f.Add(readEntry(f, p, e.Name))
				}
			}
		}
	}
	f.Add([]byte(`<package><metadata><id>A</id><version>1.0</version><dependencies><dependency id="B"/></dependencies></metadata></package>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseNuspec(bytes.NewReader(b))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "nupkg: ") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if n.ID == "" || n.Version == "" || n.OriginalVersion == "" {
			t.Fatalf("accepted %+v", n)
		}
	})
}
