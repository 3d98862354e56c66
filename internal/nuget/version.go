// Package nuget holds NuGet's identity rules: package ids and package
// versions as the NuGet client parses, normalises and orders them.
//
// The rules follow NuGet.Versioning (NuGetVersion.TryParse,
// VersionComparer.Default) and NuGet.Packaging (PackageIdValidator), read for
// their behaviour, not copied: the package is a clean reimplementation whose
// tests pin the known cases.
package nuget

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// maxVersionPart is the largest value of a numeric version part: NuGet
// stores each part in a .NET Int32 and refuses larger ones.
const maxVersionPart = 1<<31 - 1

// Version is a NuGet package version: one to four numeric parts, optional
// dot-separated prerelease labels and optional build metadata.
//
// The zero Version is 0.0.0. Versions hold a slice, so compare them with
// Compare or Equal, never with ==.
type Version struct {
	Major, Minor, Patch, Revision int
	// Release holds the prerelease labels ("beta", "1" for "-beta.1"); nil
	// for a release version.
	Release []string
	// Metadata is the build metadata after "+", without the "+".
	Metadata string
}

// ParseVersion parses s as NuGet does (NuGetVersion.TryParse): surrounding
// white space is ignored, there are one to four numeric parts each at most
// 2³¹-1 (leading zeros and white space around a number are tolerated, so
// "01.2" is 1.2.0), the prerelease labels after "-" and the metadata after
// "+" are dot-separated, non-empty and made of ASCII letters, digits and
// "-", and a numeric prerelease label has no leading zero.
func ParseVersion(s string) (Version, error) {
	v, ok := parseVersion(strings.TrimFunc(s, unicode.IsSpace))
	if !ok {
		return Version{}, fmt.Errorf("nuget: invalid version %q", s)
	}
	return v, nil
}

func parseVersion(s string) (Version, bool) {
	num, labels, meta, hasLabels, hasMeta := splitVersion(s)
	if num == "" {
		return Version{}, false
	}
	var v Version
	parts, ok := parseNumbers(num)
	if !ok {
		return Version{}, false
	}
	v.Major, v.Minor, v.Patch, v.Revision = parts[0], parts[1], parts[2], parts[3]
	if hasLabels {
		v.Release = strings.Split(labels, ".")
		for _, l := range v.Release {
			if !validLabel(l, false) {
				return Version{}, false
			}
		}
	}
	if hasMeta {
		for _, l := range strings.Split(meta, ".") {
			if !validLabel(l, true) {
				return Version{}, false
			}
		}
		v.Metadata = meta
	}
	return v, true
}

// splitVersion cuts s into its numeric part, its prerelease labels (after
// the first "-") and its metadata (after the first "+" that follows). A "-"
// or "+" that ends the string stays in the preceding section, which then
// fails validation, as in NuGet.
func splitVersion(s string) (num, labels, meta string, hasLabels, hasMeta bool) {
	i := strings.IndexAny(s, "-+")
	if i < 0 || i == len(s)-1 {
		return s, "", "", false, false
	}
	num, rest := s[:i], s[i+1:]
	if s[i] == '+' {
		return num, "", rest, false, true
	}
	j := strings.IndexByte(rest, '+')
	if j < 0 || j == len(rest)-1 {
		return num, rest, "", true, false
	}
	return num, rest[:j], rest[j+1:], true, true
}

// parseNumbers parses "1", "1.2", "1.2.3" or "1.2.3.4", allowing white space
// around each number as System.Version-style parsing in NuGet does.
func parseNumbers(s string) ([4]int, bool) {
	var out [4]int
	fields := strings.Split(s, ".")
	if len(fields) > 4 {
		return out, false
	}
	for i, f := range fields {
		f = strings.TrimFunc(f, unicode.IsSpace)
		if f == "" {
			return out, false
		}
		n := 0
		for _, c := range []byte(f) {
			if c < '0' || c > '9' {
				return out, false
			}
			n = n*10 + int(c-'0')
			if n > maxVersionPart {
				return out, false
			}
		}
		out[i] = n
	}
	return out, true
}

