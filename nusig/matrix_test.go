package nusig_test

// The verification matrix: signatures made with the devpki test PKI that
// break one NuGet rule each, verified under the verify command's settings,
// restore's accept and require modes and nuget.org's upload settings, with
// the status and NU codes NuGet gives (spec 4.3, 4.4, 5.3–5.5, 9).

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/revocation"
	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/nusig"
)

// vcase is one verification: a package, the options (completed by
// matrixPKI.options) and the summary NuGet's behaviour calls for.
type vcase struct {
	name string
	pkg  func(t *testing.T) []byte
	opts nusig.VerifyOptions
	// want is the expected summarize output: what NuGet reports.
	want string
	// alt, when set, is Signet's answer where it knowingly differs from
	// NuGet's in codes only (never in validity); it is accepted and logged.
	// The final report of the matrix lists each.
	alt string
	// bug, when set, describes a divergence the lead must decide on: the
	// case is skipped while Signet's answer differs from want.
	bug string
	// check asserts more about the result.
	check func(t *testing.T, r *nusig.Result)
}

// judge compares a result's summary with what NuGet gives (want), with
// what Signet is allowed to give instead when only the codes differ (alt),
// or skips with a bug note when validity differs and the bug is known.
func judge(t *testing.T, r *nusig.Result, want, alt, bug string) {
	t.Helper()
	got := summarize(r)
	switch {
	case got == want && bug != "":
		t.Errorf("answer now matches NuGet (%s): drop the bug note %q", got, bug)
	case got == want:
	case alt != "" && got == alt:
		t.Logf("Signet differs from NuGet in codes (accepted): got %s, NuGet %s", got, want)
	case bug != "":
		t.Skipf("BUG: %s: got %s, want %s", bug, got, want)
	default:
		t.Errorf("got  %s\nwant %s%s", got, want, issueText(r))
	}
}

