package nuget

import (
	"unicode"
	"unicode/utf8"
)

// MaxIDLength is the longest package id NuGet accepts, in characters
// (PackageIdValidator.MaxPackageIdLength).
const MaxIDLength = 100

// ValidID reports whether id is a valid NuGet package id: at most
// MaxIDLength characters matching NuGet's rule ^\w+([.-]\w+)*$, where a word
// character is, as in .NET regular expressions, a Unicode letter, a
// non-spacing mark, a decimal digit or a connector punctuation such as "_".
// So "Newtonsoft.Json" and "my-pkg_2" are valid; ".x", "a..b", "a b", "a-"
// and "" are not.
//
// Two places where .NET's regular expression engine is laxer are closed on
// purpose: .NET's "$" also matches before a final "\n", and .NET sees a
// character outside the Basic Multilingual Plane as two surrogates (never
// word characters). ValidID refuses a trailing newline, invalid UTF-8 and
// non-BMP characters.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLength*utf8.UTFMax {
		return false
	}
	n := 0
	prevSep := true // a separator may not start the id
	for _, r := range id {
		n++
		switch {
		case r == '.' || r == '-':
			if prevSep {
				return false
			}
			prevSep = true
		case isWordRune(r):
			prevSep = false
		default:
			return false
		}
	}
	return !prevSep && n <= MaxIDLength
}

// isWordRune reports whether r is a .NET regular-expression word character
// ([\p{L}\p{Mn}\p{Nd}\p{Pc}]) within the Basic Multilingual Plane.
func isWordRune(r rune) bool {
	if r == utf8.RuneError || r > 0xFFFF {
		return false
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r)
}
