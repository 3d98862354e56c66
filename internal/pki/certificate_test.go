package pki_test

import (
	"archive/zip"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/internal/pki"
)

func rulesOf(is []pki.Issue) []pki.Rule {
	var out []pki.Rule
	for _, i := range is {
		out = append(out, i.Rule)
	}
	return out
}

// TestCheckSigningCertificate: what `signet sign` refuses (spec 3.6), one
// certificate per rule, and the verifier's subset (spec 5.3 step 4).
func TestCheckSigningCertificate(t *testing.T) {
	c := newCerts(t)
	past := now.Add(-48 * time.Hour)
	tests := []struct {
		name   string
		o      devpki.LeafOptions
		sign   []pki.Rule // CheckSigningCertificate
		verify []pki.Rule // CheckSignerCertificate
		codes  []string
	}{
		{"good", devpki.LeafOptions{}, nil, nil, nil},
		{"good-no-eku", devpki.LeafOptions{NoEKU: true}, nil, nil, nil},
		{"sha1", devpki.LeafOptions{SignatureAlgorithm: x509.SHA1WithRSA},
			[]pki.Rule{pki.RuleSignatureAlgorithm}, []pki.Rule{pki.RuleSignatureAlgorithm}, []string{"NU3013"}},
		{"1024-bit", devpki.LeafOptions{Bits: 1024},
			[]pki.Rule{pki.RulePublicKey}, []pki.Rule{pki.RulePublicKey}, []string{"NU3014"}},
		{"ecdsa", devpki.LeafOptions{ECDSA: true},
			[]pki.Rule{pki.RulePublicKey}, []pki.Rule{pki.RulePublicKey}, []string{"NU3014"}},
		{"lifetime", devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, UnknownEKUs: life},
			[]pki.Rule{pki.RuleLifetimeSigningEKU}, []pki.Rule{pki.RuleLifetimeSigningEKU}, []string{"NU3015"}},
		{"not-yet-valid", devpki.LeafOptions{NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour)},
			[]pki.Rule{pki.RuleNotYetValid}, []pki.Rule{pki.RuleNotYetValid}, []string{"NU3017"}},
		{"expired", devpki.LeafOptions{NotBefore: past, NotAfter: past.Add(time.Hour)},
			[]pki.Rule{pki.RuleExpired}, nil, []string{"NU3018"}},
		{"server-auth", devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
			[]pki.Rule{pki.RuleCodeSigningEKU}, nil, []string{"NU3018"}},
		{"everything-wrong", devpki.LeafOptions{Bits: 1024, SignatureAlgorithm: x509.SHA1WithRSA, NotBefore: past, NotAfter: past.Add(time.Hour), EKUs: tsa, UnknownEKUs: life},
			[]pki.Rule{pki.RuleSignatureAlgorithm, pki.RulePublicKey, pki.RuleLifetimeSigningEKU, pki.RuleExpired, pki.RuleCodeSigningEKU},
			[]pki.Rule{pki.RuleSignatureAlgorithm, pki.RulePublicKey, pki.RuleLifetimeSigningEKU},
			[]string{"NU3013", "NU3014", "NU3015", "NU3018", "NU3018"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := c.leaf(tt.o)
			got := pki.CheckSigningCertificate(cert, now)
			if !slices.Equal(rulesOf(got), tt.sign) {
				t.Errorf("CheckSigningCertificate rules %v, want %v", rulesOf(got), tt.sign)
			}
			var codes []string
			for _, is := range got {
				codes = append(codes, is.Code)
				if is.Severity != pki.SeverityError {
					t.Errorf("%v: severity %v, want error", is.Rule, is.Severity)
				}
			}
			if !slices.Equal(codes, tt.codes) {
				t.Errorf("codes %v, want %v", codes, tt.codes)
			}
			if v := pki.CheckSignerCertificate(cert, now); !slices.Equal(rulesOf(v), tt.verify) {
				t.Errorf("CheckSignerCertificate rules %v, want %v", rulesOf(v), tt.verify)
			}
		})
	}
}

func TestCheckTimestampCertificate(t *testing.T) {
	c := newCerts(t)
	good := devpki.LeafOptions{EKUs: tsa, CriticalEKU: true}
	with := func(f func(o *devpki.LeafOptions)) devpki.LeafOptions { o := good; f(&o); return o }
	tests := []struct {
		name  string
		o     devpki.LeafOptions
		codes []string
	}{
		{"good", good, nil},
		{"sha1", with(func(o *devpki.LeafOptions) { o.SignatureAlgorithm = x509.SHA1WithRSA }), []string{"NU3022"}},
		{"1024-bit", with(func(o *devpki.LeafOptions) { o.Bits = 1024 }), []string{"NU3023"}},
		{"not-yet-valid", with(func(o *devpki.LeafOptions) { o.NotBefore = now.Add(time.Hour) }), []string{"NU3025"}},
		{"code-signing-eku", devpki.LeafOptions{}, []string{"NU3028"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var codes []string
			for _, is := range pki.CheckTimestampCertificate(c.leaf(tt.o), now) {
				codes = append(codes, is.Code)
			}
			if !slices.Equal(codes, tt.codes) {
				t.Errorf("codes %v, want %v", codes, tt.codes)
			}
		})
	}
}

