package cms

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// fixtureStats counts what the corpus exercised, so the test can insist
// that each path was taken at least once.
type fixtureStats struct {
	signatures, countersignatures, tokens int
	skiSigners, issuerSerialSigners       int
	unsortedSignedAttrs                   []string
	primaryAttrOrders                     map[string]bool
	essV1Tokens, essV2Tokens              int
	nugetExactESS                         int
}

// TestFixtures parses every signature of the corpus, with its
// countersignatures and timestamp tokens, and checks each against the
// manifest: byte-exact round trip, signer found by SID, CheckSignature, ESS.
func TestFixtures(t *testing.T) {
	st := fixtureStats{primaryAttrOrders: map[string]bool{}}
	sigs := fixtureSignatures(t)
	for _, f := range sigs {
		t.Run(f.name, func(t *testing.T) {
			checkFixture(t, f, &st)
		})
	}
	t.Logf("%d signatures, %d countersignatures, %d tokens; signers by SKI %d, by issuer+serial %d; "+
		"tokens with ESS v1 %d, v2 %d; NuGet-exact ESS v2 %d; %d primary attribute orders; unsorted signed attributes: %v",
		st.signatures, st.countersignatures, st.tokens, st.skiSigners, st.issuerSerialSigners,
		st.essV1Tokens, st.essV2Tokens, st.nugetExactESS, len(st.primaryAttrOrders), st.unsortedSignedAttrs)
	// 29 real, 12 signed invalid/ packages and the bare .signature.p7s.
	if st.signatures != 42 {
		t.Errorf("%d fixture signatures, want 42", st.signatures)
	}
	// Sorted by encoding, the attribute types come in different orders
	// (fixtures README item 4).
	if len(st.primaryAttrOrders) < 2 {
		t.Errorf("every primary signer has the same attribute order: %v", st.primaryAttrOrders)
	}
	if st.countersignatures < 17 || st.tokens < 55 || st.skiSigners == 0 || st.issuerSerialSigners == 0 ||
		st.essV1Tokens == 0 || st.essV2Tokens == 0 {
		t.Errorf("the corpus did not exercise every path: %+v", st)
	}
}

func checkFixture(t *testing.T, f fixtureSig, st *fixtureStats) {
	sd := parseRoundTrip(t, f.p7s)
	st.signatures++
	if len(sd.SignerInfos) != 1 {
		t.Fatalf("%d SignerInfos, want 1", len(sd.SignerInfos))
	}
	if !sd.EContentType.Equal(OIDData) || !bytes.HasPrefix(sd.EContent, []byte("Version:1\n\n")) {
		t.Fatalf("eContent %s %q is not NuGet signature content", sd.EContentType, sd.EContent)
	}
	if len(sd.RawCertificates) != f.row.nCerts {
		t.Errorf("%d certificates in the bag, manifest says %d", len(sd.RawCertificates), f.row.nCerts)
	}
	si := sd.SignerInfos[0]
	cert := signerCert(t, sd, si, f.row.primaryCN, st)
	mustVerify := strings.HasPrefix(f.name, "real/") || f.row.cmsSigOK == "True" || f.row.cmsSigOK == "n/a"
	if err := sd.CheckSignerInfo(si, cert); err != nil && mustVerify {
		t.Fatalf("primary CheckSignerInfo: %v", err)
	}
	checkSignedAttrsOrder(t, f.name+" primary", si, st)
	st.primaryAttrOrders[strings.Join(attrTypes(si.SignedAttrs), " ")] = true
	checkESSv2(t, si, cert, st)
	checkSigningTime(t, si)
	for i, tok := range si.UnsignedAttr(OIDTimeStampToken) {
		for j, v := range tok.Values {
			cn := ""
			if i == 0 && j == 0 {
				cn = f.row.tsaCN
			}
			checkToken(t, f.name+" primary token", v, cn, st)
		}
	}

	cs, err := si.Countersignatures()
	if err != nil {
		t.Fatalf("Countersignatures: %v", err)
	}
	if want := f.row.countersignerCN != ""; (len(cs) == 1) != want || len(cs) > 1 {
		t.Fatalf("%d countersignatures, manifest countersigner %q", len(cs), f.row.countersignerCN)
	}
	for _, c := range cs {
		st.countersignatures++
		raw := si.UnsignedAttr(OIDCounterSignature)[0].Values[0]
		if out, err := c.Marshal(); err != nil || !bytes.Equal(out, raw) {
			t.Fatalf("countersignature Marshal differs from its input (err %v)", err)
		}
		ccert := signerCert(t, sd, c, f.row.countersignerCN, st)
		if err := c.CheckContentType(nil); err != nil {
			t.Errorf("countersignature: %v", err)
		}
		if err := c.CheckSignature(ccert, si.Signature); err != nil {
			t.Fatalf("countersignature CheckSignature over the primary signature: %v", err)
		}
		if err := c.CheckSignature(ccert, sd.EContent); err == nil {
			t.Fatal("countersignature verified over the content instead of the signature value")
		}
		checkSignedAttrsOrder(t, f.name+" countersignature", c, st)
		checkESSv2(t, c, ccert, st)
		checkSigningTime(t, c)
		for i, tok := range c.UnsignedAttr(OIDTimeStampToken) {
			for j, v := range tok.Values {
				cn := ""
				if i == 0 && j == 0 {
					cn = f.row.counterTSACN
				}
				checkToken(t, f.name+" countersignature token", v, cn, st)
			}
		}
	}
}

// parseRoundTrip parses b and checks that Marshal gives b back.
func parseRoundTrip(t *testing.T, b []byte) *SignedData {
	t.Helper()
	sd, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	out, err := sd.Marshal()
	if err != nil || !bytes.Equal(out, b) {
		t.Fatalf("Marshal differs from the parsed bytes (err %v)", err)
	}
	return sd
}

