package nupkg

import (
	"bufio"
	"crypto"
	"encoding/binary"
	"fmt"
	"io"
)

// WriteUnsigned writes the package as it was before it was signed: the
// bytes NuGet hashes to check a signed package's integrity (spec 2.2). For an
// unsigned package that is the whole file. For a signed one it is the file
// without the signature entry's local header and data and without its
// central directory header, with the later entries moved down to close the
// hole, their central directory offsets and the end record's counts, size
// and offset patched to match. The signature entry may sit anywhere: first,
// in the middle or last, in local header order and in central directory
// order alike.
//
// For a package signed by NuGet (signature entry last, first entry at offset
// 0) the output is byte for byte the unsigned package that was signed. Like
// NuGet, it hashes any bytes before the first local header as they are while
// computing offsets as if the first entry started at 0, so a package with such
// a prefix never verifies.
//
// It streams: memory use does not depend on the package size. A signed
// package with a Zip64 end record or Zip64 offsets gives NU3006, one with
// several signature entries NU3005.
func (p *Package) WriteUnsigned(w io.Writer) error {
	c := newCopier(p.r, w, p.size)
	if !p.IsSigned() {
		c.copyRange(0, p.size)
		return c.flush()
	}
	l, err := p.unsignedLayout()
	if err != nil {
		return err
	}
	l.writeLocal(c)
	l.writeCentral(c)
	l.writeEnd(c, 0, 0, 0)
	return c.flush()
}

// HashUnsigned returns the digest, with h, of the bytes WriteUnsigned writes:
// the hash a signature's content must hold for the package to be intact.
// It costs one streamed pass over the package.
func (p *Package) HashUnsigned(h crypto.Hash) ([]byte, error) {
	if !h.Available() {
		return nil, fmt.Errorf("nupkg: hash function %v is not available", h)
	}
	d := h.New()
	if err := p.WriteUnsigned(d); err != nil {
		return nil, err
	}
	return d.Sum(nil), nil
}

// layout describes the unsigned package inside a package: which byte ranges
// make it up and how its zip fields are patched. For an unsigned package it
// is the package itself.
type layout struct {
	p   *Package
	sig int // index of the signature entry, or -1
	// start is the offset of the first local header (NuGet's
	// StartOfLocalFileHeaders).
	start int64
	// spans[i] is entry i's extent: from its local header to the next local
	// header, or to the central directory (NuGet's FileEntryTotalSize).
	spans []int64
	// change[i] is how far entry i's local header moves (negative: down).
	change []int64
	// localLen is the length of the local file region of the unsigned
	// package, so the offset at which its central directory starts.
	localLen int64
	// count, cdSize and cdOffset are the unsigned package's end record
	// fields, computed with NuGet's 16- and 32-bit arithmetic.
	count            uint16
	cdSize, cdOffset uint32
}

// unsignedLayout computes the layout of the unsigned package within p, as
// NuGet's VerifySignedPackageIntegrity does.
func (p *Package) unsignedLayout() (*layout, error) {
	e := p.end
	l := &layout{p: p, sig: -1, localLen: e.cdOffset, count: e.entries, cdSize: e.cdSize32, cdOffset: e.cdOffset32}
	if len(p.entries) > 0 {
		l.start = p.entries[p.byOffset[0]].HeaderOffset
	}
	if !p.IsSigned() {
		return l, nil
	}
	sig, err := p.signatureIndex()
	if err != nil {
		return nil, err
	}
	if p.zip64 {
		return nil, codeError(CodeZip64, "signed Zip64 packages are not supported (the archive has a Zip64 end of central directory record)")
	}
	l.sig = sig
	l.spans = make([]int64, len(p.entries))
	l.change = make([]int64, len(p.entries))
	for _, i := range p.byOffset {
		ent := &p.entries[i]
		if int64(ent.offset32) != ent.HeaderOffset {
			return nil, codeError(CodeZip64, fmt.Sprintf("signed Zip64 packages are not supported (entry %q has a Zip64 offset)", ent.Name))
		}
		l.spans[i] = ent.extentEnd - ent.HeaderOffset
	}
	var prevEnd int64
	for _, i := range p.byOffset {
		if i == sig {
			continue
		}
		l.change[i] = prevEnd - p.entries[i].HeaderOffset
		prevEnd = p.entries[i].HeaderOffset + l.spans[i] + l.change[i]
	}
	s := &p.entries[sig]
	l.localLen = e.cdOffset - l.spans[sig]
	l.count = e.entries - 1
	l.cdSize = e.cdSize32 - uint32(s.CentralSize)
	l.cdOffset = e.cdOffset32 - uint32(l.spans[sig])
	return l, nil
}

