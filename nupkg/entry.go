package nupkg

import (
	"compress/flate"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// ErrNotFound is returned, wrapped, by OpenEntry when no entry has the name.
var ErrNotFound = errors.New("nupkg: no such entry")

// OpenEntry opens the entry named name (its exact stored name) for reading
// its uncompressed data. Stored and Deflate entries are supported; encrypted
// ones are not. The entry's local header must carry the same name as its
// central directory header, and its data must end before the next entry's
// local header (or the central directory): overlapping entries are refused. The reader returns exactly the entry's declared uncompressed
// size: it fails if the data decompresses to more or fewer bytes, and at the
// end if the CRC-32 differs from the central directory's, so a caller that
// checks Entry.UncompressedSize first bounds what it will receive. A name
// that several entries share is an error: which one is meant is ambiguous.
func (p *Package) OpenEntry(name string) (io.ReadCloser, error) {
	i, ok := p.names[name]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	case i < 0:
		return nil, fmt.Errorf("nupkg: the package has several entries named %q", name)
	}
	return p.openIndex(i)
}

func (p *Package) openIndex(i int) (io.ReadCloser, error) {
	e := &p.entries[i]
	if e.Flags&flagEncrypted != 0 {
		return nil, fmt.Errorf("nupkg: entry %q is encrypted", e.Name)
	}
	lh, err := readLocalHeader(p.r, e.HeaderOffset, e.extentEnd)
	if err != nil {
		return nil, fmt.Errorf("nupkg: entry %q: %w", e.Name, err)
	}
	if string(lh.name) != e.Name {
		return nil, fmt.Errorf("nupkg: entry %q: its local header names it %q", e.Name, lh.name)
	}
	data := lh.dataOffset
	if e.CompressedSize > uint64(e.extentEnd-data) {
		return nil, fmt.Errorf("nupkg: entry %q: its %d bytes of data overlap the next entry or the central directory", e.Name, e.CompressedSize)
	}
	section := io.NewSectionReader(p.r, data, int64(e.CompressedSize))
	er := &entryReader{name: e.Name, remaining: e.UncompressedSize, want: e.CRC32, crc: crc32.NewIEEE()}
	switch e.Method {
	case methodStore:
		if e.CompressedSize != e.UncompressedSize {
			return nil, fmt.Errorf("nupkg: stored entry %q has compressed size %d and uncompressed size %d", e.Name, e.CompressedSize, e.UncompressedSize)
		}
		er.src = section
	case methodDeflate:
		fr := flate.NewReader(section)
		er.src, er.closer = fr, fr
	default:
		return nil, fmt.Errorf("nupkg: entry %q uses unsupported compression method %d", e.Name, e.Method)
	}
	return er, nil
}

// entryReader yields exactly the declared number of bytes of an entry and
// checks their CRC-32 at the end.
type entryReader struct {
	name      string
	src       io.Reader
	closer    io.Closer
	remaining uint64
	crc       hash.Hash32
	want      uint32
	err       error
}

func (r *entryReader) Read(b []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.remaining == 0 {
		r.err = r.finish()
		return 0, r.err
	}
	if uint64(len(b)) > r.remaining {
		b = b[:r.remaining]
	}
	n, err := r.src.Read(b)
	r.remaining -= uint64(n)
	r.crc.Write(b[:n])
	switch {
	case err == io.EOF && r.remaining > 0:
		r.err = fmt.Errorf("nupkg: entry %q: %w (%d bytes missing)", r.name, io.ErrUnexpectedEOF, r.remaining)
	case err != nil && err != io.EOF:
		r.err = fmt.Errorf("nupkg: entry %q: %w", r.name, err)
	}
	if r.err != nil {
		return n, r.err
	}
	return n, nil
}

// finish checks, once the declared size has been read, that the data ends
// there and that the CRC-32 matches.
func (r *entryReader) finish() error {
	var one [1]byte
	for empty := 0; ; empty++ {
		if empty == 100 {
			return fmt.Errorf("nupkg: entry %q: %w", r.name, io.ErrNoProgress)
		}
		n, err := r.src.Read(one[:])
		if n > 0 {
			return fmt.Errorf("nupkg: entry %q decompresses to more than its declared size", r.name)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("nupkg: entry %q: %w", r.name, err)
		}
	}
	if got := r.crc.Sum32(); got != r.want {
		return fmt.Errorf("nupkg: entry %q: CRC-32 %08x, want %08x", r.name, got, r.want)
	}
	return io.EOF
}

// Close releases the decompressor.
func (r *entryReader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}