func runCases(t *testing.T, p *matrixPKI, cases []vcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := verifyBytes(t, c.pkg(t), p.options(c.opts))
			judge(t, r, c.want, c.alt, c.bug)
			if r.Valid() != (r.Status == nusig.StatusValid) {
				t.Errorf("Valid() = %v with status %v", r.Valid(), r.Status)
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

// std returns the standard signed package (helpers_test.go).
func std(t *testing.T) []byte { return standardSigned(t) }

func fixed(at time.Time) func() time.Time { return func() time.Time { return at } }

// authorPkg returns a fresh package author-signed as s says.
func authorPkg(t *testing.T, s signSpec) []byte {
	return signPkg(t, unsignedPackage(t, "Signet.Matrix.Author"), nusig.TypeAuthor, s)
}

// countersigned returns a fresh package author-signed as a says and
// repository-countersigned as r says.
func countersigned(t *testing.T, a, r signSpec) []byte {
	return signPkg(t, authorPkg(t, a), nusig.TypeRepository, r)
}

// withSecondTimestamp adds a second signature-time-stamp attribute (a
// second attribute instance, as NuGet's re-timestamping does) to the
// primary signature.
func withSecondTimestamp(t *testing.T, pkg []byte, ts nusig.Timestamper) []byte {
	sd, err := cms.Parse(signatureBytes(t, pkg))
	if err != nil {
		t.Fatal(err)
	}
	si := sd.SignerInfos[0]
	tok, err := ts.Timestamp(context.Background(), si.Signature, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	si.UnsignedAttrs = append(si.UnsignedAttrs, cms.Attribute{Type: cms.OIDTimeStampToken, Values: [][]byte{tok}})
	raw, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return withSignature(t, pkg, raw)
}

// hashes asserts the package hash, signature digest and timestamp imprint
// algorithms.
func hashes(content, timestamp crypto.Hash) func(t *testing.T, r *nusig.Result) {
	return func(t *testing.T, r *nusig.Result) {
		ts := r.Primary.Timestamp()
		if r.ContentHash != content || r.Primary.Hash != content || ts == nil || ts.Hash != timestamp {
			t.Errorf("content hash %v, signer digest %v, timestamp %+v; want %v and %v", r.ContentHash, r.Primary.Hash, ts, content, timestamp)
		}
	}
}

// Certificates of the matrix, made once per test from the shared PKI.
type matrixCerts struct {
	expiredAuthor  *signer.Identity // valid now−3y to now−1y
	expiredRepo    *signer.Identity // valid now−3y to now−1y
	untrustedOld   *signer.Identity // untrusted root, valid now−3y to now−1y
	expiredTSA     *signer.Identity // valid now−3y to now−1y
	noTSAEKU       *signer.Identity // TSA certificate with code signing EKU
	rsa1024        *signer.Identity
	sha1Signed     *signer.Identity
	lifetime       *signer.Identity
	notYetValid    *signer.Identity
	serverAuthOnly *signer.Identity
	noEKU          *signer.Identity
}

func newMatrixCerts(t *testing.T, p *matrixPKI) *matrixCerts {
	old := devpki.LeafOptions{NotBefore: p.now.Add(-3 * year), NotAfter: p.now.Add(-year)}
	with := func(o devpki.LeafOptions, f func(*devpki.LeafOptions)) devpki.LeafOptions { f(&o); return o }
	return &matrixCerts{
		expiredAuthor: p.leaf(t, p.inter, with(old, func(o *devpki.LeafOptions) { o.CommonName = "Signet Expired Author" })),
		expiredRepo: p.leaf(t, p.inter, with(old, func(o *devpki.LeafOptions) {
			o.CommonName, o.Key = "Signet Expired Repository", devpki.TestKey(t, 2048, keyRepo)
		})),
		untrustedOld: p.leaf(t, p.other, with(old, func(o *devpki.LeafOptions) {
			o.CommonName, o.Key = "Signet Untrusted Expired Author", devpki.TestKey(t, 2048, keyOtherAuthor)
		})),
		expiredTSA:     p.tsaLeaf(t, p.inter, with(old, func(o *devpki.LeafOptions) { o.CommonName = "Signet Expired TSA" })),
		noTSAEKU:       p.tsaLeaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet Code Signing TSA", EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}),
		rsa1024:        p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet RSA 1024", Key: devpki.TestKey(t, 1024, 1)}),
		sha1Signed:     p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet SHA-1 Signed", SignatureAlgorithm: x509.SHA1WithRSA}),
		lifetime:       p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet Lifetime", EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, UnknownEKUs: []asn1.ObjectIdentifier{devpki.OIDLifetimeSigning}}),
		notYetValid:    p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet Not Yet Valid", NotBefore: p.now.Add(24 * time.Hour)}),
		serverAuthOnly: p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet Server Auth", EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}),
		noEKU:          p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet No EKU", NoEKU: true}),
	}
}

// TestVerifyPKIMatrix: one broken rule per package under the verify
// command's settings (spec 5.5, `verify` column), plus nuget.org's upload
// settings and the countersignature modes where they differ.
func TestVerifyPKIMatrix(t *testing.T) {
	p := testPKI(t)
	m := newMatrixCerts(t, p)
	tsaNow := startTSA(t, p.tsa, nil, 0)
	past := p.now.Add(-2 * year)        // inside the expired certificates' validity
	afterExpiry := p.now.Add(-year / 2) // after it
	straddle := p.now.Add(-time.Hour)   // the ExpiredCertificateAndTimestampWithTooLargeRange instant
	tsaPast := startTSA(t, p.tsa, fixed(past), 0)
	tsaAfter := startTSA(t, p.tsa, fixed(afterExpiry), 0)
	tsaWide := startTSA(t, p.tsa, fixed(straddle), 30*time.Second)
	// A certificate valid from straddle−2s to straddle+10s, as in NuGet's test.
	shortLived := p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet Short Lived", NotBefore: straddle.Add(-2 * time.Second), NotAfter: straddle.Add(10 * time.Second)})

	verify := nusig.VerifyCommandOptions()
	gallery := nusig.GalleryOptions()
	always := nusig.VerifyCommandOptions()
	always.Countersignatures = nusig.CountersignatureAlways
	allowOther := nusig.VerifyCommandOptions()
	allowOther.AllowUntrustedRootFingerprints = []string{nusig.Fingerprint(p.otherAuthor.Certificate)}
	allowOld := nusig.VerifyCommandOptions()
	allowOld.AllowUntrustedRootFingerprints = []string{nusig.Fingerprint(m.untrustedOld.Certificate)}
	allowOtherRepo := nusig.VerifyCommandOptions()
	allowOtherRepo.AllowUntrustedRootFingerprints = []string{nusig.Fingerprint(p.otherRepo.Certificate)}
	allowWrong := nusig.VerifyCommandOptions()
	allowWrong.AllowUntrustedRootFingerprints = []string{nusig.Fingerprint(p.author.Certificate)}
	unknown := nusig.VerifyCommandOptions()
	unknown.Revocation = &fakeRevocation{unknown: true}
	offline := unknown
	offline.OfflineRevocation = true
	revokedSigner := nusig.VerifyCommandOptions()
	revokedSigner.Revocation = revokedCerts(p.now.Add(-time.Hour), p.author.Certificate)
	revokedTSA := nusig.VerifyCommandOptions()
	revokedTSA.Revocation = revokedCerts(p.now.Add(-time.Hour), p.tsa.Certificate)
	revokedInter := nusig.VerifyCommandOptions()
	revokedInter.Revocation = revokedCerts(p.now.Add(-time.Hour), p.inter.Cert)
	atStraddle := nusig.VerifyCommandOptions()
	atStraddle.Now = fixed(straddle.Add(time.Second)) // the certificate is still valid "now"

	author := func(s signSpec) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return authorPkg(t, s) }
	}
	untrustedTSA := startTSA(t, p.otherTSA, nil, 0)
	cases := []vcase{
		{name: "valid author", pkg: author(signSpec{id: p.author, ts: tsaNow}), opts: verify, want: "valid"},
		{name: "valid author and countersignature", pkg: std, opts: verify, want: "valid",
			check: func(t *testing.T, r *nusig.Result) {
				if r.Countersignature == nil || !r.Countersignature.Verified || r.Countersignature.Repository == nil || r.Countersignature.Repository.ServiceIndexURL != testRepository.ServiceIndexURL {
					t.Errorf("countersignature %+v", r.Countersignature)
				}
			}},
		{name: "valid repository primary", pkg: func(t *testing.T) []byte {
			return signPkg(t, unsignedPackage(t, "Signet.Matrix.Repo"), nusig.TypeRepository, signSpec{id: p.repo, ts: tsaNow})
		}, opts: verify, want: "valid"},
		{name: "no timestamp", pkg: author(signSpec{id: p.author}), opts: verify, want: "valid primary:NU3027~"},
		{name: "untrusted root", pkg: author(signSpec{id: p.otherAuthor, ts: tsaNow}), opts: verify,
			want: "disallowed primary:NU3018!/untrusted-root,NU3042~/root-not-in-bundle"},
		{name: "untrusted root allowed by fingerprint", pkg: author(signSpec{id: p.otherAuthor, ts: tsaNow}), opts: allowOther, want: "valid"},
		{name: "untrusted root allowed by fingerprint, expired", pkg: author(signSpec{id: m.untrustedOld, at: past}), opts: allowOld,
			// NuGet turns allowUntrusted on for a signer in the
			// allowUntrustedRoot list (spec 5.3 step 6), so expiry is a
			// warning too.
			want: "valid primary:NU3027~,NU3037~"},
		{name: "untrusted countersignature allowed by fingerprint", pkg: func(t *testing.T) []byte {
			return countersigned(t, signSpec{id: p.author, ts: tsaNow}, signSpec{id: p.otherRepo, ts: tsaNow})
		}, opts: allowOtherRepo, want: "valid"},
		{name: "untrusted root, another fingerprint allowed", pkg: author(signSpec{id: p.otherAuthor, ts: tsaNow}), opts: allowWrong,
			want: "disallowed primary:NU3018!/untrusted-root,NU3042~/root-not-in-bundle"},
		{name: "expired without timestamp", pkg: author(signSpec{id: m.expiredAuthor, at: past}), opts: verify,
			want: "disallowed primary:NU3027~,NU3037!"},
		{name: "expired with timestamp inside validity", pkg: author(signSpec{id: m.expiredAuthor, at: past, ts: tsaPast}), opts: verify, want: "valid"},
		{name: "timestamp after expiry", pkg: author(signSpec{id: m.expiredAuthor, at: afterExpiry, ts: tsaAfter}), opts: verify,
			want: "disallowed primary:NU3037!"},
		{name: "accuracy straddles expiry", pkg: author(signSpec{id: shortLived, at: straddle, ts: tsaWide}), opts: verify,
			want: "disallowed primary:NU3037!"},
		{name: "accuracy straddles expiry, verified while valid", pkg: author(signSpec{id: shortLived, at: straddle, ts: tsaWide}), opts: atStraddle,
			want: "disallowed primary:NU3037!"},
		{name: "TSA certificate expired, genTime inside", pkg: author(signSpec{id: p.author, at: past, ts: startTSA(t, m.expiredTSA, fixed(past), 0)}),
			opts: verify, want: "valid"},
		{name: "genTime outside TSA validity", pkg: author(signSpec{id: p.author, ts: tokenTSA{id: m.expiredTSA}}), opts: verify,
			want: "disallowed primary:NU3036!"},
		{name: "TSA without timestamping EKU", pkg: author(signSpec{id: p.author, ts: tokenTSA{id: m.noTSAEKU}}), opts: verify,
			want: "disallowed primary:NU3028!/not-valid-for-usage",
			alt:  "disallowed primary:NU3028!,NU3028!/not-valid-for-usage"},
		{name: "TSA untrusted root", pkg: author(signSpec{id: p.author, ts: untrustedTSA}), opts: verify,
			want: "disallowed primary:NU3028!/untrusted-root,NU3042~/root-not-in-bundle"},
		{name: "RSA 1024 signer", pkg: author(signSpec{id: m.rsa1024, ts: tsaNow}), opts: verify, want: "disallowed primary:NU3014!"},
		{name: "SHA-1 signed certificate", pkg: author(signSpec{id: m.sha1Signed, ts: tsaNow}), opts: verify, want: "disallowed primary:NU3013!"},
		{name: "lifetime signing EKU", pkg: author(signSpec{id: m.lifetime, ts: tsaNow}), opts: verify, want: "disallowed primary:NU3015!"},
		{name: "not yet valid", pkg: author(signSpec{id: m.notYetValid, ts: tsaNow}), opts: verify, want: "disallowed primary:NU3017!"},
		{name: "not yet valid, no timestamp", pkg: author(signSpec{id: m.notYetValid}), opts: verify,
			// NuGet evaluates the timestamp besides the signature, so NU3027
			// is logged too; Signet stops at the certificate rules.
			want: "disallowed primary:NU3017!,NU3027~", alt: "disallowed primary:NU3017!"},
		{name: "no code signing EKU", pkg: author(signSpec{id: m.serverAuthOnly, ts: tsaNow}), opts: verify,
			want: "disallowed primary:NU3012!/not-valid-for-usage"},
		{name: "no EKU extension", pkg: author(signSpec{id: m.noEKU, ts: tsaNow}), opts: verify, want: "valid"},
		{name: "revoked signer", pkg: author(signSpec{id: p.author, ts: tsaNow}), opts: revokedSigner, want: "suspect primary:NU3012!/revoked"},
		{name: "revoked signer, countersigned", pkg: std, opts: revokedSigner, want: "suspect primary:NU3012!/revoked"},
		{name: "revoked TSA", pkg: author(signSpec{id: p.author, ts: tsaNow}), opts: revokedTSA, want: "disallowed primary:NU3028!/revoked"},
		{name: "revoked intermediate of signer and TSA", pkg: author(signSpec{id: p.author, ts: tsaNow}), opts: revokedInter,
			// NuGet reports both revocations; the timestamp being invalid
			// under verify, it may report the status as disallowed. Signet
			// combines statuses by the minimum (spec 5.3 step 8), and a
			// revoked certificate makes the signature suspect.
			want: "disallowed primary:NU3012!/revoked,NU3028!/revoked", alt: "suspect primary:NU3012!/revoked,NU3028!/revoked"},
		{name: "unknown revocation", pkg: author(signSpec{id: p.author, ts: tsaNow}), opts: unknown,
			want: "valid primary:NU3018~/revocation-unknown,NU3028~/revocation-unknown"},
		{name: "unknown revocation offline", pkg: author(signSpec{id: p.author, ts: tsaNow}), opts: offline,
			want: "valid primary:NU3018./revocation-unknown,NU3028./revocation-unknown"},
		{name: "SHA-384", pkg: author(signSpec{id: p.author, ts: tsaNow, hash: crypto.SHA384, tsHash: crypto.SHA384}), opts: verify,
			want: "valid", check: hashes(crypto.SHA384, crypto.SHA384)},
		{name: "SHA-512", pkg: author(signSpec{id: p.author, ts: tsaNow, hash: crypto.SHA512, tsHash: crypto.SHA512}), opts: verify,
			want: "valid", check: hashes(crypto.SHA512, crypto.SHA512)},
		{name: "SHA-512 signature, SHA-384 timestamp", pkg: author(signSpec{id: p.author, ts: tsaNow, hash: crypto.SHA512, tsHash: crypto.SHA384}), opts: verify,
			want: "valid", check: hashes(crypto.SHA512, crypto.SHA384)},
		{name: "multiple timestamps", pkg: func(t *testing.T) []byte {
			return withSecondTimestamp(t, authorPkg(t, signSpec{id: p.author, ts: tsaNow}), tsaNow)
		}, opts: verify, want: "valid"},
		{name: "multiple timestamps, gallery", pkg: func(t *testing.T) []byte {
			return withSecondTimestamp(t, authorPkg(t, signSpec{id: p.author, ts: tsaNow}), tsaNow)
		}, opts: gallery, want: "disallowed primary:NU3000!"},
		{name: "no timestamp, gallery", pkg: author(signSpec{id: p.author}), opts: gallery, want: "disallowed primary:NU3027!"},
		{name: "valid, gallery", pkg: std, opts: gallery, want: "valid",
			check: func(t *testing.T, r *nusig.Result) {
				if r.Countersignature == nil || r.Countersignature.Verified {
					t.Errorf("gallery settings: countersignature %+v, want described, not verified", r.Countersignature)
				}
			}},
		{name: "countersignature required, none", pkg: author(signSpec{id: p.author, ts: tsaNow}), opts: always, want: "disallowed primary:NU3038!"},
		{name: "countersignature required, present", pkg: std, opts: always, want: "valid"},
	}
	runCases(t, p, cases)
}

// TestVerifyModeMatrix: the same rule breaks under restore's accept and
// require modes and the verify command (spec 5.5: accept turns untrusted
// and expired into warnings; illegal certificates stay disallowed in every
// mode; timestamp problems are errors only in verify; revocation is always
// an error).
func TestVerifyModeMatrix(t *testing.T) {
	p := testPKI(t)
	m := newMatrixCerts(t, p)
	tsaNow := startTSA(t, p.tsa, nil, 0)
	afterExpiry := p.now.Add(-year / 2)
	tsaAfter := startTSA(t, p.tsa, fixed(afterExpiry), 0)
	untrustedTSA := startTSA(t, p.otherTSA, nil, 0)

	type modeRow struct {
		name                    string
		pkg                     func(t *testing.T) []byte
		rev                     nusig.RevocationChecker
		verify, accept, require string
	}
	author := func(s signSpec) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return authorPkg(t, s) }
	}
	rows := []modeRow{
		{name: "unsigned", pkg: func(t *testing.T) []byte { return unsignedPackage(t, "Signet.Matrix.Unsigned") },
			verify: "disallowed pkg:NU3004!", accept: "valid", require: "disallowed pkg:NU3004!"},
		{name: "valid", pkg: author(signSpec{id: p.author, ts: tsaNow}), verify: "valid", accept: "valid", require: "valid"},
		{name: "untrusted root", pkg: author(signSpec{id: p.otherAuthor, ts: tsaNow}),
			verify:  "disallowed primary:NU3018!/untrusted-root,NU3042~/root-not-in-bundle",
			accept:  "valid primary:NU3018~/untrusted-root,NU3042~/root-not-in-bundle",
			require: "disallowed primary:NU3018!/untrusted-root,NU3042~/root-not-in-bundle"},
		{name: "expired without timestamp", pkg: author(signSpec{id: m.expiredAuthor, at: p.now.Add(-2 * year)}),
			verify: "disallowed primary:NU3027~,NU3037!", accept: "valid primary:NU3027~,NU3037~", require: "disallowed primary:NU3027~,NU3037!"},
		{name: "timestamp after expiry", pkg: author(signSpec{id: m.expiredAuthor, at: afterExpiry, ts: tsaAfter}),
			verify: "disallowed primary:NU3037!", accept: "valid primary:NU3037~", require: "disallowed primary:NU3037!"},
		{name: "genTime outside TSA validity", pkg: author(signSpec{id: p.author, ts: tokenTSA{id: m.expiredTSA}}),
			verify: "disallowed primary:NU3036!", accept: "valid primary:NU3036~", require: "valid primary:NU3036~"},
		{name: "TSA untrusted root", pkg: author(signSpec{id: p.author, ts: untrustedTSA}),
			verify:  "disallowed primary:NU3028!/untrusted-root,NU3042~/root-not-in-bundle",
			accept:  "valid primary:NU3028!/untrusted-root,NU3042~/root-not-in-bundle",
			require: "valid primary:NU3028!/untrusted-root,NU3042~/root-not-in-bundle"},
		{name: "RSA 1024", pkg: author(signSpec{id: m.rsa1024, ts: tsaNow}),
			verify: "disallowed primary:NU3014!", accept: "disallowed primary:NU3014~", require: "disallowed primary:NU3014!"},
		{name: "no code signing EKU", pkg: author(signSpec{id: m.serverAuthOnly, ts: tsaNow}),
			verify:  "disallowed primary:NU3012!/not-valid-for-usage",
			accept:  "disallowed primary:NU3012~/not-valid-for-usage",
			require: "disallowed primary:NU3012!/not-valid-for-usage"},
		{name: "revoked signer", pkg: author(signSpec{id: p.author, ts: tsaNow}), rev: revokedCerts(p.now, p.author.Certificate),
			verify: "suspect primary:NU3012!/revoked", accept: "suspect primary:NU3012!/revoked", require: "suspect primary:NU3012!/revoked"},
		{name: "revoked TSA", pkg: author(signSpec{id: p.author, ts: tsaNow}), rev: revokedCerts(p.now, p.tsa.Certificate),
			verify: "disallowed primary:NU3028!/revoked", accept: "valid primary:NU3028!/revoked", require: "valid primary:NU3028!/revoked"},
		{name: "unknown revocation", pkg: author(signSpec{id: p.author, ts: tsaNow}), rev: &fakeRevocation{unknown: true},
			verify:  "valid primary:NU3018~/revocation-unknown,NU3028~/revocation-unknown",
			accept:  "valid",
			require: "valid primary:NU3018~/revocation-unknown,NU3028~/revocation-unknown"},
	}
	var cases []vcase
	for _, row := range rows {
		for _, mode := range []struct {
			name string
			o    nusig.VerifyOptions
			want string
		}{
			{"verify", nusig.VerifyCommandOptions(), row.verify},
			{"accept", nusig.AcceptModeOptions(), row.accept},
			{"require", nusig.RequireModeOptions(), row.require},
		} {
			o := mode.o
			o.Revocation = row.rev
			cases = append(cases, vcase{name: row.name + "/" + mode.name, pkg: row.pkg, opts: o, want: mode.want})
		}
	}
	runCases(t, p, cases)
}

