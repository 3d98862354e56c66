package blob

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidKey is returned (wrapped) for a key that [ValidateKey] refuses.
var ErrInvalidKey = errors.New("blob: invalid key")

const (
	// MaxKeyLen bounds a key in bytes. S3 allows 1024; NuGet's longest flat
	// container path is {id}/{version}/{id}.{version}.nupkg with ids of at most
	// 100 characters and versions well under 100, so 512 leaves room for
	// prefixes without coming near S3's limit.
	MaxKeyLen = 512
	// maxSegmentLen bounds one slash-separated segment: 255 bytes is NAME_MAX
	// on the common file systems (ext4, xfs, apfs, ntfs), so a longer segment
	// could not be a file name for Dir.
	maxSegmentLen = 255
)

// ValidateKey reports whether key can name an object in every implementation.
// A key is one or more segments separated by '/'; a segment is 1 to 255
// bytes of ASCII letters, digits and the characters - _ . + ~ = @, and does
// not start with '.' (which rules out "." and "..", and reserves hidden names
// for implementations' temporary files). So a key is never absolute, never
// climbs out of its store, and means the same file on Windows, macOS and
// Linux as in an S3 bucket.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := validateSegment(seg); err != nil {
			return fmt.Errorf("%w %q: %v", ErrInvalidKey, key, err)
		}
	}
	return nil
}

func validateSegment(seg string) error {
	switch {
	case seg == "":
		return errors.New("empty segment")
	case len(seg) > maxSegmentLen:
		return fmt.Errorf("segment of %d bytes, more than %d", len(seg), maxSegmentLen)
	case seg[0] == '.':
		return errors.New("segment starts with '.'")
	}
	for i := 0; i < len(seg); i++ {
		if !keyByte(seg[i]) {
			return fmt.Errorf("byte %#02x not allowed", seg[i])
		}
	}
	return nil
}

func keyByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-_.+~=@", c) >= 0
}

// validatePrefix accepts "" (everything) or a prefix that is a valid key,
// optionally followed by '/'. A prefix selects keys by bytes, not by
// segments: "a/b" matches "a/b/c" and "a/bc".
func validatePrefix(prefix string) error {
	p := strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return nil
	}
	if err := ValidateKey(p); err != nil {
		return fmt.Errorf("blob: invalid prefix %q: %w", prefix, err)
	}
	return nil
}
