package tsp

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/tsp/tsptest"
)

// testToken signs a TSTInfo over data with p, letting mod alter the signer
// and the TSTInfo first.
func testToken(t *testing.T, p *tsptest.PKI, data []byte, mod func(*TokenSigner, *TSTInfo)) []byte {
	t.Helper()
	sum := sha256.Sum256(data)
	info := &TSTInfo{
		Policy: asn1.ObjectIdentifier{1, 2, 3, 4, 1}, Hash: crypto.SHA256, HashedMessage: sum[:],
		SerialNumber: big.NewInt(42), GenTime: time.Now().UTC().Truncate(time.Second),
		HasAccuracy: true, Accuracy: time.Second, Nonce: big.NewInt(7),
	}
	s := &TokenSigner{Signer: p.Signer, Certificate: p.Cert, Chain: []*x509.Certificate{p.Root}, IncludeCertificates: true, IncludeESSv1: true}
	if mod != nil {
		mod(s, info)
	}
	der, err := s.Sign(info, info.GenTime)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestVerifyRules builds one defective token per rule and checks that
// Verify reports that rule, with NuGet's code, and nothing else.
func TestVerifyRules(t *testing.T) {
	data := []byte("signature value")
	good := tsptest.New(t, tsptest.Options{})
	other := tsptest.New(t, tsptest.Options{})
	sha1Imprint := func(_ *TokenSigner, i *TSTInfo) {
		h := crypto.SHA1.New()
		h.Write(data)
		i.Hash, i.HashedMessage = crypto.SHA1, h.Sum(nil)
	}
	now := time.Now()
	for _, tc := range []struct {
		name  string
		pki   *tsptest.PKI
		mod   func(*TokenSigner, *TSTInfo)
		opts  VerifyOptions
		data  []byte
		check Check
		code  string
	}{
		{name: "good"},
		{name: "good, ESS v2 only", mod: func(s *TokenSigner, _ *TSTInfo) { s.IncludeESSv1 = false }},
		{name: "good, SHA-512 digest and imprint", mod: func(s *TokenSigner, i *TSTInfo) {
			s.Hash = crypto.SHA512
			h := crypto.SHA512.New()
			h.Write(data)
			i.Hash, i.HashedMessage = crypto.SHA512, h.Sum(nil)
		}},
		{name: "two signers", mod: func(s *TokenSigner, _ *TSTInfo) { s.twoSigners = true }, check: CheckSignerCount, code: "NU3021"},
		{name: "content type", mod: func(s *TokenSigner, _ *TSTInfo) { s.contentType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1} }, check: CheckContentType, code: "NU3021"},
		{name: "no certificate", mod: func(s *TokenSigner, _ *TSTInfo) { s.IncludeCertificates = false }, check: CheckSignerCertificate, code: "NU3020"},
		{name: "no ESS", mod: func(s *TokenSigner, _ *TSTInfo) { s.omitESS = true }, check: CheckESSCertID, code: "NU3021"},
		{name: "ESS names another certificate", mod: func(s *TokenSigner, _ *TSTInfo) { s.essCert = other.Cert }, check: CheckESSCertID, code: "NU3021"},
		{name: "bad signature", mod: func(s *TokenSigner, _ *TSTInfo) { s.badSig = true }, check: CheckSignature, code: "NU3021"},
		{name: "cert signed with SHA-1", pki: tsptest.New(t, tsptest.Options{SHA1Issuer: true}), check: CheckCertSignatureAlg, code: "NU3022"},
		{name: "cert signed with ECDSA", pki: tsptest.New(t, tsptest.Options{ECDSAIssuer: true}), check: CheckCertSignatureAlg, code: "NU3022"},
		{name: "RSA 1024", pki: tsptest.New(t, tsptest.Options{SmallKey: true}), check: CheckCertKey, code: "NU3023"},
		{name: "ECDSA key", pki: tsptest.New(t, tsptest.Options{ECDSAKey: true}), check: CheckCertKey, code: "NU3023"},
		{name: "SHA-1 digest", mod: func(s *TokenSigner, _ *TSTInfo) { s.sha1Digest = true }, check: CheckDigestAlg, code: "NU3024"},
		{name: "SHA-1 imprint", mod: sha1Imprint, check: CheckImprintAlg, code: "NU3030"},
		{name: "imprint of other data", data: []byte("other"), check: CheckImprint, code: "NU3019"},
		{name: "not yet valid", opts: VerifyOptions{Now: now.Add(-2 * time.Hour)}, check: CheckCertNotYetValid, code: "NU3025"},
		{name: "genTime after NotAfter", mod: func(_ *TokenSigner, i *TSTInfo) { i.GenTime = good.Cert.NotAfter }, check: CheckGenTime, code: "NU3036"},
		{name: "genTime before NotBefore", mod: func(_ *TokenSigner, i *TSTInfo) { i.GenTime = good.Cert.NotBefore.Add(-time.Second) }, check: CheckGenTime, code: "NU3036"},
		{name: "no EKU", pki: tsptest.New(t, tsptest.Options{NoEKU: true}), check: CheckEKU, code: "NU3028"},
		{name: "code signing EKU", pki: tsptest.New(t, tsptest.Options{EKU: []asn1.ObjectIdentifier{tsptest.OIDCodeSigning}}), check: CheckEKU, code: "NU3028"},
		{name: "extra EKU", pki: tsptest.New(t, tsptest.Options{EKU: []asn1.ObjectIdentifier{tsptest.OIDTimeStamping, tsptest.OIDCodeSigning}}), check: CheckEKU, code: "NU3028"},
		{name: "non-critical EKU", pki: tsptest.New(t, tsptest.Options{NonCriticalEKU: true}), check: CheckEKU, code: "NU3028"},
		{name: "non-critical EKU allowed", pki: tsptest.New(t, tsptest.Options{NonCriticalEKU: true}), opts: VerifyOptions{AllowNonCriticalEKU: true}},
		{name: "nonce", opts: VerifyOptions{Request: &Request{Hash: crypto.SHA256, Digest: sha256Of(data), Nonce: big.NewInt(8)}}, check: CheckNonce, code: "NU3026"},
		{name: "nonce missing", mod: func(_ *TokenSigner, i *TSTInfo) { i.Nonce = nil },
			opts: VerifyOptions{Request: &Request{Hash: crypto.SHA256, Digest: sha256Of(data), Nonce: big.NewInt(7)}}, check: CheckNonce, code: "NU3026"},
		{name: "nonce matches", opts: VerifyOptions{Request: &Request{Hash: crypto.SHA256, Digest: sha256Of(data), Nonce: big.NewInt(7)}}},
		{name: "imprint differs from request", opts: VerifyOptions{Request: &Request{Hash: crypto.SHA256, Digest: sha256Of([]byte("x")), Nonce: big.NewInt(7)}}, check: CheckRequest, code: "NU3019"},
		{name: "policy differs from request", opts: VerifyOptions{Request: &Request{Hash: crypto.SHA256, Digest: sha256Of(data), Nonce: big.NewInt(7), Policy: asn1.ObjectIdentifier{1, 9}}}, check: CheckRequest, code: "NU3021"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.pki
			if p == nil {
				p = good
			}
			der := testToken(t, p, data, tc.mod)
			tok, err := ParseToken(der)
			if err != nil {
				t.Fatal(err)
			}
			d := data
			if tc.data != nil {
				d = tc.data
			}
			errs := tok.Verify(d, tc.opts)
			if tc.check == "" {
				if len(errs) != 0 {
					t.Fatalf("want no failure, got %v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("want exactly a %s failure, got %d: %v", tc.check, len(errs), errs)
			}
			ce, ok := errs[0].(*CheckError)
			if !ok || ce.Check != tc.check || ce.Code != tc.code {
				t.Fatalf("got %v, want %s (%s)", errs[0], tc.check, tc.code)
			}
			if msg := ce.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "tsp: "+tc.code+": ") {
				t.Fatalf("message %q", msg)
			}
		})
	}
}

