package nuget

import (
	"fmt"
	"strings"
	"unicode"
)

// Version ranges follow NuGet.Versioning's VersionRange and FloatRange,
// read for their behaviour (VersionRange.TryParse, FloatRange.TryParse,
// VersionRange.IsBetter, the "N" and "P" formats), not copied.

// maxRangeLength bounds the text ParseRange accepts. Real ranges are under
// 60 characters ("[1.0.0-preview.1.23456.7, 2.0.0)"); the bound only stops
// pathological input from being scanned.
const maxRangeLength = 1024

// FloatBehavior says which part of a floating range floats. The zero value
// FloatNone is a fixed range.
type FloatBehavior int

// The float behaviours NuGet knows, named after NuGetVersionFloatBehavior.
const (
	FloatNone               FloatBehavior = iota // "1.0": not floating
	FloatPrerelease                              // "1.0.0-*", "1.0.0-beta.*": the prerelease label floats
	FloatRevision                                // "1.0.0.*"
	FloatPatch                                   // "1.0.*"
	FloatMinor                                   // "1.*"
	FloatMajor                                   // "*"
	FloatAbsoluteLatest                          // "*-*": anything, prerelease included
	FloatPrereleaseRevision                      // "1.0.0.*-*"
	FloatPrereleasePatch                         // "1.0.*-*"
	FloatPrereleaseMinor                         // "1.*-*"
	FloatPrereleaseMajor                         // "*-beta*"
)

// includesPrerelease reports whether the float lets prerelease versions in
// (NuGet's FloatRange.IncludePrerelease).
func (b FloatBehavior) includesPrerelease() bool {
	switch b {
	case FloatAbsoluteLatest, FloatPrerelease, FloatPrereleaseMajor, FloatPrereleaseMinor,
		FloatPrereleasePatch, FloatPrereleaseRevision:
		return true
	}
	return false
}

// floatRange is the floating part of a range: what floats, the lowest
// version the float starts from and the prerelease prefix the label must
// start with ("beta." for "1.0.0-beta.*").
type floatRange struct {
	behavior FloatBehavior
	min      Version
	prefix   string
}

// Range is a NuGet version range: optional lower and upper bounds, each
// inclusive or exclusive, and an optional floating part that makes the lower
// bound float ("1.*").
//
// The zero Range has no bounds: it accepts every version, and its
// normalised form is "(, )". Ranges hold Versions, so compare them through
// their methods, never with ==.
type Range struct {
	min, max         Version
	hasMin, hasMax   bool
	minIncl, maxIncl bool
	float            floatRange
}

// AtLeast returns the range [v, ), what NuGet reads from a bare "1.0".
func AtLeast(v Version) Range {
	return Range{min: v, hasMin: true, minIncl: true}
}

// Exactly returns the range [v, v], what NuGet reads from "[1.0]".
func Exactly(v Version) Range {
	return Range{min: v, max: v, hasMin: true, hasMax: true, minIncl: true, maxIncl: true}
}

// ParseRange parses a NuGet version range as PackageReference, nuspec
// dependencies and the CLI accept it (VersionRange.TryParse with floating
// allowed). Surrounding white space is ignored, and so is white space around
// the versions inside brackets:
//
//	1.0          [1.0.0, )     at least 1.0
//	[1.0]        [1.0.0, 1.0.0] exactly 1.0
//	[1.0,2.0)    [1.0.0, 2.0.0) 1.0 or more, below 2.0
//	(,2.0]       (, 2.0.0]     at most 2.0
//	(1.0,)       (1.0.0, )     more than 1.0
//	1.*  1.0.*  *  1.0.0-*  1.0.0-beta.*  *-*  1.*-*  [1.*, 2.0)   floating
//
// It fails, as NuGet does, on an empty string, "(1.0)", "[1.0)", "(,)",
// "[,]", a lower bound above the upper bound, equal bounds with only one
// side inclusive, more than one comma, a floating upper bound and anything
// that is not a version. Equal bounds both exclusive, "(1.0, 1.0)", parse
// and match nothing, as in NuGet.
//
// Two NuGet quirks are kept so that a project restores the same here as
// with NuGet: the star replaces a digit rather than a version part, so
// "1.2*" floats the minor version from 1.20.0; and a bracket part made only
// of white space counts as absent, so "(, )" is the range of all versions.
func ParseRange(s string) (Range, error) {
	r, ok := parseRange(s)
	if !ok {
		return Range{}, fmt.Errorf("nuget: invalid version range %q", s)
	}
	return r, nil
}

