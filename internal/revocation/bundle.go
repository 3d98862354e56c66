package revocation

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/signet-nuget/signet/internal/atomicfile"
)

// PEM block types of a bundle file: "X509 CRL" is the type of RFC 7468 5.3;
// "OCSP RESPONSE" is ours (OpenSSL writes OCSP responses as bare DER).
const (
	PEMTypeCRL          = "X509 CRL"
	PEMTypeOCSPResponse = "OCSP RESPONSE"
)

// bundleFilePerm: a bundle holds public data.
const bundleFilePerm = 0o644

// Bundle is an offline revocation bundle: OCSP responses and CRLs, carried
// to machines that cannot reach the responders. Its file form is PEM: one
// block per item, of type PEMTypeOCSPResponse or PEMTypeCRL, holding the
// DER as the responder or distribution point served it; text between blocks
// is ignored. Nothing in a bundle is trusted: an item answers for a
// certificate only after the same verification as a network answer,
// against the issuer given to Check, so a bundle can come from anywhere.
//
// A Bundle is safe for concurrent lookups once built; Add methods must not
// run concurrently with anything else.
type Bundle struct {
	ocsp []*ocspResponse
	crls []*parsedCRL
	seen map[[sha256.Size]byte]bool
}

// ParseBundle parses a bundle file. Every block must parse as its type says;
// other block types, block headers and a truncated block are errors.
func ParseBundle(data []byte) (*Bundle, error) {
	if len(data) > maxBundleSize {
		return nil, fmt.Errorf("%w: bundle of %d bytes (limit %d)", ErrTooLarge, len(data), maxBundleSize)
	}
	b := &Bundle{}
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if n > maxBundleBlocks {
			return nil, fmt.Errorf("%w: bundle has more than %d blocks", ErrTooLarge, maxBundleBlocks)
		}
		if len(block.Headers) > 0 {
			return nil, fmt.Errorf("%w bundle: block %d has PEM headers", ErrMalformed, n)
		}
		var err error
		switch block.Type {
		case PEMTypeOCSPResponse:
			err = b.AddOCSPResponse(block.Bytes)
		case PEMTypeCRL:
			err = b.AddCRL(block.Bytes)
		default:
			err = fmt.Errorf("%w bundle: block type %q (want %q or %q)", ErrMalformed, block.Type, PEMTypeOCSPResponse, PEMTypeCRL)
		}
		if err != nil {
			return nil, fmt.Errorf("revocation: bundle block %d: %w", n, err)
		}
	}
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		return nil, fmt.Errorf("%w bundle: a PEM block is truncated or damaged", ErrMalformed)
	}
	return b, nil
}

// ReadBundle reads and parses a bundle file.
func ReadBundle(path string) (*Bundle, error) {
	data, err := readCacheFile(path, maxBundleSize)
	if err != nil {
		return nil, fmt.Errorf("revocation: bundle: %w", err)
	}
	b, err := ParseBundle(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %q)", err, path)
	}
	return b, nil
}

// WriteBundle writes b to path atomically.
func WriteBundle(path string, b *Bundle) error {
	if err := atomicfile.WriteFile(path, b.Marshal(), bundleFilePerm); err != nil {
		return fmt.Errorf("revocation: writing bundle: %w", err)
	}
	return nil
}

// Marshal returns the file form of b: its OCSP responses, then its CRLs, in
// the order they were added.
func (b *Bundle) Marshal() []byte {
	var out bytes.Buffer
	for _, r := range b.ocsp {
		pem.Encode(&out, &pem.Block{Type: PEMTypeOCSPResponse, Bytes: r.raw})
	}
	for _, p := range b.crls {
		pem.Encode(&out, &pem.Block{Type: PEMTypeCRL, Bytes: p.raw})
	}
	return out.Bytes()
}

// Len returns the number of OCSP responses and CRLs in b.
func (b *Bundle) Len() (ocspResponses, crls int) { return len(b.ocsp), len(b.crls) }

// AddOCSPResponse adds a DER OCSP response, which must parse; a response
// already in b is not added twice.
func (b *Bundle) AddOCSPResponse(der []byte) error {
	if b.has(der) {
		return nil
	}
	r, err := parseOCSPResponse(bytes.Clone(der))
	if err != nil {
		return err
	}
	b.addOCSP(r)
	return nil
}