func sha256Of(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// TestVerifyCollectsAll: Verify does not stop at the first failure.
func TestVerifyCollectsAll(t *testing.T) {
	p := tsptest.New(t, tsptest.Options{SmallKey: true, NonCriticalEKU: true})
	der := testToken(t, p, []byte("a"), func(s *TokenSigner, _ *TSTInfo) { s.sha1Digest = true })
	tok, err := ParseToken(der)
	if err != nil {
		t.Fatal(err)
	}
	errs := tok.Verify([]byte("b"), VerifyOptions{})
	want := []Check{CheckCertKey, CheckDigestAlg, CheckImprint, CheckEKU}
	if len(errs) != len(want) {
		t.Fatalf("got %v", errs)
	}
	for i, c := range want {
		if !IsCheck(errs[i], c) {
			t.Errorf("failure %d: %v, want %s", i, errs[i], c)
		}
	}
}

// TestVerifyTamperedTSTInfo: a TSTInfo changed after signing no longer
// matches the message-digest attribute.
func TestVerifyTamperedTSTInfo(t *testing.T) {
	p := tsptest.New(t, tsptest.Options{})
	data := []byte("d")
	der := testToken(t, p, data, func(_ *TokenSigner, i *TSTInfo) { i.SerialNumber = big.NewInt(0x5a5a) })
	i := bytes.Index(der, []byte{0x02, 0x02, 0x5a, 0x5a})
	if i < 0 {
		t.Fatal("serial not found")
	}
	der[i+3] = 0x5b
	tok, err := ParseToken(der)
	if err != nil {
		t.Fatal(err)
	}
	errs := tok.Verify(data, VerifyOptions{})
	if len(errs) != 1 || !IsCheck(errs[0], CheckSignature) || !strings.Contains(errs[0].Error(), "message digest does not match") {
		t.Fatalf("got %v", errs)
	}
}

func TestParseTokenStructure(t *testing.T) {
	p := tsptest.New(t, tsptest.Options{})
	good := testToken(t, p, []byte("d"), nil)
	sdOID := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}
	notSD := bytes.Replace(good, sdOID, []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01}, 1)
	for _, tc := range []struct {
		name string
		der  []byte
	}{
		{"empty", nil},
		{"not DER", []byte("hello")},
		{"not signedData", notSD},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(bytes.Clone(good), 0)},
		{"too big", make([]byte, MaxTokenSize+1)},
	} {
		_, err := ParseToken(tc.der)
		if err == nil {
			t.Errorf("%s: parsed", tc.name)
			continue
		}
		if !IsCheck(err, CheckStructure) || !strings.HasPrefix(err.Error(), "tsp: NU3021: structure: ") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
