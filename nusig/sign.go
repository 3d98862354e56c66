package nusig

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/pki"
	"github.com/signet-nuget/signet/nupkg"
)

// Timestamper obtains an RFC 3161 timestamp token over data. The token it
// returns (a DER ContentInfo) must already have been checked against the
// request: status, nonce, message imprint and the TSA's signature.
type Timestamper interface {
	Timestamp(ctx context.Context, data []byte, h crypto.Hash) (token []byte, err error)
}

// SignOptions says who signs and how. The zero value of each optional field
// is NuGet's default.
type SignOptions struct {
	Signer      crypto.Signer
	Certificate *x509.Certificate
	// Chain holds the certificates embedded after the signing certificate:
	// intermediates and, when known, the root, as NuGet embeds them.
	Chain []*x509.Certificate
	// Hash is the package hash and signature digest algorithm: SHA-256 (the
	// default when zero), SHA-384 or SHA-512.
	Hash crypto.Hash
	// Timestamper, when set, timestamps the signature. Without it the
	// signature is made without a timestamp (the CLI warns with NU3002).
	Timestamper Timestamper
	// TimestampHash is the message-imprint algorithm; SHA-256 when zero.
	TimestampHash crypto.Hash
	// Now returns the signing time; time.Now when nil.
	Now func() time.Time
}

func (o *SignOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *SignOptions) hashes() (crypto.Hash, crypto.Hash, error) {
	h, th := o.Hash, o.TimestampHash
	if h == 0 {
		h = crypto.SHA256
	}
	if th == 0 {
		th = crypto.SHA256
	}
	if _, ok := hashOIDString(h); !ok {
		return 0, 0, newIssueError(NU3001, "hash algorithm %v is not supported: use SHA256, SHA384 or SHA512", h)
	}
	if _, ok := hashOIDString(th); !ok {
		return 0, 0, newIssueError(NU3001, "timestamp hash algorithm %v is not supported: use SHA256, SHA384 or SHA512", th)
	}
	return h, th, nil
}

// PrecheckOptions configure CheckSigningCertificate.
type PrecheckOptions struct {
	// Pool holds the certificates that come with the signing certificate
	// (intermediates, root), used to build its chain.
	Pool []*x509.Certificate
	// Roots are the trusted code-signing roots.
	Roots []*x509.Certificate
	// AllowUntrustedRoot turns an untrusted root into a warning, as
	// nuget.exe 7.6's -AllowUntrustedRoot does. A self-issued certificate's
	// untrusted root is always only a warning.
	AllowUntrustedRoot bool
	// Now is the time of the checks; time.Now when zero.
	Now time.Time
	// Revocation, when set, checks the chain: a revoked certificate is an
	// NU3018 error, unknown revocation a warning, as when NuGet signs.
	Revocation RevocationChecker
	// Context bounds the revocation checks; context.Background when nil.
	Context context.Context
}

// CheckSigningCertificate applies the checks NuGet makes before it signs
// (spec 3.6): a sha256/384/512 RSA certificate signature (NU3013), an RSA key
// of at least 2048 bits (NU3014), no lifetime-signing EKU (NU3015), already
// valid (NU3017), then the chain built at now for code signing: expired,
// not valid for code signing, partial or untrusted (NU3018). It returns the
// first error; warnings are returned as the first value.
func CheckSigningCertificate(c *x509.Certificate, o PrecheckOptions) (warnings []string, err error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	issues := pki.CheckSigningCertificate(c, now)
	issues = append(issues, pki.CheckSigningChain(c, pki.ChainOptions{Roots: o.Roots, Pool: o.Pool}, now)...)
	for _, is := range issues {
		if is.Severity == pki.SeverityError && !(is.Rule == pki.RuleUntrustedRoot && o.AllowUntrustedRoot) {
			return warnings, newIssueError(Code(is.Code), "%s", is.Message)
		}
		if is.Severity != pki.SeverityInfo {
			warnings = append(warnings, is.Code+": "+is.Message)
		}
	}
	if o.Revocation == nil {
		return warnings, nil
	}
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	chain := pki.BuildChain(c, pki.ChainOptions{Roots: o.Roots, Pool: o.Pool, Usage: x509.ExtKeyUsageCodeSigning}).Certificates
	for i := 0; i+1 < len(chain); i++ {
		st, at, err := o.Revocation.Check(ctx, chain[i], chain[i+1])
		switch st {
		case RevocationRevoked:
			return warnings, newIssueError(NU3018, "the certificate %q in the signing certificate's chain was revoked at %s", chain[i].Subject.String(), at.UTC().Format(time.RFC3339))
		case RevocationUnknown:
			msg := fmt.Sprintf("NU3018: the revocation status of %q is unknown", chain[i].Subject.String())
			if err != nil {
				// The checker's error nests its context; its last part says why.
				e := err.Error()
				msg += " (" + strings.TrimSpace(e[strings.LastIndex(e, ": ")+1:]) + ")"
			}
			warnings = append(warnings, msg)
			return warnings, nil
		}
	}
	return warnings, nil
}

