package nupkg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ZIP record signatures and fixed sizes (PKWARE APPNOTE 4.3). All integers
// are little-endian.
const (
	sigLocalHeader   = 0x04034b50
	sigCentralHeader = 0x02014b50
	sigEnd           = 0x06054b50
	sigEnd64         = 0x06064b50
	sigEnd64Locator  = 0x07064b50

	localHeaderLen   = 30 // fixed part of a local file header
	centralHeaderLen = 46 // fixed part of a central directory header
	endLen           = 22 // end of central directory record without comment
	end64LocatorLen  = 20
	end64Len         = 56 // Zip64 end of central directory record without extensible data

	// centralOffsetField is where a central directory header keeps the
	// offset of its local header: the 4 bytes after the first 42.
	centralOffsetField = 42

	zip64ExtraID = 0x0001 // Zip64 extended information extra field

	flagEncrypted = 1 << 0
	flagUTF8      = 1 << 11

	methodStore   = 0
	methodDeflate = 8

	max16 = 0xFFFF
	max32 = 0xFFFFFFFF
)

// le reads little-endian integers from a byte slice the caller has sized.
type le []byte

func (b le) u16(off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func (b le) u32(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func (b le) u64(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// readFull reads exactly len(buf) bytes at off, reporting a short file as
// io.ErrUnexpectedEOF.
func readFull(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// endRecord is the end of central directory record, with the Zip64 record's
// values merged in when a Zip64 locator precedes it.
type endRecord struct {
	offset                int64 // position of the record in the file
	diskNumber, cdDisk    uint16
	entriesDisk, entries  uint16 // 32-bit record values, as NuGet reads them
	cdSize32, cdOffset32  uint32
	commentLen            uint16
	zip64                 bool  // a Zip64 locator sits right before the record
	end64Offset           int64 // position of the Zip64 record when zip64
	count                 uint64
	cdOffset, cdSize, end int64 // resolved: where the central directory is and where it must end
}

// findEnd locates the end of central directory record as NuGet does: the
// last occurrence of its signature in the file, searched backwards. The
// search covers the last endLen+65535 bytes, where a record with a
// maximal comment starts (.NET's ZipArchive stops there too).
func findEnd(r io.ReaderAt, size int64) (*endRecord, error) {
	if size < endLen {
		return nil, errors.New("nupkg: not a zip archive: the file is too short")
	}
	n := min(size, endLen+max16)
	buf := make([]byte, n)
	if err := readFull(r, buf, size-n); err != nil {
		return nil, fmt.Errorf("nupkg: reading the end of the archive: %w", err)
	}
	p := -1
	for i := len(buf) - 4; i >= 0; i-- {
		if le(buf).u32(i) == sigEnd {
			p = i
			break
		}
	}
	if p < 0 {
		return nil, errors.New("nupkg: not a zip archive: no end of central directory record")
	}
	b := le(buf[p:])
	if len(b) < endLen {
		return nil, errors.New("nupkg: the end of central directory record is truncated")
	}
	e := &endRecord{
		offset:      size - n + int64(p),
		diskNumber:  b.u16(4),
		cdDisk:      b.u16(6),
		entriesDisk: b.u16(8),
		entries:     b.u16(10),
		cdSize32:    b.u32(12),
		cdOffset32:  b.u32(16),
		commentLen:  b.u16(20),
	}
	// The comment must run exactly to the end of the file: trailing bytes
	// would be hashed and copied by NuGet but belong to no zip structure,
	// and a signature inside a comment would have been found above instead.
	if got := len(b) - endLen; got != int(e.commentLen) {
		return nil, fmt.Errorf("nupkg: the archive comment is %d bytes but %d bytes follow the end of central directory record", e.commentLen, got)
	}
	e.count, e.cdSize, e.cdOffset = uint64(e.entries), int64(e.cdSize32), int64(e.cdOffset32)
	e.end = e.offset
	if e.offset >= end64LocatorLen {
		if err := e.readZip64(r); err != nil {
			return nil, err
		}
	}
	if !e.zip64 && (e.diskNumber != 0 || e.cdDisk != 0 || e.entriesDisk != e.entries) {
		return nil, errors.New("nupkg: multi-disk (spanned) archives are not supported")
	}
	return e, nil
}

// readZip64 reads the Zip64 locator that may sit right before the end
// record and, when it does, the Zip64 end of central directory record it
// points to. A 32-bit field holding its "see Zip64" marker takes the Zip64
// value; any other 32-bit field must agree with it. Failures carry NU3006:
// NuGet refuses to sign any package with a Zip64 locator, readable or not.
func (e *endRecord) readZip64(r io.ReaderAt) error {
	loc := make([]byte, end64LocatorLen)
	locOff := e.offset - end64LocatorLen
	if err := readFull(r, loc, locOff); err != nil {
		return fmt.Errorf("nupkg: reading the end of the archive: %w", err)
	}
	if le(loc).u32(0) != sigEnd64Locator {
		return nil
	}
	e.zip64 = true
	bad := func(format string, args ...any) error {
		return &Error{Code: CodeZip64, Msg: "invalid Zip64 archive", Err: fmt.Errorf(format, args...)}
	}
	if disk, total := le(loc).u32(4), le(loc).u32(16); disk != 0 || total != 1 {
		return bad("multi-disk Zip64 archive (disk %d of %d)", disk, total)
	}
	off64 := le(loc).u64(8)
	if off64 > uint64(locOff) || uint64(locOff)-off64 < end64Len {
		return bad("the Zip64 locator points to offset %d, outside the archive before it", off64)
	}
	rec := make([]byte, end64Len)
	if err := readFull(r, rec, int64(off64)); err != nil {
		return bad("reading the Zip64 end of central directory record: %w", err)
	}
	b := le(rec)
	if b.u32(0) != sigEnd64 {
		return bad("no Zip64 end of central directory record at offset %d", off64)
	}
	if recSize := b.u64(4); recSize > uint64(locOff) || int64(off64)+12+int64(recSize) != locOff {
		return bad("the Zip64 end of central directory record size %d does not reach the locator", recSize)
	}
	if b.u32(16) != 0 || b.u32(20) != 0 || b.u64(24) != b.u64(32) {
		return bad("multi-disk Zip64 archive")
	}
	count, size, offset := b.u64(32), b.u64(40), b.u64(48)
	if (e.entries != max16 && uint64(e.entries) != count) ||
		(e.cdSize32 != max32 && uint64(e.cdSize32) != size) ||
		(e.cdOffset32 != max32 && uint64(e.cdOffset32) != offset) {
		return bad("the Zip64 and 32-bit end of central directory records disagree")
	}
	if size > uint64(off64) || offset > uint64(off64) {
		return bad("the central directory lies outside the archive")
	}
	e.count, e.cdSize, e.cdOffset = count, int64(size), int64(offset)
	e.end64Offset = int64(off64)
	e.end = e.end64Offset
	return nil
}