func parseRange(s string) (Range, bool) {
	if len(s) > maxRangeLength {
		return Range{}, false
	}
	t := strings.TrimFunc(s, unicode.IsSpace)
	if t == "" {
		return Range{}, false
	}
	if t == "*" {
		fr, _ := parseFloat(t)
		return Range{min: fr.min, hasMin: true, minIncl: true, float: fr}, true
	}
	var r Range
	var minText, maxText string
	if t[0] == '[' || t[0] == '(' {
		r.minIncl = t[0] == '['
		switch t[len(t)-1] {
		case ']':
			r.maxIncl = true
		case ')':
		default:
			return Range{}, false
		}
		if len(t) < 2 {
			return Range{}, false
		}
		parts := strings.Split(t[1:len(t)-1], ",")
		if len(parts) > 2 {
			return Range{}, false
		}
		// NuGet tests for empty parts before trimming: "(,)" fails
		// while "(, )" is the range of all versions.
		allEmpty := true
		for _, p := range parts {
			if p != "" {
				allEmpty = false
			}
		}
		if allEmpty {
			return Range{}, false
		}
		if len(parts) == 1 && !(r.minIncl && r.maxIncl) {
			return Range{}, false // "(1.0)", "[1.0)", "(1.0]"
		}
		minText, maxText = parts[0], parts[len(parts)-1]
	} else {
		r.minIncl = true
		minText = t
	}
	if strings.TrimFunc(minText, unicode.IsSpace) != "" {
		if strings.Contains(minText, "*") {
			fr, ok := parseFloat(minText)
			if !ok {
				return Range{}, false
			}
			r.min, r.hasMin, r.float = fr.min, true, fr
		} else {
			v, ok := parseVersion(strings.TrimFunc(minText, unicode.IsSpace))
			if !ok {
				return Range{}, false
			}
			r.min, r.hasMin = v, true
		}
	}
	if strings.TrimFunc(maxText, unicode.IsSpace) != "" {
		v, ok := parseVersion(strings.TrimFunc(maxText, unicode.IsSpace))
		if !ok {
			return Range{}, false // this includes a floating upper bound
		}
		r.max, r.hasMax = v, true
	}
	if r.hasMin && r.hasMax {
		switch c := Compare(r.min, r.max); {
		case c > 0:
			return Range{}, false
		case c == 0 && r.minIncl != r.maxIncl:
			return Range{}, false
		}
	}
	if !r.hasMin {
		r.minIncl = false
	}
	if !r.hasMax {
		r.maxIncl = false
	}
	return r, true
}

