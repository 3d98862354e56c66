package nupkg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// SignatureName is the name of the zip entry holding a package signature
// (spec 1.1): exactly these 14 ASCII bytes, in the archive root.
const SignatureName = ".signature.p7s"

// Package is an opened .nupkg: its central directory, parsed and checked,
// over a reader that stays in use. A Package never holds the package bytes:
// every method reads what it needs through the io.ReaderAt, so the reader
// must stay open and unchanged for the Package's life. Methods are safe for
// concurrent use when the reader is (an *os.File is).
type Package struct {
	r       io.ReaderAt
	size    int64
	end     *endRecord
	entries []Entry
	// byOffset lists entry indexes in local header order.
	byOffset []int
	// names maps a name to its entry index, or to -1 when the name is used
	// by more than one entry.
	names map[string]int
	zip64 bool

	localZip64Once   sync.Once
	localZip64Result bool
}

// Entry is one central directory header. Sizes and offsets are resolved
// through the Zip64 extra field where the 32-bit fields hold 0xFFFFFFFF.
type Entry struct {
	// Name is the entry name exactly as stored (its raw bytes; NuGet writes
	// UTF-8 and percent-escapes reserved characters, OPC-style).
	Name string
	// VersionMadeBy and VersionNeeded are the header's version fields.
	VersionMadeBy, VersionNeeded uint16
	// Flags is the general purpose bit flag.
	Flags uint16
	// Method is the compression method: 0 stored, 8 deflate.
	Method uint16
	// ModTime and ModDate are the MS-DOS time and date fields.
	ModTime, ModDate uint16
	// CRC32 is the IEEE CRC-32 of the uncompressed data.
	CRC32 uint32
	// CompressedSize and UncompressedSize are the data sizes in bytes.
	CompressedSize, UncompressedSize uint64
	// InternalAttrs and ExternalAttrs are the file attribute fields.
	InternalAttrs uint16
	ExternalAttrs uint32
	// HeaderOffset is the position of the entry's local file header.
	HeaderOffset int64
	// CentralOffset is the position of this central directory header and
	// CentralSize its length (46 + name + extra + comment).
	CentralOffset int64
	CentralSize   int
	// Extra is the central directory extra field; Comment the file comment.
	Extra   []byte
	Comment string

	// offset32 is the raw 32-bit local header offset, which NuGet's hash
	// arithmetic uses (spec 2.2).
	offset32 uint32
	// extentEnd is where the entry's extent ends: the next local header in
	// offset order, or the central directory (NuGet's FileEntryTotalSize is
	// extentEnd-HeaderOffset).
	extentEnd int64
	// zip64 records a Zip64 extra field in the central directory header.
	zip64 bool
}

// Modified returns the entry's MS-DOS modification time, read as local time
// the way NuGet writes it.
func (e *Entry) Modified() time.Time { return dosToTime(e.ModDate, e.ModTime, time.Local) }

// IsDir reports whether the entry names a directory (its name ends in "/").
func (e *Entry) IsDir() bool { return len(e.Name) > 0 && e.Name[len(e.Name)-1] == '/' }

// Open reads and checks the structure of the zip archive of size bytes in r.
//
// It finds the end of central directory record as NuGet does (the last
// occurrence of its signature), follows a Zip64 locator when there is one,
// and parses every central directory header within the named bounds (entry
// count, directory size, name length). It requires the central directory to
// end right at the end record (or at the Zip64 end record), the archive
// comment to end the file, and every local header offset to be distinct and
// before the central directory. Real packages meet all of these; archives
// that do not are refused with a plain error rather than read in a way
// other zip readers might not.
//
// Local headers are read later, by the methods that need them: OpenEntry
// checks an entry's local header and that its data stays within its
// extent, Signature applies NuGet's rules to the signature entry's (so a
// malformed signature entry makes a signed-but-invalid package, NU3005).
// Like NuGet, Open thus accepts a signed package whose damaged entries will
// make its integrity check fail (NU3008) rather than refusing it outright.
func Open(r io.ReaderAt, size int64) (*Package, error) {
	end, err := findEnd(r, size)
	if err != nil {
		return nil, err
	}
	p := &Package{r: r, size: size, end: end, zip64: end.zip64}
	if err := p.readCentralDirectory(); err != nil {
		return nil, err
	}
	if err := p.checkOffsets(); err != nil {
		return nil, err
	}
	p.names = make(map[string]int, len(p.entries))
	for i := range p.entries {
		if _, dup := p.names[p.entries[i].Name]; dup {
			p.names[p.entries[i].Name] = -1
		} else {
			p.names[p.entries[i].Name] = i
		}
	}
	return p, nil
}

