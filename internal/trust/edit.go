package trust

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/signet-nuget/signet/internal/atomicfile"
)

// ExistsError is an addition that clashes with a trusted signer already
// configured: the same name (compared case-insensitively) or, for a
// repository, the same service index.
type ExistsError struct {
	Name         string // set when the name is taken
	ServiceIndex string // set when the service index is taken
	File         string // where the existing entry is
}

// Error names the clash and the file of the existing entry.
func (e *ExistsError) Error() string {
	if e.ServiceIndex != "" {
		return fmt.Sprintf("trust: a trusted repository with the service index %q already exists (in %s)", e.ServiceIndex, e.File)
	}
	return fmt.Sprintf("trust: a trusted signer %q already exists (in %s)", e.Name, e.File)
}

// ErrNotFound is returned by edits that name a signer that does not exist.
var ErrNotFound = errors.New("trust: no such trusted signer")

// ReadOnlyError is an edit of an entry that lives in a file Signet must not
// change (a machine-wide or additional user config), or an addition when no
// file can be written.
type ReadOnlyError struct {
	Name string
	File string
}

// Error says which file cannot be changed, or that none can be.
func (e *ReadOnlyError) Error() string {
	if e.File == "" {
		return "trust: no nuget.config can be written here (none was found above the directory and there is no home directory); use --configfile"
	}
	return fmt.Sprintf("trust: the trusted signer %q is defined in the read-only file %s", e.Name, e.File)
}

// defaultUserConfig is what NuGet writes when it creates the user config;
// Signet writes the same, so that creating the file does not take
// nuget.org away from the user's package sources.
const defaultUserConfig = `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  </packageSources>
</configuration>
`

// AddAuthor adds an <author> entry trusting one certificate to the file
// WritePath names. It fails with *ExistsError if a signer of that name
// exists.
func (c *Config) AddAuthor(name, fingerprint, alg string, allowUntrustedRoot bool) error {
	e, err := certEntry(fingerprint, alg, allowUntrustedRoot)
	if err != nil {
		return err
	}
	return c.edit(func() error {
		if err := c.checkNew(name, ""); err != nil {
			return err
		}
		sec, err := c.targetSection()
		if err != nil {
			return err
		}
		a := newElement("author", "name", name)
		c.target.doc.appendIndented(sec, a)
		c.target.doc.appendIndented(a, certElement(e))
		return nil
	})
}

// AddRepository adds a <repository> entry to the file WritePath names. It
// fails with *ExistsError if a signer of that name or a repository with
// that service index exists. certs must not be empty; owners may be.
func (c *Config) AddRepository(name, serviceIndex string, certs []CertEntry, owners []string) error {
	if err := ValidateServiceIndex(serviceIndex); err != nil {
		return err
	}
	if len(certs) == 0 {
		return errors.New("trust: a trusted repository needs at least one certificate")
	}
	norm, err := normalizeEntries(certs)
	if err != nil {
		return err
	}
	for _, o := range owners {
		if strings.TrimSpace(o) == "" || strings.Contains(o, ";") {
			return fmt.Errorf("trust: owner %q is empty or contains ';'", o)
		}
	}
	return c.edit(func() error {
		if err := c.checkNew(name, serviceIndex); err != nil {
			return err
		}
		sec, err := c.targetSection()
		if err != nil {
			return err
		}
		r := newElement("repository", "name", name, "serviceIndex", serviceIndex)
		c.target.doc.appendIndented(sec, r)
		for _, e := range norm {
			c.target.doc.appendIndented(r, certElement(e))
		}
		if len(owners) > 0 {
			o := newElement("owners")
			o.children = []*node{{kind: textNode, parent: o, text: strings.Join(trimAll(owners), ";")}}
			c.target.doc.appendIndented(r, o)
		}
		return nil
	})
}

