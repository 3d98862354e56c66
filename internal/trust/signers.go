package trust

import (
	"crypto"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Kind is what a trusted signer entry trusts.
type Kind string

const (
	// KindAuthor trusts author primary signatures (<author>).
	KindAuthor Kind = "author"
	// KindRepository trusts repository primary signatures and repository
	// countersignatures (<repository>).
	KindRepository Kind = "repository"
)

// Signer is one <author> or <repository> entry of <trustedSigners> as it
// stands after the config files are merged (spec 5.6).
type Signer struct {
	Name string
	Kind Kind
	// ServiceIndex is the repository's V3 service index URL (https);
	// repositories only.
	ServiceIndex string
	Certificates []CertEntry
	// Owners restricts a repository entry to packages whose repository
	// signature names one of these owners (case-sensitive); empty means
	// any owner. Repositories only.
	Owners []string
	// Identities are Signet's identity entries (see Identity).
	Identities []Identity

	// File and Line say where the entry is written.
	File string
	Line int
}

// CertEntry is one <certificate> of a signer.
type CertEntry struct {
	// Fingerprint is the upper-case hex hash of the certificate's DER
	// encoding with HashAlgorithm.
	Fingerprint string
	// HashAlgorithm is "SHA256", "SHA384" or "SHA512".
	HashAlgorithm string
	// AllowUntrustedRoot accepts the certificate even when its chain ends
	// at a root the machine does not trust.
	AllowUntrustedRoot bool
}

// Hash returns the crypto.Hash of e.HashAlgorithm.
func (e CertEntry) Hash() crypto.Hash {
	h, _ := parseHashAlgorithm(e.HashAlgorithm)
	return h
}

// ParseHashAlgorithm validates a fingerprint algorithm name (SHA256, SHA384,
// SHA512, case-insensitive, dash allowed) and returns its canonical upper-case
// spelling. SHA-1 is refused with its own message: NuGet's parser would take
// it, but its documentation lists it as unsupported, and a SHA-1 fingerprint
// does not pin a certificate against a collision.
func ParseHashAlgorithm(s string) (string, error) {
	h, err := parseHashAlgorithm(s)
	if err != nil {
		return "", fmt.Errorf("trust: %w", err)
	}
	return hashName(h), nil
}

func parseHashAlgorithm(s string) (crypto.Hash, error) {
	switch strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "")) {
	case "SHA256":
		return crypto.SHA256, nil
	case "SHA384":
		return crypto.SHA384, nil
	case "SHA512":
		return crypto.SHA512, nil
	case "SHA1":
		return 0, fmt.Errorf("hash algorithm %q is not supported for certificate fingerprints: SHA-1 is broken; use SHA256, SHA384 or SHA512", s)
	}
	return 0, fmt.Errorf("hash algorithm %q is not supported: use SHA256, SHA384 or SHA512", s)
}

func hashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA384:
		return "SHA384"
	case crypto.SHA512:
		return "SHA512"
	}
	return "SHA256"
}

// NormalizeFingerprint checks that fp is the hex of a hash made with alg
// and returns it in upper case.
func NormalizeFingerprint(fp, alg string) (string, error) {
	s, err := normalizeFingerprint(fp, alg)
	if err != nil {
		return "", fmt.Errorf("trust: %w", err)
	}
	return s, nil
}

func normalizeFingerprint(fp, alg string) (string, error) {
	h, err := parseHashAlgorithm(alg)
	if err != nil {
		return "", err
	}
	fp = strings.TrimSpace(fp)
	if _, err := hex.DecodeString(fp); err != nil {
		return "", fmt.Errorf("fingerprint %q is not hexadecimal", fp)
	}
	if len(fp) != 2*h.Size() {
		return "", fmt.Errorf("fingerprint %q has %d hex digits; a %s fingerprint has %d", fp, len(fp), hashName(h), 2*h.Size())
	}
	return strings.ToUpper(fp), nil
}

// ValidateServiceIndex checks that u is an absolute https URL, as NuGet
// requires of a repository's service index.
func ValidateServiceIndex(u string) error {
	p, err := url.Parse(u)
	if err != nil || !strings.EqualFold(p.Scheme, "https") || p.Host == "" {
		return fmt.Errorf("trust: the repository service index %q is not a valid https URL", u)
	}
	return nil
}

