package gpf

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// Bounds on entry names.
const (
	// maxRelPathLength bounds an extracted file's path inside the version
	// folder, in bytes. Real package paths are under 300 bytes, and NuGet
	// on Windows cannot extract past 260 characters without long paths.
	maxRelPathLength = 1024
	// maxSegmentLength is the longest file name most file systems allow.
	maxSegmentLength = 255
)

// errUnsafeName is wrapped by every refusal of entryPath.
var errUnsafeName = errors.New("unsafe entry name")

// entryPath turns a zip entry name into the relative, slash-separated path
// it is extracted to, or refuses it. The name is unescaped as NuGet does
// (OPC percent-escapes, %XX as UTF-8 bytes; a "%" that starts no escape is
// kept), "\" is read as a separator (as NuGet does on Windows), and then
// anything that could leave the folder or mean different files on
// different systems is refused: an absolute path, a drive letter or any
// ":" (also NTFS alternate streams), "." and ".." segments, empty segments,
// control characters, the characters Windows forbids (<>"|?*), a segment
// ending in "." or " " (Windows drops those), device names (CON, NUL,
// COM1, …, with or without an extension), invalid UTF-8 and overlong
// names. A name ending in "/" is a directory and returns dir true.
func entryPath(name string) (rel string, dir bool, err error) {
	fail := func(why string) (string, bool, error) {
		return "", false, fmt.Errorf("%w %q: %s", errUnsafeName, name, why)
	}
	if len(name) > 3*maxRelPathLength {
		return fail("too long")
	}
	s := unescape(name)
	if !utf8.ValidString(s) {
		return fail("not UTF-8")
	}
	s = strings.ReplaceAll(s, `\`, "/")
	if strings.HasSuffix(s, "/") {
		dir = true
		s = strings.TrimSuffix(s, "/")
	}
	switch {
	case s == "":
		return fail("empty")
	case len(s) > maxRelPathLength:
		return fail("too long")
	case strings.HasPrefix(s, "/"):
		return fail("absolute path")
	case strings.Contains(s, ":"):
		return fail(`holds ":" (a drive letter or an alternate data stream)`)
	}
	for seg := range strings.SplitSeq(s, "/") {
		if why := badSegment(seg); why != "" {
			return fail(why)
		}
	}
	if path.Clean(s) != s {
		return fail("not a clean path")
	}
	return s, dir, nil
}

// badSegment says what is wrong with one path segment, or "".
func badSegment(seg string) string {
	switch {
	case seg == "":
		return "empty path segment"
	case seg == "." || seg == "..":
		return "a . or .. segment"
	case len(seg) > maxSegmentLength:
		return "a segment longer than 255 bytes"
	case strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " "):
		return "a segment ending in a dot or a space"
	case isDeviceName(seg):
		return "a Windows device name"
	}
	for _, r := range seg {
		if r < 0x20 || r == 0x7f {
			return "a control character"
		}
		if strings.ContainsRune(`<>"|?*`, r) {
			return fmt.Sprintf("the character %q", r)
		}
	}
	return ""
}

// isDeviceName reports whether a segment names a Windows device, which
// Windows opens instead of a file whatever the extension.
func isDeviceName(seg string) bool {
	base, _, _ := strings.Cut(seg, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) >= 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		switch base[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// unescape decodes %XX sequences to bytes, as .NET's Uri.UnescapeDataString
// does for NuGet; a "%" not followed by two hex digits stays.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// extracted reports whether NuGet extracts the file at rel (a path from
// entryPath) into the version folder: not the OPC parts (any ".rels" and
// "[Content_Types].xml", *.psmdcp), not a .nuspec or .nupkg at the root
// (the manifest is written under its lower-case name), and not a file named
// like the folder's own hash or metadata file. The signature file
// .signature.p7s is extracted, as NuGet does.
func extracted(rel, hashFile string) bool {
	base := path.Base(rel)
	switch {
	case base == ".rels", base == "[Content_Types].xml", path.Ext(rel) == ".psmdcp":
		return false
	case strings.EqualFold(rel, hashFile), strings.EqualFold(rel, MetadataFile):
		return false
	case !strings.Contains(rel, "/") && (hasSuffixFold(rel, ".nuspec") || hasSuffixFold(rel, ".nupkg")):
		return false
	}
	return true
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