// AddCertificate adds a certificate to the signer named name (an exact match
// first, else the one signer whose name matches case-insensitively) in the
// file that defines it, or, when there is none, adds an <author> entry with
// it, as dotnet nuget trust certificate does. It reports whether it created
// a signer.
func (c *Config) AddCertificate(name, fingerprint, alg string, allowUntrustedRoot bool) (created bool, err error) {
	e, err := certEntry(fingerprint, alg, allowUntrustedRoot)
	if err != nil {
		return false, err
	}
	s, err := c.find(name, "")
	if errors.Is(err, ErrNotFound) {
		return true, c.AddAuthor(name, e.Fingerprint, e.HashAlgorithm, allowUntrustedRoot)
	}
	if err != nil {
		return false, err
	}
	for _, have := range s.Certificates {
		if have.HashAlgorithm == e.HashAlgorithm && have.Fingerprint == e.Fingerprint {
			return false, fmt.Errorf("trust: the trusted signer %q already has the certificate %s - %s", s.Name, e.HashAlgorithm, e.Fingerprint)
		}
	}
	return false, c.edit(func() error {
		if s.file.readOnly {
			return &ReadOnlyError{Name: s.Name, File: s.file.path}
		}
		s.file.doc.appendIndented(s.node, certElement(e))
		s.file.dirty = true
		return nil
	})
}

// SetCertificates replaces the certificates of the repository named name,
// keeping its owners, identities and anything else it holds; this is what
// dotnet nuget trust sync does with the list the repository publishes.
func (c *Config) SetCertificates(name string, certs []CertEntry) error {
	if len(certs) == 0 {
		return errors.New("trust: a trusted repository needs at least one certificate")
	}
	norm, err := normalizeEntries(certs)
	if err != nil {
		return err
	}
	s, err := c.find(name, KindRepository)
	if err != nil {
		return err
	}
	return c.edit(func() error {
		if s.file.readOnly {
			return &ReadOnlyError{Name: s.Name, File: s.file.path}
		}
		for _, ch := range s.node.elements() {
			if ch.is("certificate") {
				removeIndented(ch)
			}
		}
		for _, e := range norm {
			s.file.doc.appendIndented(s.node, certElement(e))
		}
		s.file.dirty = true
		return nil
	})
}

