package devpki_test

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/pki"
)

func newCAs(t *testing.T) (root, inter *devpki.CA) {
	t.Helper()
	root, err := devpki.NewRoot("Test Root", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 0)})
	if err != nil {
		t.Fatal(err)
	}
	inter, err = root.NewIntermediate("Test Intermediate", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return root, inter
}

func TestCAChain(t *testing.T) {
	root, inter := newCAs(t)
	if !root.Cert.IsCA || !inter.Cert.IsCA || root.Cert.KeyUsage&x509.KeyUsageCertSign == 0 || root.Cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
		t.Fatal("CA certificates lack CA basic constraints or key usage")
	}
	if root.Cert.SignatureAlgorithm != x509.SHA256WithRSA || !pki.IsSelfIssued(root.Cert) {
		t.Errorf("root: %v, self-issued %v", root.Cert.SignatureAlgorithm, pki.IsSelfIssued(root.Cert))
	}
	if got := len(inter.Chain()); got != 2 || !inter.Root().Equal(root.Cert) {
		t.Errorf("intermediate chain length %d", got)
	}
	id, err := inter.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Chain) != 3 || id.Chain[0] != id.Certificate || !id.Chain[2].Equal(root.Cert) {
		t.Fatalf("leaf chain: %d certificates", len(id.Chain))
	}
	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	inters := x509.NewCertPool()
	inters.AddCert(inter.Cert)
	if _, err := id.Certificate.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
		t.Errorf("crypto/x509 rejects the chain: %v", err)
	}
	if !slices.Equal(id.Certificate.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}) {
		t.Errorf("default EKU = %v", id.Certificate.ExtKeyUsage)
	}
	if len(id.Certificate.SubjectKeyId) != 20 || string(id.Certificate.AuthorityKeyId) != string(inter.Cert.SubjectKeyId) {
		t.Error("leaf lacks SKI or AKI")
	}
	if !inter.Issued(id.Certificate.SerialNumber) || root.Issued(id.Certificate.SerialNumber) || id.Certificate.SerialNumber.Sign() <= 0 {
		t.Error("serial number bookkeeping is wrong")
	}
}

func TestIssueOptions(t *testing.T) {
	root, _ := newCAs(t)
	nb := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name  string
		o     devpki.LeafOptions
		check func(t *testing.T, c *x509.Certificate)
	}{
		{"sha1", devpki.LeafOptions{SignatureAlgorithm: x509.SHA1WithRSA}, func(t *testing.T, c *x509.Certificate) {
			if c.SignatureAlgorithm != x509.SHA1WithRSA {
				t.Errorf("algorithm %v", c.SignatureAlgorithm)
			}
			if err := pki.CheckSignatureFrom(c, root.Cert); err != nil {
				t.Errorf("SHA-1 signature does not verify: %v", err)
			}
		}},
		{"sha384", devpki.LeafOptions{SignatureAlgorithm: x509.SHA384WithRSA}, func(t *testing.T, c *x509.Certificate) {
			if c.SignatureAlgorithm != x509.SHA384WithRSA || c.CheckSignatureFrom(root.Cert) != nil {
				t.Errorf("algorithm %v", c.SignatureAlgorithm)
			}
		}},
		{"1024-bit", devpki.LeafOptions{Bits: 1024}, func(t *testing.T, c *x509.Certificate) {
			if c.PublicKey.(*rsa.PublicKey).N.BitLen() != 1024 {
				t.Error("not 1024 bits")
			}
		}},
		{"ecdsa", devpki.LeafOptions{ECDSA: true}, func(t *testing.T, c *x509.Certificate) {
			if _, ok := c.PublicKey.(*ecdsa.PublicKey); !ok {
				t.Errorf("key %T", c.PublicKey)
			}
		}},
		{"no-eku", devpki.LeafOptions{NoEKU: true}, func(t *testing.T, c *x509.Certificate) {
			if len(c.ExtKeyUsage)+len(c.UnknownExtKeyUsage) != 0 || hasExt(c, "2.5.29.37") {
				t.Error("has an EKU extension")
			}
		}},
		{"lifetime", devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, UnknownEKUs: []asn1.ObjectIdentifier{devpki.OIDLifetimeSigning}},
			func(t *testing.T, c *x509.Certificate) {
				if len(c.UnknownExtKeyUsage) != 1 || !c.UnknownExtKeyUsage[0].Equal(devpki.OIDLifetimeSigning) || len(c.ExtKeyUsage) != 1 {
					t.Errorf("EKUs %v %v", c.ExtKeyUsage, c.UnknownExtKeyUsage)
				}
			}},
		{"critical-tsa", devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, CriticalEKU: true}, func(t *testing.T, c *x509.Certificate) {
			if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}) || !criticalExt(c, "2.5.29.37") {
				t.Errorf("EKU %v critical %v", c.ExtKeyUsage, criticalExt(c, "2.5.29.37"))
			}
		}},
		{"validity-and-serial", devpki.LeafOptions{NotBefore: nb, NotAfter: nb.Add(time.Hour), SerialNumber: big.NewInt(42)}, func(t *testing.T, c *x509.Certificate) {
			if !c.NotBefore.Equal(nb) || !c.NotAfter.Equal(nb.Add(time.Hour)) || c.SerialNumber.Int64() != 42 {
				t.Errorf("validity %v–%v serial %v", c.NotBefore, c.NotAfter, c.SerialNumber)
			}
		}},
		{"urls", devpki.LeafOptions{OCSPServer: []string{"http://ocsp.test/"}, CRLDistributionPoints: []string{"http://crl.test/a.crl"}, IssuingCertificateURL: []string{"http://ca.test/ca.cer"}},
			func(t *testing.T, c *x509.Certificate) {
				if !slices.Equal(c.OCSPServer, []string{"http://ocsp.test/"}) || !slices.Equal(c.CRLDistributionPoints, []string{"http://crl.test/a.crl"}) || !slices.Equal(c.IssuingCertificateURL, []string{"http://ca.test/ca.cer"}) {
					t.Errorf("URLs %v %v %v", c.OCSPServer, c.CRLDistributionPoints, c.IssuingCertificateURL)
				}
			}},
		{"ocsp-nocheck", devpki.LeafOptions{EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, OCSPNoCheck: true}, func(t *testing.T, c *x509.Certificate) {
			if !hasExt(c, "1.3.6.1.5.5.7.48.1.5") {
				t.Error("no ocsp-nocheck")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.o.Bits == 0 && !tt.o.ECDSA {
				tt.o.Key = devpki.TestKey(t, 2048, 3)
			}
			id, err := root.Issue(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, id.Certificate)
		})
	}
}

