package nuget

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxFrameworkLength bounds the text ParseFramework accepts; the longest
// real monikers (".NETFramework,Version=v4.7.2,Profile=Client",
// "net8.0-windows10.0.22621.0") are under 50 characters.
const maxFrameworkLength = 256

// ErrUnsupportedFramework is wrapped by ParseFramework's error for a
// framework NuGet knows but this package does not cover, and for an unknown
// framework name.
var ErrUnsupportedFramework = errors.New("nuget: framework not supported")

// Framework identifiers, as NuGet spells them.
const (
	FrameworkNET         = ".NETFramework"
	FrameworkNETCoreApp  = ".NETCoreApp"
	FrameworkNETStandard = ".NETStandard"
	FrameworkNative      = "native"
	FrameworkAgnostic    = "agnostic"
)

// FrameworkVersion is a framework or platform version: major, minor, build
// and revision, all zero meaning "no version" (every version).
type FrameworkVersion [4]int

func (v FrameworkVersion) compare(w FrameworkVersion) int {
	for i := range v {
		if c := cmpInt(v[i], w[i]); c != 0 {
			return c
		}
	}
	return 0
}

func (v FrameworkVersion) isZero() bool { return v == FrameworkVersion{} }

// Framework is a target framework. The zero Framework is "any", the
// framework of a dependency group without targetFramework, compatible with
// every project.
//
// Frameworks follow NuGet.Frameworks (NuGetFramework.Parse,
// DefaultFrameworkMappings, CompatibilityProvider, FrameworkReducer), read
// for their behaviour, not copied, and restricted to the frameworks a
// restore meets today:
//
//   - .NETFramework: net11 … net481 ("net472", ".NETFramework4.7.2",
//     ".NETFramework,Version=v4.7.2"), with the "client" and "full"
//     profiles, which NuGet treats as the full framework;
//   - .NETCoreApp: netcoreapp1.0 … netcoreapp3.1, and net5.0 and later
//     ("net8.0", "net10.0") with an optional platform ("net8.0-windows",
//     "net8.0-windows10.0.19041", "net8.0-android");
//   - .NETStandard: netstandard1.0 … netstandard2.1;
//   - native, and the special "any" and "agnostic" frameworks.
//
// Not covered, and refused by ParseFramework with ErrUnsupportedFramework:
// portable class library profiles ("portable-net45+win8"), Xamarin and
// Mono (monoandroid, xamarinios, …; so net6.0-android does not fall back to
// monoandroid groups), UAP and Windows Store (uap10.0, win8, netcore45,
// wpa81), Windows Phone, Silverlight, Tizen, .NET Micro Framework and
// nanoFramework, DNX and the "dotnet" generation monikers. A dependency
// group written for one of them is never chosen. AssetTargetFallback and
// PackageTargetFallback (a net8.0 project taking net472 groups) are project
// settings and are not applied. The SDK's default platform version (7.0 for
// "net8.0-windows") is not added: "net8.0-windows" has no platform version.
//
// ParseFramework returns canonical values (identifier spelled as above,
// profile "Client" or "Full", platform in lower case), so two parsed
// Frameworks can be compared with ==; Equal also accepts other spellings.
type Framework struct {
	// ID is the identifier: FrameworkNET, FrameworkNETCoreApp,
	// FrameworkNETStandard, FrameworkNative, FrameworkAgnostic, or "" for any.
	ID      string
	Version FrameworkVersion
	// Profile is a .NETFramework profile ("Client"); empty otherwise.
	Profile string
	// Platform and PlatformVersion qualify net5.0 and later:
	// "windows" and 10.0.19041 for net8.0-windows10.0.19041.
	Platform        string
	PlatformVersion FrameworkVersion
}

// IsAny reports whether f is the "any" framework.
func (f Framework) IsAny() bool { return f.ID == "" }

// isNet5Era reports whether f is .NETCoreApp 5.0 or later, the frameworks
// whose short name is "net" and which may carry a platform.
func (f Framework) isNet5Era() bool {
	return strings.EqualFold(f.ID, FrameworkNETCoreApp) && f.Version[0] >= 5
}

