package nupkg

import (
	"archive/zip"
	"bytes"
	"crypto"
	"errors"
	"hash/crc32"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/fixtures"
)

// TestOpenMatchesArchiveZip reads every fixture both ways: the same entries
// in the same order, with the same contents.
func TestOpenMatchesArchiveZip(t *testing.T) {
	files := append(fixtures.Glob(t, "real/*.nupkg"), fixtures.Glob(t, "unsigned/*.nupkg")...)
	for _, path := range files {
		rel := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		t.Run(rel, func(t *testing.T) {
			p, b := openFixture(t, rel)
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			es := p.Entries()
			if len(es) != len(zr.File) {
				t.Fatalf("%d entries, archive/zip has %d", len(es), len(zr.File))
			}
			for i, f := range zr.File {
				e := es[i]
				if e.Name != f.Name || e.UncompressedSize != f.UncompressedSize64 || e.CompressedSize != f.CompressedSize64 || e.CRC32 != f.CRC32 || e.Method != f.Method || e.Flags != f.Flags || e.ExternalAttrs != f.ExternalAttrs {
					t.Fatalf("entry %d: %+v, archive/zip %+v", i, e, f.FileHeader)
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				want, err := io.ReadAll(rc)
				if err != nil {
					t.Fatal(err)
				}
				if got := readEntry(t, p, e.Name); !bytes.Equal(got, want) {
					t.Fatalf("entry %q: contents differ", e.Name)
				}
				if !e.Modified().Equal(f.Modified) && f.Modified.Location() == time.UTC {
					// archive/zip reports MS-DOS times in UTC unless an
					// extended timestamp says otherwise; compare fields.
					m := e.Modified()
					if m.Year() != f.Modified.Year() || m.YearDay() != f.Modified.YearDay() || m.Hour() != f.Modified.Hour() || m.Minute() != f.Modified.Minute() {
						t.Fatalf("entry %q: modified %v, archive/zip %v", e.Name, m, f.Modified)
					}
				}
			}
		})
	}
}

func TestOpenDamagedEntry(t *testing.T) {
	// A 4 KiB block of this package is zeroed, wiping a local header: the
	// package opens and is signed, that entry does not read, and the content
	// hash no longer matches (checked by the golden test).
	p, _ := openFixture(t, "invalid/Newtonsoft.Json.13.0.3.nupkg")
	if !p.IsSigned() {
		t.Fatal("not signed")
	}
	if _, err := p.Signature(); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, e := range p.Entries() {
		rc, err := p.OpenEntry(e.Name)
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
		if err != nil {
			failed++
			if !strings.HasPrefix(err.Error(), "nupkg: entry ") {
				t.Errorf("error %q", err)
			}
		}
	}
	if failed == 0 {
		t.Fatal("every entry of the damaged package reads")
	}
}

func TestOpenErrors(t *testing.T) {
	good := testPackage(t)
	p := openBytes(t, good)
	end := p.end.offset
	cd := p.end.cdOffset
	first := p.Entries()[0]
	second := p.Entries()[1]
	patch := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"short", []byte("PK\x05\x06"), "too short"},
		{"no end record", bytes.Repeat([]byte{0}, 100), "no end of central directory record"},
		{"truncated end record", append(bytes.Clone(good[:end]), "PK\x05\x06\x00\x00"...), "truncated"},
		{"trailing bytes", append(bytes.Clone(good), 0), "1 bytes follow the end of central directory record"},
		{"comment too long", patch(func(b []byte) { put16(b, end+20, 5) }), "comment is 5 bytes"},
		{"multi-disk", patch(func(b []byte) { put16(b, end+4, 1) }), "multi-disk"},
		{"counts differ", patch(func(b []byte) { put16(b, end+8, 1) }), "multi-disk"},
		{"central directory size", patch(func(b []byte) { put32(b, end+12, uint32(end-cd-1)) }), "does not end at the end record"},
		{"central directory offset", patch(func(b []byte) { put32(b, end+16, uint32(cd+1)) }), "does not end at the end record"},
		{"too few entries", patch(func(b []byte) { put16(b, end+8, 2); put16(b, end+10, 2) }), "follow its last header"},
		{"too many entries", patch(func(b []byte) { put16(b, end+8, 10); put16(b, end+10, 10) }), "central directory header 7"},
		{"impossible count", patch(func(b []byte) { put16(b, end+8, 0xFFF0); put16(b, end+10, 0xFFF0) }), "cannot fit"},
		{"central header signature", patch(func(b []byte) { b[second.CentralOffset] = 'X' }), "bad signature"},
		{"local header offset in the central directory", patch(func(b []byte) { put32(b, first.CentralOffset+42, uint32(cd)) }), "not before the central directory"},
		{"shared local header", patch(func(b []byte) { put32(b, second.CentralOffset+42, uint32(first.HeaderOffset)) }), "share the local header"},
		{"central disk number", patch(func(b []byte) { put16(b, first.CentralOffset+34, 1) }), "starts on disk 1"},
		{"unresolved zip64 size", patch(func(b []byte) { put32(b, first.CentralOffset+20, max32) }), "no Zip64 extra field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(tt.b), int64(len(tt.b)))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "nupkg: ") {
				t.Fatalf("Open: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestOpenBounds(t *testing.T) {
	// A name longer than maxNameLength.
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	if _, err := zw.CreateRaw(&zip.FileHeader{Name: strings.Repeat("n", maxNameLength+1)}); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	if _, err := Open(bytes.NewReader(b.Bytes()), int64(b.Len())); err == nil || !strings.Contains(err.Error(), "more than the 4096") {
		t.Fatalf("long name: %v", err)
	}
	// A Zip64 end record announcing more entries or a larger central
	// directory than accepted is refused before anything is allocated.
	for _, tt := range []struct {
		count, size uint64
		want        string
	}{
		{maxEntries + 1, 100, "declares 262145 entries"},
		{1, maxCentralDirectorySize + 1, "more than the 33554432"},
	} {
		z := zip64Archive(t, tt.count, tt.size)
		if _, err := Open(bytes.NewReader(z), int64(len(z))); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("Open: %v, want %q", err, tt.want)
		}
	}
}

// zip64Archive builds an archive with no real entries whose Zip64 end
// record claims count entries in a central directory of size bytes that
// ends at the record (which lies about the file, to test bounds).
func zip64Archive(t testing.TB, count, size uint64) []byte {
	t.Helper()
	var b []byte
	b = append(b, make([]byte, size)...)
	rec := make([]byte, end64Len)
	put32(rec, 0, sigEnd64)
	put32(rec, 4, end64Len-12)
	put16(rec, 12, 45)
	put16(rec, 14, 45)
	binaryPut64(rec[24:], count)
	binaryPut64(rec[32:], count)
	binaryPut64(rec[40:], size)
	binaryPut64(rec[48:], 0)
	recOff := len(b)
	b = append(b, rec...)
	loc := make([]byte, end64LocatorLen)
	put32(loc, 0, sigEnd64Locator)
	binaryPut64(loc[8:], uint64(recOff))
	put32(loc, 16, 1)
	b = append(b, loc...)
	end := make([]byte, endLen)
	put32(end, 0, sigEnd)
	put16(end, 8, max16)
	put16(end, 10, max16)
	put32(end, 12, max32)
	put32(end, 16, max32)
	return append(b, end...)
}

func binaryPut64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

func TestZip64Reading(t *testing.T) {
	// A well-formed Zip64 archive written by archive/zip (forced through a
	// large declared count) reads like any other; IsZip64 says so.
	good := testPackage(t)
	p := openBytes(t, good)
	// Rebuild good with a Zip64 end record and locator between its central
	// directory and its end record, and saturated 32-bit fields.
	cdEnd := p.end.offset
	var z []byte
	z = append(z, good[:cdEnd]...)
	rec := make([]byte, end64Len)
	put32(rec, 0, sigEnd64)
	put32(rec, 4, end64Len-12)
	binaryPut64(rec[24:], uint64(len(p.entries)))
	binaryPut64(rec[32:], uint64(len(p.entries)))
	binaryPut64(rec[40:], uint64(cdEnd-p.end.cdOffset))
	binaryPut64(rec[48:], uint64(p.end.cdOffset))
	z = append(z, rec...)
	loc := make([]byte, end64LocatorLen)
	put32(loc, 0, sigEnd64Locator)
	binaryPut64(loc[8:], uint64(cdEnd))
	put32(loc, 16, 1)
	z = append(z, loc...)
	end := bytes.Clone(good[cdEnd:])
	put16(end, 8, max16)
	put16(end, 10, max16)
	put32(end, 12, max32)
	put32(end, 16, max32)
	z = append(z, end...)

	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatalf("archive/zip: %v", err)
	}
	zp := openBytes(t, z)
	if !zp.IsZip64() || len(zp.Entries()) != len(zr.File) {
		t.Fatalf("zip64 %v, %d entries (archive/zip %d)", zp.IsZip64(), len(zp.Entries()), len(zr.File))
	}
	assertSameEntries(t, p, zp)
	wantCode(t, Sign(io.Discard, zp, fakeSignature, time.Now()), CodeZip64, "Zip64")

	// Signed and Zip64: the content hash refuses it (NuGet's arithmetic
	// reads only 32-bit fields).
	signed := signBytes(t, good, fakeSignature, time.Now())
	sp := openBytes(t, signed)
	s64 := bytes.Clone(signed[:sp.end.offset])
	binaryPut64(rec[24:], uint64(len(sp.entries)))
	binaryPut64(rec[32:], uint64(len(sp.entries)))
	binaryPut64(rec[40:], uint64(sp.end.offset-sp.end.cdOffset))
	binaryPut64(rec[48:], uint64(sp.end.cdOffset))
	s64 = append(s64, rec...)
	binaryPut64(loc[8:], uint64(sp.end.offset))
	s64 = append(s64, loc...)
	s64 = append(s64, end...)
	_, err = openBytes(t, s64).HashUnsigned(crypto.SHA256)
	wantCode(t, err, CodeZip64, "Zip64")

	// Broken Zip64 structures carry NU3006.
	for name, f := range map[string]func(b []byte){
		"record signature": func(b []byte) { b[cdEnd] = 'X' },
		"record size":      func(b []byte) { put32(b, cdEnd+4, 99) },
		"disagreeing size": func(b []byte) { put32(b, int64(len(b))-endLen+12, 7) },
		"multi-disk":       func(b []byte) { put32(b, cdEnd+end64Len+16, 3) },
		"record disk":      func(b []byte) { put32(b, cdEnd+16, 1) },
	} {
		b := bytes.Clone(z)
		f(b)
		_, err := Open(bytes.NewReader(b), int64(len(b)))
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeZip64 {
			t.Errorf("%s: Open: %v, want NU3006", name, err)
		}
	}
}

