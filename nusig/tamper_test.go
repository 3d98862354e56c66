package nusig_test

// The tamper matrix: one flipped byte in each region of a signed package
// (zip structure, file data, every signed part of the signature, its
// timestamps and countersignature), structural attacks on the signature
// entry and the countersignature, and FuzzVerify.

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/tsp"
	"github.com/signet-nuget/signet/nupkg"
	"github.com/signet-nuget/signet/nusig"
)

// flipped returns b with b[off] xor mask.
func flipped(b []byte, off int, mask byte) []byte {
	c := bytes.Clone(b)
	c[off] ^= mask
	return c
}

// find returns the offset of the only occurrence of sub in b.
func find(t *testing.T, b, sub []byte, what string) int {
	t.Helper()
	if n := bytes.Count(b, sub); n != 1 {
		t.Fatalf("%s occurs %d times", what, n)
	}
	return bytes.Index(b, sub)
}

// letterBefore returns the offset of the last ASCII letter of b[:end].
func letterBefore(t *testing.T, b []byte, end int) int {
	t.Helper()
	for i := end - 1; i >= 0; i-- {
		if c := b[i] | 0x20; c >= 'a' && c <= 'z' {
			return i
		}
	}
	t.Fatal("no letter")
	return -1
}

// sigRegion names a byte of the signature to flip: its offset in the p7s
// and the mask that keeps its encoding valid (0x20 toggles a letter's case,
// 0x01 keeps a digit a digit).
type sigRegion struct {
	off  int
	mask byte
}

// sigRegions locates the regions of a signature (author primary with a
// timestamp and a timestamped repository countersignature).
func sigRegions(t *testing.T, p7s []byte) map[string]sigRegion {
	t.Helper()
	sd, err := cms.Parse(p7s)
	if err != nil {
		t.Fatal(err)
	}
	si := sd.SignerInfos[0]
	out := map[string]sigRegion{}
	// The signature's bag comes before its SignerInfos, so the first
	// occurrence of a certificate is in the bag.
	certRegions := func(prefix string, c *x509.Certificate) {
		off := bytes.Index(p7s, c.Raw)
		subj := bytes.Index(c.Raw, c.RawSubject) // the subject follows the (different) issuer
		out[prefix+" certificate subject"] = sigRegion{letterBefore(t, p7s, off+subj+len(c.RawSubject)), 0x20}
		out[prefix+" certificate signature"] = sigRegion{off + len(c.Raw) - 2, 0x01}
	}
	signer, err := sd.SignerCertificate(si)
	if err != nil {
		t.Fatal(err)
	}
	certRegions("signer", signer)
	chain := issuersOf(signer, sd.Certificates)
	for i, c := range chain {
		certRegions([]string{"issuer", "root"}[min(i, 1)], c)
	}
	attrRegions := func(prefix string, s *cms.SignerInfo) {
		base := find(t, p7s, s.RawSignedAttrs, prefix+" signed attributes")
		st := s.SignedAttr(cms.OIDSigningTime)[0].Values[0]
		out[prefix+" signing-time"] = sigRegion{base + find(t, s.RawSignedAttrs, st, "signing-time") + len(st) - 2, 0x01}
		md := s.SignedAttr(cms.OIDMessageDigest)[0].Values[0]
		out[prefix+" message-digest"] = sigRegion{base + find(t, s.RawSignedAttrs, md, "message-digest") + len(md) - 1, 0x01}
		out[prefix+" signature value"] = sigRegion{find(t, p7s, s.Signature, prefix+" signature") + len(s.Signature)/2, 0x01}
		tokDER := s.UnsignedAttr(cms.OIDTimeStampToken)[0].Values[0]
		tokOff := find(t, p7s, tokDER, prefix+" timestamp")
		tok, err := tsp.ParseToken(tokDER)
		if err != nil {
			t.Fatal(err)
		}
		gt := []byte(tok.Info.GenTime.UTC().Format("20060102150405"))
		infoOff := tokOff + find(t, tokDER, tok.Info.Raw, "TSTInfo")
		out[prefix+" timestamp genTime"] = sigRegion{infoOff + find(t, tok.Info.Raw, gt, "genTime") + len(gt) - 1, 0x01}
		out[prefix+" timestamp imprint"] = sigRegion{infoOff + find(t, tok.Info.Raw, tok.Info.HashedMessage, "imprint"), 0x01}
		out[prefix+" timestamp signature"] = sigRegion{tokOff + find(t, tokDER, tok.SignerInfo.Signature, "token signature") + 7, 0x01}
		tc := tok.Certificate.Raw
		tcOff := tokOff + bytes.Index(tokDER, tc)
		out[prefix+" TSA certificate subject"] = sigRegion{letterBefore(t, p7s, tcOff+bytes.Index(tc, tok.Certificate.RawSubject)+len(tok.Certificate.RawSubject)), 0x20}
	}
	attrRegions("primary", si)
	css, err := si.Countersignatures()
	if err != nil {
		t.Fatal(err)
	}
	if len(css) == 1 {
		attrRegions("counter", css[0])
		c, err := sd.SignerCertificate(css[0])
		if err != nil {
			t.Fatal(err)
		}
		certRegions("countersigner", c)
	}
	return out
}