// readCentralDirectory parses the central directory headers, which must
// fill [cdOffset, cdOffset+cdSize) exactly and end where the end record (or
// Zip64 end record) starts.
func (p *Package) readCentralDirectory() error {
	e := p.end
	switch {
	case e.count > maxEntries:
		return fmt.Errorf("nupkg: the archive declares %d entries, more than the %d this reader accepts", e.count, maxEntries)
	case e.cdSize > maxCentralDirectorySize:
		return fmt.Errorf("nupkg: the central directory is %d bytes, more than the %d this reader accepts", e.cdSize, maxCentralDirectorySize)
	case e.cdOffset+e.cdSize != e.end:
		return fmt.Errorf("nupkg: the central directory (offset %d, size %d) does not end at the end record (offset %d)", e.cdOffset, e.cdSize, e.end)
	case e.count*centralHeaderLen > uint64(e.cdSize):
		return fmt.Errorf("nupkg: %d entries cannot fit in a central directory of %d bytes", e.count, e.cdSize)
	}
	// A buffer the size of the central directory, up to 64 KiB: most
	// packages' directories are a few KiB.
	br := bufio.NewReaderSize(io.NewSectionReader(p.r, e.cdOffset, e.cdSize), int(min(max(e.cdSize, 16), 64<<10)))
	p.entries = make([]Entry, 0, e.count)
	pos := e.cdOffset
	fixed := make([]byte, centralHeaderLen)
	for i := uint64(0); i < e.count; i++ {
		ent, err := readCentralHeader(br, fixed, pos)
		if err != nil {
			return fmt.Errorf("nupkg: central directory header %d at offset %d: %w", i, pos, err)
		}
		pos += int64(ent.CentralSize)
		p.entries = append(p.entries, ent)
	}
	if pos != e.end {
		return fmt.Errorf("nupkg: %d bytes of the central directory follow its last header", e.end-pos)
	}
	return nil
}

func readCentralHeader(br *bufio.Reader, fixed []byte, pos int64) (Entry, error) {
	if _, err := io.ReadFull(br, fixed); err != nil {
		return Entry{}, noEOF(err)
	}
	b := le(fixed)
	if b.u32(0) != sigCentralHeader {
		return Entry{}, errors.New("bad signature")
	}
	nameLen, extraLen, commentLen := int(b.u16(28)), int(b.u16(30)), int(b.u16(32))
	if nameLen > maxNameLength {
		return Entry{}, fmt.Errorf("name of %d bytes, more than the %d this reader accepts", nameLen, maxNameLength)
	}
	ent := Entry{
		VersionMadeBy:    b.u16(4),
		VersionNeeded:    b.u16(6),
		Flags:            b.u16(8),
		Method:           b.u16(10),
		ModTime:          b.u16(12),
		ModDate:          b.u16(14),
		CRC32:            b.u32(16),
		CompressedSize:   uint64(b.u32(20)),
		UncompressedSize: uint64(b.u32(24)),
		InternalAttrs:    b.u16(36),
		ExternalAttrs:    b.u32(38),
		offset32:         b.u32(42),
		HeaderOffset:     int64(b.u32(42)),
		CentralOffset:    pos,
		CentralSize:      centralHeaderLen + nameLen + extraLen + commentLen,
	}
	disk := uint32(b.u16(34))
	rest := make([]byte, nameLen+extraLen+commentLen)
	if _, err := io.ReadFull(br, rest); err != nil {
		return Entry{}, noEOF(err)
	}
	ent.Name = string(rest[:nameLen])
	if extraLen > 0 {
		ent.Extra = rest[nameLen : nameLen+extraLen]
	}
	ent.Comment = string(rest[nameLen+extraLen:])
	if err := ent.resolveZip64(&disk); err != nil {
		return Entry{}, fmt.Errorf("entry %q: %w", ent.Name, err)
	}
	if disk != 0 {
		return Entry{}, fmt.Errorf("entry %q starts on disk %d: multi-disk archives are not supported", ent.Name, disk)
	}
	return ent, nil
}