// parseFloat parses the floating lower bound of a range (FloatRange.TryParse
// restricted to strings holding a star). The star may end the string, or
// stand just before the first dash with a second star ending the string
// ("1.*-rc.*"); nothing may follow a "+".
func parseFloat(s string) (floatRange, bool) {
	if strings.TrimFunc(s, unicode.IsSpace) == "" {
		return floatRange{}, false
	}
	if s == "*" {
		return floatRange{behavior: FloatMajor}, true
	}
	if s == "*-*" {
		return floatRange{behavior: FloatAbsoluteLatest, min: Version{Release: []string{"0"}}}, true
	}
	first, last := strings.IndexByte(s, '*'), strings.LastIndexByte(s, '*')
	hasPlus := strings.IndexByte(s, '+') >= 0
	dash := strings.IndexByte(s, '-')
	switch {
	case first != last && last >= 0 && !hasPlus:
		// Two stars: a floating stable part, then a floating label.
		if dash < 0 || last != len(s)-1 || first != dash-1 {
			return floatRange{}, false
		}
		stable := s[:dash-1] + "0"
		var b FloatBehavior
		switch strings.Count(stable, ".") + 1 {
		case 1:
			b = FloatPrereleaseMajor
		case 2:
			b = FloatPrereleaseMinor
		case 3:
			b = FloatPrereleasePatch
		case 4:
			b = FloatPrereleaseRevision
		default:
			return floatRange{}, false
		}
		prefix := s[dash+1 : len(s)-1]
		label := prefix
		if label == "" || strings.HasSuffix(label, ".") {
			label += "0" // "1.*-*": an empty label is not a version
		}
		v, ok := parseVersion(strings.TrimFunc(stable+"-"+label, unicode.IsSpace))
		if !ok {
			return floatRange{}, false
		}
		return floatRange{behavior: b, min: v, prefix: prefix}, true
	case last == len(s)-1 && !hasPlus:
		// One star, at the end.
		text := s[:len(s)-1]
		if dash < 0 {
			text += "0"
			var b FloatBehavior
			switch strings.Count(text, ".") + 1 {
			case 2:
				b = FloatMinor
			case 3:
				b = FloatPatch
			case 4:
				b = FloatRevision
			}
			v, ok := parseVersion(strings.TrimFunc(text, unicode.IsSpace))
			if !ok {
				return floatRange{}, false
			}
			return floatRange{behavior: b, min: v}, true
		}
		var prefix string
		if dash == strings.LastIndexByte(s, '-') {
			prefix = text[dash+1:]
			if prefix == "" || strings.HasSuffix(text, ".") {
				text += "0" // "1.0.0-*" starts at 1.0.0-0, the lowest label
			}
		}
		v, ok := parseVersion(strings.TrimFunc(text, unicode.IsSpace))
		if !ok {
			return floatRange{}, false
		}
		if dash != strings.LastIndexByte(s, '-') {
			prefix = strings.Join(v.Release, ".") // "1.0.0-a-b*": the labels themselves
		}
		return floatRange{behavior: FloatPrerelease, min: v, prefix: prefix}, true
	}
	return floatRange{}, false
}