// issuersOf returns the certificates above c in pool, nearest first.
func issuersOf(c *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for len(out) < 4 && !bytes.Equal(c.RawIssuer, c.RawSubject) {
		var next *x509.Certificate
		for _, p := range pool {
			if bytes.Equal(p.RawSubject, c.RawIssuer) {
				next = p
				break
			}
		}
		if next == nil {
			break
		}
		out = append(out, next)
		c = next
	}
	return out
}

// tcase is one tampered package and what verifying it gives.
type tcase struct {
	name string
	pkg  []byte
	want string // summarize output; "open error" when nupkg.Open must refuse it
	alt  string // Signet's answer where it differs from NuGet's in codes only
	bug  string // a divergence for the lead: skipped while it stands
}

func runTamper(t *testing.T, o nusig.VerifyOptions, cases []tcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := nupkg.Open(bytes.NewReader(c.pkg), int64(len(c.pkg)))
			if err != nil {
				if c.want != "open error" {
					t.Fatalf("open: %v; want %s", err, c.want)
				}
				if !strings.HasPrefix(err.Error(), "nupkg: ") {
					t.Errorf("open error %q lacks the package prefix", err)
				}
				return
			}
			r := nusig.Verify(t.Context(), p, o)
			judge(t, r, c.want, c.alt, c.bug)
		})
	}
}