// Equal reports whether f and g are the same framework: identifier,
// profile and platform compared ignoring case, versions exactly.
func (f Framework) Equal(g Framework) bool {
	return strings.EqualFold(f.ID, g.ID) && f.Version == g.Version &&
		strings.EqualFold(f.Profile, g.Profile) && strings.EqualFold(f.Platform, g.Platform) &&
		f.PlatformVersion == g.PlatformVersion
}

// String returns NuGet's short folder name, lower case: "net8.0",
// "net8.0-windows10.0.19041", "netcoreapp3.1", "netstandard2.0", "net472",
// "net40-client", "native", "any", "agnostic".
func (f Framework) String() string {
	var b strings.Builder
	switch {
	case f.IsAny():
		return "any"
	case strings.EqualFold(f.ID, FrameworkAgnostic):
		return FrameworkAgnostic
	case f.isNet5Era(), strings.EqualFold(f.ID, FrameworkNET):
		b.WriteString("net")
	case strings.EqualFold(f.ID, FrameworkNETCoreApp):
		b.WriteString("netcoreapp")
	case strings.EqualFold(f.ID, FrameworkNETStandard):
		b.WriteString("netstandard")
	default:
		for _, r := range f.ID {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
	}
	b.WriteString(frameworkVersionString(f.ID, f.Version))
	switch {
	case f.isNet5Era() && f.Platform != "":
		b.WriteString("-" + f.Platform)
		b.WriteString(frameworkVersionString(f.ID, f.PlatformVersion))
	case f.Profile != "":
		b.WriteString("-" + f.Profile)
	}
	return strings.ToLower(b.String())
}

// frameworkVersionString writes a version the way short folder names do:
// nothing for no version, trailing zeros dropped beyond the minor part, and
// the parts joined with dots for .NETCoreApp and .NETStandard or when a part
// exceeds 9 ("3.1", "10.0"), run together otherwise ("472", "40").
func frameworkVersionString(id string, v FrameworkVersion) string {
	if v.isZero() {
		return ""
	}
	n := 4
	for n > 2 && v[n-1] == 0 {
		n--
	}
	dotted := strings.EqualFold(id, FrameworkNETCoreApp) || strings.EqualFold(id, FrameworkNETStandard)
	for _, p := range v {
		if p > 9 {
			dotted = true
		}
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strconv.Itoa(v[i])
	}
	if dotted {
		return strings.Join(parts, ".")
	}
	return strings.Join(parts, "")
}

// Common frameworks, for callers and tests.
var (
	// AnyFramework is the framework of a dependency group without a
	// targetFramework attribute.
	AnyFramework = Framework{}
)

// frameworkIDs maps the identifiers and short names NuGet accepts, lower
// case, to the covered identifiers.
var frameworkIDs = map[string]string{
	".netframework": FrameworkNET, "netframework": FrameworkNET, ".net": FrameworkNET, "net": FrameworkNET,
	".netcoreapp": FrameworkNETCoreApp, "netcoreapp": FrameworkNETCoreApp,
	".netstandard": FrameworkNETStandard, "netstandard": FrameworkNETStandard,
	"native": FrameworkNative,
}

// knownUncovered lists, lower case, identifiers and short names NuGet
// parses that this package does not cover; they get a clearer message.
var knownUncovered = map[string]bool{
	"portable": true, ".netportable": true, "netportable": true, "dotnet": true, ".netplatform": true,
	"netcore": true, ".netcore": true, "uap": true, "win": true, "windows": true, "wp": true,
	"windowsphone": true, "wpa": true, "windowsphoneapp": true, "sl": true, "silverlight": true,
	"monoandroid": true, "monotouch": true, "monomac": true, "xamarinios": true, "xamarinmac": true,
	"xamarin.ios": true, "xamarin.mac": true, "xamarintvos": true, "xamarinwatchos": true,
	"xamarinpsthree": true, "xamarinpsfour": true, "xamarinpsvita": true, "xamarinxboxthreesixty": true,
	"xamarinxboxone": true, "tizen": true, "netmf": true, ".netmicroframework": true, "netnano": true,
	"nanoframework": true, "dnx": true, "dnxcore": true, "aspnet": true, "aspnetcore": true,
	"netstandardapp": true, ".netstandardapp": true, "winrt": true,
}

// ParseFramework parses a target framework as NuGet does (NuGetFramework.Parse):
// a short folder name ("net8.0", "net8.0-windows", "net472", "netstandard2.0",
// "netcoreapp3.1", "native", "any"), a long name run together
// (".NETFramework4.7.2", ".NETStandard2.0") or a framework name with
// components (".NETStandard,Version=v2.0", ".NETFramework,Version=v4.0,Profile=Client").
// Identifiers are matched ignoring case. A short version without dots has
// one digit per part ("472" is 4.7.2, "10" is 1.0), and "net" with version
// 5 or more is .NETCoreApp ("net5.0", "net10.0"). The old bare versions
// "45", "4.0", "35", "2.0" … mean .NETFramework. Surrounding white space is
// ignored. Percent-escapes, which NuGet decodes in folder names, are not.
//
// It fails on malformed input and, wrapping ErrUnsupportedFramework, on
// frameworks this package does not cover (see the package documentation).
func ParseFramework(s string) (Framework, error) {
	t := strings.TrimSpace(s)
	if t == "" || len(t) > maxFrameworkLength {
		return Framework{}, fmt.Errorf("nuget: invalid target framework %q", s)
	}
	if f, ok := specialFramework(t); ok {
		return f, nil
	}
	var f Framework
	var err error
	if strings.Contains(t, ",") {
		f, err = parseFrameworkName(t)
	} else {
		f, err = parseFolderName(t)
	}
	if err != nil {
		return Framework{}, fmt.Errorf("nuget: target framework %q: %w", s, err)
	}
	return f, nil
}

func specialFramework(s string) (Framework, bool) {
	switch strings.ToLower(s) {
	case "any":
		return AnyFramework, true
	case FrameworkAgnostic:
		return Framework{ID: FrameworkAgnostic}, true
	}
	return Framework{}, false
}

var errBadFramework = errors.New("malformed")

func lookupFrameworkID(name string) (string, error) {
	l := strings.ToLower(name)
	if id, ok := frameworkIDs[l]; ok {
		return id, nil
	}
	if knownUncovered[l] || strings.HasPrefix(l, "xamarin") {
		return "", fmt.Errorf("%w: %s is not covered", ErrUnsupportedFramework, name)
	}
	if l == "unsupported" {
		return "", ErrUnsupportedFramework
	}
	return "", fmt.Errorf("%w: unknown framework %q", ErrUnsupportedFramework, name)
}

// parseFrameworkName parses "Identifier,Version=vX.Y[,Profile=P]".
func parseFrameworkName(s string) (Framework, error) {
	var parts []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return Framework{}, errBadFramework
	}
	if f, ok := specialFramework(parts[0]); ok {
		return f, nil
	}
	id, err := lookupFrameworkID(parts[0])
	if err != nil {
		return Framework{}, err
	}
	f := Framework{ID: id}
	var versions, profiles []string
	for _, p := range parts[1:] {
		switch k, v, _ := strings.Cut(p, "="); {
		case strings.EqualFold(k, "Version"):
			versions = append(versions, v)
		case strings.EqualFold(k, "Profile"):
			profiles = append(profiles, v)
		}
	}
	// NuGet uses a component only when it appears exactly once.
	if len(versions) == 1 {
		text := strings.TrimLeft(versions[0], "v")
		if !strings.Contains(text, ".") {
			text += ".0"
		}
		v, ok := parseDottedFrameworkVersion(text)
		if !ok {
			return Framework{}, fmt.Errorf("%w: version %q", errBadFramework, versions[0])
		}
		f.Version = v
	}
	if len(profiles) == 1 && !f.isNet5Era() {
		if !validProfile(profiles[0]) {
			return Framework{}, fmt.Errorf("%w: profile %q", errBadFramework, profiles[0])
		}
		f.Profile = canonicalProfile(profiles[0])
	}
	return f, nil
}