// Request is one signing operation on a package.
type Request struct {
	SignOptions
	// Type is TypeAuthor or TypeRepository.
	Type Type
	// Repository holds the repository attributes; required for TypeRepository.
	Repository *RepositoryInfo
	// Overwrite allows replacing an existing signature: for an author
	// signature, the whole signature; for a repository signature, an existing
	// repository primary signature or countersignature (the author signature
	// is kept).
	Overwrite bool
}

// SignPackage writes to dst the package p signed as r asks.
//
// An author signature (or a repository signature on an unsigned package)
// becomes the primary signature. A repository signature on an author-signed
// package becomes a repository countersignature: the author signature, and so
// the package hash, are kept. SignPackage never writes partial output on
// error only if dst is discarded by the caller; write to a temporary file and
// rename it on success.
func SignPackage(ctx context.Context, dst io.Writer, p *nupkg.Package, r Request) error {
	if r.Signer == nil || r.Certificate == nil {
		return newIssueError(NU3001, "no signing certificate and key")
	}
	if r.Type != TypeAuthor && r.Type != TypeRepository {
		return fmt.Errorf("nusig: cannot sign with signature type %v", r.Type)
	}
	h, _, err := r.hashes()
	if err != nil {
		return err
	}
	if p.IsZip64() {
		return newIssueError(NU3006, "signed Zip64 packages are not supported")
	}
	var sig []byte
	switch {
	case !p.IsSigned():
		sig, err = primarySignature(ctx, p, h, r)
	case r.Type == TypeAuthor:
		if !r.Overwrite {
			return newIssueError(NU3001, "the package already contains a signature; use --overwrite to replace it")
		}
		sig, err = primarySignature(ctx, p, h, r)
	default:
		sig, err = repositorySignSigned(ctx, p, h, r)
	}
	if err != nil {
		return err
	}
	if err := nupkg.Sign(dst, p, sig, r.now()); err != nil {
		return fmt.Errorf("nusig: writing the signed package: %w", err)
	}
	return nil
}

// repositorySignSigned repository-signs a package that already carries a
// signature: a countersignature over an author signature, or a new primary
// repository signature replacing an existing one when overwriting.
func repositorySignSigned(ctx context.Context, p *nupkg.Package, h crypto.Hash, r Request) ([]byte, error) {
	old, err := p.Signature()
	if err != nil {
		return nil, err
	}
	sd, err := cms.Parse(old)
	if err != nil {
		return nil, wrapIssueError(NU3003, err, "the existing package signature cannot be read")
	}
	if len(sd.SignerInfos) != 1 {
		return nil, newIssueError(NU3009, "the existing package signature does not contain exactly one primary signature")
	}
	t, err := signatureType(sd.SignerInfos[0])
	if err != nil {
		return nil, err
	}
	switch t {
	case TypeRepository:
		if !r.Overwrite {
			return nil, newIssueError(NU3001, "the package already has a repository signature; use --overwrite to replace it")
		}
		return primarySignature(ctx, p, h, r)
	case TypeUnknown:
		return nil, newIssueError(NU3000, "the existing primary signature is of unknown type; only author signatures can be countersigned")
	}
	// Countersigning trusts nothing it cannot see: the author signature must
	// still match the package's bytes.
	if err := checkIntegrity(p, sd); err != nil {
		return nil, err
	}
	return countersign(ctx, sd, h, r)
}

// primarySignature builds the .signature.p7s of a primary signature over p
// (spec 3.2, 3.3): the signature content naming the hash of the unsigned
// package, signed with the NuGet attributes, timestamped.
func primarySignature(ctx context.Context, p *nupkg.Package, h crypto.Hash, r Request) ([]byte, error) {
	sum, err := p.HashUnsigned(h)
	if err != nil {
		return nil, fmt.Errorf("nusig: hashing the package: %w", err)
	}
	content, err := Content{Hash: h, HashValue: sum}.Marshal()
	if err != nil {
		return nil, err
	}
	si, err := newSignerInfo(ctx, content, r.Type, h, r)
	if err != nil {
		return nil, err
	}
	sd := cms.NewSignedData(cms.OIDData, content, si, chainDER(r.Certificate, r.Chain))
	return sd.Marshal()
}