// TestTamperZip: one flipped byte in each zip region of the standard
// package. Everything the package hash covers fails integrity (NU3008,
// suspect); the signature entry's own headers are outside the hash and
// only partly checked by NuGet (spec 1.3).
func TestTamperZip(t *testing.T) {
	p := testPKI(t)
	signed := standardSigned(t)
	recs, cd, end := splitZip(t, signed)
	es := openPkg(t, signed).Entries()
	var file, sigEntry nupkg.Entry
	for _, e := range es {
		switch {
		case e.Name == nupkg.SignatureName:
			sigEntry = e
		case strings.HasSuffix(e.Name, ".dll"):
			file = e
		}
	}
	dataOff := dataOffset(signed, file) + 5
	endOff := len(signed) - len(end)
	p7s := signatureBytes(t, signed)
	p7sOff := bytes.Index(signed, p7s)
	authorSubject := sigRegions(t, p7s)["signer certificate subject"]
	const suspect = "suspect pkg:NU3008!"
	cases := []tcase{
		{name: "untouched", pkg: signed, want: "valid"},
		{name: "file data", pkg: flipped(signed, dataOff, 0x01), want: suspect},
		{name: "file local header time", pkg: flipped(signed, int(file.HeaderOffset)+localModTime, 0x01), want: suspect},
		{name: "file local header name", pkg: flipped(signed, int(file.HeaderOffset)+localHeaderLen+1, 0x20), want: suspect},
		{name: "file central header time", pkg: flipped(signed, int(file.CentralOffset)+centralModTime, 0x01), want: suspect},
		{name: "file central header external attributes", pkg: flipped(signed, int(file.CentralOffset)+centralExternal, 0x01), want: suspect},
		{name: "end record comment", pkg: flipped(signed, len(signed)-3, 0x20), want: suspect},
		{name: "end record disk number", pkg: flipped(signed, endOff+4, 0x01), want: "open error"},
		{name: "end record entry count", pkg: flipped(signed, endOff+endEntriesTotal, 0x01), want: "open error"},
		{name: "end record directory offset", pkg: flipped(signed, endOff+endCDOffset, 0x01), want: "open error"},
		{name: "end record comment length", pkg: flipped(signed, endOff+endCommentLenField, 0x01), want: "open error"},
		// The signature entry's headers are not hashed; NuGet checks only
		// flags, method, sizes and external attributes (spec 1.3).
		{name: "signature local header time", pkg: flipped(signed, int(sigEntry.HeaderOffset)+localModTime, 0x01), want: "valid"},
		{name: "signature central header time", pkg: flipped(signed, int(sigEntry.CentralOffset)+centralModTime, 0x01), want: "valid"},
		{name: "signature central header external attributes", pkg: flipped(signed, int(sigEntry.CentralOffset)+centralExternal, 0x01), want: "disallowed pkg:NU3005!"},
		{name: "signature central header method", pkg: flipped(signed, int(sigEntry.CentralOffset)+centralMethod, 0x08), want: "disallowed pkg:NU3005!"},
		{name: "signature local header method", pkg: flipped(signed, int(sigEntry.HeaderOffset)+localMethod, 0x08), want: "disallowed pkg:NU3005!"},
		{name: "signature central header CRC", pkg: flipped(signed, int(sigEntry.CentralOffset)+centralCRC, 0x01),
			// NuGet never reads the CRC; Signet refuses a mismatch (nupkg/signature.go).
			want: "valid", alt: "disallowed pkg:NU3005!"},
		{name: "signature bytes, CRC not fixed", pkg: flipped(signed, p7sOff+authorSubject.off, authorSubject.mask),
			// NuGet would read the signature and fail inside it.
			want: "disallowed pkg:NU3011!", alt: "disallowed pkg:NU3005!"},
	}
	// Structural attacks.
	sig := recordIndex(t, recs, nupkg.SignatureName)
	sigCD := -1
	for k, i := range cd {
		if i == sig {
			sigCD = k
		}
	}
	move := func(localTo, cdTo int) []byte {
		r := moveTo(recs, sig, localTo)
		idx := make([]int, len(recs)) // old record index → new
		for n, rec := range r {
			idx[recordIndex(t, recs, rec.name)] = n
		}
		var c []int
		for _, i := range moveTo(cd, sigCD, cdTo) {
			c = append(c, idx[i])
		}
		return joinZip(r, c, end)
	}
	last := len(recs) - 1
	deflated := append([]zipRecord(nil), recs...)
	deflated[sig] = deflateRecord(t, recs[sig])
	dup := append(append([]zipRecord(nil), recs...), recs[sig])
	cases = append(cases,
		tcase{name: "rewritten unchanged", pkg: joinZip(recs, cd, end), want: "valid"},
		tcase{name: "signature entry first, central header first", pkg: move(0, 0), want: "valid"},
		tcase{name: "signature entry first, central header last", pkg: move(0, last), want: "valid"},
		tcase{name: "signature entry in the middle", pkg: move(2, 2), want: "valid"},
		tcase{name: "signature entry last, central header first", pkg: move(last, 0), want: "valid"},
		tcase{name: "signature entry recompressed", pkg: joinZip(deflated, cd, end), want: "disallowed pkg:NU3005!"},
		tcase{name: "signature entry duplicated", pkg: joinZip(dup, append(append([]int(nil), cd...), len(dup)-1), end), want: "disallowed pkg:NU3005!"},
		tcase{name: "signature entry removed", pkg: joinZip(append(recs[:sig:sig], recs[sig+1:]...), removeIndex(cd, sig), end), want: "disallowed pkg:NU3004!"},
	)
	runTamper(t, p.options(nusig.VerifyCommandOptions()), cases)
}

