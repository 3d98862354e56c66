package revocation

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/fixtures"
)

// fixtureDER returns the DER certificates of the fixture roots, as seeds of
// well-formed DER that is neither an OCSP response nor a CRL.
func fixtureDER(f *testing.F) (pemFile []byte, ders [][]byte) {
	pemFile = fixtures.Read(f, "roots/roots_used_by_fixtures.pem")
	for rest := pemFile; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		ders = append(ders, b.Bytes)
	}
	if len(ders) == 0 {
		f.Fatal("no certificate in the fixture roots")
	}
	return pemFile, ders
}

// fuzzSeeds are OCSP responses and CRLs of every shape the tests make.
type fuzzSeeds struct {
	p          *ocspPKI
	ocsp, crls [][]byte
}

func newFuzzSeeds(f *testing.F) *fuzzSeeds {
	p := newOCSPPKI(f)
	s := &fuzzSeeds{p: p}
	now := time.Now()
	for _, spec := range []respSpec{
		{},
		{certStatus: statusRevoked, revokedAt: now, reason: 1, hash: crypto.SHA256},
		{certStatus: statusUnknown, byKey: true, noNextUpdate: true},
		{responder: p.delegated, certs: []*x509.Certificate{p.inter.Cert, p.delegated}, key: p.rogueKey},
		{responseExts: []extension{nonceExtension(f, []byte("nonce"))}, singleExts: []extension{{id: oidOCSPNonce, critical: true, value: []byte{4, 0}}}},
		{status: 3},
	} {
		s.ocsp = append(s.ocsp, buildResponse(f, p.leaf, p.inter.Cert, p.inter.Key, spec))
	}
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: p.leaf.SerialNumber, ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
	if b, err := ocsp.CreateResponse(p.inter.Cert, p.inter.Cert, tmpl, p.inter.Key); err == nil {
		s.ocsp = append(s.ocsp, b)
	}
	entries := []x509.RevocationListEntry{devpki.Revoked(p.leaf, now, 1), {SerialNumber: big.NewInt(-5), RevocationTime: now}}
	for _, spec := range []crlSpec{
		{},
		{revoked: entries},
		{exts: []pkix.Extension{idpExtension(f, idpSpec{uris: p.leaf.CRLDistributionPoints, onlyUser: true})}},
		{exts: []pkix.Extension{idpExtension(f, idpSpec{relative: true, someReasons: true, indirect: true})}},
		{exts: []pkix.Extension{{Id: oidExtDeltaCRLIndicator, Critical: true, Value: []byte{2, 1, 1}}}},
	} {
		s.crls = append(s.crls, makeCRL(f, p.inter, spec))
	}
	return s
}

func FuzzParseOCSPResponse(f *testing.F) {
	s := newFuzzSeeds(f)
	for _, b := range s.ocsp {
		f.Add(b)
	}
	_, ders := fixtureDER(f)
	f.Add(ders[0])
	now := time.Now()
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseOCSPResponse(b)
		if err != nil {
			return
		}
		if len(r.responses) == 0 || !bytes.Contains(b, r.tbs) || len(r.certs) > maxOCSPCerts {
			t.Fatalf("parsed response breaks invariants: %+v", r)
		}
		res, err := verifyParsedOCSP(r, ocspCheck{cert: s.p.leaf, issuer: s.p.inter.Cert, now: now, nonce: []byte("nonce")})
		if err == nil && res.Status == Unknown {
			t.Fatal("verified response with status Unknown")
		}
		// Differential: where x/crypto also reads a single response, the
		// two agree on it.
		want, err := ocsp.ParseResponse(b, nil)
		if err != nil || len(r.responses) != 1 {
			return
		}
		got := r.responses[0]
		if got.certID.serial.Cmp(want.SerialNumber) != 0 || !got.thisUpdate.Equal(want.ThisUpdate) || !got.nextUpdate.Equal(want.NextUpdate) ||
			!bytes.Equal(r.tbs, want.TBSResponseData) {
			t.Fatalf("x/crypto reads %+v, we read %+v", want, got)
		}
	})
}

func FuzzParseCRL(f *testing.F) {
	s := newFuzzSeeds(f)
	for _, b := range s.crls {
		f.Add(b)
	}
	_, ders := fixtureDER(f)
	f.Add(ders[0])
	now := time.Now()
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseCRL(b)
		if err != nil {
			return
		}
		r, err := verifyCRL(p, s.p.leaf, s.p.inter.Cert, now)
		if err == nil && r.Status == Unknown {
			t.Fatal("verified CRL with status Unknown")
		}
	})
}

func FuzzParseIssuingDistributionPoint(f *testing.F) {
	for _, s := range []idpSpec{
		{},
		{uris: []string{"http://a.test/x.crl", "http://b.test/y.crl"}, onlyCA: true},
		{relative: true, onlyUser: true, someReasons: true, indirect: true},
	} {
		f.Add(idpExtension(f, s).Value)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		idp, err := parseIssuingDistributionPoint(b)
		if err == nil && (len(idp.uris) > maxIDPNames || idp.relative && len(idp.uris) > 0) {
			t.Fatalf("%+v", idp)
		}
	})
}

func FuzzParseBundle(f *testing.F) {
	// Small seeds: the fuzzer minimizes every input that finds new
	// coverage, which takes long on inputs of many kilobytes.
	s := newFuzzSeeds(f)
	b := &Bundle{}
	if err := b.AddOCSPResponse(s.ocsp[0]); err != nil {
		f.Fatal(err)
	}
	if err := b.AddCRL(s.crls[0]); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Marshal())
	f.Add([]byte("text\n" + string(b.Marshal()[:200])))
	_, ders := fixtureDER(f)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ders[0]}))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			return
		}
		// What parsed writes out and parses back to the same bundle.
		out := b.Marshal()
		again, err := ParseBundle(out)
		if err != nil {
			t.Fatalf("re-parsing our own output: %v", err)
		}
		o1, c1 := b.Len()
		o2, c2 := again.Len()
		if o1 != o2 || c1 != c2 || !bytes.Equal(again.Marshal(), out) {
			t.Fatalf("round trip changed the bundle: %d+%d → %d+%d", o1, c1, o2, c2)
		}
	})
}
