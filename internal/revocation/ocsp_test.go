package revocation

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/signet-nuget/signet/internal/devpki"
)

// ocspPKI is a root, an intermediate, a leaf of the intermediate and
// candidate responder certificates, authorized and not.
type ocspPKI struct {
	root, inter *devpki.CA
	leaf        *x509.Certificate
	delegated   *x509.Certificate // issued by inter with OCSPSigning
	noEKU       *x509.Certificate // issued by inter, code signing only
	byRoot      *x509.Certificate // OCSPSigning, but issued by the root
	selfSigned  *x509.Certificate // OCSPSigning, self-signed
	expired     *x509.Certificate // issued by inter with OCSPSigning, expired
	rogueKey    crypto.Signer     // the key of all responder certificates
}

func newOCSPPKI(t testing.TB) *ocspPKI {
	t.Helper()
	// No responder: the fuzz tests use this too, and a server's goroutines
	// would make their coverage unstable.
	e := newCAs(t)
	e.inter.OCSPServer, e.inter.CRLDistributionPoints = []string{"http://ocsp.test/inter"}, []string{"http://crl.test/inter.crl"}
	p := &ocspPKI{root: e.root, inter: e.inter, leaf: e.issue(t, devpki.LeafOptions{}), rogueKey: ecKey(t, keyRogue)}
	ocspEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	mk := func(ca *devpki.CA, o devpki.LeafOptions) *x509.Certificate {
		o.Key, o.CommonName = p.rogueKey, "Responder"
		if ca == nil {
			s, err := devpki.NewSelfSigned(o)
			if err != nil {
				t.Fatal(err)
			}
			return s.Certificate
		}
		s, err := ca.Issue(o)
		if err != nil {
			t.Fatal(err)
		}
		return s.Certificate
	}
	p.delegated = mk(e.inter, devpki.LeafOptions{EKUs: ocspEKU, OCSPNoCheck: true})
	p.noEKU = mk(e.inter, devpki.LeafOptions{})
	p.byRoot = mk(e.root, devpki.LeafOptions{EKUs: ocspEKU})
	p.selfSigned = mk(nil, devpki.LeafOptions{EKUs: ocspEKU})
	p.expired = mk(e.inter, devpki.LeafOptions{EKUs: ocspEKU,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	return p
}

func TestVerifyOCSP(t *testing.T) {
	p := newOCSPPKI(t)
	now := time.Now()
	revokedAt := now.Add(-2 * time.Hour).Truncate(time.Second).UTC()
	nonce := bytes.Repeat([]byte{7}, nonceSize)
	delegatedBy := func(c *x509.Certificate) respSpec {
		return respSpec{responder: c, certs: []*x509.Certificate{c}, key: p.rogueKey}
	}
	with := func(s respSpec, f func(*respSpec)) respSpec { f(&s); return s }
	tests := []struct {
		name   string
		spec   respSpec
		nonce  []byte
		want   Status
		reason Reason
		err    error
	}{
		{name: "good, signed by the issuer", want: Good},
		{name: "good, responder by key hash", spec: respSpec{byKey: true}, want: Good},
		{name: "good, SHA-256 CertID", spec: respSpec{hash: crypto.SHA256}, want: Good},
		{name: "good, without nextUpdate", spec: respSpec{noNextUpdate: true}, want: Good},
		{name: "revoked", spec: respSpec{certStatus: statusRevoked, revokedAt: revokedAt, reason: devpki.ReasonKeyCompromise},
			want: Revoked, reason: ReasonKeyCompromise},
		{name: "revoked without reason", spec: respSpec{certStatus: statusRevoked, revokedAt: revokedAt, reason: -1},
			want: Revoked, reason: ReasonUnspecified},
		{name: "responder does not know", spec: respSpec{certStatus: statusUnknown}, err: ErrStatusUnknown},
		{name: "good, delegated responder", spec: delegatedBy(p.delegated), want: Good},
		{name: "delegated responder by key hash", spec: with(delegatedBy(p.delegated), func(s *respSpec) { s.byKey = true }), want: Good},
		{name: "delegated responder among other certificates",
			spec: with(delegatedBy(p.delegated), func(s *respSpec) { s.certs = []*x509.Certificate{p.inter.Cert, p.delegated} }), want: Good},
		{name: "responder without OCSPSigning", spec: delegatedBy(p.noEKU), err: ErrUnauthorizedSigner},
		{name: "responder issued by another CA", spec: delegatedBy(p.byRoot), err: ErrUnauthorizedSigner},
		{name: "self-signed responder", spec: delegatedBy(p.selfSigned), err: ErrUnauthorizedSigner},
		{name: "expired responder", spec: delegatedBy(p.expired), err: ErrUnauthorizedSigner},
		{name: "responder certificate not included", spec: respSpec{responder: p.delegated, key: p.rogueKey}, err: ErrUnauthorizedSigner},
		{name: "issuer's name, another key", spec: respSpec{key: p.rogueKey}, err: ErrBadSignature},
		{name: "delegated name, another key",
			spec: with(delegatedBy(p.delegated), func(s *respSpec) { s.key = ecKey(t, keyImpostorCA) }), err: ErrBadSignature},
		{name: "signature altered", spec: respSpec{corruptSig: true}, err: ErrBadSignature},
		{name: "SHA-1 signature", spec: respSpec{sigAlg: oidSHA1WithRSA}, err: ErrUnsupported},
		{name: "unknown signature algorithm", spec: respSpec{sigAlg: asn1.ObjectIdentifier{1, 2, 3}}, err: ErrUnsupported},
		{name: "another serial", spec: respSpec{serial: big.NewInt(12345)}, err: ErrWrongCertificate},
		{name: "same serial, another issuer", spec: respSpec{idIssuer: p.root.Cert}, err: ErrWrongCertificate},
		{name: "MD5 CertID", spec: respSpec{hashOID: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}}, err: ErrUnsupported},
		{name: "expired", spec: respSpec{thisUpdate: now.Add(-3 * time.Hour), nextUpdate: now.Add(-2 * time.Hour)}, err: ErrStale},
		{name: "expired within the clock skew", spec: respSpec{thisUpdate: now.Add(-3 * time.Hour), nextUpdate: now.Add(-time.Minute)}, want: Good},
		{name: "old, without nextUpdate", spec: respSpec{thisUpdate: now.Add(-25 * time.Hour), noNextUpdate: true}, err: ErrStale},
		{name: "from the future", spec: respSpec{thisUpdate: now.Add(time.Hour), nextUpdate: now.Add(2 * time.Hour)}, err: ErrNotYetValid},
		{name: "nextUpdate before thisUpdate", spec: respSpec{thisUpdate: now.Add(-time.Minute), nextUpdate: now.Add(-time.Hour)}, err: ErrMalformed},
		{name: "tryLater", spec: respSpec{status: 3}, err: ErrUnsuccessful},
		{name: "unauthorized", spec: respSpec{status: 6}, err: ErrUnsuccessful},
		{name: "critical single extension", spec: respSpec{singleExts: []extension{{id: asn1.ObjectIdentifier{1, 2, 3}, critical: true, value: []byte{5, 0}}}}, err: ErrUnsupported},
		{name: "non-critical extensions", spec: respSpec{singleExts: []extension{{id: asn1.ObjectIdentifier{1, 2, 3}, value: []byte{5, 0}}},
			responseExts: []extension{{id: asn1.ObjectIdentifier{1, 2, 4}, value: []byte{5, 0}}}}, want: Good},
		{name: "critical response extension", spec: respSpec{responseExts: []extension{{id: asn1.ObjectIdentifier{1, 2, 3}, critical: true, value: []byte{5, 0}}}}, err: ErrUnsupported},
		{name: "nonce echoed", spec: respSpec{responseExts: []extension{nonceExtension(t, nonce)}}, nonce: nonce, want: Good},
		{name: "nonce missing", nonce: nonce, err: ErrNonce},
		{name: "another nonce", spec: respSpec{responseExts: []extension{nonceExtension(t, []byte("other"))}}, nonce: nonce, err: ErrNonce},
		{name: "nonce not asked for", spec: respSpec{responseExts: []extension{nonceExtension(t, []byte("other"))}}, want: Good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := buildResponse(t, p.leaf, p.inter.Cert, p.inter.Key, tt.spec)
			r, err := verifyOCSP(b, ocspCheck{cert: p.leaf, issuer: p.inter.Cert, now: now, nonce: tt.nonce})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.want || r.Source != SourceOCSP || !bytes.Equal(r.Raw, b) {
				t.Fatalf("got %v from %v, want %v", r.Status, r.Source, tt.want)
			}
			if tt.want == Revoked && (!r.RevokedAt.Equal(revokedAt) || r.Reason != tt.reason) {
				t.Errorf("revoked at %v for %v, want %v for %v", r.RevokedAt, r.Reason, revokedAt, tt.reason)
			}
		})
	}
}