// TestTamperSignature: one flipped byte in each signed region of the
// signature, re-embedded as a signer would (valid CRC), so that what fails
// is the signature itself. NuGet evaluates a signature and its timestamp
// independently and reports both
// (SignatureTrustAndValidityVerificationProvider.VerifyValidityAndTrust):
// a flipped signature value is NU3012 and NU3019 (the imprint no longer
// matches) for NuGet, NU3012 alone for Signet, which stops at the failed
// CMS check before it reads the timestamp.
func TestTamperSignature(t *testing.T) {
	p := testPKI(t)
	signed := standardSigned(t)
	p7s := signatureBytes(t, signed)
	regions := sigRegions(t, p7s)
	want := map[string][2]string{ // NuGet's answer, Signet's where it differs
		"signer certificate subject":          {"disallowed pkg:NU3011!"},
		"signer certificate signature":        {"disallowed pkg:NU3011!"},
		"issuer certificate subject":          {"disallowed primary:NU3012!/partial-chain counter:NU3012!/partial-chain"},
		"issuer certificate signature":        {"disallowed primary:NU3012!/partial-chain counter:NU3012!/partial-chain"},
		"root certificate subject":            {"valid"}, // the anchor comes from the trust store
		"root certificate signature":          {"valid"},
		"primary signing-time":                {"disallowed primary:NU3012!"},
		"primary message-digest":              {"disallowed primary:NU3012!"},
		"primary signature value":             {"disallowed primary:NU3012!,NU3019! counter:NU3012!", "disallowed primary:NU3012! counter:NU3012!"},
		"primary timestamp genTime":           {"disallowed primary:NU3021!"},
		"primary timestamp imprint":           {"disallowed primary:NU3019!,NU3021!"},
		"primary timestamp signature":         {"disallowed primary:NU3021!"},
		"primary TSA certificate subject":     {"disallowed primary:NU3021!", "disallowed primary:NU3021!,NU3028!/partial-chain"},
		"counter signing-time":                {"disallowed counter:NU3012!"},
		"counter message-digest":              {"disallowed counter:NU3012!"},
		"counter signature value":             {"disallowed counter:NU3012!,NU3019!", "disallowed counter:NU3012!"},
		"counter timestamp genTime":           {"disallowed counter:NU3021!"},
		"counter timestamp imprint":           {"disallowed counter:NU3019!,NU3021!"},
		"counter timestamp signature":         {"disallowed counter:NU3021!"},
		"counter TSA certificate subject":     {"disallowed counter:NU3021!", "disallowed counter:NU3021!,NU3028!/partial-chain"},
		"countersigner certificate subject":   {"disallowed counter:NU3012!/partial-chain"},
		"countersigner certificate signature": {"disallowed counter:NU3012!/partial-chain"},
	}
	var cases []tcase
	for name, w := range want {
		rg, ok := regions[name]
		if !ok {
			t.Fatalf("no region %q", name)
		}
		cases = append(cases, tcase{name: name, pkg: withSignature(t, signed, flipped(p7s, rg.off, rg.mask)), want: w[0], alt: w[1]})
	}
	if len(regions) != len(want) {
		t.Errorf("%d regions located, %d expected", len(regions), len(want))
	}
	runTamper(t, p.options(nusig.VerifyCommandOptions()), cases)
}

// TestTamperRealFixture: the same flips on a real author-signed,
// nuget.org-countersigned package.
func TestTamperRealFixture(t *testing.T) {
	signed := fixtures.Read(t, "real/System.Data.SQLite.Core.1.0.117.0.nupkg")
	p7s := signatureBytes(t, signed)
	regions := sigRegions(t, p7s)
	var file nupkg.Entry
	for _, e := range openPkg(t, signed).Entries() {
		if e.Name != nupkg.SignatureName && e.CompressedSize > 100 {
			file = e
		}
	}
	dataOff := dataOffset(signed, file) + 50
	re := func(name string) []byte {
		rg := regions[name]
		return withSignature(t, signed, flipped(p7s, rg.off, rg.mask))
	}
	cases := []tcase{
		{name: "untouched", pkg: signed, want: "valid"},
		{name: "file data", pkg: flipped(signed, dataOff, 0x01), want: "suspect pkg:NU3008!"},
		{name: "re-embedded unchanged", pkg: withSignature(t, signed, p7s), want: "valid"},
		{name: "signer certificate subject", pkg: re("signer certificate subject"), want: "disallowed pkg:NU3011!"},
		{name: "primary signing-time", pkg: re("primary signing-time"), want: "disallowed primary:NU3012!"},
		{name: "primary signature value", pkg: re("primary signature value"),
			want: "disallowed primary:NU3012!,NU3019! counter:NU3012!", alt: "disallowed primary:NU3012! counter:NU3012!"},
		// The certificates have expired since: with its timestamp invalid,
		// the signature is judged at the current time (NU3037).
		{name: "primary timestamp genTime", pkg: re("primary timestamp genTime"), want: "disallowed primary:NU3021!,NU3037!"},
		{name: "counter timestamp signature", pkg: re("counter timestamp signature"), want: "disallowed counter:NU3021!,NU3037!"},
	}
	runTamper(t, realOptions(t), cases)
}