// parseFolderName parses "identifier[version][-profile or platform]".
func parseFolderName(s string) (Framework, error) {
	i := 0
	for i < len(s) && isLetterOrDot(s[i]) {
		i++
	}
	if i == 0 {
		if f, ok := deprecatedFramework(s); ok {
			return f, nil
		}
		return Framework{}, errBadFramework
	}
	name := s[:i]
	j := i
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
		j++
	}
	versionText, rest := s[i:j], s[j:]
	var suffix string
	if rest != "" {
		if rest[0] != '-' || len(rest) == 1 {
			return Framework{}, errBadFramework
		}
		suffix = rest[1:]
		if !validProfile(suffix) {
			return Framework{}, errBadFramework
		}
	}
	id, err := lookupFrameworkID(name)
	if err != nil {
		return Framework{}, err
	}
	f := Framework{ID: id}
	if versionText != "" {
		v, ok := folderFrameworkVersion(versionText)
		if !ok {
			return Framework{}, fmt.Errorf("%w: version %q", errBadFramework, versionText)
		}
		f.Version = v
	}
	if f.Version[0] >= 5 && (id == FrameworkNET || id == FrameworkNETCoreApp) {
		f.ID = FrameworkNETCoreApp // net5.0 and later is .NETCoreApp
		if suffix != "" {
			k := 0
			for k < len(suffix) && isLetterOrDot(suffix[k]) {
				k++
			}
			f.Platform = strings.ToLower(suffix[:k])
			if pv := suffix[k:]; pv != "" {
				if !strings.Contains(pv, ".") {
					pv += ".0"
				}
				v, ok := parseDottedFrameworkVersion(pv)
				if !ok {
					return Framework{}, fmt.Errorf("%w: platform version %q", errBadFramework, suffix[k:])
				}
				f.PlatformVersion = v
			}
		}
		return f, nil
	}
	f.Profile = canonicalProfile(suffix)
	return f, nil
}

