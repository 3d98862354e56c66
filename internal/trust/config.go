package trust

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Config is the merged view of a hierarchy of nuget.config files, with the
// documents kept so that edits can be written back.
type Config struct {
	files  []*configFile // closest first
	target *configFile   // where new entries are written; nil if none
	getenv func(string) string

	// The merged view, rebuilt after every edit.
	signers  []*signerRef
	values   map[string]valueRef // <config> keys, lower-cased
	sources  map[string]valueRef // <packageSources> keys, lower-cased
	warnings []string
}

// signerRef is a merged signer with the element it was read from.
type signerRef struct {
	Signer
	file *configFile
	node *node
}

// valueRef is a merged <add key value> item.
type valueRef struct {
	value string
	file  string
	line  int
}

// Section and key names. Section names are compared exactly, as NuGet
// looks sections up by ordinal name; item element names case-insensitively.
const (
	sectionTrustedSigners = "trustedSigners"
	sectionConfig         = "config"
	sectionPackageSources = "packageSources"

	keySignatureValidationMode = "signatureValidationMode"
	keyRevocationMode          = "revocationMode"
	keyTrustBundle             = "signetTrustBundle"

	envRevocationMode = "NUGET_CERT_REVOCATION_MODE"
)

// Signature validation modes (spec 5.5).
const (
	ModeAccept  = "accept"
	ModeRequire = "require"
)

// Revocation modes.
const (
	RevocationOnline  = "online"
	RevocationOffline = "offline"
)

// rebuild recomputes the merged view from the documents: files are merged
// from the furthest to the closest, so that for each item the closest file
// wins; <clear /> in a section drops what further files (and earlier
// lines of the same section) said.
func (c *Config) rebuild() error {
	c.signers = nil
	c.values = map[string]valueRef{}
	c.sources = map[string]valueRef{}
	c.warnings = nil
	for i := len(c.files) - 1; i >= 0; i-- {
		f := c.files[i]
		if f.doc == nil {
			continue
		}
		if err := c.mergeFile(f); err != nil {
			return err
		}
	}
	return c.validateValues()
}

func (c *Config) warn(file string, line int, format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
}

