package nusig_test

// Shared machinery of the verification matrix (matrix_test.go), the tamper
// matrix (tamper_test.go) and the benchmarks (bench_test.go): a test PKI
// minted with internal/devpki over cached RSA 2048 keys, timestamp
// authorities (internal/tsa over HTTP, or a token signer in process when a
// test needs a token no real TSA would issue), package signing, a fake
// revocation checker, raw zip rewriting (splitZip, joinZip), and
// summarize, which turns a Result into one string that table tests compare
// exactly.

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/tsa"
	"github.com/signet-nuget/signet/internal/tsp"
	"github.com/signet-nuget/signet/nupkg"
	"github.com/signet-nuget/signet/nusig"
)

// Test key numbers (devpki.TestKey). Certificates that can meet in one
// certificate bag must have different keys: signers are found by
// subjectKeyIdentifier, which devpki derives from the key.
const (
	keyRoot = 100 + iota
	keyInter
	keyAuthor
	keyRepo
	keyTSA
	keyOtherRoot
	keyOtherAuthor
	keyOtherRepo
)

// year is a year of 365 days, for certificate validity periods.
const year = 365 * 24 * time.Hour

// tsaTimeout bounds one request to an in-process TSA.
const tsaTimeout = 5 * time.Second

// testRepository is what repository signatures of the tests carry.
var testRepository = nusig.RepositoryInfo{ServiceIndexURL: "https://feed.signet.test/v3/index.json", Owners: []string{"signet"}}

// matrixPKI is the test PKI. now is when it was made; validity periods are
// set around it so that signatures can be made in the past (with a faked
// signing and TSA clock) and verified now.
type matrixPKI struct {
	now   time.Time
	root  *devpki.CA // the trusted root, for code signing and timestamping
	inter *devpki.CA // issues every trusted leaf
	// author and repo are valid from now−3y to now+3y; tsa from now−5y to
	// now+5y (critical EKU timeStamping).
	author, repo, tsa *signer.Identity
	// other is a root no test trusts, with leaves of its own.
	other                            *devpki.CA
	otherAuthor, otherRepo, otherTSA *signer.Identity
}

var (
	pkiOnce   sync.Once
	pkiShared *matrixPKI
)

// testPKI returns the package's test PKI, made on first use.
func testPKI(t testing.TB) *matrixPKI {
	t.Helper()
	pkiOnce.Do(func() { pkiShared = newMatrixPKI(t) })
	if pkiShared == nil {
		t.Fatal("the test PKI could not be made (see the first failure)")
	}
	return pkiShared
}

func newMatrixPKI(t testing.TB) *matrixPKI {
	now := time.Now().UTC().Truncate(time.Second)
	p := &matrixPKI{now: now}
	caOpts := func(key int) devpki.CAOptions {
		return devpki.CAOptions{Key: devpki.TestKey(t, 2048, key), NotBefore: now.Add(-10 * year), NotAfter: now.Add(10 * year)}
	}
	var err error
	if p.root, err = devpki.NewRoot("Signet Matrix Root", caOpts(keyRoot)); err != nil {
		t.Fatal(err)
	}
	if p.inter, err = p.root.NewIntermediate("Signet Matrix Intermediate", caOpts(keyInter)); err != nil {
		t.Fatal(err)
	}
	if p.other, err = devpki.NewRoot("Signet Untrusted Root", caOpts(keyOtherRoot)); err != nil {
		t.Fatal(err)
	}
	p.author = p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet Matrix Author", Key: devpki.TestKey(t, 2048, keyAuthor)})
	p.repo = p.leaf(t, p.inter, devpki.LeafOptions{CommonName: "Signet Matrix Repository", Key: devpki.TestKey(t, 2048, keyRepo)})
	p.tsa = p.tsaLeaf(t, p.inter, devpki.LeafOptions{})
	p.otherAuthor = p.leaf(t, p.other, devpki.LeafOptions{CommonName: "Signet Untrusted Author", Key: devpki.TestKey(t, 2048, keyOtherAuthor)})
	p.otherRepo = p.leaf(t, p.other, devpki.LeafOptions{CommonName: "Signet Untrusted Repository", Key: devpki.TestKey(t, 2048, keyOtherRepo)})
	p.otherTSA = p.tsaLeaf(t, p.other, devpki.LeafOptions{CommonName: "Signet Untrusted TSA"})
	return p
}

