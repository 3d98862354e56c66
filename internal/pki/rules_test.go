package pki_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/pki"
)

// certs mints the certificates the rule tests need, over cached keys.
type certs struct {
	t    *testing.T
	root *devpki.CA
}

func newCerts(t *testing.T) *certs {
	t.Helper()
	root, err := devpki.NewRoot("Rules Root", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return &certs{t, root}
}

// leaf issues a certificate under the root; the key is a cached 2048-bit
// one unless o asks for another size or ECDSA.
func (c *certs) leaf(o devpki.LeafOptions) *x509.Certificate {
	c.t.Helper()
	if o.Key == nil && o.Bits == 0 && !o.ECDSA {
		o.Key = devpki.TestKey(c.t, 2048, 2)
	}
	if o.Bits != 0 {
		o.Key = devpki.TestKey(c.t, o.Bits, 2)
	}
	id, err := c.root.Issue(o)
	if err != nil {
		c.t.Fatal(err)
	}
	return id.Certificate
}

var (
	now  = time.Now()
	tsa  = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
	life = []asn1.ObjectIdentifier{pki.OIDLifetimeSigning}
)

// code returns the issue's code, or "" for nil.
func code(is *pki.Issue) string {
	if is == nil {
		return ""
	}
	if is.Severity != pki.SeverityError || is.Message == "" || strings.Contains(is.Message, "\n") {
		panic("malformed issue: " + is.String())
	}
	return is.Code
}

func TestCheckSignatureAlgorithm(t *testing.T) {
	c := newCerts(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecCA, err := devpki.NewRoot("EC Root", devpki.CAOptions{Key: ecKey})
	if err != nil {
		t.Fatal(err)
	}
	ecSigned, err := ecCA.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 2)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		cert            *x509.Certificate
		signer, tsaCode string
	}{
		{"sha256", c.leaf(devpki.LeafOptions{}), "", ""},
		{"sha384", c.leaf(devpki.LeafOptions{SignatureAlgorithm: x509.SHA384WithRSA}), "", ""},
		{"sha512", c.leaf(devpki.LeafOptions{SignatureAlgorithm: x509.SHA512WithRSA}), "", ""},
		{"sha1", c.leaf(devpki.LeafOptions{SignatureAlgorithm: x509.SHA1WithRSA}), "NU3013", "NU3022"},
		{"rsa-pss", c.leaf(devpki.LeafOptions{SignatureAlgorithm: x509.SHA256WithRSAPSS}), "NU3013", "NU3022"},
		{"ecdsa-signed", ecSigned.Certificate, "NU3013", "NU3022"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(pki.CheckSignatureAlgorithm(tt.cert, pki.RoleSigner)); got != tt.signer {
				t.Errorf("signer: %q, want %q", got, tt.signer)
			}
			is := pki.CheckSignatureAlgorithm(tt.cert, pki.RoleTimestamp)
			if got := code(is); got != tt.tsaCode {
				t.Errorf("timestamp: %q, want %q", got, tt.tsaCode)
			}
			if is != nil && (is.Rule != pki.RuleSignatureAlgorithm || !strings.Contains(is.Message, "timestamping certificate")) {
				t.Errorf("issue %+v", is)
			}
		})
	}
	if is := pki.CheckSignatureAlgorithm(c.leaf(devpki.LeafOptions{SignatureAlgorithm: x509.SHA1WithRSA}), pki.RoleSigner); !strings.Contains(is.Message, "SHA1-RSA") {
		t.Errorf("message does not name the algorithm: %q", is.Message)
	}
}

func TestCheckPublicKey(t *testing.T) {
	c := newCerts(t)
	tests := []struct {
		name            string
		o               devpki.LeafOptions
		signer, tsaCode string
		msg             string
	}{
		{"rsa-2048", devpki.LeafOptions{}, "", "", ""},
		{"rsa-3072", devpki.LeafOptions{Bits: 3072}, "", "", ""},
		{"rsa-1024", devpki.LeafOptions{Bits: 1024}, "NU3014", "NU3023", "RSA 1024-bit"},
		{"ecdsa", devpki.LeafOptions{ECDSA: true}, "NU3014", "NU3023", "ECDSA P-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := c.leaf(tt.o)
			is := pki.CheckPublicKey(cert, pki.RoleSigner)
			if got := code(is); got != tt.signer {
				t.Errorf("signer: %q, want %q", got, tt.signer)
			}
			if got := code(pki.CheckPublicKey(cert, pki.RoleTimestamp)); got != tt.tsaCode {
				t.Errorf("timestamp: %q, want %q", got, tt.tsaCode)
			}
			if is != nil && !strings.Contains(is.Message, tt.msg) {
				t.Errorf("message %q lacks %q", is.Message, tt.msg)
			}
		})
	}
}

func TestCheckLifetimeSigningEKU(t *testing.T) {
	c := newCerts(t)
	if is := pki.CheckLifetimeSigningEKU(c.leaf(devpki.LeafOptions{})); is != nil {
		t.Errorf("code signing: %v", is)
	}
	is := pki.CheckLifetimeSigningEKU(c.leaf(devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, UnknownEKUs: life}))
	if code(is) != "NU3015" || is.Rule != pki.RuleLifetimeSigningEKU {
		t.Errorf("lifetime signing: %v", is)
	}
}

