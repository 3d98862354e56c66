package nupkg

import (
	"bytes"
	"fmt"
	"hash/crc32"
)

// Signature returns the bytes of the package signature entry (the DER
// encoding of a CMS ContentInfo; this package does not parse it).
//
// It applies NuGet's checks on the signature entry (spec 1.3) and a few
// stricter ones that NuGet-written signatures always pass. Every failure is
// an *Error with Code NU3005, whose message names the cause:
//   - no entry, or more than one, is named .signature.p7s (NuGet would
//     ignore a second one that sets the UTF-8 name flag; here both count);
//   - the central directory header has a non-zero general purpose bit flag
//     (the UTF-8 name flag included: NuGet does not recognise such an entry),
//     a compression method other than stored, a compressed size that differs
//     from the uncompressed size, or non-zero external attributes;
//   - there is no local file header at its offset, or the local header has
//     another name, non-zero flags, a compression method other than stored,
//     sizes that differ from each other or from the central header's, or
//     another CRC-32;
//   - the data runs past the next entry or into the central directory, is
//     empty, is larger than MaxSignatureSize, or fails its CRC-32 (NuGet
//     checks neither bound nor CRC; a signature written by NuGet passes both).
func (p *Package) Signature() ([]byte, error) {
	i, err := p.signatureIndex()
	if err != nil {
		return nil, err
	}
	e := &p.entries[i]
	invalid := func(format string, args ...any) error {
		return codeError(CodeInvalidSignatureEntry, "the package signature file entry is invalid: "+fmt.Sprintf(format, args...))
	}
	// Central directory header (NuGet's AssertSignatureEntryMetadata).
	switch {
	case e.Flags&flagUTF8 != 0:
		return nil, invalid("its central directory header sets the UTF-8 name flag (general purpose bit 11)")
	case e.Flags != 0:
		return nil, invalid("its central directory header has general purpose bit flag %#04x, want 0", e.Flags)
	case e.Method != methodStore:
		return nil, invalid("it is compressed (method %d in its central directory header), want stored", e.Method)
	case e.CompressedSize != e.UncompressedSize:
		return nil, invalid("its central directory header has compressed size %d and uncompressed size %d", e.CompressedSize, e.UncompressedSize)
	case e.ExternalAttrs != 0:
		return nil, invalid("its central directory header has external file attributes %#x, want 0", e.ExternalAttrs)
	}
	limit := e.extentEnd
	lh, err := readLocalHeader(p.r, e.HeaderOffset, limit)
	if err != nil {
		return nil, &Error{Code: CodeInvalidSignatureEntry, Msg: "the package signature file entry has no valid local file header", Err: err}
	}
	switch {
	case !bytes.Equal(lh.name, []byte(SignatureName)):
		return nil, invalid("its local file header names it %q", lh.name)
	case lh.flags&flagUTF8 != 0:
		return nil, invalid("its local file header sets the UTF-8 name flag (general purpose bit 11)")
	case lh.flags != 0:
		return nil, invalid("its local file header has general purpose bit flag %#04x, want 0", lh.flags)
	case lh.method != methodStore:
		return nil, invalid("it is compressed (method %d in its local file header), want stored", lh.method)
	case lh.compressed != lh.uncompr:
		return nil, invalid("its local file header has compressed size %d and uncompressed size %d", lh.compressed, lh.uncompr)
	case uint64(lh.uncompr) != e.UncompressedSize:
		return nil, invalid("its local file header size %d differs from its central directory size %d", lh.uncompr, e.UncompressedSize)
	case lh.crc32 != e.CRC32:
		return nil, invalid("its local file header CRC-32 %08x differs from its central directory CRC-32 %08x", lh.crc32, e.CRC32)
	case lh.uncompr == 0:
		return nil, invalid("it is empty")
	case lh.uncompr > MaxSignatureSize:
		return nil, invalid("it is %d bytes, more than the %d-byte limit", lh.uncompr, MaxSignatureSize)
	case int64(lh.uncompr) > limit-lh.dataOffset:
		return nil, invalid("its %d bytes of data run past the next entry or into the central directory", lh.uncompr)
	}
	sig := make([]byte, lh.uncompr)
	if err := readFull(p.r, sig, lh.dataOffset); err != nil {
		return nil, &Error{Code: CodeInvalidSignatureEntry, Msg: "the package signature file entry cannot be read", Err: err}
	}
	if got := crc32.ChecksumIEEE(sig); got != e.CRC32 {
		return nil, invalid("its data has CRC-32 %08x, want %08x", got, e.CRC32)
	}
	return sig, nil
}

// signatureIndex returns the index of the one entry named .signature.p7s.
func (p *Package) signatureIndex() (int, error) {
	i, ok := p.names[SignatureName]
	switch {
	case !ok:
		return 0, codeError(CodeInvalidSignatureEntry, "the package does not contain a valid package signature file")
	case i < 0:
		n := 0
		for k := range p.entries {
			if p.entries[k].Name == SignatureName {
				n++
			}
		}
		return 0, codeError(CodeInvalidSignatureEntry, fmt.Sprintf("the package contains %d package signature files; it must contain one", n))
	}
	return i, nil
}