// deprecatedFramework reads the bare versions old packages used as
// folder names, which NuGet maps to .NETFramework.
func deprecatedFramework(s string) (Framework, bool) {
	var v FrameworkVersion
	switch s {
	case "45", "4.5":
		v = FrameworkVersion{4, 5}
	case "40", "4.0", "4":
		v = FrameworkVersion{4}
	case "35", "3.5":
		v = FrameworkVersion{3, 5}
	case "20", "2", "2.0":
		v = FrameworkVersion{2}
	default:
		return Framework{}, false
	}
	return Framework{ID: FrameworkNET, Version: v}, true
}

func canonicalProfile(p string) string {
	switch strings.ToLower(p) {
	case "client":
		return "Client"
	case "full":
		return "Full"
	}
	return p
}

// validProfile reports whether p is made of the characters NuGet allows in
// the profile or platform part of a folder name: letters, digits, ".", "+"
// and "-".
func validProfile(p string) bool {
	for k := 0; k < len(p); k++ {
		c := p[k]
		if !(isLetterOrDot(c) || c >= '0' && c <= '9' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

func isLetterOrDot(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.'
}

// folderFrameworkVersion reads the version of a short folder name: dotted
// ("8.0", "4.7.2") or one digit per part ("472"; a single digit gets a
// zero: "4" is 4.0; only the first four digits count).
func folderFrameworkVersion(s string) (FrameworkVersion, bool) {
	if strings.Contains(s, ".") {
		return parseDottedFrameworkVersion(s)
	}
	if len(s) < 2 {
		s += "0"
	}
	var v FrameworkVersion
	for i := 0; i < len(s) && i < 4; i++ {
		v[i] = int(s[i] - '0')
	}
	return v, true
}

// parseDottedFrameworkVersion parses two to four dot-separated decimal
// numbers, as .NET's Version.TryParse does.
func parseDottedFrameworkVersion(s string) (FrameworkVersion, bool) {
	var v FrameworkVersion
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return v, false
	}
	for i, p := range parts {
		if p == "" || len(p) > 10 || strings.Trim(p, "0123456789") != "" {
			return v, false
		}
		n, err := strconv.Atoi(p)
		if err != nil || n > maxVersionPart {
			return v, false
		}
		v[i] = n
	}
	return v, true
}