// signerCert finds si's certificate and checks its CN against want (when
// the manifest names one).
func signerCert(t *testing.T, sd *SignedData, si *SignerInfo, want string, st *fixtureStats) *x509.Certificate {
	t.Helper()
	cert, err := sd.SignerCertificate(si)
	if err != nil {
		t.Fatalf("SignerCertificate: %v", err)
	}
	if want != "" && cert.Subject.CommonName != want {
		t.Fatalf("signer CN %q, manifest says %q", cert.Subject.CommonName, want)
	}
	if si.SID.SubjectKeyID != nil {
		st.skiSigners++
		if si.Version != 3 {
			t.Errorf("SKI signer with version %d", si.Version)
		}
	} else {
		st.issuerSerialSigners++
	}
	return cert
}

// checkSignedAttrsOrder records signers whose signed attributes are not in
// DER order; they verified all the same.
func checkSignedAttrsOrder(t *testing.T, name string, si *SignerInfo, st *fixtureStats) {
	t.Helper()
	s := cryptobyte.String(si.RawSignedAttrs)
	var content cryptobyte.String
	if !s.ReadASN1(&content, tagSignedAttrs) {
		t.Fatalf("%s: RawSignedAttrs unreadable", name)
	}
	var encs [][]byte
	for !content.Empty() {
		var e cryptobyte.String
		if !content.ReadASN1Element(&e, cbasn1.SEQUENCE) {
			t.Fatalf("%s: signed attribute unreadable", name)
		}
		encs = append(encs, e)
	}
	if !der.IsSortedSetOf(encs) {
		st.unsortedSignedAttrs = append(st.unsortedSignedAttrs, name)
	}
}

// checkESSv2 checks that the one signing-certificate-v2 attribute names cert
// and is exactly what MarshalSigningCertificateV2 writes when it came from a
// NuGet client.
func checkESSv2(t *testing.T, si *SignerInfo, cert *x509.Certificate, st *fixtureStats) {
	t.Helper()
	v, ok := singleValue(si.SignedAttrs, OIDSigningCertificateV2)
	if !ok {
		t.Fatal("no single signing-certificate-v2 attribute")
	}
	ids, err := ParseSigningCertificateV2(v)
	if err != nil {
		t.Fatalf("ParseSigningCertificateV2: %v", err)
	}
	if err := ids[0].Matches(cert); err != nil {
		t.Fatalf("ESS v2: %v", err)
	}
	if len(si.SignedAttr(OIDSigningCertificate)) != 0 {
		t.Error("signature carries ESS v1")
	}
	mine, err := MarshalSigningCertificateV2(cert, ids[0].Hash)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(mine, v) {
		st.nugetExactESS++
	} else {
		t.Errorf("MarshalSigningCertificateV2 = %x, the signature has %x", mine, v)
	}
}

// checkSigningTime parses the signing-time and checks it re-encodes
// identically.
func checkSigningTime(t *testing.T, si *SignerInfo) {
	t.Helper()
	v, ok := singleValue(si.SignedAttrs, OIDSigningTime)
	if !ok {
		t.Fatal("no single signing-time attribute")
	}
	tm, err := ParseSigningTime(v)
	if err != nil {
		t.Fatalf("ParseSigningTime: %v", err)
	}
	if out, err := MarshalSigningTime(tm); err != nil || !bytes.Equal(out, v) {
		t.Fatalf("MarshalSigningTime(%v) = %x, %v; want %x", tm, out, err, v)
	}
}

// checkToken parses a timestamp token, checks its round trip, signer, ESS
// and signature over its TSTInfo.
func checkToken(t *testing.T, name string, tok []byte, wantCN string, st *fixtureStats) {
	t.Helper()
	st.tokens++
	sd, err := Parse(tok)
	if err != nil {
		t.Fatalf("%s: Parse: %v", name, err)
	}
	if out, err := sd.Marshal(); err != nil || !bytes.Equal(out, tok) {
		t.Fatalf("%s: Marshal differs (err %v)", name, err)
	}
	if !sd.EContentType.Equal(OIDTSTInfo) || len(sd.SignerInfos) != 1 || len(sd.EContent) == 0 {
		t.Fatalf("%s: eContentType %s, %d signers", name, sd.EContentType, len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	cert := signerCert(t, sd, si, wantCN, st)
	if err := sd.CheckSignerInfo(si, cert); err != nil {
		t.Fatalf("%s: CheckSignerInfo over TSTInfo: %v", name, err)
	}
	checkSignedAttrsOrder(t, name, si, st)
	v1, v2 := si.SignedAttr(OIDSigningCertificate), si.SignedAttr(OIDSigningCertificateV2)
	if len(v1)+len(v2) == 0 {
		t.Fatalf("%s: no ESS attribute", name)
	}
	for _, a := range v1 {
		st.essV1Tokens++
		ids, err := ParseSigningCertificate(a.Values[0])
		if err != nil {
			t.Fatalf("%s: ParseSigningCertificate: %v", name, err)
		}
		if err := ids[0].Matches(cert); err != nil {
			t.Fatalf("%s: ESS v1: %v", name, err)
		}
	}
	for _, a := range v2 {
		st.essV2Tokens++
		ids, err := ParseSigningCertificateV2(a.Values[0])
		if err != nil {
			t.Fatalf("%s: ParseSigningCertificateV2: %v", name, err)
		}
		if err := ids[0].Matches(cert); err != nil {
			t.Fatalf("%s: ESS v2: %v", name, err)
		}
	}
}