// craftCountersignature signs si's signature value as a countersignature
// of id with the given commitment type; it carries signing-time unless
// noSigningTime, and url as its service index URL.
func craftCountersignature(t *testing.T, si *cms.SignerInfo, id *signer.Identity, commitment asn1.ObjectIdentifier, url string, noSigningTime bool) []byte {
	t.Helper()
	must := func(b []byte, err error) []byte {
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ct := must(asn1.Marshal(struct{ OID asn1.ObjectIdentifier }{commitment}))
	attrs := []cms.Attribute{
		{Type: cms.OIDCommitmentTypeIndication, Values: [][]byte{ct}},
		{Type: cms.OIDSigningCertificateV2, Values: [][]byte{must(cms.MarshalSigningCertificateV2(id.Certificate, crypto.SHA256))}},
		{Type: cms.OIDNuGetV3ServiceIndexURL, Values: [][]byte{must(asn1.MarshalWithParams(url, "ia5"))}},
	}
	if !noSigningTime {
		attrs = append(attrs, cms.Attribute{Type: cms.OIDSigningTime, Values: [][]byte{must(cms.MarshalSigningTime(time.Now()))}})
	}
	csi, err := cms.NewSignerInfo(si.Signature, cms.SignerOptions{Signer: id.Signer, Certificate: id.Certificate, Hash: crypto.SHA256, Attributes: attrs, ContentType: cms.OIDData})
	if err != nil {
		t.Fatal(err)
	}
	return must(csi.Marshal())
}

// editSignature parses pkg's signature, lets edit change it, and returns
// the package with the result re-embedded.
func editSignature(t *testing.T, pkg []byte, edit func(sd *cms.SignedData, si *cms.SignerInfo)) []byte {
	t.Helper()
	sd, err := cms.Parse(signatureBytes(t, pkg))
	if err != nil {
		t.Fatal(err)
	}
	edit(sd, sd.SignerInfos[0])
	raw, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return withSignature(t, pkg, raw)
}

// addCountersignature adds a crafted countersignature and its signer's
// chain.
func addCountersignature(t *testing.T, pkg []byte, id *signer.Identity, commitment asn1.ObjectIdentifier, url string, noSigningTime bool) []byte {
	return editSignature(t, pkg, func(sd *cms.SignedData, si *cms.SignerInfo) {
		si.AddUnsignedAttrValue(cms.OIDCounterSignature, craftCountersignature(t, si, id, commitment, url, noSigningTime))
		for _, c := range id.Chain {
			sd.AddCertificates(c.Raw)
		}
	})
}

// TestTamperCountersignatures: grafted signatures and countersignatures
// removed, doubled, misplaced or malformed (spec 3.5).
func TestTamperCountersignatures(t *testing.T) {
	p := testPKI(t)
	signed := standardSigned(t)
	ts := tokenTSA{id: p.tsa}
	other := signPkg(t, signPkg(t, unsignedPackage(t, "Signet.Matrix.Other"), nusig.TypeAuthor, signSpec{id: p.author, ts: ts}),
		nusig.TypeRepository, signSpec{id: p.repo, ts: ts})
	authorOnly := editSignature(t, signed, func(_ *cms.SignedData, si *cms.SignerInfo) { si.RemoveUnsignedAttr(cms.OIDCounterSignature) })
	repoPrimary := signPkg(t, unsignedPackage(t, "Signet.Matrix.RepoPrimary"), nusig.TypeRepository, signSpec{id: p.repo, ts: ts})
	url := testRepository.ServiceIndexURL
	cases := []tcase{
		{name: "another package's signature grafted", pkg: withSignature(t, signed, signatureBytes(t, other)), want: "suspect pkg:NU3008!"},
		{name: "countersignature removed", pkg: authorOnly, want: "valid"},
		{name: "second repository countersignature", pkg: addCountersignature(t, signed, p.otherRepo, cms.OIDProofOfReceipt, url, false),
			want: "disallowed primary:NU3032!"},
		{name: "same countersignature twice", pkg: editSignature(t, signed, func(_ *cms.SignedData, si *cms.SignerInfo) {
			css, err := si.Countersignatures()
			if err != nil || len(css) != 1 {
				t.Fatalf("countersignatures: %d, %v", len(css), err)
			}
			si.AddUnsignedAttrValue(cms.OIDCounterSignature, css[0].Raw)
		}), want: "disallowed primary:NU3032!"},
		{name: "repository countersignature on a repository primary", pkg: addCountersignature(t, repoPrimary, p.repo, cms.OIDProofOfReceipt, url, false),
			want: "disallowed primary:NU3033!"},
		{name: "author-typed countersignature is ignored", pkg: addCountersignature(t, authorOnly, p.repo, cms.OIDProofOfOrigin, url, false), want: "valid"},
		{name: "countersignature without timestamp", pkg: addCountersignature(t, authorOnly, p.repo, cms.OIDProofOfReceipt, url, false),
			want: "valid counter:NU3027~"},
		{name: "countersignature without signing-time", pkg: addCountersignature(t, authorOnly, p.repo, cms.OIDProofOfReceipt, url, true),
			want: "disallowed counter:NU3031!"},
		{name: "countersignature with an http service index", pkg: addCountersignature(t, authorOnly, p.repo, cms.OIDProofOfReceipt, "http://feed.signet.test/v3/index.json", false),
			want: "disallowed counter:NU3031!"},
	}
	runTamper(t, p.options(nusig.VerifyCommandOptions()), cases)

	// Signing refuses what verification would refuse (spec 3.5, 3.6).
	for _, tt := range []struct {
		name string
		pkg  []byte
		code nusig.Code
	}{
		{"countersign a countersigned package", signed, nusig.NU3032},
		{"repository-sign a repository-signed package", repoPrimary, nusig.NU3001},
	} {
		_, err := trySign(tt.pkg, nusig.TypeRepository, signSpec{id: p.repo}, false)
		var e *nusig.Error
		if !errors.As(err, &e) || e.Code != tt.code {
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.code)
		}
	}
}