// resolveZip64 replaces the 32-bit fields that hold their "see Zip64"
// marker with the values of the Zip64 extended information extra field,
// which lists them in a fixed order: uncompressed size, compressed size,
// local header offset, disk number. Every marked field must be resolved.
func (e *Entry) resolveZip64(disk *uint32) error {
	needU := e.UncompressedSize == max32
	needC := e.CompressedSize == max32
	needOff := e.offset32 == max32
	needDisk := *disk == max16
	for x := e.Extra; len(x) >= 4; {
		id, n := le(x).u16(0), int(le(x).u16(2))
		x = x[4:]
		if n > len(x) {
			break
		}
		data := x[:n]
		x = x[n:]
		if id != zip64ExtraID {
			continue
		}
		e.zip64 = true
		take := func(need *bool, size int) (uint64, bool) {
			if !*need || len(data) < size {
				return 0, false
			}
			*need = false
			var v uint64
			if size == 8 {
				v = le(data).u64(0)
			} else {
				v = uint64(le(data).u32(0))
			}
			data = data[size:]
			return v, true
		}
		if v, ok := take(&needU, 8); ok {
			e.UncompressedSize = v
		}
		if v, ok := take(&needC, 8); ok {
			e.CompressedSize = v
		}
		if v, ok := take(&needOff, 8); ok {
			if v > 1<<62 {
				return fmt.Errorf("local header offset %d out of range", v)
			}
			e.HeaderOffset = int64(v)
		}
		if v, ok := take(&needDisk, 4); ok {
			*disk = uint32(v)
		}
	}
	if needU || needC || needOff || needDisk {
		return errors.New("a 32-bit field says \"see Zip64\" but no Zip64 extra field provides it")
	}
	return nil
}

// checkOffsets orders the entries by local header offset and checks that
// each local header starts before the central directory, at its own offset.
// It records each entry's extent: up to the next local header or to the
// central directory. Local headers themselves are read when needed
// (OpenEntry, Signature, IsZip64), as NuGet's and Go's zip readers do, so a
// damaged entry makes that entry unreadable and a signed package fail its
// integrity check, not the whole package unreadable.
func (p *Package) checkOffsets() error {
	cdStart := p.end.cdOffset
	p.byOffset = make([]int, len(p.entries))
	for i := range p.byOffset {
		p.byOffset[i] = i
	}
	slices.SortStableFunc(p.byOffset, func(a, b int) int {
		return cmpInt64(p.entries[a].HeaderOffset, p.entries[b].HeaderOffset)
	})
	for k, i := range p.byOffset {
		e := &p.entries[i]
		if e.HeaderOffset >= cdStart {
			return fmt.Errorf("nupkg: entry %q: its local header offset %d is not before the central directory", e.Name, e.HeaderOffset)
		}
		e.extentEnd = cdStart
		if k+1 < len(p.byOffset) {
			next := &p.entries[p.byOffset[k+1]]
			if next.HeaderOffset == e.HeaderOffset {
				return fmt.Errorf("nupkg: entries %q and %q share the local header at offset %d", e.Name, next.Name, e.HeaderOffset)
			}
			e.extentEnd = next.HeaderOffset
		}
	}
	return nil
}

