package trust

import (
	_ "crypto/sha256" // SHA-256 fingerprints
	_ "crypto/sha512" // SHA-384 and SHA-512 fingerprints
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/signet-nuget/signet/nusig"
)

// Target says which signatures an allow-list entry may vouch for.
type Target uint8

const (
	// TargetAuthor: the author primary signature only (an <author> entry:
	// target Author, placement Primary).
	TargetAuthor Target = 1 << iota
	// TargetRepository: a repository primary signature or a repository
	// countersignature (a <repository> entry: target Repository, placement
	// Any).
	TargetRepository
)

// Entry is one certificate of the allow list after entries with the same
// (hash algorithm, fingerprint) are merged, as NuGet's
// TrustedSignersProvider.GetAllowListEntries merges them.
type Entry struct {
	HashAlgorithm string // SHA256, SHA384 or SHA512
	Fingerprint   string // upper-case hex
	Targets       Target
	// Owners is the union of the owners of the repository entries that
	// list the certificate; empty means any owner.
	Owners             []string
	AllowUntrustedRoot bool
	Signers            []string // names of the entries merged here
}

// IdentityEntry is one certificate identity of the allow list.
type IdentityEntry struct {
	Identity
	Target Target
	Owners []string
	Signer string

	compiled compiledIdentity
}

// Policy is the client trust policy of spec 5.6: the trustedSigners allow
// list and the validation mode.
type Policy struct {
	// RequireMode is signatureValidationMode=require: an empty allow list
	// then fails every signed package (NU3034).
	RequireMode bool
	Entries     []Entry
	Identities  []IdentityEntry
	// Warnings holds the NU3040 warnings raised while merging entries, to
	// be reported once (NuGet logs them when it builds the list), not per
	// package.
	Warnings []nusig.Issue
}

// Policy builds the allow list from the merged trusted signers.
func (c *Config) Policy() *Policy {
	p := NewPolicy(c.TrustedSigners())
	p.RequireMode = c.SignatureValidationMode() == ModeRequire
	return p
}

// NewPolicy builds an allow list from signers (RequireMode false). Entries
// with the same (algorithm, fingerprint) merge: their targets are OR-ed,
// their owners unioned, and conflicting allowUntrustedRoot values give a
// NU3040 warning and false.
func NewPolicy(signers []Signer) *Policy {
	p := &Policy{}
	index := map[string]int{}
	for _, s := range signers {
		t := TargetAuthor
		if s.Kind == KindRepository {
			t = TargetRepository
		}
		for _, c := range s.Certificates {
			key := c.HashAlgorithm + "-" + strings.ToUpper(c.Fingerprint)
			i, ok := index[key]
			if !ok {
				index[key] = len(p.Entries)
				p.Entries = append(p.Entries, Entry{
					HashAlgorithm:      c.HashAlgorithm,
					Fingerprint:        strings.ToUpper(c.Fingerprint),
					Targets:            t,
					Owners:             ownersOf(s, t),
					AllowUntrustedRoot: c.AllowUntrustedRoot,
					Signers:            []string{s.Name},
				})
				continue
			}
			e := &p.Entries[i]
			if e.AllowUntrustedRoot != c.AllowUntrustedRoot {
				p.Warnings = append(p.Warnings, nusig.Issue{Code: nusig.NU3040, Severity: nusig.SeverityWarning,
					Message: fmt.Sprintf("The trusted signer entries %s and %q list the certificate %s - %s with different allowUntrustedRoot values; it is treated as allowUntrustedRoot=\"false\"", quoteList(e.Signers), s.Name, c.HashAlgorithm, e.Fingerprint)})
				e.AllowUntrustedRoot = false
			}
			e.Targets |= t
			for _, o := range ownersOf(s, t) {
				if !slices.Contains(e.Owners, o) {
					e.Owners = append(e.Owners, o)
				}
			}
			e.Signers = append(e.Signers, s.Name)
		}
		for _, id := range s.Identities {
			ci, err := id.compile()
			if err != nil {
				continue // Load refuses these; a hand-built Signer may hold one
			}
			p.Identities = append(p.Identities, IdentityEntry{Identity: id, Target: t, Owners: ownersOf(s, t), Signer: s.Name, compiled: ci})
		}
	}
	return p
}

func ownersOf(s Signer, t Target) []string {
	if t != TargetRepository {
		return nil
	}
	return append([]string(nil), s.Owners...)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// Empty reports whether the allow list has no entry.
func (p *Policy) Empty() bool { return len(p.Entries) == 0 && len(p.Identities) == 0 }

// hasAuthorEntries reports whether any entry may vouch for an author
// signature.
func (p *Policy) hasAuthorEntries() bool {
	for _, e := range p.Entries {
		if e.Targets&TargetAuthor != 0 {
			return true
		}
	}
	for _, e := range p.Identities {
		if e.Target&TargetAuthor != 0 {
			return true
		}
	}
	return false
}

// AllowUntrustedRootFingerprints returns the upper-case SHA-256 fingerprints
// of the entries with allowUntrustedRoot="true", for
// nusig.VerifyOptions.AllowUntrustedRootFingerprints. nusig compares SHA-256
// fingerprints only, so SHA-384 and SHA-512 entries are not in the list; use
// UntrustedRootAllowed for those.
func (p *Policy) AllowUntrustedRootFingerprints() []string {
	var out []string
	for _, e := range p.Entries {
		if e.AllowUntrustedRoot && e.HashAlgorithm == "SHA256" {
			out = append(out, e.Fingerprint)
		}
	}
	return out
}

// UntrustedRootAllowed reports whether an entry with allowUntrustedRoot="true"
// names cert, whatever the entry's hash algorithm. As in NuGet, the entry's
// target does not matter.
func (p *Policy) UntrustedRootAllowed(cert *x509.Certificate) bool {
	for _, e := range p.Entries {
		if e.AllowUntrustedRoot && fingerprintOf(cert, e.HashAlgorithm) == e.Fingerprint {
			return true
		}
	}
	return false
}

// Configure sets what the policy decides in verification options: the
// allowUntrustedRoot fingerprints (appended) and, from the config, offline
// revocation.
func (c *Config) Configure(o *nusig.VerifyOptions) {
	pol := c.Policy()
	o.AllowUntrustedRootFingerprints = append(o.AllowUntrustedRootFingerprints, pol.AllowUntrustedRootFingerprints()...)
	o.UntrustedRootAllowed = pol.UntrustedRootAllowed
	if c.RevocationMode() == RevocationOffline {
		o.OfflineRevocation = true
	}
}

// RestoreOptions returns restore's verification settings for the
// configured mode (nusig.AcceptModeOptions or RequireModeOptions), set up by
// Configure.
func (c *Config) RestoreOptions() nusig.VerifyOptions {
	o := nusig.AcceptModeOptions()
	if c.SignatureValidationMode() == ModeRequire {
		o = nusig.RequireModeOptions()
	}
	c.Configure(&o)
	return o
}

// fingerprintOf returns cert's upper-case hex fingerprint with alg.
func fingerprintOf(cert *x509.Certificate, alg string) string {
	if cert == nil {
		return ""
	}
	h, err := parseHashAlgorithm(alg)
	if err != nil || !h.Available() {
		return ""
	}
	w := h.New()
	w.Write(cert.Raw)
	return strings.ToUpper(hex.EncodeToString(w.Sum(nil)))
}
