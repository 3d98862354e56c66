package trust

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// The sections and keys a feed client reads, beside those of config.go.
const (
	sectionDisabledSources   = "disabledPackageSources"
	sectionSourceCredentials = "packageSourceCredentials"
	sectionAPIKeys           = "apikeys"

	keyGlobalPackagesFolder = "globalPackagesFolder"
	keyDefaultPushSource    = "defaultPushSource"

	credUsername          = "Username"
	credPassword          = "Password"
	credClearTextPassword = "ClearTextPassword"
	credAuthTypes         = "ValidAuthenticationTypes"

	envNuGetPackages = "NUGET_PACKAGES"
)

// PackageSource is one entry of the merged <packageSources>.
type PackageSource struct {
	// Name is the entry's key.
	Name string
	// Source is its value after environment expansion: an http(s) URL, or a
	// local folder made absolute from the directory of the file that
	// defines it, as NuGet resolves it.
	Source string
	// ProtocolVersion is the protocolVersion attribute, 2 when absent or not
	// a number (NuGet's default; a V2 source whose URL ends in ".json" is
	// still read as a V3 service index, see IsV3).
	ProtocolVersion int
	// Enabled is false when <disabledPackageSources> names the source with
	// the value "true".
	Enabled bool
	// File and Line locate the entry.
	File string
	Line int
}

// IsHTTP reports whether the source is an http(s) URL.
func (s PackageSource) IsHTTP() bool {
	u, err := url.Parse(s.Source)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// IsV3 reports whether NuGet reads the source as a V3 service index: an
// http(s) URL with protocolVersion="3" or whose path ends in ".json".
func (s PackageSource) IsV3() bool {
	if !s.IsHTTP() {
		return false
	}
	u, _ := url.Parse(s.Source)
	return s.ProtocolVersion >= 3 || strings.HasSuffix(strings.ToLower(u.Path), ".json")
}

// SourceCredential is a <packageSourceCredentials> entry with a usable
// clear-text password.
type SourceCredential struct {
	Username, Password string
	// AuthenticationTypes is ValidAuthenticationTypes split on commas;
	// empty means any.
	AuthenticationTypes []string
	File                string
	Line                int
}

// EncryptedError is a secret in a nuget.config that NuGet encrypted with the
// Windows Data Protection API (DPAPI): only the Windows account that wrote it
// can decrypt it, so neither Signet nor NuGet on another system can use it.
type EncryptedError struct {
	// What names the secret ("the API key for https://…", "the password of
	// package source \"x\"").
	What string
	File string
	Line int
	// Hint says what to use instead.
	Hint string
}

// Error says where the secret is and what to do.
func (e *EncryptedError) Error() string {
	return fmt.Sprintf("trust: %s:%d: %s is encrypted with the Windows Data Protection API, which only the Windows account that wrote it can decrypt; %s", e.File, e.Line, e.What, e.Hint)
}

// itemRef is a merged <add key value> item keeping its key's spelling.
type itemRef struct {
	key, value string
	attrs      *node
	file       *configFile
	line       int
}

// mergedItems merges the <add> items of every section named section, from
// the furthest file to the closest: a closer key replaces a further one
// (compared ignoring case) in place, a new key is appended, and <clear />
// drops everything before it. NuGet orders a merged section so.
func (c *Config) mergedItems(section string) []itemRef {
	var out []itemRef
	for i := len(c.files) - 1; i >= 0; i-- {
		f := c.files[i]
		if f.doc == nil {
			continue
		}
		for _, sec := range f.doc.root.elements() {
			if sec.name.Local != section {
				continue
			}
			for _, n := range sec.elements() {
				switch {
				case n.is("clear"):
					out = nil
				case n.is("add"):
					k, ok1 := n.attr("key")
					v, ok2 := n.attr("value")
					if !ok1 || !ok2 {
						continue
					}
					it := itemRef{key: k, value: v, attrs: n, file: f, line: n.line}
					if j := slices.IndexFunc(out, func(o itemRef) bool { return strings.EqualFold(o.key, k) }); j >= 0 {
						out[j] = it
					} else {
						out = append(out, it)
					}
				}
			}
		}
	}
	return out
}

// expand replaces %NAME% with the environment variable NAME where it is
// set, as NuGet expands setting values; other text stays as written.
func (c *Config) expand(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	getenv := c.getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		if v := getenv(name); name != "" && v != "" {
			b.WriteString(s[:i])
			b.WriteString(v)
			s = s[i+2+j:]
			continue
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
	}
	b.WriteString(s)
	return b.String()
}

// resolvePath makes a local path absolute from the directory of the file
// that set it; URLs stay as they are.
func resolvePath(v, file string) string {
	if hasScheme(v) {
		return v
	}
	if !filepath.IsAbs(v) && file != "" {
		return filepath.Clean(filepath.Join(filepath.Dir(file), v))
	}
	return filepath.Clean(v)
}

// PackageSources returns the merged <packageSources>, further files'
// entries first, each file's in document order, with the enabled state from
// <disabledPackageSources>.
func (c *Config) PackageSources() []PackageSource {
	disabled := map[string]bool{}
	for _, it := range c.mergedItems(sectionDisabledSources) {
		if strings.EqualFold(strings.TrimSpace(it.value), "true") {
			disabled[strings.ToLower(it.key)] = true
		}
	}
	var out []PackageSource
	for _, it := range c.mergedItems(sectionPackageSources) {
		pv := 2
		if s, ok := it.attrs.attr("protocolVersion"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
				pv = n
			}
		}
		out = append(out, PackageSource{
			Name:            it.key,
			Source:          resolvePath(c.expand(strings.TrimSpace(it.value)), it.file.path),
			ProtocolVersion: pv,
			Enabled:         !disabled[strings.ToLower(it.key)],
			File:            it.file.path,
			Line:            it.line,
		})
	}
	return out
}

