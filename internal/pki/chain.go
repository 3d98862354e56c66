package pki

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// Chain building as NuGet needs it (spec 5.3 step 5, 4.3): certificates come
// from a bag with duplicates, leftovers and cross-certificates (fixtures
// README items 1–3), time validity is ignored while building (the caller
// decides validity from timestamps, spec 4.4), and the leaf must be valid for
// one purpose (code signing or timestamping).
//
// crypto/x509's Verify cannot be used as is: it checks every certificate's
// validity at one instant, so a package signed years ago with a since-expired
// certificate, or a chain through an expired intermediate, would not build.

// maxChainDepth bounds chain building: real chains are 3–4 certificates; a
// deeper one is a loop or an attack.
const maxChainDepth = 8

// maxParentCandidates bounds the work per step: a bag with hundreds of
// certificates sharing one subject is an attack.
const maxParentCandidates = 16

// maxSignatureChecks bounds the signature verifications of one BuildChain
// call: a real chain needs 3–6, with duplicates and cross-certificates a
// dozen; a bag of certificates that issue each other in a loop would
// otherwise make the search exponential (a denial of service on a feed that
// verifies uploads).
const maxSignatureChecks = 64

// maxWalkSteps bounds the paths one BuildChain call explores, for the same
// reason.
const maxWalkSteps = 256

// ChainStatus says why a chain is not trusted.
type ChainStatus int

const (
	// ChainTrusted: the chain ends at a trust anchor.
	ChainTrusted ChainStatus = iota
	// ChainUntrustedRoot: the chain ends at a self-signed certificate that is
	// not a trust anchor (NuGet: UntrustedRoot).
	ChainUntrustedRoot
	// ChainPartial: no issuer was found for some certificate (PartialChain).
	ChainPartial
	// ChainNotValidForUsage: the leaf or an intermediate does not allow the
	// purpose (NotValidForUsage).
	ChainNotValidForUsage
)

func (s ChainStatus) String() string {
	switch s {
	case ChainTrusted:
		return "trusted"
	case ChainUntrustedRoot:
		return "untrusted root"
	case ChainPartial:
		return "partial chain"
	case ChainNotValidForUsage:
		return "not valid for usage"
	}
	return fmt.Sprintf("ChainStatus(%d)", int(s))
}

// ChainOptions are the inputs of BuildChain.
type ChainOptions struct {
	// Roots are the trust anchors.
	Roots []*x509.Certificate
	// Pool is the untrusted bag: the certificates embedded in the signature.
	Pool []*x509.Certificate
	// Usage is the extended key usage the leaf must allow:
	// x509.ExtKeyUsageCodeSigning or x509.ExtKeyUsageTimeStamping.
	Usage x509.ExtKeyUsage
}

// Chain is a built chain, leaf first.
type Chain struct {
	Certificates []*x509.Certificate
	Status       ChainStatus
}

// Root returns the last certificate of the chain: the trust anchor when the
// chain is trusted, else the certificate the chain stopped at.
func (c *Chain) Root() *x509.Certificate {
	return c.Certificates[len(c.Certificates)-1]
}

// BuildChain builds the best chain from leaf: a trusted one if any exists,
// else an untrusted-root one, else a partial one. The leaf's extended key
// usage is checked on the chain found (a certificate without the EKU
// extension allows every purpose; anyExtendedKeyUsage too).
func BuildChain(leaf *x509.Certificate, o ChainOptions) *Chain {
	b := &builder{o: o, sigs: map[[2]*x509.Certificate]bool{}, dead: map[*x509.Certificate]bool{}}
	best := b.walk([]*x509.Certificate{leaf})
	if best.Status == ChainTrusted || best.Status == ChainUntrustedRoot {
		for _, c := range best.Certificates[:len(best.Certificates)-1] {
			if !allowsUsage(c, o.Usage) {
				best.Status = ChainNotValidForUsage
				break
			}
		}
	}
	if best.Status == ChainPartial && !allowsUsage(leaf, o.Usage) {
		best.Status = ChainNotValidForUsage
	}
	return best
}

type builder struct {
	o      ChainOptions
	sigs   map[[2]*x509.Certificate]bool // signature checks done: {child, parent} → ok
	dead   map[*x509.Certificate]bool    // certificates from which no trusted chain was found
	checks int                           // signature verifications done
	steps  int                           // paths explored
}

// signedBy reports whether parent signed c, remembering the answer and
// counting the work against maxSignatureChecks; over the bound it answers
// false, so the search ends with what it found.
func (b *builder) signedBy(c, parent *x509.Certificate) bool {
	k := [2]*x509.Certificate{c, parent}
	if ok, done := b.sigs[k]; done {
		return ok
	}
	if verifiedCache.has(c, parent) {
		b.sigs[k] = true
		return true
	}
	if b.checks >= maxSignatureChecks {
		return false
	}
	b.checks++
	ok := CheckSignatureFrom(c, parent) == nil
	b.sigs[k] = ok
	if ok {
		verifiedCache.add(c, parent)
	}
	return ok
}