// TestParseMatchesXCrypto parses what golang.org/x/crypto/ocsp writes (via
// devpki) and compares with what it reads back.
func TestParseMatchesXCrypto(t *testing.T) {
	p := newOCSPPKI(t)
	revokedAt := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	for _, tmpl := range []ocsp.Response{
		{Status: ocsp.Good, IssuerHash: crypto.SHA1},
		{Status: ocsp.Revoked, RevokedAt: revokedAt, RevocationReason: ocsp.Superseded, IssuerHash: crypto.SHA256},
		{Status: ocsp.Unknown, IssuerHash: crypto.SHA384, Certificate: p.delegated},
	} {
		tmpl.SerialNumber = p.leaf.SerialNumber
		tmpl.ThisUpdate = time.Now().Add(-time.Minute).Truncate(time.Second)
		tmpl.NextUpdate = tmpl.ThisUpdate.Add(time.Hour)
		signer, key := p.inter.Cert, p.inter.Key
		if tmpl.Certificate != nil {
			signer, key = tmpl.Certificate, p.rogueKey
		}
		b, err := ocsp.CreateResponse(p.inter.Cert, signer, tmpl, key)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ocsp.ParseResponseForCert(b, p.leaf, p.inter.Cert)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseOCSPResponse(b)
		if err != nil {
			t.Fatal(err)
		}
		sr := got.responses[0]
		if len(got.responses) != 1 || int(sr.status) != []int{ocsp.Good: int(statusGood), ocsp.Revoked: int(statusRevoked), ocsp.Unknown: int(statusUnknown)}[want.Status] ||
			sr.certID.serial.Cmp(want.SerialNumber) != 0 || !sr.thisUpdate.Equal(want.ThisUpdate) || !sr.nextUpdate.Equal(want.NextUpdate) ||
			!sr.revokedAt.Equal(want.RevokedAt) || int(sr.reason) != want.RevocationReason ||
			!bytes.Equal(got.tbs, want.TBSResponseData) || !bytes.Equal(got.signature, want.Signature) ||
			!bytes.Equal(got.responderName, want.RawResponderName) || !got.producedAt.Equal(want.ProducedAt) {
			t.Errorf("parsed %+v\nx/crypto %+v", got, want)
		}
		if _, err := verifyParsedOCSP(got, ocspCheck{cert: p.leaf, issuer: p.inter.Cert, now: time.Now()}); tmpl.Status != ocsp.Unknown && err != nil ||
			tmpl.Status == ocsp.Unknown && !errors.Is(err, ErrStatusUnknown) {
			t.Errorf("verify: %v", err)
		}
	}
}

