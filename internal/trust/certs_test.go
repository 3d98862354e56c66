package trust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/signet-nuget/signet/nusig"
)

// testCA is a CA that issues leaves for policy tests; only names,
// fingerprints and EKUs matter to the policy, so ECDSA keeps it fast.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCA(t *testing.T, name pkix.Name) *testCA {
	t.Helper()
	k := newKey(t)
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: name, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: c, key: k}
}

// leaf issues a code-signing certificate for subject with extra EKUs.
func (ca *testCA) leaf(t *testing.T, subject pkix.Name, ekus ...asn1.ObjectIdentifier) *x509.Certificate {
	t.Helper()
	k := newKey(t)
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, UnknownExtKeyUsage: ekus}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cn(s string) pkix.Name { return pkix.Name{CommonName: s} }

// Results as nusig.Verify returns them, built by hand.

func sigResult(typ nusig.Type, pl nusig.Placement, cert *x509.Certificate, owners ...string) *nusig.SignatureResult {
	s := &nusig.SignatureResult{Type: typ, Placement: pl, Certificate: cert, Status: nusig.StatusValid, ChainTrusted: true}
	if typ == nusig.TypeRepository {
		s.Repository = &nusig.RepositoryInfo{ServiceIndexURL: "https://feed.example/v3/index.json", Owners: owners}
	}
	return s
}

func authorSigned(cert *x509.Certificate) *nusig.Result {
	return &nusig.Result{Signed: true, Status: nusig.StatusValid, Primary: sigResult(nusig.TypeAuthor, nusig.PlacementPrimary, cert)}
}

func repoSigned(cert *x509.Certificate, owners ...string) *nusig.Result {
	return &nusig.Result{Signed: true, Status: nusig.StatusValid, Primary: sigResult(nusig.TypeRepository, nusig.PlacementPrimary, cert, owners...)}
}

func countersigned(author, repo *x509.Certificate, owners ...string) *nusig.Result {
	r := authorSigned(author)
	r.Countersignature = sigResult(nusig.TypeRepository, nusig.PlacementCountersignature, repo, owners...)
	return r
}