// rank orders outcomes: a trusted chain beats an untrusted root, which
// beats a partial chain.
func rank(s ChainStatus) int {
	switch s {
	case ChainTrusted:
		return 3
	case ChainUntrustedRoot:
		return 2
	}
	return 1
}

func (b *builder) walk(path []*x509.Certificate) *Chain {
	b.steps++
	cur := path[len(path)-1]
	if b.isAnchor(cur) {
		return &Chain{Certificates: clone(path), Status: ChainTrusted}
	}
	// A self-signed certificate ends a path: an untrusted root. Another
	// path through a cross-certificate of the same subject may still reach
	// an anchor; the caller's loop tries it.
	if bytes.Equal(cur.RawSubject, cur.RawIssuer) && b.signedBy(cur, cur) {
		return &Chain{Certificates: clone(path), Status: ChainUntrustedRoot}
	}
	best := &Chain{Certificates: clone(path), Status: ChainPartial}
	if len(path) >= maxChainDepth || b.dead[cur] || b.steps > maxWalkSteps {
		return best
	}
	for _, p := range b.parents(cur) {
		if inPath(path, p) {
			continue
		}
		c := b.walk(append(path, p))
		if rank(c.Status) > rank(best.Status) {
			best = c
			if best.Status == ChainTrusted {
				return best
			}
		}
	}
	// Nothing trusted lies above cur: later paths through it need not look
	// again (in a loop this is what keeps the search polynomial).
	b.dead[cur] = true
	return best
}

// isAnchor reports whether c is a trust anchor: the same certificate, or one
// with the same subject and public key (a cross-certificate of a trusted
// root, fixtures README item 3).
func (b *builder) isAnchor(c *x509.Certificate) bool {
	for _, r := range b.o.Roots {
		if bytes.Equal(r.Raw, c.Raw) {
			return true
		}
		if bytes.Equal(r.RawSubject, c.RawSubject) && bytes.Equal(r.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
			return true
		}
	}
	return false
}

// parents returns the certificates that issued c, trust anchors first.
func (b *builder) parents(c *x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	seen := map[string]bool{}
	for _, set := range [][]*x509.Certificate{b.o.Roots, b.o.Pool} {
		for _, p := range set {
			if len(out) >= maxParentCandidates {
				return out
			}
			if seen[string(p.Raw)] || !bytes.Equal(p.RawSubject, c.RawIssuer) {
				continue
			}
			if len(c.AuthorityKeyId) > 0 && len(p.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, p.SubjectKeyId) {
				continue
			}
			if p.Version >= 3 && (!p.BasicConstraintsValid || !p.IsCA) {
				continue
			}
			if !b.signedBy(c, p) {
				continue
			}
			seen[string(p.Raw)] = true
			out = append(out, p)
		}
	}
	return out
}

func inPath(path []*x509.Certificate, c *x509.Certificate) bool {
	for _, p := range path {
		if bytes.Equal(p.Raw, c.Raw) {
			return true
		}
	}
	return false
}

func clone(p []*x509.Certificate) []*x509.Certificate {
	return append([]*x509.Certificate(nil), p...)
}

// allowsUsage reports whether c's extended key usage allows u. No EKU
// extension allows everything, as on Windows and in crypto/x509.
func allowsUsage(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, e := range c.ExtKeyUsage {
		if e == u || e == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// CheckSignatureFrom checks that parent signed c. Unlike crypto/x509 it
// accepts SHA-1 RSA signatures, which old CA certificates in real chains
// still carry; whether a leaf's algorithm is acceptable is NuGet's separate
// rule (NU3013, NU3022).
func CheckSignatureFrom(c, parent *x509.Certificate) error {
	if c.SignatureAlgorithm == x509.SHA1WithRSA {
		pub, ok := parent.PublicKey.(*rsa.PublicKey)
		if !ok {
			return errors.New("pki: SHA-1 RSA signature from a non-RSA key")
		}
		sum := sha1.Sum(c.RawTBSCertificate)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], c.Signature)
	}
	return parent.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
}

// verifiedCache remembers certificate signatures found valid, across
// BuildChain calls: verifying many packages re-checks the same CA
// signatures, and an RSA verification costs more than the rest of a small
// package's verification. Only successes are kept, keyed by a hash of
// everything the check depends on (the child's signed bytes and signature,
// the parent's key), so a hit is as good as a check.
var verifiedCache = &sigCache{m: map[[32]byte]struct{}{}}

// maxVerifiedCache bounds the cache: a few thousand CA links cover any
// real workload; when full it is emptied and refills.
const maxVerifiedCache = 4096

type sigCache struct {
	mu sync.Mutex
	m  map[[32]byte]struct{}
}

func sigKey(c, parent *x509.Certificate) [32]byte {
	h := sha256.New()
	for _, b := range [][]byte{c.RawTBSCertificate, c.Signature, parent.RawSubjectPublicKeyInfo} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (s *sigCache) has(c, parent *x509.Certificate) bool {
	k := sigKey(c, parent)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[k]
	return ok
}

func (s *sigCache) add(c, parent *x509.Certificate) {
	k := sigKey(c, parent)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxVerifiedCache {
		clear(s.m)
	}
	s.m[k] = struct{}{}
}