// FuzzVerify mutates the .signature.p7s of the standard package, embeds it
// as a signer would, and verifies. Verify must never panic, and a package
// it calls valid must carry the original's signed parts: the same
// signature content (so the package hash matches), signed attributes,
// signature value and signing certificate. Everything else (unsigned
// attributes, the certificate bag, SignedData fields outside the signer)
// may legitimately change.
func FuzzVerify(f *testing.F) {
	p := testPKI(f)
	signed := standardSigned(f)
	orig := signatureBytes(f, signed)
	osd, err := cms.Parse(orig)
	if err != nil {
		f.Fatal(err)
	}
	osi := osd.SignerInfos[0]
	pkg := openPkg(f, signed)
	o := p.options(nusig.VerifyCommandOptions())
	f.Add(orig)
	f.Add(signatureBytes(f, fixtures.Read(f, "real/System.Data.SQLite.Core.1.0.117.0.nupkg")))
	f.Fuzz(func(t *testing.T, sig []byte) {
		if len(sig) == 0 || len(sig) > nupkg.MaxSignatureSize {
			return
		}
		var buf bytes.Buffer
		if err := nupkg.Sign(&buf, pkg, sig, time.Time{}); err != nil {
			t.Fatalf("embedding: %v", err)
		}
		b := buf.Bytes()
		mp, err := nupkg.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("reopening: %v", err)
		}
		r := nusig.Verify(t.Context(), mp, o)
		if !r.Valid() {
			return
		}
		sd, err := cms.Parse(sig)
		if err != nil {
			t.Fatalf("valid, but the signature does not parse: %v", err)
		}
		si := sd.SignerInfos[0]
		if !bytes.Equal(sd.EContent, osd.EContent) || !bytes.Equal(si.RawSignedAttrs, osi.RawSignedAttrs) || !bytes.Equal(si.Signature, osi.Signature) {
			t.Fatalf("valid, but the signed parts differ from the original")
		}
		if r.Primary == nil || !bytes.Equal(r.Primary.Certificate.Raw, p.author.Certificate.Raw) {
			t.Fatalf("valid, but signed by %v", r.Primary.Certificate.Subject)
		}
		c, err := nusig.ParseContent(sd.EContent)
		if err != nil {
			t.Fatalf("valid, but the content does not parse: %v", err)
		}
		if sum, err := mp.HashUnsigned(c.Hash); err != nil || !bytes.Equal(sum, c.HashValue) {
			t.Fatalf("valid, but the package hash does not match (%v)", err)
		}
	})
}
