package feed

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/signet-nuget/signet/internal/store"
	"github.com/signet-nuget/signet/nupkg"
	"github.com/signet-nuget/signet/nusig"
)

// Signing configures signed submissions, as nuget.org takes them: author
// signatures are validated on push against the registration rules and
// nuget.org's acceptance rules, and every accepted package is repository
// signed by the feed before it is stored.
type Signing struct {
	// Certificate, Chain and Signer are the feed's repository signing
	// identity: the certificate (code signing EKU, RSA 2048+), the
	// certificates embedded after it, and its key (a file, a PKCS#11 token
	// or an external signer).
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	Signer      crypto.Signer
	// Previous are earlier repository certificates, still advertised in the
	// RepositorySignatures resource after a rotation, so that packages
	// signed with them keep verifying for clients that trust the feed.
	Previous []*x509.Certificate
	// Timestamper timestamps the repository signatures. Required.
	Timestamper nusig.Timestamper
	// Roots and TimestampRoots are the trusted code-signing and
	// timestamping roots that author signatures must chain to.
	Roots, TimestampRoots []*x509.Certificate
	// Revocation checks the certificates of author signatures (nil: the
	// status is unknown, which is reported but allowed, as nuget.org does).
	Revocation nusig.RevocationChecker
	// Recheck makes the checker of a revocation re-check run: a fresh one,
	// so that answers remembered since the push (until their nextUpdate)
	// do not hide a revocation. Nil: no re-checks.
	Recheck func() nusig.RevocationChecker
	// KeepForeignRepositorySignatures serves a package that carries another
	// feed's repository signature with that signature, instead of removing
	// it and signing the package as this feed (nuget.org's way, the default).
	KeepForeignRepositorySignatures bool
	// ServiceIndexURL is written into the repository signatures. NuGet
	// requires an https URL; empty means the feed's service index, with
	// https in place of http for a feed served over plain HTTP (such as the
	// embedded default on 127.0.0.1).
	ServiceIndexURL string
}

func (g *Signing) check() error {
	switch {
	case g.Certificate == nil || g.Signer == nil:
		return errors.New("feed: repository signing needs a certificate and its key")
	case g.Timestamper == nil:
		return errors.New("feed: repository signing needs a timestamp authority")
	}
	return nil
}

// nuget.org's messages for signed pushes (spec/gallery-rules.md).
const (
	msgMustSign         = "This package must be signed with a registered certificate."
	msgRegisterCert     = "The package was signed. You must register the signing certificate to publish signed packages."
	msgOwnerMustRegiste = "The package was signed. The owner '%s' must register the signing certificate to publish signed packages."
	msgUnregistered     = "The package was signed, but the signing certificate (SHA-256 thumbprint %s) is not associated with your account. You must register this certificate to publish signed packages."
	msgZip64            = "Zip64 packages are not supported."
	msgAuthorCounter    = "Author countersignatures are not supported."
	msgOnlyAuthor       = "Signed packages must only have an author signature. Other signature types are not supported."
	msgForeignRepoSig   = "The package carries a repository signature from another feed; this feed does not accept repository-signed packages."
)

// minRSABits is nuget.org's smallest accepted RSA key.
const minRSABits = 2048

// signed is a package as the feed will serve it, and the facts of its
// signatures.
type signed struct {
	file  *os.File // nil: the upload as it is
	size  int64
	sum   []byte // SHA-512 of file
	pkg   *nupkg.Package
	facts *signatureFacts
	// signer is the SHA-256 of the author certificate, nil if unsigned;
	// cert and issuer are that certificate and its issuer (nil when the
	// chain ends at it), recorded for the revocation re-checks.
	signer       []byte
	cert, issuer *x509.Certificate
}

