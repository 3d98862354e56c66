package tsp

import (
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/cms"
)

// TestFixtureTokensVerify parses every token of the real corpus and runs
// Verify over the signature value it timestamps. Every check must pass at
// the current time: the TSA certificates have all expired or will, but
// genTime lies inside their validity (NU3036 passes), and "not yet valid"
// (NU3025) cannot fail for certificates issued years ago.
func TestFixtureTokensVerify(t *testing.T) {
	toks := fixtureTokens(t, "real/*.nupkg")
	cns := map[string]bool{}
	for _, tk := range toks {
		tok, err := ParseToken(tk.token)
		if err != nil {
			t.Fatalf("%s %s: %v", tk.file, tk.role, err)
		}
		if tok.Info == nil || tok.Certificate == nil || tok.SignerCount != 1 {
			t.Fatalf("%s %s: incomplete token %v", tk.file, tk.role, tok)
		}
		want := tk.manifest["tsa_CN"]
		if tk.role == "countersignature" {
			want = tk.manifest["countersig_tsa_CN"]
		}
		if tok.Certificate.Subject.CommonName != want {
			t.Errorf("%s %s: TSA %q, manifest says %q", tk.file, tk.role, tok.Certificate.Subject.CommonName, want)
		}
		cns[want] = true
		for _, err := range tok.Verify(tk.sigValue, VerifyOptions{}) {
			t.Errorf("%s %s (%s): %v", tk.file, tk.role, want, err)
		}
		// The same token over other data fails the imprint check and
		// nothing else.
		errs := tok.Verify([]byte("other data"), VerifyOptions{})
		if len(errs) != 1 || !IsCheck(errs[0], CheckImprint) || !strings.Contains(errs[0].Error(), "NU3019") {
			t.Errorf("%s %s: over other data: %v", tk.file, tk.role, errs)
		}
	}
	for _, cn := range []string{"Symantec SHA256 TimeStamping Signer - G2", "DigiCert Timestamp 2023",
		"Microsoft Public RSA Time Stamping Authority"} {
		if !cns[cn] {
			t.Errorf("no token from %q was checked", cn)
		}
	}
}

// TestMicrosoftTokenExpiredTSA pins fixtures README item 8: the Microsoft
// TSA certificate expired on 2025-11-19, after the token's genTime.
func TestMicrosoftTokenExpiredTSA(t *testing.T) {
	var found bool
	for _, tk := range fixtureTokens(t, "real/newtonsoft.json.13.0.4.nupkg") {
		if tk.role != "primary" {
			continue
		}
		found = true
		tok, err := ParseToken(tk.token)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatGeneralizedTime(tok.Info.GenTime); got != "20250916080426.418Z" {
			t.Fatalf("genTime %s", got)
		}
		na := tok.Certificate.NotAfter
		if na.Format("2006-01-02") != "2025-11-19" || !tok.Info.GenTime.Before(na) {
			t.Fatalf("TSA NotAfter %v", na)
		}
		after := na.Add(time.Hour)
		if errs := tok.Verify(tk.sigValue, VerifyOptions{Now: after}); len(errs) != 0 {
			t.Fatalf("after expiry: %v", errs)
		}
		// Before the certificate existed: NU3025.
		errs := tok.Verify(tk.sigValue, VerifyOptions{Now: tok.Certificate.NotBefore.Add(-time.Hour)})
		if len(errs) != 1 || !IsCheck(errs[0], CheckCertNotYetValid) {
			t.Fatalf("before NotBefore: %v", errs)
		}
	}
	if !found {
		t.Fatal("no primary token in newtonsoft.json.13.0.4")
	}
}

// TestInvalidCorpusTokensParse: the test-CA packages of invalid/ carry
// tokens too; they must parse, whatever their verdict.
func TestInvalidCorpusTokensParse(t *testing.T) {
	n := 0
	for _, tk := range fixtureTokens(t, "invalid/*") {
		if _, err := ParseToken(tk.token); err != nil {
			t.Errorf("%s %s: %v", tk.file, tk.role, err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no tokens in invalid/")
	}
}

// TestFixtureTokenShapes pins what the corpus's TSAs put in their tokens
// (fixtures README item 6), so that each verification path is known to be
// exercised by real tokens: ESS v1 only, v2 only, both; accuracy absent,
// 30 s, 500 ms.
func TestFixtureTokenShapes(t *testing.T) {
	type shape struct {
		ess1, ess2 bool
		accuracy   time.Duration
		hasAcc     bool
		policy     string
	}
	want := map[string]shape{
		"Symantec SHA256 TimeStamping Signer - G2":           {false, true, 30 * time.Second, true, "2.16.840.1.113733.1.7.23.3"},
		"Symantec SHA256 TimeStamping Signer - G3":           {false, true, 30 * time.Second, true, "2.16.840.1.113733.1.7.23.3"},
		"DigiCert Timestamp 2021":                            {true, false, 0, false, "2.16.840.1.114412.7.1"},
		"TIMESTAMP-SHA256-2019-10-15":                        {true, false, 0, false, "2.16.840.1.114412.7.1"},
		"DigiCert Timestamp 2022 - 2":                        {true, true, 0, false, "2.16.840.1.114412.7.1"},
		"DigiCert Timestamp 2023":                            {true, true, 0, false, "2.16.840.1.114412.7.1"},
		"DigiCert SHA256 RSA4096 Timestamp Responder 2025 1": {true, true, 0, false, "2.16.840.1.114412.7.1"},
		"Microsoft Public RSA Time Stamping Authority":       {false, true, 500 * time.Millisecond, true, "1.3.6.1.4.1.601.10.3.1"},
	}
	seen := map[string]bool{}
	for _, tk := range fixtureTokens(t, "real/*.nupkg") {
		tok, err := ParseToken(tk.token)
		if err != nil {
			t.Fatal(err)
		}
		cn := tok.Certificate.Subject.CommonName
		w, ok := want[cn]
		if !ok {
			t.Errorf("unexpected TSA %q", cn)
			continue
		}
		seen[cn] = true
		n1 := len(tok.SignerInfo.SignedAttr(cms.OIDSigningCertificate))
		n2 := len(tok.SignerInfo.SignedAttr(cms.OIDSigningCertificateV2))
		got := shape{n1 == 1, n2 == 1, tok.Info.Accuracy, tok.Info.HasAccuracy, tok.Info.Policy.String()}
		if got != w {
			t.Errorf("%s %s (%s): %+v, want %+v", tk.file, tk.role, cn, got, w)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("saw %d of %d TSAs", len(seen), len(want))
	}
}