func TestOpenEntry(t *testing.T) {
	deflated := func(data []byte) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, _ := zw.Create("x")
		w.Write(data)
		zw.Close()
		p := openBytes(t, b.Bytes())
		e := p.Entries()[0]
		lh, err := readLocalHeader(p.r, e.HeaderOffset, p.end.cdOffset)
		if err != nil {
			t.Fatal(err)
		}
		return b.Bytes()[lh.dataOffset : lh.dataOffset+int64(e.CompressedSize)]
	}
	content := bytes.Repeat([]byte("hello, entries "), 100)
	comp := deflated(content)
	build := func(hs ...zip.FileHeader) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, h := range hs {
			h := h
			w, err := zw.CreateRaw(&h)
			if err != nil {
				t.Fatal(err)
			}
			if h.Method == zip.Deflate {
				w.Write(comp)
			} else {
				w.Write(content[:h.CompressedSize64])
			}
		}
		zw.Close()
		return b.Bytes()
	}
	crc := crc32.ChecksumIEEE(content)
	n := uint64(len(content))
	c := uint64(len(comp))
	tests := []struct {
		name string
		pkg  []byte
		open string // error from OpenEntry
		read string // error while reading
	}{
		{"deflate", build(zip.FileHeader{Name: "a", Method: zip.Deflate, CRC32: crc, CompressedSize64: c, UncompressedSize64: n}), "", ""},
		{"stored", build(zip.FileHeader{Name: "a", Method: zip.Store, CRC32: crc, CompressedSize64: n, UncompressedSize64: n}), "", ""},
		{"deflate larger than declared", build(zip.FileHeader{Name: "a", Method: zip.Deflate, CRC32: crc, CompressedSize64: c, UncompressedSize64: n - 1}), "", "more than its declared size"},
		{"deflate smaller than declared", build(zip.FileHeader{Name: "a", Method: zip.Deflate, CRC32: crc, CompressedSize64: c, UncompressedSize64: n + 1}), "", "unexpected EOF"},
		{"CRC", build(zip.FileHeader{Name: "a", Method: zip.Deflate, CRC32: crc + 1, CompressedSize64: c, UncompressedSize64: n}), "", "CRC-32"},
		{"stored sizes differ", build(zip.FileHeader{Name: "a", Method: zip.Store, CRC32: crc, CompressedSize64: n, UncompressedSize64: n + 1}), "compressed size", ""},
		{"method", build(zip.FileHeader{Name: "a", Method: 12, CRC32: crc, CompressedSize64: n, UncompressedSize64: n}), "unsupported compression method 12", ""},
		{"encrypted", build(zip.FileHeader{Name: "a", Method: zip.Store, Flags: 1, CRC32: crc, CompressedSize64: n, UncompressedSize64: n}), "encrypted", ""},
		{"duplicate", build(zip.FileHeader{Name: "a", Method: zip.Store, CRC32: crc, CompressedSize64: n, UncompressedSize64: n}, zip.FileHeader{Name: "a", Method: zip.Store, CRC32: crc, CompressedSize64: n, UncompressedSize64: n}), "several entries named", ""},
		{"missing", build(zip.FileHeader{Name: "b", Method: zip.Store, CRC32: crc, CompressedSize64: n, UncompressedSize64: n}), "no such entry", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openBytes(t, tt.pkg)
			rc, err := p.OpenEntry("a")
			if tt.open != "" {
				if err == nil || !strings.Contains(err.Error(), tt.open) {
					t.Fatalf("OpenEntry: %v, want %q", err, tt.open)
				}
				if tt.name == "missing" && !errors.Is(err, ErrNotFound) {
					t.Fatalf("missing entry: %v is not ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if tt.read != "" {
				if err == nil || !strings.Contains(err.Error(), tt.read) {
					t.Fatalf("read: %v, want %q", err, tt.read)
				}
				return
			}
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("read %d bytes, %v", len(got), err)
			}
		})
	}

	// Overlapping entries: the second central header points at the first
	// entry's data, so the first entry's data runs over it.
	two := build(zip.FileHeader{Name: "a", Method: zip.Store, CRC32: crc, CompressedSize64: n, UncompressedSize64: n}, zip.FileHeader{Name: "b", Method: zip.Store, CRC32: crc, CompressedSize64: n, UncompressedSize64: n})
	p := openBytes(t, two)
	b := p.Entries()[1]
	put32(two, b.CentralOffset+42, uint32(b.HeaderOffset-100))
	if _, err := openBytes(t, two).OpenEntry("a"); err == nil || !strings.Contains(err.Error(), "overlap the next entry") {
		t.Fatalf("overlapping entries: %v", err)
	}
	// A local header that names another file.
	renamed := build(zip.FileHeader{Name: "a", Method: zip.Store, CRC32: crc, CompressedSize64: n, UncompressedSize64: n})
	renamed[30] = 'z'
	if _, err := openBytes(t, renamed).OpenEntry("a"); err == nil || !strings.Contains(err.Error(), `local header names it "z"`) {
		t.Fatalf("renamed local header: %v", err)
	}
}

// TestCorruptionNeverPanics truncates and flips every byte of a small
// signed package and runs every reader over the result: errors are fine,
// panics are not, and every error names the package.
func TestCorruptionNeverPanics(t *testing.T) {
	signed := signBytes(t, testPackage(t), fakeSignature, time.Now())
	exercise := func(b []byte) {
		p, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "nupkg: ") {
				t.Fatalf("error %q", err)
			}
			return
		}
		p.IsSigned()
		p.IsZip64()
		_, _ = p.Signature()
		_, _ = p.HashUnsigned(crypto.SHA256)
		_, _ = p.Nuspec()
		_ = Sign(io.Discard, p, fakeSignature, time.Now())
		for _, e := range p.Entries() {
			if rc, err := p.OpenEntry(e.Name); err == nil {
				_, _ = io.Copy(io.Discard, rc)
				rc.Close()
			}
		}
	}
	for n := range len(signed) {
		exercise(signed[:n])
	}
	for i := range signed {
		b := bytes.Clone(signed)
		b[i] ^= 0xFF
		exercise(b)
	}
}