// admit applies the signing rules to a pushed package and repository signs
// it. owners are the accounts that own the id (for a new id, the pushing
// account) and requiredSigner the id's required signer (0: none). A
// refusal is a *badPackage; the caller removes the returned file.
func (s *Server) admit(ctx context.Context, u *upload, owners []store.Account, requiredSigner int64) (*signed, error) {
	g := s.cfg.Signing
	p := u.pkg
	if p.IsZip64() {
		return nil, refuse(msgZip64)
	}
	now := s.now()
	var res *nusig.Result
	if p.IsSigned() {
		opts := nusig.GalleryOptions()
		opts.Roots, opts.TimestampRoots = g.Roots, g.TimestampRoots
		opts.Revocation = g.Revocation
		opts.Now = s.now
		res = nusig.Verify(ctx, p, opts)
		if res.Primary == nil {
			return nil, refuse("%s", issuesMessage(res, "The package signature cannot be read."))
		}
		if c := res.Countersignature; c != nil && c.Type == nusig.TypeAuthor {
			return nil, refuse(msgAuthorCounter)
		}
		if res.Primary.Type == nusig.TypeRepository {
			if g.KeepForeignRepositorySignatures {
				return nil, refuse(msgForeignRepoSig)
			}
			// Another feed's primary signature goes: the package is
			// taken as unsigned (nuget.org strips such signatures).
			stripped, err := s.strip(u)
			if err != nil {
				return nil, err
			}
			p, res = stripped.pkg, nil
			defer func() {
				if stripped.file != nil {
					stripped.file.Close()
					os.Remove(stripped.file.Name())
				}
			}()
		}
	}

	// The registration rules: who may and who must sign.
	accounts := owners
	if requiredSigner != 0 {
		accounts = nil
		for _, o := range owners {
			if o.ID == requiredSigner {
				accounts = []store.Account{o}
			}
		}
	}
	withCerts := 0
	for _, a := range accounts {
		n, err := s.registeredCount(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			withCerts++
		}
	}
	signingRequired := len(accounts) > 0 && withCerts == len(accounts)
	signingAllowed := withCerts > 0
	var facts signatureFacts
	var signerSum []byte
	var signerCert, signerIssuer *x509.Certificate
	if res == nil {
		if signingRequired {
			return nil, refuse(msgMustSign)
		}
	} else {
		cert := res.Primary.Certificate
		if !signingAllowed {
			if requiredSigner != 0 && len(accounts) == 1 {
				return nil, refuse(msgOwnerMustRegiste, accounts[0].Name)
			}
			return nil, refuse(msgRegisterCert)
		}
		if cert == nil {
			return nil, refuse("%s", issuesMessage(res, "The package signature has no signing certificate."))
		}
		ok, err := s.registeredTo(ctx, cert, accounts)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, refuse(msgUnregistered, nusig.Fingerprint(cert))
		}
		if res.Primary.Type != nusig.TypeAuthor {
			return nil, refuse(msgOnlyAuthor)
		}
		if err := acceptance(res, now); err != nil {
			return nil, err
		}
		facts.Author = certFacts(res.Primary)
		facts.Revocation = revocationWord(res)
		signerSum = sha256Of(cert.Raw)
		signerCert = cert
		if ch := res.Primary.Chain; len(ch) > 1 {
			signerIssuer = ch[1]
		}
	}

	out, err := s.repositorySign(ctx, p, owners)
	if err != nil {
		return nil, err
	}
	out.facts = &facts
	out.signer, out.cert, out.issuer = signerSum, signerCert, signerIssuer
	if err := s.checkServed(ctx, out, &facts); err != nil {
		out.file.Close()
		os.Remove(out.file.Name())
		return nil, err
	}
	facts.Validation = "valid"
	facts.CheckedAt = now.UTC()
	return out, nil
}