func TestNewSelfSigned(t *testing.T) {
	id, err := devpki.NewSelfSigned(devpki.LeafOptions{CommonName: "Self", Key: devpki.TestKey(t, 2048, 4)})
	if err != nil {
		t.Fatal(err)
	}
	c := id.Certificate
	if c.IsCA || !pki.IsSelfIssued(c) || len(id.Chain) != 1 || !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}) {
		t.Errorf("IsCA %v self-issued %v chain %d EKU %v", c.IsCA, pki.IsSelfIssued(c), len(id.Chain), c.ExtKeyUsage)
	}
}

func TestUnknownCriticalEKU(t *testing.T) {
	root, _ := newCAs(t)
	_, err := root.Issue(devpki.LeafOptions{Key: devpki.TestKey(t, 2048, 3), EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageNetscapeServerGatedCrypto}, CriticalEKU: true})
	if err == nil {
		t.Fatal("no error for an EKU without a known OID")
	}
}

func TestTestKeyCache(t *testing.T) {
	a, b := devpki.TestKey(t, 1024, 7), devpki.TestKey(t, 1024, 7)
	c := devpki.TestKey(t, 1024, 8)
	if a != b || a.Equal(c) || a.N.BitLen() != 1024 {
		t.Fatal("TestKey does not cache per (bits, n)")
	}
	p := devpki.NewTestPKI(t)
	if err := pki.CheckSignatureFrom(p.CodeSigning.Certificate, p.Intermediate.Cert); err != nil {
		t.Error(err)
	}
	if is := pki.CheckTimestampCertificate(p.Timestamping.Certificate, time.Now()); len(is) != 0 {
		t.Error(is)
	}
	if len(p.Roots()) != 1 || len(p.Repository.Chain) != 3 {
		t.Error("TestPKI shape")
	}
}

func hasExt(c *x509.Certificate, oid string) bool {
	for _, e := range c.Extensions {
		if e.Id.String() == oid {
			return true
		}
	}
	return false
}

func criticalExt(c *x509.Certificate, oid string) bool {
	for _, e := range c.Extensions {
		if e.Id.String() == oid {
			return e.Critical
		}
	}
	return false
}