// TestVerifyCountersignatureFallback mirrors NuGet's fallback cases (spec
// 5.4; SignatureTrustAndValidityVerificationProviderTests, cases 1–10):
// restore's require mode verifies the repository countersignature only when
// the author signature is untrusted or expired, and a valid one rescues it,
// for expiry only when its timestamp shows the author certificate valid.
func TestVerifyCountersignatureFallback(t *testing.T) {
	p := testPKI(t)
	m := newMatrixCerts(t, p)
	past := p.now.Add(-2 * year)
	later := past.Add(24 * time.Hour) // the repository receives the package a day later
	afterExpiry := p.now.Add(-year / 2)
	tsaNow := startTSA(t, p.tsa, nil, 0)
	tsaLater := startTSA(t, p.tsa, fixed(later), 0)
	tsaAfter := startTSA(t, p.tsa, fixed(afterExpiry), 0)

	require := nusig.RequireModeOptions()
	accept := nusig.AcceptModeOptions()
	verify := nusig.VerifyCommandOptions()
	revokedRepo := nusig.AcceptModeOptions()
	revokedRepo.Revocation = revokedCerts(p.now, p.repo.Certificate)

	good := signSpec{id: p.author, ts: tsaNow}
	expired := signSpec{id: m.expiredAuthor, at: past}
	untrusted := signSpec{id: p.otherAuthor, ts: tsaNow}
	untrustedExpired := signSpec{id: m.untrustedOld, at: past}
	repoGood := signSpec{id: p.repo, at: later, ts: tsaLater}
	repoNoTS := signSpec{id: p.repo, at: later}
	repoUntrusted := signSpec{id: p.otherRepo, at: later, ts: tsaLater}
	repoExpired := signSpec{id: m.expiredRepo, at: later, ts: tsaLater}
	repoExpiredNoTS := signSpec{id: m.expiredRepo, at: later}
	cs := func(a, r signSpec) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return countersigned(t, a, r) }
	}
	const untrustedIssues = "NU3018!/untrusted-root,NU3042~/root-not-in-bundle"
	cases := []vcase{
		{name: "1 good primary, good countersignature", pkg: cs(good, repoGood), opts: require, want: "valid",
			check: func(t *testing.T, r *nusig.Result) {
				if r.Countersignature == nil || r.Countersignature.Verified {
					t.Errorf("countersignature %+v: want described, not verified, when the primary signature is valid", r.Countersignature)
				}
			}},
		{name: "2 good primary, untrusted countersignature", pkg: cs(good, repoUntrusted), opts: require, want: "valid"},
		{name: "3 untrusted primary, good countersignature", pkg: cs(untrusted, repoGood), opts: require, want: "valid"},
		{name: "4 untrusted primary, untrusted countersignature", pkg: cs(untrusted, repoUntrusted), opts: require,
			want: "disallowed primary:" + untrustedIssues + " counter:" + untrustedIssues},
		{name: "5 expired primary, good countersignature with timestamp", pkg: cs(expired, repoGood), opts: require, want: "valid primary:NU3027~"},
		{name: "6 expired primary, untrusted countersignature", pkg: cs(expired, repoUntrusted), opts: require,
			want: "disallowed primary:NU3027~,NU3037! counter:" + untrustedIssues},
		{name: "7 expired primary, countersignature without timestamp", pkg: cs(expired, repoNoTS), opts: require,
			want: "disallowed primary:NU3027~,NU3037! counter:NU3027~"},
		{name: "8 expired primary, expired countersignature with timestamp", pkg: cs(expired, repoExpired), opts: require, want: "valid primary:NU3027~"},
		{name: "9 untrusted expired primary, countersignature without timestamp", pkg: cs(untrustedExpired, repoNoTS), opts: require,
			want: "disallowed primary:NU3027~,NU3037! counter:NU3027~"},
		{name: "10 untrusted expired primary, countersignature with timestamp", pkg: cs(untrustedExpired, repoGood), opts: require, want: "valid primary:NU3027~"},
		{name: "countersigned after the author certificate expired", pkg: cs(expired, signSpec{id: p.repo, at: afterExpiry, ts: tsaAfter}), opts: require,
			want: "disallowed primary:NU3027~,NU3037!"},
		{name: "expired countersignature without timestamp, restore", pkg: cs(good, repoExpiredNoTS), opts: require, want: "valid"},
		{name: "expired countersignature without timestamp, verify", pkg: cs(good, repoExpiredNoTS), opts: verify,
			want: "disallowed counter:NU3027~,NU3037!"},
		{name: "untrusted primary rescued under verify", pkg: cs(untrusted, repoGood), opts: verify, want: "valid"},
		{name: "expired repository primary is not rescued", pkg: func(t *testing.T) []byte {
			return signPkg(t, unsignedPackage(t, "Signet.Matrix.Repo"), nusig.TypeRepository, signSpec{id: m.expiredRepo, at: past})
		}, opts: require, want: "disallowed primary:NU3027~,NU3037!"},
		{name: "accept: expired primary, good countersignature", pkg: cs(expired, repoGood), opts: accept,
			// NuGet verifies the countersignature whenever the primary
			// signature expired (IsSignatureExpired ignores allowUntrusted)
			// and drops the NU3037 warning.
			want: "valid primary:NU3027~", alt: "valid primary:NU3027~,NU3037~"},
		{name: "accept: expired primary, revoked countersignature", pkg: cs(expired, repoGood), opts: revokedRepo,
			want: "suspect primary:NU3027~ counter:NU3012!/revoked",
			// Signet keeps the expiry warning when the countersignature
			// cannot vouch for the primary signature.
			alt: "suspect primary:NU3027~,NU3037~ counter:NU3012!/revoked"},
	}
	runCases(t, p, cases)
}