// TestOCSPRequest checks our request against x/crypto's reading of it and
// its own request for the same certificate.
func TestOCSPRequest(t *testing.T) {
	p := newOCSPPKI(t)
	want, err := ocsp.CreateRequest(p.leaf, p.inter.Cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, nonce := range [][]byte{nil, bytes.Repeat([]byte{1}, nonceSize)} {
		b, err := newOCSPRequest(p.leaf, p.inter.Cert, nonce)
		if err != nil {
			t.Fatal(err)
		}
		if nonce == nil && !bytes.Equal(b, want) {
			t.Errorf("request\n%x\nx/crypto's\n%x", b, want)
		}
		if nonce != nil && !bytes.Contains(b, nonce) {
			t.Error("the nonce is not in the request")
		}
		q, err := ocsp.ParseRequest(b)
		if err != nil {
			t.Fatal(err)
		}
		nh, kh, _ := issuerHashes(p.inter.Cert, crypto.SHA1)
		if q.HashAlgorithm != crypto.SHA1 || q.SerialNumber.Cmp(p.leaf.SerialNumber) != 0 ||
			!bytes.Equal(q.IssuerNameHash, nh) || !bytes.Equal(q.IssuerKeyHash, kh) {
			t.Errorf("parsed request %+v", q)
		}
	}
}

func TestParseOCSPResponseMalformed(t *testing.T) {
	p := newOCSPPKI(t)
	good := buildResponse(t, p.leaf, p.inter.Cert, p.inter.Key, respSpec{})
	tests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrMalformed},
		{"not DER", []byte("this is not DER"), ErrMalformed},
		{"trailing data", append(append([]byte(nil), good...), 0), ErrMalformed},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"too large", make([]byte, maxOCSPResponseSize+1), ErrTooLarge},
		{"unknown status", []byte{0x30, 0x03, 0x0a, 0x01, 0x04}, ErrUnsuccessful},
		{"successful without responseBytes", []byte{0x30, 0x03, 0x0a, 0x01, 0x00}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseOCSPResponse(tt.b); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}