// satisfies reports whether v is inside the floating part (FloatRange.Satisfies):
// the fixed parts equal, stable versions only unless the float includes
// prerelease, and then a label that starts with the prefix, ignoring case.
func (f floatRange) satisfies(v Version) bool {
	labelOK := func() bool {
		return !v.IsPrerelease() || hasPrefixFold(strings.Join(v.Release, "."), f.prefix)
	}
	switch f.behavior {
	case FloatAbsoluteLatest:
		return true
	case FloatMajor:
		return !v.IsPrerelease()
	case FloatMinor:
		return v.Major == f.min.Major && !v.IsPrerelease()
	case FloatPatch:
		return v.Major == f.min.Major && v.Minor == f.min.Minor && !v.IsPrerelease()
	case FloatRevision:
		return v.Major == f.min.Major && v.Minor == f.min.Minor && v.Patch == f.min.Patch && !v.IsPrerelease()
	case FloatPrereleaseMajor:
		return labelOK()
	case FloatPrereleaseMinor:
		return v.Major == f.min.Major && labelOK()
	case FloatPrereleasePatch:
		return v.Major == f.min.Major && v.Minor == f.min.Minor && labelOK()
	case FloatPrereleaseRevision:
		return v.Major == f.min.Major && v.Minor == f.min.Minor && v.Patch == f.min.Patch && labelOK()
	case FloatPrerelease:
		return v.Major == f.min.Major && v.Minor == f.min.Minor && v.Patch == f.min.Patch &&
			v.Revision == f.min.Revision && labelOK()
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && asciiUpper(s[:len(prefix)]) == asciiUpper(prefix)
}

// String writes the float as NuGet normalises it: "1.*", "1.0.0-beta*", "*-*".
func (f floatRange) String() string {
	m := f.min
	switch f.behavior {
	case FloatPrerelease:
		return numericString(m) + "-" + f.prefix + "*"
	case FloatRevision:
		return fmt.Sprintf("%d.%d.%d.*", m.Major, m.Minor, m.Patch)
	case FloatPatch:
		return fmt.Sprintf("%d.%d.*", m.Major, m.Minor)
	case FloatMinor:
		return fmt.Sprintf("%d.*", m.Major)
	case FloatMajor:
		return "*"
	case FloatPrereleaseRevision:
		return fmt.Sprintf("%d.%d.%d.*-%s*", m.Major, m.Minor, m.Patch, f.prefix)
	case FloatPrereleasePatch:
		return fmt.Sprintf("%d.%d.*-%s*", m.Major, m.Minor, f.prefix)
	case FloatPrereleaseMinor:
		return fmt.Sprintf("%d.*-%s*", m.Major, f.prefix)
	case FloatPrereleaseMajor:
		return "*-" + f.prefix + "*"
	case FloatAbsoluteLatest:
		return "*-*"
	}
	return m.String()
}

// numericString is the normalised version without its prerelease labels.
func numericString(v Version) string {
	v.Release = nil
	return v.String()
}

// Min returns the lower bound and whether there is one. For a floating
// range it is the version the float starts from (1.0.0 for "1.0.*",
// 1.0.0-0 for "1.0.0-*").
func (r Range) Min() (Version, bool) { return r.min, r.hasMin }

// Max returns the upper bound and whether there is one.
func (r Range) Max() (Version, bool) { return r.max, r.hasMax }

// MinInclusive reports whether the lower bound exists and is inclusive.
func (r Range) MinInclusive() bool { return r.hasMin && r.minIncl }

// MaxInclusive reports whether the upper bound exists and is inclusive.
func (r Range) MaxInclusive() bool { return r.hasMax && r.maxIncl }

// Float returns what floats in the range; FloatNone for a fixed range.
func (r Range) Float() FloatBehavior { return r.float.behavior }

// IsFloating reports whether the range floats ("1.*", "1.0.0-*", "*").
func (r Range) IsFloating() bool { return r.float.behavior != FloatNone }

// IsExact reports whether the range is one version, [v, v] with both ends
// inclusive, and returns it.
func (r Range) IsExact() (Version, bool) {
	if r.MinInclusive() && r.MaxInclusive() && !r.IsFloating() && Compare(r.min, r.max) == 0 {
		return r.min, true
	}
	return Version{}, false
}

// Satisfies reports whether v lies within the bounds of r. Like NuGet's
// VersionRange.Satisfies it looks at the bounds only: "1.*" is [1.0.0, ),
// so it is satisfied by 2.0.0 and by 1.5.0-beta. The float and prerelease
// rules apply when choosing a version, in FindBest.
func (r Range) Satisfies(v Version) bool {
	if r.hasMin {
		c := Compare(r.min, v)
		if c > 0 || (c == 0 && !r.minIncl) {
			return false
		}
	}
	if r.hasMax {
		c := Compare(r.max, v)
		if c < 0 || (c == 0 && !r.maxIncl) {
			return false
		}
	}
	return true
}

// hasPrereleaseBound reports whether either bound is a prerelease version,
// which lets prerelease versions be chosen.
func (r Range) hasPrereleaseBound() bool {
	return (r.hasMin && r.min.IsPrerelease()) || (r.hasMax && r.max.IsPrerelease())
}

// FindBest returns the version NuGet would pick from versions for this
// range (VersionRange.FindBestMatch), and false when none fits:
//
//   - only versions within the bounds are candidates;
//   - a prerelease version is a candidate only if a bound is a prerelease
//     version or the range floats over prerelease labels ("1.0.0-*", "*-*",
//     "1.*-*");
//   - a fixed range takes the lowest candidate ("lowest applicable version");
//   - a floating range takes the highest candidate inside the float ("1.*"
//     takes the highest 1.x); when no candidate is inside the float, the
//     lowest one above the float, else the highest one below it.
//
// The order of versions does not matter; duplicates are harmless.
func (r Range) FindBest(versions []Version) (Version, bool) {
	var best Version
	found := false
	for _, v := range versions {
		if r.isBetter(best, found, v) {
			best, found = v, true
		}
	}
	return best, found
}

// isBetter reports whether considering beats current (absent when
// !haveCurrent), following VersionRange.IsBetter.
func (r Range) isBetter(current Version, haveCurrent bool, considering Version) bool {
	if considering.IsPrerelease() && !r.hasPrereleaseBound() && !r.float.behavior.includesPrerelease() {
		return false
	}
	if !r.Satisfies(considering) {
		return false
	}
	if !haveCurrent {
		return true
	}
	if r.IsFloating() {
		curIn, conIn := r.float.satisfies(current), r.float.satisfies(considering)
		switch {
		case curIn && !conIn:
			return false
		case conIn && !curIn:
			return true
		case curIn && conIn:
			return Compare(current, considering) < 0 // the highest in the float
		}
		curBelow := Compare(current, r.float.min) < 0
		conBelow := Compare(considering, r.float.min) < 0
		switch {
		case curBelow && !conBelow:
			return true // prefer a version above the float
		case !curBelow && conBelow:
			return false
		case !curBelow && !conBelow:
			return Compare(current, considering) > 0 // above: the lowest
		default:
			return Compare(current, considering) < 0 // below: the highest
		}
	}
	return Compare(current, considering) > 0 // the lowest
}

// String returns NuGet's normalised form of the range (VersionRange's "N"
// format): "[1.0.0, )", "[1.0.0, 2.0.0)", "(, 2.0.0]", "[1.0.0, 1.0.0]",
// "[1.*, )", "(, )". It parses back to the same range.
func (r Range) String() string {
	var b strings.Builder
	if r.MinInclusive() {
		b.WriteByte('[')
	} else {
		b.WriteByte('(')
	}
	if r.hasMin {
		if r.IsFloating() {
			b.WriteString(r.float.String())
		} else {
			b.WriteString(r.min.String())
		}
	}
	b.WriteString(", ")
	if r.hasMax {
		b.WriteString(r.max.String())
	}
	if r.MaxInclusive() {
		b.WriteByte(']')
	} else {
		b.WriteByte(')')
	}
	return b.String()
}

// Pretty returns the range the way NuGet prints it in restore messages
// (PrettyPrint of the range without its float): "(>= 1.0.0)",
// "(>= 1.0.0 && < 2.0.0)", "(= 1.0.0)", "(> 1.0.0)", "(<= 2.0.0)"; "" for
// the range of all versions. A floating range prints its starting point,
// so "1.0.0-*" prints "(>= 1.0.0)".
func (r Range) Pretty() string {
	min := r.min
	if r.float.behavior == FloatPrerelease {
		min = withoutSnapshotLabel(min)
	}
	if !r.hasMin && !r.hasMax {
		return ""
	}
	if r.hasMin && r.hasMax && r.minIncl && r.maxIncl && Compare(min, r.max) == 0 {
		return "(= " + min.String() + ")"
	}
	var b strings.Builder
	b.WriteByte('(')
	if r.hasMin {
		if r.minIncl {
			b.WriteString(">= ")
		} else {
			b.WriteString("> ")
		}
		b.WriteString(min.String())
	}
	if r.hasMin && r.hasMax {
		b.WriteString(" && ")
	}
	if r.hasMax {
		if r.maxIncl {
			b.WriteString("<= ")
		} else {
			b.WriteString("< ")
		}
		b.WriteString(r.max.String())
	}
	b.WriteByte(')')
	return b.String()
}

// withoutSnapshotLabel undoes what parsing a prerelease float added to its
// starting version: a final "0" label ("1.0.0-*" starts at 1.0.0-0) or a
// trailing dash, as NuGet's ToNonSnapshotRange does.
func withoutSnapshotLabel(v Version) Version {
	n := len(v.Release)
	if n == 0 {
		return v
	}
	last := v.Release[n-1]
	var fixed string
	switch {
	case last == "0":
	case strings.HasSuffix(last, "--"):
		fixed = last[:len(last)-2]
	case strings.HasSuffix(last, "-"):
		fixed = last[:len(last)-1]
	default:
		return v
	}
	labels := append([]string(nil), v.Release[:n-1]...)
	if fixed != "" {
		labels = append(labels, fixed)
	}
	if len(labels) == 0 {
		labels = nil
	}
	v.Release = labels
	return v
}
