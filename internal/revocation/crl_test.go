package revocation

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/der"
	"github.com/signet-nuget/signet/internal/devpki"
)

// crlSpec describes a CRL for makeCRL; the zero value is a current CRL of
// the intermediate that lists nothing.
type crlSpec struct {
	revoked                []x509.RevocationListEntry
	thisUpdate, nextUpdate time.Time
	exts                   []pkix.Extension
	issuer                 *x509.Certificate // the issuer's certificate; the intermediate's when nil
	key                    crypto.Signer
}

func makeCRL(t testing.TB, ca *devpki.CA, s crlSpec) []byte {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	if s.thisUpdate.IsZero() {
		s.thisUpdate = now.Add(-time.Minute)
	}
	if s.nextUpdate.IsZero() {
		s.nextUpdate = now.Add(time.Hour)
	}
	issuer, key := ca.Cert, ca.Key
	if s.issuer != nil {
		issuer, key = s.issuer, s.key
	}
	b, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: s.thisUpdate, NextUpdate: s.nextUpdate,
		RevokedCertificateEntries: s.revoked, ExtraExtensions: s.exts,
	}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// idpSpec describes an issuing distribution point extension.
type idpSpec struct {
	uris                                    []string
	relative                                bool
	onlyUser, onlyCA, someReasons, indirect bool
}

func idpExtension(t testing.TB, s idpSpec) pkix.Extension {
	t.Helper()
	v, err := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if len(s.uris) > 0 || s.relative {
				b.AddASN1(tagIDPDistributionPoint, func(b *cryptobyte.Builder) {
					if s.relative {
						b.AddASN1(tagIDPRelativeName, func(b *cryptobyte.Builder) {})
						return
					}
					b.AddASN1(tagIDPFullName, func(b *cryptobyte.Builder) {
						for _, u := range s.uris {
							b.AddASN1(tagGeneralNameURI, func(b *cryptobyte.Builder) { b.AddBytes([]byte(u)) })
						}
					})
				})
			}
			flag := func(on bool, tag uint8) {
				if on {
					b.AddASN1(cbasn1.Tag(tag).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0xff) })
				}
			}
			flag(s.onlyUser, 1)
			flag(s.onlyCA, 2)
			if s.someReasons {
				b.AddASN1(cbasn1.Tag(3).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte{7, 0x80}) })
			}
			flag(s.indirect, 4)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidExtIssuingDistPoint, Critical: true, Value: v}
}