// localZip64 reports whether any local file header carries a Zip64 extra
// field (the third of NuGet's Zip64 criteria). Unreadable local headers
// count as not Zip64, as in NuGet.
func (p *Package) localZip64() bool {
	p.localZip64Once.Do(func() {
		for i := range p.entries {
			e := &p.entries[i]
			if lh, err := readLocalHeader(p.r, e.HeaderOffset, e.extentEnd); err == nil && lh.zip64 {
				p.localZip64Result = true
				return
			}
		}
	})
	return p.localZip64Result
}

// localHeader is the part of a local file header the package uses.
type localHeader struct {
	flags, method       uint16
	crc32               uint32
	compressed, uncompr uint32
	name                []byte
	zip64               bool
	dataOffset          int64
}

// readLocalHeader reads the local file header at off; it and its name and
// extra field must end at or before limit.
func readLocalHeader(r io.ReaderAt, off, limit int64) (*localHeader, error) {
	if off < 0 || off+localHeaderLen > limit {
		return nil, fmt.Errorf("no room for a local header at offset %d", off)
	}
	fixed := make([]byte, localHeaderLen)
	if err := readFull(r, fixed, off); err != nil {
		return nil, fmt.Errorf("reading the local header at offset %d: %w", off, err)
	}
	b := le(fixed)
	if b.u32(0) != sigLocalHeader {
		return nil, fmt.Errorf("no local header signature at offset %d", off)
	}
	nameLen, extraLen := int64(b.u16(26)), int64(b.u16(28))
	lh := &localHeader{
		flags:      b.u16(6),
		method:     b.u16(8),
		crc32:      b.u32(14),
		compressed: b.u32(18),
		uncompr:    b.u32(22),
		dataOffset: off + localHeaderLen + nameLen + extraLen,
	}
	if lh.dataOffset > limit {
		return nil, fmt.Errorf("the local header at offset %d runs past offset %d", off, limit)
	}
	if nameLen > maxNameLength {
		return nil, fmt.Errorf("local header name of %d bytes, more than the %d this reader accepts", nameLen, maxNameLength)
	}
	rest := make([]byte, nameLen+extraLen)
	if err := readFull(r, rest, off+localHeaderLen); err != nil {
		return nil, fmt.Errorf("reading the local header at offset %d: %w", off, err)
	}
	lh.name = rest[:nameLen]
	for x := rest[nameLen:]; len(x) >= 4; {
		id, n := le(x).u16(0), int(le(x).u16(2))
		if id == zip64ExtraID {
			lh.zip64 = true
		}
		if n+4 > len(x) {
			break
		}
		x = x[4+n:]
	}
	return lh, nil
}

// Entries returns a copy of the central directory, in central directory
// order.
func (p *Package) Entries() []Entry {
	es := slices.Clone(p.entries)
	for i := range es {
		es[i].Extra = slices.Clone(es[i].Extra)
	}
	return es
}

// Size returns the size of the package in bytes.
func (p *Package) Size() int64 { return p.size }

// IsSigned reports whether the package has an entry named exactly
// .signature.p7s (case-sensitive, spec 1.2 check 1). Such a package counts as
// signed even when the entry is invalid; Signature then reports NU3005.
func (p *Package) IsSigned() bool {
	_, ok := p.names[SignatureName]
	return ok
}

// IsZip64 reports NuGet's Zip64 criteria (spec 1.4): a Zip64 end of central
// directory locator right before the end record, or a Zip64 extended
// information extra field in any central directory or local file header.
// NuGet refuses to sign such a package (NU3006) and nuget.org refuses to
// accept one.
func (p *Package) IsZip64() bool {
	if p.zip64 {
		return true
	}
	for i := range p.entries {
		if p.entries[i].zip64 {
			return true
		}
	}
	return p.localZip64()
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dosToTime converts MS-DOS date and time fields to a time in loc.
func dosToTime(date, tm uint16, loc *time.Location) time.Time {
	return time.Date(int(date>>9)+1980, time.Month(date>>5&0xf), int(date&0x1f),
		int(tm>>11), int(tm>>5&0x3f), int(tm&0x1f)*2, 0, loc)
}