// Remove removes every trusted signer whose name matches name
// case-insensitively, from every file that defines one, including entries
// that a closer file overrides (so that none comes back into effect). It
// returns how many effective signers it removed; 0 and no error when there
// was none. An entry in a read-only file is an error and nothing changes.
func (c *Config) Remove(name string) (int, error) {
	n := 0
	for _, s := range c.signers {
		if strings.EqualFold(s.Name, name) {
			n++
			if s.file.readOnly {
				return 0, &ReadOnlyError{Name: s.Name, File: s.file.path}
			}
		}
	}
	if n == 0 {
		return 0, nil
	}
	err := c.edit(func() error {
		for _, f := range c.files {
			if f.doc == nil || f.readOnly {
				continue
			}
			for _, sec := range f.doc.root.elements() {
				if sec.name.Local != sectionTrustedSigners {
					continue
				}
				for _, el := range sec.elements() {
					if (el.is("author") || el.is("repository")) && nameEqualFold(el, name) {
						removeIndented(el)
						f.dirty = true
					}
				}
				if len(sec.elements()) == 0 {
					removeIndented(sec)
				}
			}
		}
		return nil
	}, func() error {
		for _, s := range c.signers {
			if strings.EqualFold(s.Name, name) {
				// An entry a read-only file defines came back into effect.
				return &ReadOnlyError{Name: s.Name, File: s.file.path}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func nameEqualFold(n *node, name string) bool {
	v, ok := n.attr("name")
	return ok && strings.EqualFold(v, name)
}

// Save writes every changed file atomically (a temporary file renamed over
// the old one), creating the user config and its directory if needed.
func (c *Config) Save() error {
	for _, f := range c.files {
		if !f.dirty || f.doc == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return fmt.Errorf("trust: %w", err)
		}
		if err := atomicfile.WriteFile(f.path, f.doc.bytes(), f.perm); err != nil {
			return fmt.Errorf("trust: writing %s: %w", f.path, err)
		}
		f.dirty = false
	}
	return nil
}

// edit runs fn on the documents, rebuilds the merged view and runs the
// optional checks on it. If any of them fails, every document is restored
// as it was.
func (c *Config) edit(fn func() error, checks ...func() error) error {
	type snap struct {
		doc   *document
		dirty bool
	}
	saved := make([]snap, len(c.files))
	for i, f := range c.files {
		saved[i] = snap{doc: cloneDocument(f.path, f.doc), dirty: f.dirty}
	}
	err := fn()
	if err == nil {
		err = c.rebuild()
	}
	for _, check := range checks {
		if err == nil {
			err = check()
		}
	}
	if err != nil {
		for i, f := range c.files {
			f.doc, f.dirty = saved[i].doc, saved[i].dirty
		}
		if rerr := c.rebuild(); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// cloneDocument copies doc by serializing and parsing it again, which
// keeps every byte.
func cloneDocument(path string, doc *document) *document {
	if doc == nil {
		return nil
	}
	d, err := parseDocument(path, doc.bytes())
	if err != nil {
		return doc // cannot happen: doc parsed, and edits keep it well-formed
	}
	return d
}

// find returns the merged signer named name: an exact match, else the only
// one matching case-insensitively. kind "" matches both kinds.
func (c *Config) find(name string, kind Kind) (*signerRef, error) {
	var fold []*signerRef
	for _, s := range c.signers {
		if kind != "" && s.Kind != kind {
			continue
		}
		if s.Name == name {
			return s, nil
		}
		if strings.EqualFold(s.Name, name) {
			fold = append(fold, s)
		}
	}
	if len(fold) == 1 {
		return fold[0], nil
	}
	if len(fold) > 1 {
		return nil, fmt.Errorf("trust: %d trusted signers are named %q in different cases; name one exactly", len(fold), name)
	}
	return nil, fmt.Errorf("%w %q", ErrNotFound, name)
}

// CanAdd reports, as the error AddAuthor or AddRepository would return,
// whether a signer named name (and, when serviceIndex is not empty, a
// repository with that service index) could be added. Callers use it to
// fail before fetching anything.
func (c *Config) CanAdd(name, serviceIndex string) error { return c.checkNew(name, serviceIndex) }

// checkNew fails if name (case-insensitively) or serviceIndex (likewise, as
// NuGet compares it) is taken.
func (c *Config) checkNew(name, serviceIndex string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("trust: a trusted signer needs a name")
	}
	for _, s := range c.signers {
		if strings.EqualFold(s.Name, name) {
			return &ExistsError{Name: s.Name, File: s.file.path}
		}
		if serviceIndex != "" && s.Kind == KindRepository && strings.EqualFold(s.ServiceIndex, serviceIndex) {
			return &ExistsError{ServiceIndex: s.ServiceIndex, File: s.file.path}
		}
	}
	return nil
}

// targetSection returns the <trustedSigners> section of the write target,
// creating the file's document and the section as needed, and marks the
// file changed.
func (c *Config) targetSection() (*node, error) {
	f := c.target
	if f == nil || f.readOnly {
		return nil, &ReadOnlyError{}
	}
	if f.doc == nil {
		f.doc = newDocument(defaultUserConfig)
	}
	f.dirty = true
	for _, sec := range f.doc.root.elements() {
		if sec.name.Local == sectionTrustedSigners {
			return sec, nil
		}
	}
	sec := newElement(sectionTrustedSigners)
	f.doc.appendIndented(f.doc.root, sec)
	return sec, nil
}

func certEntry(fingerprint, alg string, allowUntrustedRoot bool) (CertEntry, error) {
	a, err := ParseHashAlgorithm(alg)
	if err != nil {
		return CertEntry{}, err
	}
	fp, err := NormalizeFingerprint(fingerprint, a)
	if err != nil {
		return CertEntry{}, err
	}
	return CertEntry{Fingerprint: fp, HashAlgorithm: a, AllowUntrustedRoot: allowUntrustedRoot}, nil
}

func normalizeEntries(certs []CertEntry) ([]CertEntry, error) {
	out := make([]CertEntry, 0, len(certs))
	for _, e := range certs {
		n, err := certEntry(e.Fingerprint, e.HashAlgorithm, e.AllowUntrustedRoot)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// certElement writes a certificate as NuGet does: fingerprint and algorithm
// upper-case, allowUntrustedRoot lower-case.
func certElement(e CertEntry) *node {
	return newElement("certificate", "fingerprint", e.Fingerprint, "hashAlgorithm", e.HashAlgorithm, "allowUntrustedRoot", strconv.FormatBool(e.AllowUntrustedRoot))
}

func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return out
}