// acceptance applies nuget.org's acceptance rules beyond the client's
// verification: the verification errors themselves, then one valid
// timestamp, an RSA key of 2048 bits or more, a certificate valid now and
// not self-issued.
func acceptance(res *nusig.Result, now time.Time) error {
	if errs, _ := res.Counts(); errs > 0 {
		return refuse("%s", issuesMessage(res, ""))
	}
	sig := res.Primary
	switch n := len(sig.Timestamps); {
	case n == 0:
		return refuse("NU3027: The signature must be timestamped.")
	case n > 1:
		return refuse("NU3000: Multiple timestamps are not accepted: the signature has %d.", n)
	}
	if !sig.Timestamps[0].Valid {
		return refuse("NU3028: The signature's timestamp is not valid.")
	}
	cert := sig.Certificate
	if k, ok := cert.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() < minRSABits {
		return refuse("NU3014: The signing certificate's key must be RSA with at least %d bits.", minRSABits)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return refuse("NU3037: The signing certificate is not valid now (valid from %s to %s).",
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if bytes.Equal(cert.RawSubject, cert.RawIssuer) {
		return refuse("NU3018: The signing certificate is self-issued; the feed accepts only certificates issued by a trusted certificate authority.")
	}
	return nil
}

// issuesMessage joins the errors of a verification as "NUxxxx: message"
// (a few, then how many more), or gives fallback when there are none.
func issuesMessage(res *nusig.Result, fallback string) string {
	var msgs []string
	for _, i := range res.AllIssues() {
		if i.Severity == nusig.SeverityError {
			msgs = append(msgs, fmt.Sprintf("%s: %s", i.Code, strings.TrimSuffix(i.Message, ".")))
		}
	}
	if len(msgs) == 0 {
		return fallback
	}
	const shown = 3
	if len(msgs) > shown {
		msgs = append(msgs[:shown], fmt.Sprintf("and %d more", len(msgs)-shown))
	}
	return strings.Join(msgs, "; ") + "."
}

// registeredCount is how many certificates and identities an account has
// registered.
func (s *Server) registeredCount(ctx context.Context, accountID int64) (int, error) {
	certs, ids, err := s.store.CountSigningCredentials(ctx, accountID)
	if err != nil {
		return 0, err
	}
	return certs + ids, nil
}

// registeredTo reports whether the certificate, or its identity (subject
// and issuer, for renewed certificates), is registered to one of the
// accounts. An identity matches only certificates that passed validation:
// the caller checks the chain to a trusted root first.
func (s *Server) registeredTo(ctx context.Context, cert *x509.Certificate, accounts []store.Account) (bool, error) {
	holders, err := s.store.CertificateAccounts(ctx, sha256Of(cert.Raw))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	more, err := s.store.IdentityAccounts(ctx, cert.Subject.String(), cert.Issuer.String())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	for _, h := range append(holders, more...) {
		for _, a := range accounts {
			if h.ID == a.ID {
				return true, nil
			}
		}
	}
	return false, nil
}

// strip writes the package without its signature to a temporary file.
func (s *Server) strip(u *upload) (*signed, error) {
	f, err := os.CreateTemp(s.cfg.TempDir, "signet-unsigned-*.nupkg")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*signed, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	if err := u.pkg.WriteUnsigned(f); err != nil {
		return fail(refuse("The package signature cannot be removed: %v.", err))
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fail(err)
	}
	p, err := nupkg.Open(f, size)
	if err != nil {
		return fail(refuse("The package without its signature is not valid: %v.", err))
	}
	return &signed{file: f, size: size, pkg: p}, nil
}

// serviceIndexForSigning is the URL written into repository signatures.
func (s *Server) serviceIndexForSigning() string {
	if u := s.cfg.Signing.ServiceIndexURL; u != "" {
		return u
	}
	u, _ := url.Parse(s.ServiceIndexURL())
	u.Scheme = "https"
	return u.String()
}

// repositorySign signs p as the feed: a countersignature over an author
// signature (replacing another feed's), a primary repository signature on
// an unsigned package.
func (s *Server) repositorySign(ctx context.Context, p *nupkg.Package, owners []store.Account) (*signed, error) {
	g := s.cfg.Signing
	info := &nusig.RepositoryInfo{ServiceIndexURL: s.serviceIndexForSigning()}
	for _, o := range owners {
		info.Owners = append(info.Owners, o.Name)
	}
	f, err := os.CreateTemp(s.cfg.TempDir, "signet-signed-*.nupkg")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*signed, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	// The SHA-512 that names the stored package is taken as it is written.
	h := sha512.New()
	err = nusig.SignPackage(ctx, io.MultiWriter(f, h), p, nusig.Request{
		SignOptions: nusig.SignOptions{Signer: g.Signer, Certificate: g.Certificate, Chain: g.Chain, Timestamper: g.Timestamper, Now: s.now},
		Type:        nusig.TypeRepository,
		Repository:  info,
		Overwrite:   true,
	})
	if err != nil {
		var ne *nupkg.Error
		if errors.As(err, &ne) {
			return fail(refuse("%s: %s.", ne.Code, ne.Msg))
		}
		return fail(fmt.Errorf("feed: repository signing: %w", err))
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fail(err)
	}
	sp, err := nupkg.Open(f, size)
	if err != nil {
		return fail(fmt.Errorf("feed: reading the repository-signed package: %w", err))
	}
	return &signed{file: f, size: size, pkg: sp, sum: h.Sum(nil)}, nil
}

// checkServed verifies the package as it will be served, as nuget.org
// does after repository signing: the repository signature must verify.
// It fills the repository facts.
func (s *Server) checkServed(ctx context.Context, out *signed, facts *signatureFacts) error {
	g := s.cfg.Signing
	opts := nusig.VerifyOptions{
		Roots: append(append([]*x509.Certificate{}, g.Roots...), rootOf(g)), TimestampRoots: g.TimestampRoots,
		AllowUnknownRevocation: true, HideUnknownRevocation: true,
		Countersignatures: nusig.CountersignatureIfExists, Now: s.now,
	}
	res := nusig.Verify(ctx, out.pkg, opts)
	repo := res.Countersignature
	if res.Primary != nil && res.Primary.Type == nusig.TypeRepository {
		repo = res.Primary
	}
	if repo == nil || repo.Status != nusig.StatusValid {
		return fmt.Errorf("feed: the package the feed signed does not verify: %s", issuesMessage(res, "no repository signature"))
	}
	facts.Repository = certFacts(repo)
	return nil
}

// rootOf is the last certificate of the repository chain (its root, when
// the chain holds it), so that the feed's own signature verifies even when
// its root is not among the author roots.
func rootOf(g *Signing) *x509.Certificate {
	if len(g.Chain) > 0 {
		return g.Chain[len(g.Chain)-1]
	}
	return g.Certificate
}

// signatureFacts are the public facts of a version's signatures, stored as
// JSON with the version and served to everyone.
type signatureFacts struct {
	Author     *signerFacts `json:"author,omitempty"`
	Repository *signerFacts `json:"repository,omitempty"`
	// Validation is "valid" after the push's validation, "invalid" when a
	// revocation re-check has invalidated the signature.
	Validation string `json:"validation,omitempty"`
	// Revocation is the author certificate's status: "good", "unknown",
	// "revoked" ("grace": revoked after the timestamp, so the signature
	// stays valid).
	Revocation string     `json:"revocation,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	CheckedAt  time.Time  `json:"checkedAt,omitzero"`
}

type signerFacts struct {
	Subject     string          `json:"subject"`
	Issuer      string          `json:"issuer"`
	SHA256      string          `json:"sha256"`
	NotBefore   time.Time       `json:"notBefore"`
	NotAfter    time.Time       `json:"notAfter"`
	SigningTime *time.Time      `json:"signingTime,omitempty"`
	Timestamp   *timestampFacts `json:"timestamp,omitempty"`
}

type timestampFacts struct {
	Authority string    `json:"authority"`
	Time      time.Time `json:"time"`
	SHA256    string    `json:"sha256,omitempty"`
}

func certFacts(sig *nusig.SignatureResult) *signerFacts {
	c := sig.Certificate
	f := &signerFacts{Subject: c.Subject.String(), Issuer: c.Issuer.String(), SHA256: nusig.Fingerprint(c),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC()}
	if !sig.SigningTime.IsZero() {
		t := sig.SigningTime.UTC()
		f.SigningTime = &t
	}
	if ts := sig.Timestamp(); ts != nil && ts.Certificate != nil {
		f.Timestamp = &timestampFacts{Authority: ts.Certificate.Subject.String(), Time: ts.GenTime.UTC(), SHA256: nusig.Fingerprint(ts.Certificate)}
	}
	return f
}

// revocationWord summarises the revocation findings of a push's
// verification.
func revocationWord(res *nusig.Result) string {
	for _, i := range res.AllIssues() {
		if i.Reason == nusig.ReasonRevocationUnknown {
			return "unknown"
		}
	}
	return "good"
}

func (f *signatureFacts) json() json.RawMessage {
	b, _ := json.Marshal(f)
	return b
}

func sha256Of(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

// signatureStatus is a version's one-word signature status: "unsigned"
// (no author signature; the feed's repository signature only), "valid",
// "grace" (the author certificate was revoked after the timestamp) or
// "invalid".
func signatureStatus(f *signatureFacts) string {
	switch {
	case f.Validation == "invalid":
		return "invalid"
	case f.Author == nil:
		return "unsigned"
	case f.Revocation == "grace":
		return "grace"
	}
	return "valid"
}

// recordSigner records the author certificate of a stored version and its
// issuer for the revocation re-checks. A failure is logged: the version is
// stored, and the certificate is recorded by its next push.
func (s *Server) recordSigner(ctx context.Context, out *signed) {
	c := out.cert
	var issuer []byte
	if out.issuer != nil {
		issuer = out.issuer.Raw
	}
	err := s.store.RecordUsedCertificate(ctx, store.Certificate{SHA256: sha256Of(c.Raw), DER: c.Raw,
		Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter}, issuer)
	if err != nil {
		s.log.Warn("recording the signing certificate for revocation re-checks", "err", err)
	}
}