// TestVerifyRealRevocationChecker runs the engine with internal/revocation's
// Checker against devpki's OCSP responder and CRL endpoint.
func TestVerifyRealRevocationChecker(t *testing.T) {
	p := testPKI(t)
	resp := devpki.NewResponder()
	defer resp.Close()
	caOpts := func(key int) devpki.CAOptions {
		return devpki.CAOptions{Key: devpki.TestKey(t, 2048, key), NotBefore: p.now.Add(-10 * year), NotAfter: p.now.Add(10 * year)}
	}
	root, err := devpki.NewRoot("Signet Revocation Root", caOpts(keyRoot))
	if err != nil {
		t.Fatal(err)
	}
	resp.Register(root)
	inter, err := root.NewIntermediate("Signet Revocation Intermediate", caOpts(keyInter))
	if err != nil {
		t.Fatal(err)
	}
	resp.Register(inter)
	good := p.leaf(t, inter, devpki.LeafOptions{CommonName: "Signet Revocation Good"})
	ocspRevoked := p.leaf(t, inter, devpki.LeafOptions{CommonName: "Signet OCSP Revoked"})
	crlRevoked := p.leaf(t, inter, devpki.LeafOptions{CommonName: "Signet CRL Revoked", OCSPServer: []string{}})
	tsaID := p.tsaLeaf(t, inter, devpki.LeafOptions{CommonName: "Signet Revocation TSA"})
	for _, c := range []*x509.Certificate{ocspRevoked.Certificate, crlRevoked.Certificate} {
		if err := resp.Revoke(c, p.now.Add(-time.Hour), devpki.ReasonKeyCompromise); err != nil {
			t.Fatal(err)
		}
	}
	if len(crlRevoked.Certificate.OCSPServer) != 0 || len(crlRevoked.Certificate.CRLDistributionPoints) == 0 {
		t.Fatalf("CRL-only certificate has OCSP %v, CRL %v", crlRevoked.Certificate.OCSPServer, crlRevoked.Certificate.CRLDistributionPoints)
	}
	ts := tokenTSA{id: tsaID}
	sign := func(id *signer.Identity) []byte { return authorPkg(t, signSpec{id: id, ts: ts}) }
	opts := func(mode revocation.Mode, offline bool) nusig.VerifyOptions {
		o := nusig.VerifyCommandOptions()
		o.Roots = []*x509.Certificate{root.Cert}
		o.TimestampRoots = o.Roots
		o.Revocation = &revocation.Checker{Mode: mode, ResponderTimeout: 2 * time.Second, Timeout: 5 * time.Second}
		o.OfflineRevocation = offline
		return o
	}
	tests := []struct {
		name string
		pkg  []byte
		o    nusig.VerifyOptions
		down bool
		want string
	}{
		{"good", sign(good), opts(revocation.Online, false), false, "valid"},
		{"revoked by OCSP", sign(ocspRevoked), opts(revocation.Online, false), false, "suspect primary:NU3012!/revoked"},
		{"revoked by CRL", sign(crlRevoked), opts(revocation.Online, false), false, "suspect primary:NU3012!/revoked"},
		{"offline", sign(good), opts(revocation.Offline, true), false, "valid primary:NU3018./revocation-unknown,NU3028./revocation-unknown"},
		{"responder down", sign(good), opts(revocation.Online, false), true, "valid primary:NU3018~/revocation-unknown,NU3028~/revocation-unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.down {
				resp.SetMode(devpki.ModeDown)
				defer resp.SetMode(devpki.ModeNormal)
			}
			r := verifyBytes(t, tt.pkg, tt.o)
			if got := summarize(r); got != tt.want {
				t.Errorf("got  %s\nwant %s%s", got, tt.want, issueText(r))
			}
		})
	}
}