func TestValidityRules(t *testing.T) {
	c := newCerts(t)
	nb := now.Add(time.Hour)
	future := c.leaf(devpki.LeafOptions{NotBefore: nb, NotAfter: nb.Add(time.Hour)})
	expired := c.leaf(devpki.LeafOptions{NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)})
	valid := c.leaf(devpki.LeafOptions{})
	tests := []struct {
		name                   string
		cert                   *x509.Certificate
		at                     time.Time
		notYet, notYetTSA, exp string
	}{
		{"valid", valid, now, "", "", ""},
		{"not-yet-valid", future, now, "NU3017", "NU3025", ""},
		{"at-not-before", future, future.NotBefore, "", "", ""},
		{"expired", expired, now, "", "", "NU3018"},
		{"at-not-after", expired, expired.NotAfter, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(pki.CheckNotYetValid(tt.cert, tt.at, pki.RoleSigner)); got != tt.notYet {
				t.Errorf("CheckNotYetValid = %q, want %q", got, tt.notYet)
			}
			if got := code(pki.CheckNotYetValid(tt.cert, tt.at, pki.RoleTimestamp)); got != tt.notYetTSA {
				t.Errorf("CheckNotYetValid(TSA) = %q, want %q", got, tt.notYetTSA)
			}
			if got := code(pki.CheckExpired(tt.cert, tt.at)); got != tt.exp {
				t.Errorf("CheckExpired = %q, want %q", got, tt.exp)
			}
		})
	}
}

func TestCheckCodeSigningEKU(t *testing.T) {
	c := newCerts(t)
	tests := []struct {
		name string
		o    devpki.LeafOptions
		ok   bool
	}{
		{"code-signing", devpki.LeafOptions{}, true},
		{"no-eku-extension", devpki.LeafOptions{NoEKU: true}, true},
		{"any-eku", devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, true},
		{"code-signing-among-others", devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageCodeSigning}}, true},
		{"server-auth", devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, false},
		{"timestamping", devpki.LeafOptions{EKUs: tsa}, false},
		{"lifetime-only", devpki.LeafOptions{UnknownEKUs: life}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := pki.CheckCodeSigningEKU(c.leaf(tt.o))
			if (is == nil) != tt.ok {
				t.Fatalf("issue %v, want ok=%v", is, tt.ok)
			}
			if is != nil && (code(is) != "NU3018" || is.Rule != pki.RuleCodeSigningEKU) {
				t.Errorf("issue %+v", is)
			}
		})
	}
}

func TestCheckTimestampingEKU(t *testing.T) {
	c := newCerts(t)
	tests := []struct {
		name string
		o    devpki.LeafOptions
		ok   bool
		msg  string
	}{
		{"critical-timestamping", devpki.LeafOptions{EKUs: tsa, CriticalEKU: true}, true, ""},
		{"non-critical", devpki.LeafOptions{EKUs: tsa}, false, "non-critical"},
		{"extra-eku", devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping, x509.ExtKeyUsageCodeSigning}, CriticalEKU: true}, false, "timeStamping, codeSigning"},
		{"no-eku", devpki.LeafOptions{NoEKU: true}, false, "no extended key usage"},
		{"code-signing", devpki.LeafOptions{CriticalEKU: true}, false, "codeSigning"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := pki.CheckTimestampingEKU(c.leaf(tt.o))
			if (is == nil) != tt.ok {
				t.Fatalf("issue %v, want ok=%v", is, tt.ok)
			}
			if is != nil && (code(is) != "NU3028" || !strings.Contains(is.Message, tt.msg)) {
				t.Errorf("issue %+v, want message with %q", is, tt.msg)
			}
		})
	}
}

func TestIsSelfIssued(t *testing.T) {
	c := newCerts(t)
	self, err := devpki.NewSelfSigned(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 3)})
	if err != nil {
		t.Fatal(err)
	}
	// Same subject as its issuer, but signed by the issuer's key.
	sameName, err := devpki.NewRoot("Same Name", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 4)})
	if err != nil {
		t.Fatal(err)
	}
	lookalike, err := sameName.Issue(devpki.LeafOptions{CommonName: "Same Name", Key: devpki.TestKey(t, 2048, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if string(lookalike.Certificate.RawSubject) != string(lookalike.Certificate.RawIssuer) {
		t.Fatal("test setup: the look-alike's names differ")
	}
	tests := []struct {
		name string
		cert *x509.Certificate
		want bool
	}{
		{"self-signed-leaf", self.Certificate, true},
		{"root", c.root.Cert, true},
		{"issued-leaf", c.leaf(devpki.LeafOptions{}), false},
		{"same-name-other-key", lookalike.Certificate, false},
	}
	for _, tt := range tests {
		if got := pki.IsSelfIssued(tt.cert); got != tt.want {
			t.Errorf("%s: IsSelfIssued = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	c := newCerts(t)
	cert := c.leaf(devpki.LeafOptions{})
	s256 := sha256.Sum256(cert.Raw)
	s1 := sha1.Sum(cert.Raw)
	tests := []struct {
		h    crypto.Hash
		want string
	}{
		{crypto.SHA256, strings.ToUpper(hex.EncodeToString(s256[:]))},
		{crypto.SHA1, strings.ToUpper(hex.EncodeToString(s1[:]))},
		{crypto.MD4, ""},
	}
	for _, tt := range tests {
		if got := pki.Fingerprint(cert, tt.h); got != tt.want {
			t.Errorf("Fingerprint(%v) = %q, want %q", tt.h, got, tt.want)
		}
	}
	if got := pki.Fingerprint(cert, crypto.SHA512); len(got) != 128 || strings.ToUpper(got) != got {
		t.Errorf("SHA-512 fingerprint %q", got)
	}
}