// leaf issues a certificate from ca: by default a code-signing certificate
// with the author's key, valid from now−3y to now+3y.
func (p *matrixPKI) leaf(t testing.TB, ca *devpki.CA, o devpki.LeafOptions) *signer.Identity {
	t.Helper()
	if o.Key == nil && o.Bits == 0 {
		o.Key = devpki.TestKey(t, 2048, keyAuthor)
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = p.now.Add(-3 * year)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = p.now.Add(3 * year)
	}
	id, err := ca.Issue(o)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// tsaLeaf issues a TSA certificate (critical EKU timeStamping only, the
// TSA key, valid from now−5y to now+5y) unless o says otherwise.
func (p *matrixPKI) tsaLeaf(t testing.TB, ca *devpki.CA, o devpki.LeafOptions) *signer.Identity {
	t.Helper()
	if o.CommonName == "" {
		o.CommonName = "Signet Matrix TSA"
	}
	if o.EKUs == nil && !o.NoEKU {
		o.EKUs, o.CriticalEKU = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, true
	}
	if o.Key == nil {
		o.Key = devpki.TestKey(t, 2048, keyTSA)
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = p.now.Add(-5 * year)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = p.now.Add(5 * year)
	}
	return p.leaf(t, ca, o)
}

// options completes o with the test roots and, unless o has one, a
// revocation checker that finds every certificate good.
func (p *matrixPKI) options(o nusig.VerifyOptions) nusig.VerifyOptions {
	o.Roots = []*x509.Certificate{p.root.Cert}
	o.TimestampRoots = o.Roots
	if o.Revocation == nil {
		o.Revocation = &fakeRevocation{}
	}
	return o
}

// startTSA serves a tsa.Server for id on 127.0.0.1 until the test ends and
// returns a Timestamper that asks it. clock fakes the TSA's time (nil: real
// time); accuracy is the TSA's (zero: its default, one second).
func startTSA(t testing.TB, id *signer.Identity, clock func() time.Time, accuracy time.Duration) nusig.Timestamper {
	t.Helper()
	ts, stop := newHTTPTSA(id, clock, accuracy)
	t.Cleanup(stop)
	return ts
}

func newHTTPTSA(id *signer.Identity, clock func() time.Time, accuracy time.Duration) (nusig.Timestamper, func()) {
	srv := httptest.NewServer(&tsa.Server{
		Certificate: id.Certificate,
		Chain:       id.Chain[1:],
		Signer:      id.Signer,
		Now:         clock,
		Accuracy:    accuracy,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return nusig.NewRFC3161Timestamper([]string{srv.URL}, tsaTimeout), srv.Close
}

// tokenTSA makes timestamp tokens in process with tsp.TokenSigner, the
// signer internal/tsa uses, for tokens no TSA would issue and no client
// would accept: genTime outside the TSA certificate's validity, a TSA
// certificate without the timestamping EKU.
type tokenTSA struct {
	id       *signer.Identity
	genTime  time.Time     // zero: time.Now
	accuracy time.Duration // zero: one second; negative: none
}

var tokenSerial atomic.Int64

func (s tokenTSA) Timestamp(_ context.Context, data []byte, h crypto.Hash) ([]byte, error) {
	d := h.New()
	d.Write(data)
	gt := s.genTime
	if gt.IsZero() {
		gt = time.Now().UTC().Truncate(time.Second)
	}
	info := &tsp.TSTInfo{
		Version:       1,
		Policy:        tsa.DefaultPolicy,
		Hash:          h,
		HashedMessage: d.Sum(nil),
		SerialNumber:  big.NewInt(tokenSerial.Add(1)),
		GenTime:       gt,
	}
	switch {
	case s.accuracy == 0:
		info.HasAccuracy, info.Accuracy = true, time.Second
	case s.accuracy > 0:
		info.HasAccuracy, info.Accuracy = true, s.accuracy
	}
	ts := &tsp.TokenSigner{Signer: s.id.Signer, Certificate: s.id.Certificate, Chain: s.id.Chain[1:], Hash: h, IncludeCertificates: true, IncludeESSv1: true}
	return ts.Sign(info, gt)
}

// unsignedPackage returns a small generated package whose zip has an archive
// comment (so that the end record's variable part can be tampered with).
func unsignedPackage(t testing.TB, id string) []byte {
	t.Helper()
	b := nupkgtest.Bytes(t, nupkgtest.Spec{ID: id, Files: map[string][]byte{
		"lib/net8.0/Signet.Matrix.dll": bytes.Repeat([]byte("signet verification matrix "), 40),
		"content/readme.txt":           []byte("hello from the matrix"),
	}})
	const eocdLen = 22
	end := len(b) - eocdLen
	if end < 0 || !bytes.Equal(b[end:end+4], []byte("PK\x05\x06")) || binary.LittleEndian.Uint16(b[end+20:]) != 0 {
		t.Fatal("generated package does not end with a comment-less end record")
	}
	comment := "signet matrix package comment"
	binary.LittleEndian.PutUint16(b[end+20:], uint16(len(comment)))
	return append(b, comment...)
}

// signSpec says who makes one signature, when, and how.
type signSpec struct {
	id     *signer.Identity
	at     time.Time         // signing time; zero: time.Now
	ts     nusig.Timestamper // nil: no timestamp
	hash   crypto.Hash       // zero: SHA-256
	tsHash crypto.Hash       // zero: SHA-256
}

// signPkg signs pkg as typ: an author signature, or a repository signature
// (a countersignature when pkg is author-signed).
func signPkg(t testing.TB, pkg []byte, typ nusig.Type, s signSpec) []byte {
	t.Helper()
	out, err := trySign(pkg, typ, s, false)
	if err != nil {
		t.Fatalf("signing as %v: %v", typ, err)
	}
	return out
}

func trySign(pkg []byte, typ nusig.Type, s signSpec, overwrite bool) ([]byte, error) {
	p, err := nupkg.Open(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return nil, err
	}
	o := nusig.SignOptions{Signer: s.id.Signer, Certificate: s.id.Certificate, Chain: s.id.Chain[1:],
		Hash: s.hash, Timestamper: s.ts, TimestampHash: s.tsHash}
	if !s.at.IsZero() {
		at := s.at
		o.Now = func() time.Time { return at }
	}
	req := nusig.Request{SignOptions: o, Type: typ, Overwrite: overwrite}
	if typ == nusig.TypeRepository {
		req.Repository = &testRepository
	}
	var out bytes.Buffer
	if err := nusig.SignPackage(context.Background(), &out, p, req); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

var (
	stdOnce   sync.Once
	stdSigned []byte
)

// standardSigned returns the package the tamper matrix, the fuzz target and
// the benchmarks start from: author-signed and repository-countersigned by
// the trusted PKI, both signatures timestamped by an internal/tsa server.
func standardSigned(t testing.TB) []byte {
	t.Helper()
	p := testPKI(t)
	stdOnce.Do(func() {
		ts, stop := newHTTPTSA(p.tsa, nil, 0)
		defer stop()
		b := signPkg(t, unsignedPackage(t, "Signet.Matrix.Standard"), nusig.TypeAuthor, signSpec{id: p.author, ts: ts})
		stdSigned = signPkg(t, b, nusig.TypeRepository, signSpec{id: p.repo, ts: ts})
	})
	if stdSigned == nil {
		t.Fatal("the standard signed package could not be made (see the first failure)")
	}
	return slices.Clone(stdSigned)
}

// openPkg opens package bytes, failing the test on error.
func openPkg(t testing.TB, b []byte) *nupkg.Package {
	t.Helper()
	p, err := nupkg.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("opening the package: %v", err)
	}
	return p
}

// verifyBytes opens and verifies package bytes.
func verifyBytes(t testing.TB, b []byte, o nusig.VerifyOptions) *nusig.Result {
	t.Helper()
	return nusig.Verify(context.Background(), openPkg(t, b), o)
}

// summarize renders a result as "status[ group:issue,issue...]..." with the
// groups pkg (package-level issues), primary and counter (each signature's
// issues, its timestamp's included), each issue as its code, a severity mark
// (! error, ~ warning, . info) and "/reason" when it has one, sorted. Table
// tests compare it exactly, so an unexpected extra issue fails them too.
func summarize(r *nusig.Result) string {
	var b strings.Builder
	b.WriteString(r.Status.String())
	group := func(name string, is []nusig.Issue) {
		if len(is) == 0 {
			return
		}
		var parts []string
		for _, i := range is {
			s := string(i.Code) + map[nusig.Severity]string{nusig.SeverityError: "!", nusig.SeverityWarning: "~", nusig.SeverityInfo: "."}[i.Severity]
			if i.Reason != "" {
				s += "/" + string(i.Reason)
			}
			parts = append(parts, s)
		}
		slices.Sort(parts)
		b.WriteString(" " + name + ":" + strings.Join(parts, ","))
	}
	group("pkg", r.Issues)
	if r.Primary != nil {
		group("primary", r.Primary.Issues)
	}
	if r.Countersignature != nil {
		group("counter", r.Countersignature.Issues)
	}
	return b.String()
}

// issueText lists every issue with its message, for failure output.
func issueText(r *nusig.Result) string {
	var b strings.Builder
	for _, i := range r.AllIssues() {
		b.WriteString("\n\t" + i.Severity.String() + " " + i.String())
	}
	return b.String()
}

// fakeRevocation answers revocation checks from a table: the certificates
// in revoked are revoked, every other is good, or unknown when unknown is
// set. Safe for concurrent use once built.
type fakeRevocation struct {
	revoked map[string]time.Time // by certificate DER
	unknown bool
}

func revokedCerts(at time.Time, certs ...*x509.Certificate) *fakeRevocation {
	f := &fakeRevocation{revoked: map[string]time.Time{}}
	for _, c := range certs {
		f.revoked[string(c.Raw)] = at
	}
	return f
}

func (f *fakeRevocation) Check(_ context.Context, cert, _ *x509.Certificate) (nusig.RevocationStatus, time.Time, error) {
	if at, ok := f.revoked[string(cert.Raw)]; ok {
		return nusig.RevocationRevoked, at, nil
	}
	if f.unknown {
		return nusig.RevocationUnknown, time.Time{}, errFakeUnknown
	}
	return nusig.RevocationGood, time.Time{}, nil
}

type fakeError string

func (e fakeError) Error() string { return string(e) }

const errFakeUnknown = fakeError("fake revocation: no responder answered")

// signatureBytes returns a package's .signature.p7s.
func signatureBytes(t testing.TB, pkg []byte) []byte {
	t.Helper()
	sig, err := openPkg(t, pkg).Signature()
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// withSignature returns pkg with its signature entry replaced by sig,
// written as NuGet writes one (the CRC is that of sig).
func withSignature(t testing.TB, pkg, sig []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := nupkg.Sign(&out, openPkg(t, pkg), sig, time.Now()); err != nil {
		t.Fatalf("re-embedding the signature: %v", err)
	}
	return out.Bytes()
}

// realRoots reads the roots the real fixtures chain to.
func realRoots(t testing.TB) []*x509.Certificate {
	t.Helper()
	data := fixtures.Read(t, "roots/roots_used_by_fixtures.pem")
	var roots []*x509.Certificate
	for {
		var blk *pem.Block
		if blk, data = pem.Decode(data); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, c)
	}
	if len(roots) == 0 {
		t.Fatal("no fixture roots")
	}
	return roots
}

// realOptions are the verify command's settings with the fixture roots
// and every certificate good (no network).
func realOptions(t testing.TB) nusig.VerifyOptions {
	o := nusig.VerifyCommandOptions()
	o.Roots = realRoots(t)
	o.TimestampRoots = o.Roots
	o.Revocation = &fakeRevocation{}
	return o
}

// Zip record layout (APPNOTE 4.3.7, 4.3.12, 4.3.16): offsets of the fields
// the tests patch.
const (
	localHeaderLen     = 30
	localMethod        = 8
	localModTime       = 10
	localCompressed    = 18
	centralMethod      = 10
	centralModTime     = 12
	centralCRC         = 16
	centralCompressed  = 20
	centralExternal    = 38
	centralOffset      = 42
	endEntriesDisk     = 8
	endEntriesTotal    = 10
	endCDSize          = 12
	endCDOffset        = 16
	endCommentLenField = 20
)

// zipRecord is one entry of a zip as raw bytes: its local header with data
// (up to the next local header), and its central directory header.
type zipRecord struct {
	name           string
	local, central []byte
}

// splitZip cuts a package into its records, in local header order, the
// order of their central directory headers (indexes into the records), and
// the end record with its comment.
func splitZip(t *testing.T, b []byte) ([]zipRecord, []int, []byte) {
	t.Helper()
	es := openPkg(t, b).Entries()
	order := make([]int, len(es)) // local order → entry index
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ { // insertion sort by local header offset
		for j := i; j > 0 && es[order[j]].HeaderOffset < es[order[j-1]].HeaderOffset; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	cdStart, cdEnd := es[0].CentralOffset, int64(0)
	for _, e := range es {
		cdStart = min(cdStart, e.CentralOffset)
		cdEnd = max(cdEnd, e.CentralOffset+int64(e.CentralSize))
	}
	recs := make([]zipRecord, len(es))
	pos := make([]int, len(es)) // entry index → record index
	for k, i := range order {
		end := cdStart
		if k+1 < len(order) {
			end = es[order[k+1]].HeaderOffset
		}
		e := es[i]
		recs[k] = zipRecord{name: e.Name, local: bytes.Clone(b[e.HeaderOffset:end]), central: bytes.Clone(b[e.CentralOffset : e.CentralOffset+int64(e.CentralSize)])}
		pos[i] = k
	}
	cd := make([]int, len(es)) // entries are in central directory order
	for i := range es {
		cd[i] = pos[i]
	}
	return recs, cd, bytes.Clone(b[cdEnd:])
}

// joinZip writes records in the given local order, their central headers
// in cd order (indexes into recs) with offsets patched, and the end record
// with counts, size and offset patched.
func joinZip(recs []zipRecord, cd []int, end []byte) []byte {
	var out []byte
	offs := make([]int, len(recs))
	for i, r := range recs {
		offs[i] = len(out)
		out = append(out, r.local...)
	}
	cdStart := len(out)
	for _, i := range cd {
		c := bytes.Clone(recs[i].central)
		binary.LittleEndian.PutUint32(c[centralOffset:], uint32(offs[i]))
		out = append(out, c...)
	}
	e := bytes.Clone(end)
	binary.LittleEndian.PutUint16(e[endEntriesDisk:], uint16(len(cd)))
	binary.LittleEndian.PutUint16(e[endEntriesTotal:], uint16(len(cd)))
	binary.LittleEndian.PutUint32(e[endCDSize:], uint32(len(out)-cdStart))
	binary.LittleEndian.PutUint32(e[endCDOffset:], uint32(cdStart))
	return append(out, e...)
}

func recordIndex(t *testing.T, recs []zipRecord, name string) int {
	t.Helper()
	for i, r := range recs {
		if r.name == name {
			return i
		}
	}
	t.Fatalf("no entry %q", name)
	return -1
}

// moveTo returns s with the element at from moved to index to.
func moveTo[T any](s []T, from, to int) []T {
	v := s[from]
	s = append(s[:from:from], s[from+1:]...)
	return append(s[:to:to], append([]T{v}, s[to:]...)...)
}

// deflateRecord rewrites a stored record as deflated (method 8).
func deflateRecord(t *testing.T, r zipRecord) zipRecord {
	t.Helper()
	nameLen := int(binary.LittleEndian.Uint16(r.local[26:]))
	extraLen := int(binary.LittleEndian.Uint16(r.local[28:]))
	hdr := localHeaderLen + nameLen + extraLen
	size := int(binary.LittleEndian.Uint32(r.local[localCompressed:]))
	var z bytes.Buffer
	w, err := flate.NewWriter(&z, flate.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(r.local[hdr : hdr+size])
	w.Close()
	local := append(bytes.Clone(r.local[:hdr]), z.Bytes()...)
	central := bytes.Clone(r.central)
	binary.LittleEndian.PutUint16(local[localMethod:], 8)
	binary.LittleEndian.PutUint32(local[localCompressed:], uint32(z.Len()))
	binary.LittleEndian.PutUint16(central[centralMethod:], 8)
	binary.LittleEndian.PutUint32(central[centralCompressed:], uint32(z.Len()))
	return zipRecord{name: r.name, local: local, central: central}
}

// dataOffset returns where an entry's data starts, after its local header.
func dataOffset(b []byte, e nupkg.Entry) int {
	h := b[e.HeaderOffset:]
	return int(e.HeaderOffset) + localHeaderLen + int(binary.LittleEndian.Uint16(h[26:])) + int(binary.LittleEndian.Uint16(h[28:]))
}

// removeIndex drops record index i from a central directory order and
// renumbers the records after it.
func removeIndex(cd []int, i int) []int {
	var out []int
	for _, j := range cd {
		switch {
		case j < i:
			out = append(out, j)
		case j > i:
			out = append(out, j-1)
		}
	}
	return out
}
