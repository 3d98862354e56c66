package nupkg

import (
	"archive/zip"
	"bytes"
	"crypto"
	"hash/crc32"
	"testing"
	"time"
)

func TestSignatureFixtures(t *testing.T) {
	tests := []struct {
		file   string
		signed bool
		want   string // "" for a readable signature entry
	}{
		{"invalid/SignatureFileWithDeflateCompressionMethodAndDefaultCompressionLevel.zip", true, "compressed (method 8"},
		// Upper-case name: not signed at all (spec 1.2 check 1).
		{"invalid/SignatureFileWithUppercaseFileName.zip", false, "does not contain a valid package signature file"},
		// The local header announces 7 bytes, but the central directory
		// starts right after it.
		{"invalid/SignatureFileEntry.zip", true, "run past the next entry or into the central directory"},
		// A well-formed entry holding "content": the zip level accepts it,
		// the CMS parser (package nusig) rejects it (NuGet: NU3003).
		{"invalid/SignatureFileWithFakeContent.zip", true, ""},
		// The rezipped package deflated its signature.
		{"invalid/Microsoft.NETCore.Platforms.1.1.0.nupkg", true, "compressed (method 8"},
		{"unsigned/TestUnsigned.1.0.0.nupkg", false, "does not contain a valid package signature file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, _ := openFixture(t, tt.file)
			if p.IsSigned() != tt.signed {
				t.Fatalf("IsSigned = %v, want %v", p.IsSigned(), tt.signed)
			}
			sig, err := p.Signature()
			if tt.want == "" {
				if err != nil || string(sig) != "content" {
					t.Fatalf("Signature() = %q, %v", sig, err)
				}
				return
			}
			wantCode(t, err, CodeInvalidSignatureEntry, tt.want)
		})
	}
}

// zipWithSignature builds a package whose signature entry has the header
// fields of fh (name, method, flags, sizes, attributes...) and data raw,
// written as given through archive/zip's raw writer.
func zipWithSignature(t testing.TB, fh zip.FileHeader, raw []byte, extra ...zip.FileHeader) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "a.nuspec", Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte("<x/>")), CompressedSize64: 4, UncompressedSize64: 4})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("<x/>"))
	for _, h := range append([]zip.FileHeader{fh}, extra...) {
		h := h
		w, err := zw.CreateRaw(&h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sigHeader(data []byte) zip.FileHeader {
	return zip.FileHeader{
		Name: SignatureName, Method: zip.Store, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data)),
	}
}

func TestSignatureEntryChecks(t *testing.T) {
	data := []byte("0\x82 pretend DER")
	good := zipWithSignature(t, sigHeader(data), data)
	if sig, err := openBytes(t, good).Signature(); err != nil || !bytes.Equal(sig, data) {
		t.Fatalf("baseline: %q, %v", sig, err)
	}
	// mutate patches a copy of good: c and l are the offsets of the
	// signature's central and local headers.
	mutate := func(f func(b []byte, c, l int64)) []byte {
		b := bytes.Clone(good)
		e := entry(t, openBytes(t, b), SignatureName)
		f(b, e.CentralOffset, e.HeaderOffset)
		return b
	}
	withHeader := func(f func(h *zip.FileHeader)) []byte {
		h := sigHeader(data)
		f(&h)
		return zipWithSignature(t, h, data)
	}
	tests := []struct {
		name string
		pkg  []byte
		want string
	}{
		{"duplicated", zipWithSignature(t, sigHeader(data), data, sigHeader(data)), "contains 2 package signature files"},
		{"central flags", withHeader(func(h *zip.FileHeader) { h.Flags = 0x0002 }), "central directory header has general purpose bit flag 0x0002"},
		{"utf-8 flag", withHeader(func(h *zip.FileHeader) { h.Flags = 0x0800 }), "UTF-8 name flag"},
		{"data descriptor flag", mutate(func(b []byte, c, l int64) { put16(b, c+8, 0x0008) }), "bit flag 0x0008"},
		{"central method", mutate(func(b []byte, c, l int64) { put16(b, c+10, 8) }), "compressed (method 8 in its central directory header)"},
		{"central sizes differ", mutate(func(b []byte, c, l int64) { put32(b, c+20, uint32(len(data)-1)) }), "central directory header has compressed size"},
		{"external attributes", withHeader(func(h *zip.FileHeader) { h.ExternalAttrs = 0o644 << 16 }), "external file attributes 0x1a40000"},
		{"local signature", mutate(func(b []byte, c, l int64) { b[l] = 'X' }), "no valid local file header"},
		{"local name", mutate(func(b []byte, c, l int64) { b[l+30] = ',' }), `local file header names it ",signature.p7s"`},
		{"local utf-8 flag", mutate(func(b []byte, c, l int64) { put16(b, l+6, 0x0800) }), "local file header sets the UTF-8 name flag"},
		{"local flags", mutate(func(b []byte, c, l int64) { put16(b, l+6, 0x0001) }), "local file header has general purpose bit flag 0x0001"},
		{"local method", mutate(func(b []byte, c, l int64) { put16(b, l+8, 8) }), "method 8 in its local file header"},
		{"local sizes differ", mutate(func(b []byte, c, l int64) { put32(b, l+18, 3) }), "local file header has compressed size 3"},
		{"local and central sizes differ", mutate(func(b []byte, c, l int64) { put32(b, l+18, 3); put32(b, l+22, 3) }), "local file header size 3 differs"},
		{"local and central CRC differ", mutate(func(b []byte, c, l int64) { put32(b, l+14, 1) }), "local file header CRC-32 00000001 differs"},
		{"CRC", mutate(func(b []byte, c, l int64) { b[l+44] ^= 1 }), "its data has CRC-32"},
		{"empty", zipWithSignature(t, sigHeader(nil), nil), "it is empty"},
		{"local header past the next entry", mutate(func(b []byte, c, l int64) { put16(b, l+28, 200) }), "no valid local file header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openBytes(t, tt.pkg)
			if !p.IsSigned() {
				t.Fatal("not signed")
			}
			sig, err := p.Signature()
			if err == nil {
				t.Fatalf("Signature() = %q, want an error", sig)
			}
			wantCode(t, err, CodeInvalidSignatureEntry, tt.want)
		})
	}
}

func TestSignatureTooLarge(t *testing.T) {
	data := bytes.Repeat([]byte{0x30}, MaxSignatureSize+1)
	p := openBytes(t, zipWithSignature(t, sigHeader(data), data))
	_, err := p.Signature()
	wantCode(t, err, CodeInvalidSignatureEntry, "more than the 1048576-byte limit")
}

func TestSignatureEntryNotCheckedAtOpen(t *testing.T) {
	// A signature entry whose local header is garbage leaves the package
	// openable and signed: it is a signed package with an invalid
	// signature (NU3005), as in NuGet.
	data := []byte("sig")
	b := zipWithSignature(t, sigHeader(data), data)
	e := entry(t, openBytes(t, b), SignatureName)
	for i := e.HeaderOffset; i < e.HeaderOffset+30; i++ {
		b[i] = 0
	}
	p := openBytes(t, b)
	_, err := p.Signature()
	wantCode(t, err, CodeInvalidSignatureEntry, "no valid local file header")
	// The content hash still works: it never reads the signature entry.
	if _, err := p.HashUnsigned(crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if err := Sign(new(bytes.Buffer), p, []byte("new"), time.Now()); err != nil {
		t.Fatalf("replacing a broken signature entry: %v", err)
	}
}
