package nupkg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// Sizes of the records Sign adds (spec 1.5): a local header and a central
// directory header, each followed by the 14-byte name and nothing else.
const (
	signatureLocalLen   = localHeaderLen + len(SignatureName)   // 44
	signatureCentralLen = centralHeaderLen + len(SignatureName) // 60
	// versionSignature is the "version made by" and "version needed to
	// extract" NuGet writes for the signature entry: 2.0.
	versionSignature = 20
	// maxSignEntries is the entry count from which NuGet refuses to sign:
	// one more entry would need Zip64's 0xFFFF marker.
	maxSignEntries = 0xFFFE
)

// Sign writes to dst the package p with sig as its signature entry, byte for
// byte as NuGet's signing writes it (spec 1.5): the local files, then the
// signature's local header (modTime as its MS-DOS date and time, in local
// time, as NuGet uses the local clock) and data, then the central directory
// with the signature's header last, then the patched end record.
//
// When p is already signed, its signature entry is removed first, wherever
// it sits (the unsigned package of WriteUnsigned is what gets signed), so
// Sign also re-signs and replaces a signature with a countersigned one. It
// streams: one read of p and one write of the output.
//
// Sign refuses, as NuGet does: a Zip64 package (NU3006), a package of
// 0xFFFE entries or more, or one whose signed form would pass the 4 GiB
// offsets of a 32-bit zip (NU3039), and an archive without entries. It also
// refuses what NuGet would sign into a package that never verifies: data
// before the first local header. sig must hold 1 to MaxSignatureSize bytes.
//
// On error dst may hold partial output: write to a temporary file and
// rename it on success.
func Sign(dst io.Writer, p *Package, sig []byte, modTime time.Time) error {
	if p.IsZip64() {
		return codeError(CodeZip64, "signed Zip64 packages are not supported")
	}
	if len(sig) == 0 || len(sig) > MaxSignatureSize {
		return fmt.Errorf("nupkg: a signature of %d bytes is out of range (1 to %d)", len(sig), MaxSignatureSize)
	}
	l, err := p.unsignedLayout()
	if err != nil {
		return err
	}
	n := l.entryCount()
	switch {
	case n == 0:
		return errors.New("nupkg: cannot sign an archive without entries")
	case n >= maxSignEntries:
		return codeError(CodeZip64Required, fmt.Sprintf("the package has %d entries; signing it would require Zip64", n))
	case l.start != 0:
		return fmt.Errorf("nupkg: cannot sign a package with %d bytes before its first entry: its integrity check would fail", l.start)
	}
	newOffset := uint64(l.cdOffset) + uint64(signatureLocalLen+len(sig))
	newSize := uint64(l.cdSize) + uint64(signatureCentralLen)
	if uint64(l.localLen) >= max32 || newOffset >= max32 || newSize >= max32 {
		return codeError(CodeZip64Required, "the signed package would pass the 4 GiB limit of a 32-bit zip; signing it would require Zip64")
	}

	crc := crc32.ChecksumIEEE(sig)
	dos := dosDateTime(modTime)
	c := newCopier(p.r, dst, p.size)
	l.writeLocal(c)
	c.write(signatureLocalHeader(crc, dos, uint32(len(sig))))
	c.write(sig)
	l.writeCentral(c)
	c.write(signatureCentralHeader(crc, dos, uint32(len(sig)), uint32(l.localLen)))
	l.writeEnd(c, 1, uint32(signatureCentralLen), uint32(signatureLocalLen+len(sig)))
	return c.flush()
}

// signatureLocalHeader returns the 44-byte local file header of a signature
// entry of size bytes (spec 1.5 step 2).
func signatureLocalHeader(crc, dos, size uint32) []byte {
	b := make([]byte, 0, signatureLocalLen)
	b = binary.LittleEndian.AppendUint32(b, sigLocalHeader)
	b = binary.LittleEndian.AppendUint16(b, versionSignature) // version needed
	b = binary.LittleEndian.AppendUint16(b, 0)                // flags
	b = binary.LittleEndian.AppendUint16(b, methodStore)
	b = binary.LittleEndian.AppendUint32(b, dos)
	b = binary.LittleEndian.AppendUint32(b, crc)
	b = binary.LittleEndian.AppendUint32(b, size) // compressed
	b = binary.LittleEndian.AppendUint32(b, size) // uncompressed
	b = binary.LittleEndian.AppendUint16(b, uint16(len(SignatureName)))
	b = binary.LittleEndian.AppendUint16(b, 0) // extra field length
	return append(b, SignatureName...)
}

// signatureCentralHeader returns the 60-byte central directory header of a
// signature entry whose local header is at offset (spec 1.5 step 5).
func signatureCentralHeader(crc, dos, size, offset uint32) []byte {
	b := make([]byte, 0, signatureCentralLen)
	b = binary.LittleEndian.AppendUint32(b, sigCentralHeader)
	b = binary.LittleEndian.AppendUint16(b, versionSignature) // version made by
	b = binary.LittleEndian.AppendUint16(b, versionSignature) // version needed
	b = binary.LittleEndian.AppendUint16(b, 0)                // flags
	b = binary.LittleEndian.AppendUint16(b, methodStore)
	b = binary.LittleEndian.AppendUint32(b, dos)
	b = binary.LittleEndian.AppendUint32(b, crc)
	b = binary.LittleEndian.AppendUint32(b, size) // compressed
	b = binary.LittleEndian.AppendUint32(b, size) // uncompressed
	b = binary.LittleEndian.AppendUint16(b, uint16(len(SignatureName)))
	b = binary.LittleEndian.AppendUint16(b, 0) // extra field length
	b = binary.LittleEndian.AppendUint16(b, 0) // comment length
	b = binary.LittleEndian.AppendUint16(b, 0) // disk number start
	b = binary.LittleEndian.AppendUint16(b, 0) // internal attributes
	b = binary.LittleEndian.AppendUint32(b, 0) // external attributes
	b = binary.LittleEndian.AppendUint32(b, offset)
	return append(b, SignatureName...)
}

// dosDateTime packs t, in local time, into MS-DOS time (low 16 bits) and date
// (high 16 bits) as NuGet does. Years outside 1980–2107, which the format
// cannot hold, are clamped to its first or last instant.
func dosDateTime(t time.Time) uint32 {
	t = t.Local()
	switch {
	case t.Year() < 1980:
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.Local)
	case t.Year() > 2107:
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.Local)
	}
	return uint32(t.Year()-1980)<<25 | uint32(t.Month())<<21 | uint32(t.Day())<<16 |
		uint32(t.Hour())<<11 | uint32(t.Minute())<<5 | uint32(t.Second()/2)
}