func (c *Config) mergeFile(f *configFile) error {
	seen := map[string]int{}
	for _, sec := range f.doc.root.elements() {
		name := sec.name.Local
		for _, known := range []string{sectionTrustedSigners, sectionConfig, sectionPackageSources} {
			if name != known && strings.EqualFold(name, known) {
				c.warn(f.path, sec.line, "section <%s> is ignored: NuGet section names are case-sensitive (did you mean <%s>?)", name, known)
			}
		}
		switch name {
		case sectionTrustedSigners, sectionConfig, sectionPackageSources:
		default:
			continue
		}
		if l, dup := seen[name]; dup {
			return &ConfigError{File: f.path, Line: sec.line, Msg: fmt.Sprintf("a second <%s> section (the first is on line %d)", name, l)}
		}
		seen[name] = sec.line
		var err error
		switch name {
		case sectionTrustedSigners:
			err = c.mergeSigners(f, sec)
		case sectionConfig:
			mergeValues(c.values, f, sec)
		case sectionPackageSources:
			mergeValues(c.sources, f, sec)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// mergeSigners merges one file's <trustedSigners>. As in NuGet, an author
// replaces an author of the same name, and a repository a repository of the
// same service index (both compared exactly); the replacement moves to the
// end of the list. Two such entries in one file (not separated by a
// <clear />) are an error; NuGet keeps one silently.
func (c *Config) mergeSigners(f *configFile, sec *node) error {
	inFile := map[string]*signerRef{}
	for _, n := range sec.elements() {
		switch {
		case n.is("clear"):
			c.signers = nil
			clear(inFile) // what a clear dropped cannot clash
			continue
		case n.is("author"), n.is("repository"):
		default:
			c.warn(f.path, n.line, "unknown element <%s> in <trustedSigners> is ignored", qname(n.name))
			continue
		}
		s, err := parseSigner(f.path, n, func(line int, format string, args ...any) { c.warn(f.path, line, format, args...) })
		if err != nil {
			return err
		}
		key := signerKey(s)
		if prev, dup := inFile[key]; dup {
			what := fmt.Sprintf("an author named %q", s.Name)
			if s.Kind == KindRepository {
				what = fmt.Sprintf("a repository with the service index %q", s.ServiceIndex)
			}
			return &ConfigError{File: f.path, Line: n.line, Msg: fmt.Sprintf("%s is already defined on line %d", what, prev.Line)}
		}
		ref := &signerRef{Signer: *s, file: f, node: n}
		inFile[key] = ref
		for i, old := range c.signers {
			if signerKey(&old.Signer) == key {
				c.signers = append(c.signers[:i], c.signers[i+1:]...)
				break
			}
		}
		c.signers = append(c.signers, ref)
	}
	return nil
}

func signerKey(s *Signer) string {
	if s.Kind == KindRepository {
		return "repository\x00" + s.ServiceIndex
	}
	return "author\x00" + s.Name
}

// mergeValues merges <add key value /> items and <clear />. Keys compare
// case-insensitively (NuGet reads them so; Signet also merges them so, so
// that a closer file's "SignatureValidationMode" overrides a further
// file's "signatureValidationMode").
func mergeValues(m map[string]valueRef, f *configFile, sec *node) {
	for _, n := range sec.elements() {
		switch {
		case n.is("clear"):
			clear(m)
		case n.is("add"):
			k, ok1 := n.attr("key")
			v, ok2 := n.attr("value")
			if ok1 && ok2 {
				m[strings.ToLower(k)] = valueRef{value: v, file: f.path, line: n.line}
			}
		}
	}
}

// validateValues checks the effective values of the keys Signet reads. A
// value NuGet would silently read as the default (a typo in "require") is an
// error here: a security setting should not fail open.
func (c *Config) validateValues() error {
	check := func(key string, allowed ...string) error {
		v, ok := c.values[strings.ToLower(key)]
		if !ok {
			return nil
		}
		for _, a := range allowed {
			if strings.EqualFold(strings.TrimSpace(v.value), a) {
				return nil
			}
		}
		return &ConfigError{File: v.file, Line: v.line, Msg: fmt.Sprintf("%s=%q is not one of %s", key, v.value, strings.Join(allowed, ", "))}
	}
	if err := check(keySignatureValidationMode, ModeAccept, ModeRequire); err != nil {
		return err
	}
	return check(keyRevocationMode, RevocationOnline, RevocationOffline)
}

// SignatureValidationMode returns "accept" (the default) or "require", from
// the <config> key signatureValidationMode.
func (c *Config) SignatureValidationMode() string {
	if v, ok := c.values[strings.ToLower(keySignatureValidationMode)]; ok {
		return strings.ToLower(strings.TrimSpace(v.value))
	}
	return ModeAccept
}

// RevocationMode returns "online" (the default) or "offline".
//
// NuGet reads the mode only from the environment variable
// NUGET_CERT_REVOCATION_MODE; Signet honours it the same way (case-insensitive,
// an unknown value is ignored) and, as an extension, also reads a <config>
// key revocationMode (online|offline) so that a repository can pin the mode
// in its nuget.config. The environment variable wins when both are set.
func (c *Config) RevocationMode() string {
	env := strings.TrimSpace(c.getenv(envRevocationMode))
	for _, m := range []string{RevocationOnline, RevocationOffline} {
		if strings.EqualFold(env, m) {
			return m
		}
	}
	if v, ok := c.values[strings.ToLower(keyRevocationMode)]; ok {
		return strings.ToLower(strings.TrimSpace(v.value))
	}
	return RevocationOnline
}

// TrustBundles returns the PEM files of extra trusted roots named by the
// <config> key signetTrustBundle (a Signet extension; plain NuGet ignores
// unknown config keys): paths separated by ';', relative paths taken from
// the directory of the config file that set the key.
func (c *Config) TrustBundles() []string {
	v, ok := c.values[strings.ToLower(keyTrustBundle)]
	if !ok {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v.value, ";") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !filepath.IsAbs(p) && v.file != "" {
			p = filepath.Join(filepath.Dir(v.file), p)
		}
		out = append(out, p)
	}
	return out
}

// PackageSource returns the URL of the package source named name in the
// merged <packageSources> (names compare case-insensitively).
func (c *Config) PackageSource(name string) (string, bool) {
	v, ok := c.sources[strings.ToLower(name)]
	return v.value, ok
}

// TrustedSigners returns the merged trusted signers in NuGet's order.
func (c *Config) TrustedSigners() []Signer {
	out := make([]Signer, 0, len(c.signers))
	for _, s := range c.signers {
		out = append(out, s.clone())
	}
	return out
}

func (s *signerRef) clone() Signer {
	x := s.Signer
	x.Certificates = append([]CertEntry(nil), s.Certificates...)
	x.Owners = append([]string(nil), s.Owners...)
	x.Identities = append([]Identity(nil), s.Identities...)
	return x
}

// Files returns the paths of the files that make up the configuration,
// closest first.
func (c *Config) Files() []string {
	var out []string
	for _, f := range c.files {
		if f.doc != nil {
			out = append(out, f.path)
		}
	}
	return out
}

// WritePath returns the file that new entries are written to: the
// --configfile, else the closest nuget.config found by walking up, else the
// user config (created by Save if it does not exist). NuGet itself adds new
// items to the user config unless a closer file clears the section; Signet
// writes to the closest file so that a change stays within the project tree
// the command ran in. It returns "" when no file can be written (no
// nuget.config above the directory and no home directory).
func (c *Config) WritePath() string {
	if c.target == nil {
		return ""
	}
	return c.target.path
}

// Warnings returns what was ignored while reading the files (unknown
// elements, misspelled section names, NuGet compatibility notes), each as
// "file:line: message".
func (c *Config) Warnings() []string {
	return append([]string(nil), c.warnings...)
}