func TestVerifyCRL(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	leaf := e.leaf // its CRL distribution point is the responder's
	revokedAt := now.Add(-time.Hour).Truncate(time.Second).UTC()
	listed := []x509.RevocationListEntry{
		devpki.Revoked(e.issue(t, devpki.LeafOptions{}), revokedAt, devpki.ReasonSuperseded),
		devpki.Revoked(leaf, revokedAt, devpki.ReasonKeyCompromise),
	}
	// impostor has the intermediate's name and another key.
	impostor, err := devpki.NewRoot("Revocation Test Intermediate", devpki.CAOptions{Key: ecKey(t, keyImpostorCA)})
	if err != nil {
		t.Fatal(err)
	}
	deltaIndicator := pkix.Extension{Id: oidExtDeltaCRLIndicator, Critical: true, Value: []byte{2, 1, 1}}
	tests := []struct {
		name string
		ca   *devpki.CA
		spec crlSpec
		cert *x509.Certificate
		want Status
		err  error
	}{
		{name: "not listed", want: Good},
		{name: "listed", spec: crlSpec{revoked: listed}, want: Revoked},
		{name: "the intermediate on the root's CRL", ca: e.root, spec: crlSpec{revoked: []x509.RevocationListEntry{devpki.Revoked(e.inter.Cert, revokedAt, 1)}},
			cert: e.inter.Cert, want: Revoked},
		{name: "CRL of another CA", ca: e.root, err: ErrWrongIssuer},
		{name: "right name, another CA's key", ca: impostor, spec: crlSpec{revoked: listed}, err: ErrWrongIssuer},
		{name: "right name and key identifier, wrong key", spec: crlSpec{revoked: listed, issuer: e.inter.Cert, key: impostor.Key}, err: ErrBadSignature},
		{name: "expired", spec: crlSpec{thisUpdate: now.Add(-48 * time.Hour), nextUpdate: now.Add(-24 * time.Hour)}, err: ErrStale},
		{name: "not yet valid", spec: crlSpec{thisUpdate: now.Add(time.Hour), nextUpdate: now.Add(48 * time.Hour)}, err: ErrNotYetValid},
		{name: "delta CRL", spec: crlSpec{exts: []pkix.Extension{deltaIndicator}}, err: ErrUnsupported},
		{name: "unknown critical extension", spec: crlSpec{exts: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3}, Critical: true, Value: []byte{5, 0}}}}, err: ErrUnsupported},
		{name: "unknown non-critical extension", spec: crlSpec{exts: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3}, Value: []byte{5, 0}}}}, want: Good},
		{name: "critical entry extension", spec: crlSpec{revoked: []x509.RevocationListEntry{{SerialNumber: big.NewInt(5), RevocationTime: revokedAt,
			ExtraExtensions: []pkix.Extension{{Id: oidExtCertificateIssuer, Critical: true, Value: []byte{0x30, 0}}}}}}, err: ErrUnsupported},
		{name: "distribution point named", spec: crlSpec{revoked: listed, exts: []pkix.Extension{idpExtension(t, idpSpec{uris: []string{"http://x.test/a.crl", leaf.CRLDistributionPoints[0]}})}}, want: Revoked},
		{name: "another distribution point", spec: crlSpec{exts: []pkix.Extension{idpExtension(t, idpSpec{uris: []string{"http://x.test/a.crl"}})}}, err: ErrNotCovered},
		{name: "relative distribution point", spec: crlSpec{exts: []pkix.Extension{idpExtension(t, idpSpec{relative: true})}}, err: ErrUnsupported},
		{name: "user certificates only", spec: crlSpec{exts: []pkix.Extension{idpExtension(t, idpSpec{onlyUser: true})}}, want: Good},
		{name: "CA certificates only", spec: crlSpec{exts: []pkix.Extension{idpExtension(t, idpSpec{onlyCA: true})}}, err: ErrNotCovered},
		{name: "CA on a user-only CRL", ca: e.root, spec: crlSpec{exts: []pkix.Extension{idpExtension(t, idpSpec{onlyUser: true})}}, cert: e.inter.Cert, err: ErrNotCovered},
		{name: "some reasons only", spec: crlSpec{exts: []pkix.Extension{idpExtension(t, idpSpec{someReasons: true})}}, err: ErrUnsupported},
		{name: "indirect", spec: crlSpec{exts: []pkix.Extension{idpExtension(t, idpSpec{indirect: true})}}, err: ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := tt.ca
			if ca == nil {
				ca = e.inter
			}
			cert, issuer := leaf, e.inter.Cert
			if tt.cert != nil {
				cert, issuer = tt.cert, e.root.Cert
			}
			b := makeCRL(t, ca, tt.spec)
			p, err := parseCRL(b)
			var r Result
			if err == nil {
				r, err = verifyCRL(p, cert, issuer, now)
			}
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.want || r.Source != SourceCRL {
				t.Fatalf("got %v from %v, want %v", r.Status, r.Source, tt.want)
			}
			if tt.want == Revoked && !r.RevokedAt.Equal(revokedAt) {
				t.Errorf("revoked at %v, want %v", r.RevokedAt, revokedAt)
			}
			if tt.want == Revoked && tt.cert == nil && r.Reason != ReasonKeyCompromise {
				t.Errorf("reason %v", r.Reason)
			}
		})
	}
}

// TestCRLSignatureVerifiedOnce checks that a CRL's signature is checked
// once per issuer, not once per certificate, and that a memo for one issuer
// does not vouch for another.
func TestCRLSignatureVerifiedOnce(t *testing.T) {
	e := newEnv(t)
	p, err := parseCRL(makeCRL(t, e.inter, crlSpec{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkCRLSignature(p, e.inter.Cert); err != nil || len(p.verified) != 1 {
		t.Fatalf("err %v, memo %d", err, len(p.verified))
	}
	if err := checkCRLSignature(p, e.root.Cert); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("the root verifies the intermediate's CRL: %v", err)
	}
}

func TestParseIssuingDistributionPoint(t *testing.T) {
	t.Run("fields", func(t *testing.T) {
		ext := idpExtension(t, idpSpec{uris: []string{"http://a.test/x.crl"}, onlyUser: true, indirect: true})
		idp, err := parseIssuingDistributionPoint(ext.Value)
		if err != nil {
			t.Fatal(err)
		}
		if !idp.named || len(idp.uris) != 1 || idp.uris[0] != "http://a.test/x.crl" || !idp.onlyUserCerts || !idp.indirectCRL || idp.onlyCACerts || idp.onlySomeReasons {
			t.Errorf("%+v", idp)
		}
	})
	for _, b := range [][]byte{
		nil,
		{0x30, 0x03, 0x81, 0x01, 0x00},       // FALSE encoded
		{0x30, 0x03, 0x81, 0x01, 0x01},       // not DER TRUE
		{0x30, 0x03, 0x82, 0x01, 0xff, 0x00}, // trailing byte after the SEQUENCE
		{0x30, 0x03, 0x86, 0x01, 0xff},       // tag [6] does not exist
		{0x30, 0x04, 0xa0, 0x02, 0xa2, 0x00}, // unknown distribution point name
	} {
		if _, err := parseIssuingDistributionPoint(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%x: err = %v", b, err)
		}
	}
}