// countersign adds a repository countersignature to the primary SignerInfo of
// sd (spec 3.5). An existing repository countersignature is an error (NU3032)
// unless overwriting, which replaces it; other countersignatures are kept.
func countersign(ctx context.Context, sd *cms.SignedData, h crypto.Hash, r Request) ([]byte, error) {
	primary := sd.SignerInfos[0]
	existing, err := primary.Countersignatures()
	if err != nil {
		return nil, wrapIssueError(NU3031, err, "the existing countersignatures cannot be read")
	}
	var keep [][]byte
	for _, cs := range existing {
		t, err := signatureType(cs)
		if err == nil && t == TypeRepository {
			if !r.Overwrite {
				return nil, newIssueError(NU3032, "the package already has a repository countersignature; use --overwrite to replace it")
			}
			continue
		}
		keep = append(keep, cs.Raw)
	}
	csi, err := newSignerInfo(ctx, primary.Signature, TypeRepository, h, r)
	if err != nil {
		return nil, err
	}
	raw, err := csi.Marshal()
	if err != nil {
		return nil, err
	}
	primary.SetUnsignedAttr(cms.Attribute{Type: cms.OIDCounterSignature, Values: append(keep, raw)})
	sd.AddCertificates(chainDER(r.Certificate, r.Chain)...)
	return sd.Marshal()
}

// newSignerInfo signs data (the signature content, or for a
// countersignature the primary signature value) with the NuGet attributes of
// a signature of type t, and timestamps it.
//
// Every real repository countersignature (nuget.org's, other feeds') carries
// content-type id-data, although RFC 5652 11.4 and spec 3.5 say it should
// not: Signet writes what the real ones carry, so a countersignature gets
// the same attributes as a primary signature.
func newSignerInfo(ctx context.Context, data []byte, t Type, h crypto.Hash, r Request) (*cms.SignerInfo, error) {
	attrs, err := signedAttributes(t, r.Certificate, h, r.now(), r.Repository)
	if err != nil {
		return nil, err
	}
	si, err := cms.NewSignerInfo(data, cms.SignerOptions{
		Signer:      r.Signer,
		Certificate: r.Certificate,
		Hash:        h,
		Attributes:  attrs,
		ContentType: cms.OIDData,
	})
	if err != nil {
		return nil, wrapIssueError(NU3001, err, "signing failed")
	}
	if err := timestamp(ctx, si, r.SignOptions); err != nil {
		return nil, err
	}
	return si, nil
}

// timestamp requests a timestamp over the signature value of si and adds the
// token as its signature-time-stamp unsigned attribute (spec 4.1, 4.2).
func timestamp(ctx context.Context, si *cms.SignerInfo, o SignOptions) error {
	if o.Timestamper == nil {
		return nil
	}
	_, th, err := o.hashes()
	if err != nil {
		return err
	}
	token, err := o.Timestamper.Timestamp(ctx, si.Signature, th)
	if err != nil {
		var ie *Error
		if errors.As(err, &ie) {
			return err
		}
		return wrapIssueError(NU3000, err, "timestamping failed")
	}
	si.AddUnsignedAttrValue(cms.OIDTimeStampToken, token)
	return nil
}

// checkIntegrity compares the package's unsigned hash with the hash in the
// signature content (spec 2.2); a mismatch is NU3008.
func checkIntegrity(p *nupkg.Package, sd *cms.SignedData) error {
	c, err := ParseContent(sd.EContent)
	if err != nil {
		return err
	}
	sum, err := p.HashUnsigned(c.Hash)
	if err != nil {
		return wrapIssueError(NU3008, err, "the package integrity check failed")
	}
	if !bytes.Equal(sum, c.HashValue) {
		return newIssueError(NU3008, "the package integrity check failed: the package has changed since it was signed")
	}
	return nil
}

// chainDER returns the DER of leaf and chain, without duplicates.
func chainDER(leaf *x509.Certificate, chain []*x509.Certificate) [][]byte {
	out := [][]byte{leaf.Raw}
	seen := map[string]bool{string(leaf.Raw): true}
	for _, c := range chain {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			out = append(out, c.Raw)
		}
	}
	return out
}