// ParseOwners splits a ';'-separated owners list as NuGet does: each name
// trimmed; empty names are dropped.
func ParseOwners(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ";") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// parseSigner reads an <author> or <repository> element. It reports what
// plain NuGet would also ignore as warnings and what makes the entry
// meaningless or unsafe as errors.
func parseSigner(file string, n *node, warn func(line int, format string, args ...any)) (*Signer, error) {
	fail := func(line int, format string, args ...any) error {
		return &ConfigError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	s := &Signer{File: file, Line: n.line, Kind: KindAuthor}
	if n.is("repository") {
		s.Kind = KindRepository
	}
	elem := string(s.Kind)
	name, ok := n.attr("name")
	if !ok || strings.TrimSpace(name) == "" {
		return nil, fail(n.line, "<%s> needs a non-empty name attribute", elem)
	}
	s.Name = name
	if s.Kind == KindRepository {
		si, ok := n.attr("serviceIndex")
		if !ok {
			return nil, fail(n.line, "<repository name=%q> needs a serviceIndex attribute", name)
		}
		if err := ValidateServiceIndex(si); err != nil {
			return nil, fail(n.line, "<repository name=%q>: the serviceIndex %q is not an absolute https URL", name, si)
		}
		s.ServiceIndex = si
	}
	sawOwners := false
	for _, c := range n.children {
		switch {
		case c.kind == textNode:
			if strings.TrimSpace(c.text) != "" {
				warn(c.line, "text inside <%s name=%q> is ignored", elem, name)
			}
		case c.kind != elementNode:
		case c.is("certificate"):
			e, err := parseCertificate(c)
			if err != nil {
				return nil, fail(c.line, "<%s name=%q>: %v", elem, name, err)
			}
			s.Certificates = append(s.Certificates, e)
		case c.is("owners"):
			if s.Kind != KindRepository {
				return nil, fail(c.line, "<author name=%q>: owners are only allowed in <repository> entries", name)
			}
			if sawOwners {
				return nil, fail(c.line, "<repository name=%q> has more than one <owners>", name)
			}
			sawOwners = true
			text, hasElem := c.content()
			s.Owners = ParseOwners(text)
			if hasElem || len(s.Owners) == 0 {
				return nil, fail(c.line, "<repository name=%q>: <owners> must hold a ';'-separated list of owner names and nothing else", name)
			}
		case c.is("certificateIdentity"):
			id := Identity{}
			id.Subject, _ = c.attr("subject")
			id.Issuer, _ = c.attr("issuer")
			id.EKU, _ = c.attr("eku")
			if _, err := id.compile(); err != nil {
				return nil, fail(c.line, "<%s name=%q>: <certificateIdentity>: %v", elem, name, err)
			}
			s.Identities = append(s.Identities, id)
		default:
			warn(c.line, "unknown element <%s> inside <%s name=%q> is ignored", qname(c.name), elem, name)
		}
	}
	if len(s.Certificates) == 0 {
		if len(s.Identities) == 0 {
			return nil, fail(n.line, "<%s name=%q> has no <certificate>", elem, name)
		}
		warn(n.line, "<%s name=%q> has only <certificateIdentity> entries; plain NuGet refuses a trusted signer without a <certificate>", elem, name)
	}
	return s, nil
}

// parseCertificate reads a <certificate> element: all three attributes are
// required (spec 5.6).
func parseCertificate(n *node) (CertEntry, error) {
	var e CertEntry
	if len(n.elements()) > 0 {
		return e, fmt.Errorf("<certificate> cannot have child elements")
	}
	get := func(a string) (string, error) {
		v, ok := n.attr(a)
		if !ok {
			return "", fmt.Errorf("<certificate> needs the attribute %s", a)
		}
		return v, nil
	}
	fp, err := get("fingerprint")
	if err != nil {
		return e, err
	}
	alg, err := get("hashAlgorithm")
	if err != nil {
		return e, err
	}
	untrusted, err := get("allowUntrustedRoot")
	if err != nil {
		return e, err
	}
	h, err := parseHashAlgorithm(alg)
	if err != nil {
		return e, err
	}
	e.HashAlgorithm = hashName(h)
	if e.Fingerprint, err = normalizeFingerprint(fp, e.HashAlgorithm); err != nil {
		return e, err
	}
	b, err := strconv.ParseBool(strings.TrimSpace(untrusted))
	if err != nil || !strings.EqualFold(strings.TrimSpace(untrusted), strconv.FormatBool(b)) {
		return e, fmt.Errorf("allowUntrustedRoot=%q is neither true nor false", untrusted)
	}
	e.AllowUntrustedRoot = b
	return e, nil
}