// chainBudget is how long verifying a signature whose bag holds a dozen
// certificates may take. A bounded chain builder needs milliseconds; the
// slack absorbs a loaded machine.
const chainBudget = time.Second

// TestVerifyChainBuildingIsBounded: a signature's certificate bag is
// attacker-controlled. Two names X and Y, six CA certificates "X issued by
// Y" and six "Y issued by X" (two keys) make every X certificate a parent of
// every Y certificate and back, so a chain search that does not remember
// where it has been explores on the order of 6^8 paths, each step checking
// RSA signatures: a 15 KiB package would hold a CPU for seconds, and a bag
// of 64 certificates (the cms bound) for much longer. Verification must
// stay cheap whatever the bag holds.
func TestVerifyChainBuildingIsBounded(t *testing.T) {
	p := testPKI(t)
	kx, ky, kl := devpki.TestKey(t, 1024, 2), devpki.TestKey(t, 1024, 3), devpki.TestKey(t, 2048, keyAuthor)
	mk := func(serial int64, subject, issuer string, pub crypto.PublicKey, key crypto.Signer, ca bool, ski, aki byte) *x509.Certificate {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: subject},
			NotBefore: p.now.Add(-year), NotAfter: p.now.Add(year),
			BasicConstraintsValid: true, IsCA: ca, SubjectKeyId: []byte{ski}, AuthorityKeyId: []byte{aki},
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		}
		if !ca {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
		}
		parent := &x509.Certificate{Subject: pkix.Name{CommonName: issuer}, SubjectKeyId: []byte{aki}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	leaf := mk(1, "Signet Looping Author", "X", &kl.PublicKey, kx, false, 3, 1)
	chain := []*x509.Certificate{leaf}
	for i := range int64(6) {
		chain = append(chain,
			mk(100+i, "X", "Y", &kx.PublicKey, ky, true, 1, 2),
			mk(200+i, "Y", "X", &ky.PublicKey, kx, true, 2, 1))
	}
	pkg := authorPkg(t, signSpec{id: &signer.Identity{Signer: kl, Certificate: leaf, Chain: chain}})
	start := time.Now()
	r := verifyBytes(t, pkg, p.options(nusig.VerifyCommandOptions()))
	took := time.Since(start)
	if got, want := summarize(r), "disallowed primary:NU3012!/partial-chain,NU3027~"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	t.Logf("verification took %v", took)
	if took > chainBudget {
		t.Errorf("verification took %v (budget %v): chain building must stay bounded whatever the bag holds", took, chainBudget)
	}
}