// AddCRL adds a DER CRL, which must parse and be of a kind this package
// uses (not a delta CRL, for one); a CRL already in b is not added twice.
func (b *Bundle) AddCRL(der []byte) error {
	if b.has(der) {
		return nil
	}
	p, err := parseCRL(bytes.Clone(der))
	if err != nil {
		return err
	}
	b.addCRL(p)
	return nil
}

// Add adds the evidence of a Good or Revoked result (Result.Raw).
func (b *Bundle) Add(r Result) error {
	switch r.Source {
	case SourceOCSP:
		return b.AddOCSPResponse(r.Raw)
	case SourceCRL:
		return b.AddCRL(r.Raw)
	}
	return errors.New("revocation: result carries no evidence to bundle")
}

func (b *Bundle) addOCSP(r *ocspResponse) {
	if !b.has(r.raw) {
		b.ocsp = append(b.ocsp, r)
		b.seen[sha256.Sum256(r.raw)] = true
	}
}

func (b *Bundle) addCRL(p *parsedCRL) {
	if !b.has(p.raw) {
		b.crls = append(b.crls, p)
		b.seen[sha256.Sum256(p.raw)] = true
	}
}

// has reports whether der is already in b.
func (b *Bundle) has(der []byte) bool {
	if b.seen == nil {
		b.seen = map[[sha256.Size]byte]bool{}
	}
	return b.seen[sha256.Sum256(der)]
}

// lookup returns the status the bundle gives cert at now: from the
// verified OCSP response, or failing that the verified CRL, with the latest
// thisUpdate. When none verifies it returns the failures of the items that
// name cert, or errNotCached when none does.
func (b *Bundle) lookup(cert, issuer *x509.Certificate, now time.Time) (Result, error) {
	var best Result
	var errs []error
	consider := func(r Result, err error) {
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%w (bundle)", err))
		case best.Status == Unknown || r.ThisUpdate.After(best.ThisUpdate):
			best = r
		}
	}
	oc := ocspCheck{cert: cert, issuer: issuer, now: now}
	for _, r := range b.ocsp {
		if slices.ContainsFunc(r.responses, func(s singleResponse) bool { return s.certID.serial.Cmp(cert.SerialNumber) == 0 }) {
			consider(verifyParsedOCSP(r, oc))
		}
	}
	if best.Status == Unknown {
		for _, p := range b.crls {
			if bytes.Equal(p.list.RawIssuer, issuer.RawSubject) {
				consider(verifyCRL(p, cert, issuer, now))
			}
		}
	}
	switch {
	case best.Status != Unknown:
		best.Origin = OriginBundle
		return best, nil
	case len(errs) == 0:
		return Result{}, errNotCached
	}
	return Result{}, errors.Join(errs...)
}

// BundleFromCache returns a bundle of the entries of a cache directory
// (Checker.CacheDir) that are still current at now, for machines without
// network access. Files that do not parse are left out (no Checker would
// use them either).
func BundleFromCache(dir string, now time.Time) (*Bundle, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("revocation: cache directory: %w", err)
	}
	b := &Bundle{}
	for _, e := range entries {
		kind, ok := cacheFileKind(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		switch kind {
		case SourceOCSP:
			data, err := readCacheFile(path, maxOCSPResponseSize)
			if err != nil {
				continue
			}
			if r, err := parseOCSPResponse(data); err == nil && ocspCurrent(r, now) {
				b.addOCSP(r)
			}
		case SourceCRL:
			data, err := readCacheFile(path, maxCRLSize)
			if err != nil {
				continue
			}
			if p, err := parseCRL(data); err == nil && !now.After(p.list.NextUpdate.Add(maxClockSkew)) {
				b.addCRL(p)
			}
		}
	}
	return b, nil
}

// ocspCurrent reports whether one of r's single responses has a nextUpdate
// after now.
func ocspCurrent(r *ocspResponse, now time.Time) bool {
	return slices.ContainsFunc(r.responses, func(s singleResponse) bool {
		return !s.nextUpdate.IsZero() && !now.After(s.nextUpdate.Add(maxClockSkew))
	})
}