// entryCount returns the number of entries of the unsigned package.
func (l *layout) entryCount() int {
	if l.sig >= 0 {
		return len(l.p.entries) - 1
	}
	return len(l.p.entries)
}

// writeLocal writes the local file region of the unsigned package: any
// prefix, then every entry but the signature in local header order.
func (l *layout) writeLocal(c *copier) {
	if l.sig < 0 {
		c.copyRange(0, l.p.end.cdOffset)
		return
	}
	c.copyRange(0, l.start)
	for _, i := range l.p.byOffset {
		if i != l.sig {
			off := l.p.entries[i].HeaderOffset
			c.copyRange(off, off+l.spans[i])
		}
	}
}

// writeCentral writes the central directory of the unsigned package: every
// header but the signature's, in central directory order, with the local
// header offsets moved by their change.
func (l *layout) writeCentral(c *copier) {
	if l.sig < 0 {
		c.copyRange(l.p.end.cdOffset, l.p.end.end)
		return
	}
	var off [4]byte
	for i := range l.p.entries {
		if i == l.sig {
			continue
		}
		ent := &l.p.entries[i]
		pos := ent.CentralOffset
		c.copyRange(pos, pos+centralOffsetField)
		binary.LittleEndian.PutUint32(off[:], uint32(ent.HeaderOffset+l.change[i]))
		c.write(off[:])
		c.copyRange(pos+centralHeaderLen, pos+int64(ent.CentralSize))
	}
}

// writeEnd writes the end of central directory record of the unsigned
// package, with addCount, addSize and addOffset added to its entry counts,
// central directory size and offset, then the comment.
func (l *layout) writeEnd(c *copier, addCount uint16, addSize, addOffset uint32) {
	at := l.p.end.offset
	c.copyRange(at, at+8)
	var b [12]byte
	binary.LittleEndian.PutUint16(b[0:], l.count+addCount)
	binary.LittleEndian.PutUint16(b[2:], l.count+addCount)
	binary.LittleEndian.PutUint32(b[4:], l.cdSize+addSize)
	binary.LittleEndian.PutUint32(b[8:], l.cdOffset+addOffset)
	c.write(b[:])
	c.copyRange(at+20, l.p.size)
}

// copier streams byte ranges of a package and literal bytes to a writer
// through one large buffer, remembering the first error.
type copier struct {
	r   io.ReaderAt
	w   *bufio.Writer
	buf []byte
	err error
}

// newCopier returns a copier for a package of size bytes: its read buffer
// is copyBufferSize, or less for a smaller package.
func newCopier(r io.ReaderAt, w io.Writer, size int64) *copier {
	// Large reads bypass the bufio.Writer; it only gathers the small
	// header writes.
	n := max(min(size, copyBufferSize), 4<<10)
	return &copier{r: r, w: bufio.NewWriterSize(w, int(min(n, 64<<10))), buf: make([]byte, n)}
}

func (c *copier) copyRange(from, to int64) {
	for c.err == nil && from < to {
		n := int(min(int64(len(c.buf)), to-from))
		if err := readFull(c.r, c.buf[:n], from); err != nil {
			c.err = fmt.Errorf("nupkg: reading the package at offset %d: %w", from, err)
			return
		}
		_, c.err = c.w.Write(c.buf[:n])
		from += int64(n)
	}
}

func (c *copier) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

func (c *copier) flush() error {
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}