func TestCheckSigningChain(t *testing.T) {
	c := newCerts(t)
	inter, err := c.root.NewIntermediate("Rules Intermediate", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 1)})
	if err != nil {
		t.Fatal(err)
	}
	old := now.Add(-30 * 24 * time.Hour)
	expiredInter, err := c.root.NewIntermediate("Expired Intermediate", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 1), NotBefore: old, NotAfter: old.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(ca *devpki.CA) *x509.Certificate {
		id, err := ca.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 2)})
		if err != nil {
			t.Fatal(err)
		}
		return id.Certificate
	}
	self, err := devpki.NewSelfSigned(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 3)})
	if err != nil {
		t.Fatal(err)
	}
	leaf, oldLeaf := issue(inter), issue(expiredInter)
	roots := []*x509.Certificate{c.root.Cert}
	type want struct {
		rule pki.Rule
		sev  pki.Severity
	}
	tests := []struct {
		name string
		leaf *x509.Certificate
		o    pki.ChainOptions
		want []want
	}{
		{"trusted", leaf, pki.ChainOptions{Roots: roots, Pool: []*x509.Certificate{inter.Cert}}, nil},
		{"untrusted-root", leaf, pki.ChainOptions{Pool: []*x509.Certificate{inter.Cert, c.root.Cert}}, []want{{pki.RuleUntrustedRoot, pki.SeverityError}}},
		{"self-issued-untrusted", self.Certificate, pki.ChainOptions{}, []want{{pki.RuleUntrustedRoot, pki.SeverityWarning}}},
		{"self-issued-trusted", self.Certificate, pki.ChainOptions{Roots: []*x509.Certificate{self.Certificate}}, nil},
		{"partial", leaf, pki.ChainOptions{Roots: roots}, []want{{pki.RulePartialChain, pki.SeverityError}}},
		{"expired-intermediate", oldLeaf, pki.ChainOptions{Roots: roots, Pool: []*x509.Certificate{expiredInter.Cert}}, []want{{pki.RuleExpired, pki.SeverityError}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []want
			for _, is := range pki.CheckSigningChain(tt.leaf, tt.o, now) {
				if is.Code != "NU3018" {
					t.Errorf("code %s", is.Code)
				}
				got = append(got, want{is.Rule, is.Severity})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("issues %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRealCertificatesPass: every code-signing leaf in the real packages'
// signature bags (author and repository certificates of nuget.org,
// Microsoft, …; RSA 2048/4096, sha256/sha384WithRSA) passes the verifier's
// certificate rules at a time inside its validity. A false positive here
// would reject genuine packages.
func TestRealCertificatesPass(t *testing.T) {
	seen := map[string]bool{}
	for _, path := range fixtures.Glob(t, "real/*.nupkg") {
		for _, cert := range signatureBag(t, path) {
			if cert.IsCA || seen[string(cert.Raw)] || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageCodeSigning) {
				continue
			}
			seen[string(cert.Raw)] = true
			at := cert.NotBefore.Add(time.Hour)
			if is := pki.CheckSignerCertificate(cert, at); len(is) != 0 {
				t.Errorf("%s: %q: %v", filepath.Base(path), cert.Subject.CommonName, is)
			}
			if is := pki.CheckSigningCertificate(cert, at); len(is) != 0 {
				t.Errorf("%s: %q: signing rules: %v", filepath.Base(path), cert.Subject.CommonName, is)
			}
		}
	}
	if len(seen) < 5 {
		t.Fatalf("only %d code-signing certificates found in the corpus", len(seen))
	}
	t.Logf("%d distinct code-signing certificates checked", len(seen))
}

// signatureFile returns a package's .signature.p7s.
func signatureFile(t *testing.T, path string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(".signature.p7s")
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	p7s, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return p7s
}

// signatureBag returns the certificates of a package's .signature.p7s,
// listed by openssl (the CMS parser is another package's job).
func signatureBag(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	p7s := signatureFile(t, path)
	// openssl pkcs7 cannot read SignerInfos identified by SKI; cms can.
	certsOut := filepath.Join(t.TempDir(), "certs.pem")
	cmd := exec.Command("/usr/bin/openssl", "cms", "-verify", "-inform", "DER", "-noverify", "-certsout", certsOut, "-out", os.DevNull)
	cmd.Stdin = bytes.NewReader(p7s)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: openssl cms: %v\n%s", path, err, msg)
	}
	out, err := os.ReadFile(certsOut)
	if err != nil {
		t.Fatal(err)
	}
	var certs []*x509.Certificate
	for b, rest := pem.Decode(out); b != nil; b, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		certs = append(certs, c)
	}
	return certs
}

// TestRealTimestampCertificatesPass: every TSA signing certificate in the
// real packages' timestamp tokens (DigiCert, Symantec, Microsoft; spec
// section 10 item 4 asks whether they meet RFC 3161 2.3) passes
// CheckTimestampCertificate, including the critical timeStamping-only EKU.
// The tokens sit inside unsigned attributes, so the certificates are found
// by trying to parse one at every DER SEQUENCE with a two-byte length.
func TestRealTimestampCertificatesPass(t *testing.T) {
	seen := map[string]bool{}
	for _, path := range fixtures.Glob(t, "real/*.nupkg") {
		p7s := signatureFile(t, path)
		for i := 0; i+4 < len(p7s); i++ {
			if p7s[i] != 0x30 || p7s[i+1] != 0x82 {
				continue
			}
			end := i + 4 + (int(p7s[i+2])<<8 | int(p7s[i+3]))
			if end > len(p7s) {
				continue
			}
			c, err := x509.ParseCertificate(p7s[i:end])
			if err != nil || c.IsCA || seen[string(c.Raw)] || !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageTimeStamping) {
				continue
			}
			seen[string(c.Raw)] = true
			if is := pki.CheckTimestampCertificate(c, c.NotBefore.Add(time.Hour)); len(is) != 0 {
				t.Errorf("%s: %q: %v", filepath.Base(path), c.Subject.CommonName, is)
			}
		}
	}
	if len(seen) < 5 {
		t.Fatalf("only %d TSA certificates found in the corpus", len(seen))
	}
	t.Logf("%d distinct TSA certificates checked", len(seen))
}