// FindSource returns the source named name (ignoring case), else the
// source whose URL is name (ignoring case and a final "/"), as dotnet
// nuget push resolves --source.
func (c *Config) FindSource(name string) (PackageSource, bool) {
	srcs := c.PackageSources()
	for _, s := range srcs {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	for _, s := range srcs {
		if strings.EqualFold(strings.TrimSuffix(s.Source, "/"), strings.TrimSuffix(name, "/")) {
			return s, true
		}
	}
	return PackageSource{}, false
}

// Credential returns the <packageSourceCredentials> entry of the source
// named source (nil, nil when there is none). The element is named after
// the source, with characters XML names cannot hold encoded as _xHHHH_;
// the closest file's element wins as a whole. A Password (NuGet's
// encrypted form) is refused with an *EncryptedError; ClearTextPassword,
// with %VAR% expanded, is what Signet uses.
func (c *Config) Credential(source string) (*SourceCredential, error) {
	for _, f := range c.files {
		if f.doc == nil {
			continue
		}
		for _, sec := range f.doc.root.elements() {
			if sec.name.Local != sectionSourceCredentials {
				continue
			}
			for _, el := range sec.elements() {
				if !strings.EqualFold(decodeXMLName(el.name.Local), source) {
					continue
				}
				return c.credentialOf(f, el, source)
			}
		}
	}
	return nil, nil
}

func (c *Config) credentialOf(f *configFile, el *node, source string) (*SourceCredential, error) {
	cred := &SourceCredential{File: f.path, Line: el.line}
	encrypted, hasClear := 0, false
	for _, n := range el.elements() {
		if !n.is("add") {
			continue
		}
		k, _ := n.attr("key")
		v, _ := n.attr("value")
		switch {
		case strings.EqualFold(k, credUsername):
			cred.Username = c.expand(v)
		case strings.EqualFold(k, credClearTextPassword):
			cred.Password, hasClear = c.expand(v), true
		case strings.EqualFold(k, credPassword):
			encrypted = n.line
		case strings.EqualFold(k, credAuthTypes):
			for t := range strings.SplitSeq(v, ",") {
				if t = strings.TrimSpace(t); t != "" {
					cred.AuthenticationTypes = append(cred.AuthenticationTypes, t)
				}
			}
		}
	}
	if encrypted > 0 && !hasClear {
		return nil, &EncryptedError{What: fmt.Sprintf("the Password of package source %q", source), File: f.path, Line: encrypted,
			Hint: `store it as <add key="ClearTextPassword" value="%FEED_TOKEN%" /> with the secret in an environment variable`}
	}
	return cred, nil
}

// dpapiHeader starts every DPAPI blob: the version (1) and the GUID of the
// default provider, df9d8cd0-1501-11d1-8c7a-00c04fc297eb.
var dpapiHeader = []byte{1, 0, 0, 0, 0xd0, 0x8c, 0x9d, 0xdf, 0x01, 0x15, 0xd1, 0x11, 0x8c, 0x7a, 0x00, 0xc0, 0x4f, 0xc2, 0x97, 0xeb}

// isDPAPI reports whether v is the base64 of a DPAPI blob.
func isDPAPI(v string) bool {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	return err == nil && bytes.HasPrefix(b, dpapiHeader)
}

// APIKey returns the <apikeys> entry for the first of keys (source or push
// URLs, compared ignoring case and a final "/") that has one, and false
// when none has. NuGet stores these keys encrypted with DPAPI (Windows
// only): such a value is refused with an *EncryptedError. A value that is
// not a DPAPI blob is taken as a clear-text key, a Signet extension for
// systems where NuGet cannot store keys at all.
func (c *Config) APIKey(keys ...string) (string, bool, error) {
	items := c.mergedItems(sectionAPIKeys)
	for _, k := range keys {
		want := strings.TrimSuffix(k, "/")
		for _, it := range items {
			if !strings.EqualFold(strings.TrimSuffix(it.key, "/"), want) {
				continue
			}
			if isDPAPI(it.value) {
				return "", false, &EncryptedError{What: fmt.Sprintf("the API key for %s", it.key), File: it.file.path, Line: it.line,
					Hint: "pass the key with --api-key or the SIGNET_API_KEY environment variable"}
			}
			return c.expand(strings.TrimSpace(it.value)), true, nil
		}
	}
	return "", false, nil
}

// DefaultPushSource returns the <config> key defaultPushSource, which
// dotnet nuget push uses without --source ("" when unset).
func (c *Config) DefaultPushSource() string {
	v, ok := c.values[strings.ToLower(keyDefaultPushSource)]
	if !ok {
		return ""
	}
	return resolvePath(c.expand(strings.TrimSpace(v.value)), v.file)
}

// GlobalPackagesFolder returns the global packages folder in NuGet's
// order: the NUGET_PACKAGES environment variable; else the <config> key
// globalPackagesFolder (a relative path is taken from the directory of the
// file that sets it); else .nuget/packages in the home directory
// ($DOTNET_CLI_HOME, else $HOME; %USERPROFILE% on Windows). The result is
// absolute; it is an error when no home directory is known.
func (c *Config) GlobalPackagesFolder() (string, error) {
	getenv := c.getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if p := strings.TrimSpace(getenv(envNuGetPackages)); p != "" {
		return filepath.Abs(p)
	}
	if v, ok := c.values[strings.ToLower(keyGlobalPackagesFolder)]; ok && strings.TrimSpace(v.value) != "" {
		return filepath.Abs(resolvePath(c.expand(strings.TrimSpace(v.value)), v.file))
	}
	home := getenv("DOTNET_CLI_HOME")
	if home == "" {
		if runtime.GOOS == "windows" {
			home = getenv("USERPROFILE")
		} else {
			home = getenv("HOME")
		}
	}
	if home == "" {
		return "", fmt.Errorf("trust: no global packages folder: set %s, or globalPackagesFolder in nuget.config, or HOME", envNuGetPackages)
	}
	return filepath.Abs(filepath.Join(home, ".nuget", "packages"))
}

// hasScheme reports whether v starts like a URL with an authority
// ("scheme://"); a scheme of one letter is a Windows drive.
func hasScheme(v string) bool {
	scheme, _, ok := strings.Cut(v, "://")
	if !ok || len(scheme) < 2 {
		return false
	}
	for i, r := range scheme {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')
		if !ok {
			return false
		}
	}
	return true
}

// decodeXMLName undoes .NET's XmlConvert.EncodeName, which NuGet applies to
// source names used as element names: _xHHHH_ is the UTF-16 code unit HHHH
// (a surrogate pair is two of them, or one _xHHHHHHHH_).
func decodeXMLName(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var units []uint16
	var b strings.Builder
	flush := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); {
		if n, v, ok := escapeAt(s[i:]); ok {
			if v > 0xFFFF {
				r1, r2 := utf16.EncodeRune(rune(v))
				units = append(units, uint16(r1), uint16(r2))
			} else {
				units = append(units, uint16(v))
			}
			i += n
			continue
		}
		flush()
		b.WriteByte(s[i])
		i++
	}
	flush()
	return b.String()
}

// escapeAt reads an _xHHHH_ or _xHHHHHHHH_ escape at the start of s.
func escapeAt(s string) (int, uint32, bool) {
	for _, digits := range []int{4, 8} {
		n := 3 + digits
		if len(s) < n || s[0] != '_' || s[1] != 'x' || s[n-1] != '_' {
			continue
		}
		v, err := strconv.ParseUint(s[2:2+digits], 16, 32)
		if err != nil || v > 0x10FFFF {
			continue
		}
		return n, uint32(v), true
	}
	return 0, 0, false
}
