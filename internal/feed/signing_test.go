package feed

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/revocation"
	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/store"
	"github.com/signet-nuget/signet/internal/tsa"
	"github.com/signet-nuget/signet/nupkg"
	"github.com/signet-nuget/signet/nusig"
)

// signingPKI is the project's own CA for the signed-submission tests: a
// root and an intermediate with an OCSP responder and CRLs, a TSA, the
// feed's repository certificate and authors good and bad.
type signingPKI struct {
	root, inter *devpki.CA
	other       *devpki.CA // a root the feed does not trust
	resp        *devpki.Responder
	tsa         nusig.Timestamper
	repo        *signer.Identity
	author      *signer.Identity
	author2     *signer.Identity
}

// Test key numbers (devpki.TestKey), so certificates share cached keys.
const (
	keyRootN = 500 + iota
	keyInterN
	keyOtherN
	keyRepoN
	keyTSAN
	keyAuthorN
	keyAuthor2N
)

func newSigningPKI(t *testing.T) *signingPKI {
	t.Helper()
	p := &signingPKI{resp: devpki.NewResponder()}
	t.Cleanup(p.resp.Close)
	ca := func(k int) devpki.CAOptions { return devpki.CAOptions{Key: devpki.TestKey(t, 2048, k)} }
	var err error
	if p.root, err = devpki.NewRoot("Signet Feed Test Root", ca(keyRootN)); err != nil {
		t.Fatal(err)
	}
	p.resp.Register(p.root)
	if p.inter, err = p.root.NewIntermediate("Signet Feed Test Intermediate", ca(keyInterN)); err != nil {
		t.Fatal(err)
	}
	p.resp.Register(p.inter)
	if p.other, err = devpki.NewRoot("Signet Untrusted Root", ca(keyOtherN)); err != nil {
		t.Fatal(err)
	}
	p.repo = p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet Test Feed Repository", Key: devpki.TestKey(t, 2048, keyRepoN)})
	p.author = p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Alice Author", Key: devpki.TestKey(t, 2048, keyAuthorN)})
	p.author2 = p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Alice Other Certificate", Key: devpki.TestKey(t, 2048, keyAuthor2N)})
	tsaID := p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet Feed Test TSA", Key: devpki.TestKey(t, 2048, keyTSAN),
		EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, CriticalEKU: true})
	srv := httptest.NewServer(&tsa.Server{Certificate: tsaID.Certificate, Chain: tsaID.Chain[1:], Signer: tsaID.Signer,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(srv.Close)
	p.tsa = nusig.NewRFC3161Timestamper([]string{srv.URL}, 10*time.Second)
	return p
}

func (p *signingPKI) leaf(t *testing.T, ca *devpki.CA, o devpki.LeafOptions) *signer.Identity {
	t.Helper()
	id, err := ca.Issue(o)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// signing is the feed's configuration on this PKI, with online revocation
// against the test responder.
func (p *signingPKI) signing() *Signing {
	return &Signing{
		Certificate: p.repo.Certificate, Chain: p.repo.Chain[1:], Signer: p.repo.Signer,
		Timestamper: p.tsa,
		Roots:       []*x509.Certificate{p.root.Root()}, TimestampRoots: []*x509.Certificate{p.root.Root()},
		Revocation: &revocation.Checker{ResponderTimeout: 2 * time.Second, Timeout: 5 * time.Second},
		Recheck: func() nusig.RevocationChecker {
			return &revocation.Checker{ResponderTimeout: 2 * time.Second, Timeout: 5 * time.Second}
		},
	}
}

// sign author-signs a package with id (timestamped by ts unless nil).
func sign(t *testing.T, pkg []byte, id *signer.Identity, ts nusig.Timestamper) []byte {
	t.Helper()
	p, err := nupkg.Open(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = nusig.SignPackage(context.Background(), &out, p, nusig.Request{Type: nusig.TypeAuthor,
		SignOptions: nusig.SignOptions{Signer: id.Signer, Certificate: id.Certificate, Chain: id.Chain[1:], Timestamper: ts}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// withSecondTimestamp adds a second timestamp to the primary signature.
func withSecondTimestamp(t *testing.T, pkg []byte, ts nusig.Timestamper) []byte {
	t.Helper()
	p, err := nupkg.Open(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := p.Signature()
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	si := sd.SignerInfos[0]
	tok, err := ts.Timestamp(context.Background(), si.Signature, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	si.UnsignedAttrs = append(si.UnsignedAttrs, cms.Attribute{Type: cms.OIDTimeStampToken, Values: [][]byte{tok}})
	if raw, err = sd.Marshal(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := nupkg.Sign(&out, p, raw, time.Now()); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// register links a certificate to an account, as the certificate API does.
func register(t *testing.T, st *store.Store, account string, c *x509.Certificate) {
	t.Helper()
	acc, err := st.AccountByName(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.AddCertificate(ctx, acc.ID, store.Certificate{SHA256: sha256Of(c.Raw), DER: c.Raw,
		Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter})
	if err != nil {
		t.Fatal(err)
	}
}

// served downloads a version and verifies it as a client trusting the
// feed's root would, requiring the repository signature.
func served(t *testing.T, c *client, p *signingPKI, id, version string) (*nusig.Result, []byte) {
	t.Helper()
	lid, lv := strings.ToLower(id), strings.ToLower(version)
	code, b := c.status("/v3-flatcontainer/" + lid + "/" + lv + "/" + lid + "." + lv + ".nupkg")
	if code != 200 {
		t.Fatalf("download %s %s = %d", id, version, code)
	}
	pkg, err := nupkg.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	o := nusig.VerifyCommandOptions()
	o.Roots, o.TimestampRoots = []*x509.Certificate{p.root.Root()}, []*x509.Certificate{p.root.Root()}
	o.Revocation = &revocation.Checker{ResponderTimeout: 2 * time.Second, Timeout: 5 * time.Second}
	return nusig.Verify(ctx, pkg, o), b
}

// TestSignedSubmissions walks nuget.org's registration rules: unsigned
// packages are taken (and repository signed) until an owner registers a
// certificate; then unsigned and wrongly signed pushes are refused with
// nuget.org's messages, and a correctly signed one is countersigned.
func TestSignedSubmissions(t *testing.T) {
	p := newSigningPKI(t)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			h := newFeed(t, b, func(c *Config) { c.Signing = p.signing() })
			alice, bob := h.signup("alice"), h.signup("bob")
			pkg := func(v string) []byte { return nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Alice.Lib", Version: v}) }

			// No certificate registered: an unsigned push is taken and gets
			// a primary repository signature naming the feed and owners.
			alice.mustPush(pkg("1.0.0"))
			res, _ := served(t, alice, p, "Alice.Lib", "1.0.0")
			if !res.Valid() || res.Primary.Type != nusig.TypeRepository || res.Primary.Repository == nil ||
				res.Primary.Repository.ServiceIndexURL != strings.Replace(h.base, "http:", "https:", 1)+"/v3/index.json" ||
				strings.Join(res.Primary.Repository.Owners, ";") != "alice" {
				t.Fatalf("unsigned push served as %+v %+v, issues %v", res.Primary, res.Primary.Repository, res.AllIssues())
			}
			// A signed push when no owner has a certificate is refused.
			if r := alice.push(alice.key, sign(t, pkg("1.0.1"), p.author, p.tsa)); r.code != 400 || !strings.Contains(r.status, msgRegisterCert) {
				t.Fatalf("signed push without registration = %q", r.status)
			}

			register(t, h.store, "alice", p.author.Certificate)
			if r := alice.push(alice.key, pkg("1.1.0")); r.code != 400 || !strings.Contains(r.status, msgMustSign) {
				t.Fatalf("unsigned push after registration = %q", r.status)
			}
			r := alice.push(alice.key, sign(t, pkg("1.1.0"), p.author2, p.tsa))
			if want := "SHA-256 thumbprint " + nusig.Fingerprint(p.author2.Certificate); r.code != 400 || !strings.Contains(r.status, want) {
				t.Fatalf("push signed by an unregistered certificate = %q, want %q", r.status, want)
			}
			alice.mustPush(sign(t, pkg("1.1.0"), p.author, p.tsa))
			res, _ = served(t, alice, p, "Alice.Lib", "1.1.0")
			if !res.Valid() || res.Primary.Type != nusig.TypeAuthor || res.Countersignature == nil ||
				res.Countersignature.Type != nusig.TypeRepository || !res.Countersignature.Certificate.Equal(p.repo.Certificate) {
				t.Fatalf("signed push served as primary %+v counter %+v, issues %v", res.Primary, res.Countersignature, res.AllIssues())
			}

			// The facts are public: the signature endpoint and the
			// registration leaf, to anyone.
			var sig struct {
				Status string
				signatureFacts
			}
			h.anon().mustJSON("GET", "/api/v1/packages/alice.lib/1.1.0/signature", nil, 200, &sig)
			if sig.Status != "valid" || sig.Author == nil || sig.Author.SHA256 != nusig.Fingerprint(p.author.Certificate) ||
				sig.Author.Timestamp == nil || !strings.Contains(sig.Author.Timestamp.Authority, "Signet Feed Test TSA") ||
				sig.Repository == nil || sig.Repository.SHA256 != nusig.Fingerprint(p.repo.Certificate) {
				t.Fatalf("signature facts = %+v %+v", sig, sig.Author)
			}
			var leaf regLeaf
			bob.getJSON("/v3/"+hiveSemVer2+"/alice.lib/1.1.0.json", &leaf)
			if leaf.Signature == nil || leaf.Signature.Status != "valid" || leaf.Signature.Author.Subject != p.author.Certificate.Subject.String() {
				t.Fatalf("registration leaf signature = %+v", leaf.Signature)
			}
			var unsignedSig signatureJSON
			h.anon().mustJSON("GET", "/api/v1/packages/alice.lib/1.0.0/signature", nil, 200, &unsignedSig)
			if unsignedSig.Status != "unsigned" || unsignedSig.Author != nil || unsignedSig.Repository == nil {
				t.Fatalf("unsigned version facts = %+v", unsignedSig)
			}

			// RepositorySignatures lists the feed's certificate.
			var rs repoSignatures
			bob.getJSON(bob.resource("RepositorySignatures/5.0.0"), &rs)
			if !rs.AllRepositorySigned || len(rs.SigningCertificates) != 1 ||
				rs.SigningCertificates[0].Fingerprints[oidSHA256] != strings.ToLower(nusig.Fingerprint(p.repo.Certificate)) {
				t.Fatalf("repository signatures = %+v", rs)
			}
			code, der := bob.status(rs.SigningCertificates[0].ContentURL)
			if code != 200 || !bytes.Equal(der, p.repo.Certificate.Raw) {
				t.Fatalf("repository certificate download = %d", code)
			}

			// A co-owner without a certificate: signing stays allowed (alice
			// has one) but is no longer required; the required signer
			// decides whose certificates count.
			alice.mustJSON("POST", "/api/v1/packages/Alice.Lib/owners", map[string]any{"owner": "bob"}, 204, nil)
			bob.mustPush(pkg("1.2.0"))
			bob.mustJSON("PUT", "/api/v1/packages/Alice.Lib/required-signer", map[string]any{"account": "carol"}, 404, nil)
			alice.mustJSON("PUT", "/api/v1/packages/Alice.Lib/required-signer", map[string]any{"account": "bob"}, 204, nil)
			var owners struct{ RequiredSigner string }
			bob.mustJSON("GET", "/api/v1/packages/Alice.Lib/owners", nil, 200, &owners)
			if owners.RequiredSigner != "bob" {
				t.Fatalf("required signer = %q", owners.RequiredSigner)
			}
			r = bob.push(bob.key, sign(t, pkg("1.3.0"), p.author, p.tsa))
			if want := "The owner 'bob' must register"; r.code != 400 || !strings.Contains(r.status, want) {
				t.Fatalf("signed push with a required signer lacking certificates = %q", r.status)
			}
		})
	}
}

func mustAccount(t *testing.T, st *store.Store, name string) store.Account {
	t.Helper()
	a, err := st.AccountByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSignedValidationFailures: each of nuget.org's acceptance rules,
// broken once, is a 400 naming the rule, and nothing is stored.
func TestSignedValidationFailures(t *testing.T) {
	p := newSigningPKI(t)
	h := newFeed(t, sqliteBackend, func(c *Config) { c.Signing = p.signing() })
	alice := h.signup("alice")
	now := time.Now()
	leaf := func(o devpki.LeafOptions) *signer.Identity { return p.leaf(t, p.inter, o) }
	expired := leaf(devpki.LeafOptions{CommonName: "Expired Author", NotBefore: now.Add(-3 * 365 * 24 * time.Hour), NotAfter: now.Add(-365 * 24 * time.Hour)})
	untrusted := p.leaf(t, p.other, devpki.LeafOptions{CommonName: "Untrusted Author"})
	selfIssued, err := devpki.NewSelfSigned(devpki.LeafOptions{CommonName: "Self Issued Author"})
	if err != nil {
		t.Fatal(err)
	}
	rsa1024 := leaf(devpki.LeafOptions{CommonName: "RSA 1024 Author", Key: devpki.TestKey(t, 1024, 1)})
	serverAuth := leaf(devpki.LeafOptions{CommonName: "Server Auth Author", EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	revoked := leaf(devpki.LeafOptions{CommonName: "Revoked Author"})
	if err := p.resp.Revoke(revoked.Certificate, now.Add(-time.Hour), 1); err != nil {
		t.Fatal(err)
	}
	// The self-issued certificate is trusted as a root, so that only the
	// self-issued rule refuses it.
	h.srv.cfg.Signing.Roots = append(h.srv.cfg.Signing.Roots, selfIssued.Certificate)
	for _, id := range []*signer.Identity{p.author, expired, untrusted, selfIssued, rsa1024, serverAuth, revoked} {
		register(t, h.store, "alice", id.Certificate)
	}
	n := 0
	pkg := func() []byte {
		n++
		return nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Alice.Lib", Version: "1.0." + itoa(int64(n))})
	}
	tests := []struct {
		name string
		pkg  []byte
		want string
	}{
		{"expired", sign(t, pkg(), expired, p.tsa), "NU3037"},
		{"untrusted root", sign(t, pkg(), untrusted, p.tsa), "NU3018"},
		{"self-issued", sign(t, pkg(), selfIssued, p.tsa), "self-issued"},
		{"no timestamp", sign(t, pkg(), p.author, nil), "NU3027"},
		{"two timestamps", withSecondTimestamp(t, sign(t, pkg(), p.author, p.tsa), p.tsa), "NU3000"},
		{"RSA 1024", sign(t, pkg(), rsa1024, p.tsa), "NU3014"},
		{"wrong EKU", sign(t, pkg(), serverAuth, p.tsa), "not valid for code signing"},
		{"revoked", sign(t, pkg(), revoked, p.tsa), "was revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := alice.push(alice.key, tt.pkg)
			if r.code != 400 || !strings.Contains(r.status, tt.want) {
				t.Fatalf("push = %q, want 400 with %q", r.status, tt.want)
			}
		})
	}
	if page, err := h.store.Search(ctx, storeQueryAll()); err != nil || page.Total != 0 {
		t.Fatalf("refused pushes stored %d packages (%v)", page.Total, err)
	}
	var keys []string
	for k := range h.blobs.List(ctx, "") {
		keys = append(keys, k)
	}
	if len(keys) != 0 {
		t.Fatalf("refused pushes left blobs: %v", keys)
	}
	ents, _ := os.ReadDir(h.srv.cfg.TempDir)
	if len(ents) != 0 {
		t.Fatalf("refused pushes left temporary files: %v", ents)
	}
	// The good certificate passes.
	alice.mustPush(sign(t, pkg(), p.author, p.tsa))
}

// TestForeignRepositorySignature: a package repository-signed by another
// feed is stripped and signed as this feed's own.
func TestForeignRepositorySignature(t *testing.T) {
	p := newSigningPKI(t)
	h := newFeed(t, sqliteBackend, func(c *Config) { c.Signing = p.signing() })
	alice := h.signup("alice")
	other := p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Some Other Feed"})
	raw := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Foreign.Pkg"})
	pp, _ := nupkg.Open(bytes.NewReader(raw), int64(len(raw)))
	var buf bytes.Buffer
	if err := nusig.SignPackage(ctx, &buf, pp, nusig.Request{Type: nusig.TypeRepository,
		Repository:  &nusig.RepositoryInfo{ServiceIndexURL: "https://other.example/v3/index.json"},
		SignOptions: nusig.SignOptions{Signer: other.Signer, Certificate: other.Certificate, Chain: other.Chain[1:], Timestamper: p.tsa}}); err != nil {
		t.Fatal(err)
	}
	alice.mustPush(buf.Bytes())
	res, _ := served(t, alice, p, "Foreign.Pkg", "1.0.0")
	if !res.Valid() || res.Primary.Type != nusig.TypeRepository || !res.Primary.Certificate.Equal(p.repo.Certificate) {
		t.Fatalf("foreign repository signature not replaced: %+v", res.Primary)
	}
}

// TestRevocationRecheck: the re-check job finds a used certificate revoked
// at the test CA's responder and applies nuget.org's timestamp rule: a
// version timestamped before the revocation stays valid ("grace"), one
// signed by a certificate revoked before its timestamp becomes invalid.
func TestRevocationRecheck(t *testing.T) {
	p := newSigningPKI(t)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			h := newFeed(t, b, func(c *Config) { c.Signing = p.signing() })
			alice := h.signup("alice")
			early := p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Revoked Later"})
			late := p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Revoked Before Signing"})
			fine := p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Never Revoked"})
			for _, id := range []*signer.Identity{early, late, fine} {
				register(t, h.store, "alice", id.Certificate)
			}
			push := func(id *signer.Identity, name string) time.Time {
				alice.mustPush(sign(t, nupkgtest.Bytes(t, nupkgtest.Spec{ID: name}), id, p.tsa))
				var f signatureJSON
				h.anon().mustJSON("GET", "/api/v1/packages/"+name+"/1.0.0/signature", nil, 200, &f)
				if f.Status != "valid" || f.Author.Timestamp == nil {
					t.Fatalf("%s after push: %+v", name, f)
				}
				return f.Author.Timestamp.Time
			}
			tEarly := push(early, "Pkg.Early")
			tLate := push(late, "Pkg.Late")
			push(fine, "Pkg.Fine")

			// Revoked after its timestamp: grace. Revoked (as the CA says)
			// an hour before its timestamp: invalid.
			if err := p.resp.Revoke(early.Certificate, tEarly.Add(time.Minute), 1); err != nil {
				t.Fatal(err)
			}
			if err := p.resp.Revoke(late.Certificate, tLate.Add(-time.Hour), 1); err != nil {
				t.Fatal(err)
			}
			admin := h.admin()
			alice.mustJSON("POST", "/api/v1/admin/revalidate", nil, 403, nil)
			var rep RevalidateReport
			admin.mustJSON("POST", "/api/v1/admin/revalidate", nil, 200, &rep)
			if rep.Checked != 3 || rep.Revoked != 2 || rep.Good != 1 || rep.Grace != 1 || rep.Invalidated != 1 {
				t.Fatalf("report = %+v", rep)
			}
			want := map[string]string{"Pkg.Early": "grace", "Pkg.Late": "invalid", "Pkg.Fine": "valid"}
			for name, status := range want {
				var f signatureJSON
				h.anon().mustJSON("GET", "/api/v1/packages/"+name+"/1.0.0/signature", nil, 200, &f)
				if f.Status != status {
					t.Errorf("%s: status %q, want %q (%+v)", name, f.Status, status, f.signatureFacts)
				}
				if name != "Pkg.Fine" && (f.RevokedAt == nil || f.Revocation == "good") {
					t.Errorf("%s: revocation facts %+v", name, f.signatureFacts)
				}
			}
			// Checked certificates are not checked again within the period;
			// revoked ones never.
			admin.mustJSON("POST", "/api/v1/admin/revalidate", nil, 200, &rep)
			if rep.Checked != 0 {
				t.Fatalf("second run checked %d certificates", rep.Checked)
			}
		})
	}
}