// validLabel reports whether l is a valid prerelease label or metadata
// part: non-empty, [0-9A-Za-z-] only and, for prerelease labels, no leading
// zero on an all-digit label ("0" is fine, "01" is not, "0a" is fine).
func validLabel(l string, allowLeadingZeros bool) bool {
	if l == "" {
		return false
	}
	allDigits := true
	for _, c := range []byte(l) {
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
			allDigits = false
		default:
			return false
		}
	}
	return allowLeadingZeros || !allDigits || len(l) == 1 || l[0] != '0'
}

// String returns NuGet's normalised form: at least three numeric parts, the
// fourth only when it is not zero, no leading zeros, the prerelease labels
// and no metadata ("1.01" gives "1.1.0", "1.0.0.0-Beta+x" gives
// "1.0.0-Beta"). Label case is kept.
func (v Version) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(v.Major))
	b.WriteByte('.')
	b.WriteString(strconv.Itoa(v.Minor))
	b.WriteByte('.')
	b.WriteString(strconv.Itoa(v.Patch))
	if v.Revision != 0 {
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(v.Revision))
	}
	if len(v.Release) > 0 {
		b.WriteByte('-')
		b.WriteString(strings.Join(v.Release, "."))
	}
	return b.String()
}

// Full returns the normalised form followed by "+metadata" when there is
// metadata.
func (v Version) Full() string {
	if v.Metadata == "" {
		return v.String()
	}
	return v.String() + "+" + v.Metadata
}

// IsPrerelease reports whether v has prerelease labels.
func (v Version) IsPrerelease() bool { return len(v.Release) > 0 }

// IsSemVer2 reports whether v needs SemVer 2.0.0 to be understood: it has
// more than one prerelease label or it has build metadata. Feeds hide such
// versions from clients that did not ask for SemVer 2.
func (v Version) IsSemVer2() bool { return len(v.Release) > 1 || v.Metadata != "" }

// Equal reports whether v and w are the same version for NuGet: Compare
// gives 0 (so metadata and label case are ignored).
func (v Version) Equal(w Version) bool { return Compare(v, w) == 0 }

// Compare orders versions as NuGet's default comparer does, returning -1, 0
// or +1: numerically by major, minor, patch and revision; then a release
// sorts after any prerelease of the same numbers; prerelease labels compare
// one by one, two numeric labels (those that parse as a 32-bit integer)
// numerically, a numeric label before an alphanumeric one, and two
// alphanumeric labels by ordinal comparison ignoring ASCII case; when all
// shared labels are equal the version with fewer labels sorts first.
// Metadata is ignored.
func Compare(a, b Version) int {
	for _, d := range [...][2]int{{a.Major, b.Major}, {a.Minor, b.Minor}, {a.Patch, b.Patch}, {a.Revision, b.Revision}} {
		if c := cmpInt(d[0], d[1]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.Release) == 0 && len(b.Release) == 0:
		return 0
	case len(a.Release) == 0:
		return 1
	case len(b.Release) == 0:
		return -1
	}
	for i := 0; i < len(a.Release) && i < len(b.Release); i++ {
		if c := compareLabel(a.Release[i], b.Release[i]); c != 0 {
			return c
		}
	}
	return cmpInt(len(a.Release), len(b.Release))
}

func compareLabel(x, y string) int {
	xn, xerr := strconv.ParseInt(x, 10, 32)
	yn, yerr := strconv.ParseInt(y, 10, 32)
	switch {
	case xerr == nil && yerr == nil:
		return cmpInt(int(xn), int(yn))
	case xerr == nil:
		return -1
	case yerr == nil:
		return 1
	}
	return strings.Compare(asciiUpper(x), asciiUpper(y))
}

// asciiUpper upper-cases ASCII letters, which is what .NET's ordinal
// ignore-case comparison does for the ASCII-only labels NuGet allows.
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
