package cms

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// essOptions shape a hand-built ESS value.
type essOptions struct {
	v1           bool
	hashAlg      []byte // raw AlgorithmIdentifier; nil: absent
	certHash     []byte
	issuerNames  [][]byte // GeneralName elements; nil with noIssuer
	noIssuer     bool
	serial       *big.Int
	policies     bool
	extraCertIDs int
}

func buildESS(t *testing.T, o essOptions) []byte {
	t.Helper()
	id := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if !o.v1 && o.hashAlg != nil {
				b.AddBytes(o.hashAlg)
			}
			b.AddASN1OctetString(o.certHash)
			if o.noIssuer {
				return
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, n := range o.issuerNames {
						b.AddBytes(n)
					}
				})
				b.AddASN1BigInt(o.serial)
			})
		})
	}
	v, err := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for range 1 + o.extraCertIDs {
					id(b)
				}
			})
			if o.policies {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDData) })
				})
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// otherName returns a [4] directoryName that issued nothing here.
func otherName(t *testing.T) []byte {
	t.Helper()
	name, err := asn1.Marshal(pkix.Name{CommonName: "Someone Else"}.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	return must(der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(tagDirectoryName, func(b *cryptobyte.Builder) { b.AddBytes(name) })
	}))
}

func dirName(t *testing.T, c *x509.Certificate) []byte {
	b, err := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(tagDirectoryName, func(b *cryptobyte.Builder) { b.AddBytes(c.RawIssuer) })
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMarshalSigningCertificateV2(t *testing.T) {
	p := getPKI(t)
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		v, err := MarshalSigningCertificateV2(p.leaf, h)
		if err != nil {
			t.Fatal(err)
		}
		oid, _ := OIDFromHash(h)
		want := buildESS(t, essOptions{
			hashAlg: must(der.Marshal(func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
			})),
			certHash:    digest(h, p.leaf.Raw),
			issuerNames: [][]byte{dirName(t, p.leaf)},
			serial:      p.leaf.SerialNumber,
		})
		if !bytes.Equal(v, want) {
			t.Fatalf("%v: %x, want %x", h, v, want)
		}
		ids, err := ParseSigningCertificateV2(v)
		if err != nil || len(ids) != 1 || ids[0].Hash != h || !ids[0].HashOIDPresent || ids[0].IssuerSerial == nil {
			t.Fatalf("%v: parse = %+v, %v", h, ids, err)
		}
		if err := ids[0].Matches(p.leaf); err != nil {
			t.Fatal(err)
		}
		if err := ids[0].Matches(p.leafNoSKI); !errors.Is(err, ErrESSCertHash) {
			t.Fatalf("another certificate: %v", err)
		}
	}
	if _, err := MarshalSigningCertificateV2(p.leaf, crypto.SHA1); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Fatalf("SHA-1: %v", err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestParseSigningCertificateV2(t *testing.T) {
	p := getPKI(t)
	h256 := sha256.Sum256(p.leaf.Raw)
	sha256NULL := must(der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDSHA256); b.AddASN1NULL() })
	}))
	md5 := must(der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier([]int{1, 2, 840, 113549, 2, 5})
		})
	}))
	uri := []byte{0x86, 0x01, 'x'}
	good := essOptions{certHash: h256[:], issuerNames: [][]byte{dirName(t, p.leaf)}, serial: p.leaf.SerialNumber}
	with := func(f func(o *essOptions)) essOptions { o := good; f(&o); return o }
	tests := []struct {
		name      string
		o         essOptions
		parseErr  error
		matchErr  error
		oidPresnt bool
	}{
		{"default sha256, absent", good, nil, nil, false},
		{"sha256 with NULL", with(func(o *essOptions) { o.hashAlg = sha256NULL }), nil, nil, true},
		{"no issuerSerial", with(func(o *essOptions) { o.noIssuer = true }), nil, nil, false},
		{"with policies and a chain", with(func(o *essOptions) { o.policies = true; o.extraCertIDs = 2 }), nil, nil, false},
		{"wrong serial", with(func(o *essOptions) { o.serial = big.NewInt(7) }), nil, ErrESSIssuerSerial, false},
		{"wrong issuer", with(func(o *essOptions) { o.issuerNames = [][]byte{otherName(t)} }), nil, ErrESSIssuerSerial, false},
		{"wrong hash", with(func(o *essOptions) { o.certHash = make([]byte, 32) }), nil, ErrESSCertHash, false},
		{"md5", with(func(o *essOptions) { o.hashAlg = md5 }), ErrUnsupportedAlgorithm, nil, false},
		{"two names", with(func(o *essOptions) { o.issuerNames = append(o.issuerNames, uri) }), ErrMalformed, nil, false},
		{"uri name", with(func(o *essOptions) { o.issuerNames = [][]byte{uri} }), ErrMalformed, nil, false},
		{"too many ids", with(func(o *essOptions) { o.extraCertIDs = maxESSCertIDs }), ErrLimit, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, err := ParseSigningCertificateV2(buildESS(t, tt.o))
			if !errors.Is(err, tt.parseErr) {
				t.Fatalf("parse err = %v, want %v", err, tt.parseErr)
			}
			if err != nil {
				return
			}
			if ids[0].HashOIDPresent != tt.oidPresnt || ids[0].Hash != crypto.SHA256 || len(ids) != 1+tt.o.extraCertIDs {
				t.Fatalf("parsed %+v", ids[0])
			}
			if err := ids[0].Matches(p.leaf); !errors.Is(err, tt.matchErr) {
				t.Fatalf("match err = %v, want %v", err, tt.matchErr)
			}
		})
	}
	for _, bad := range []string{"", "3000", "30023000", "3003300100", "300530033001"} {
		b, _ := hex.DecodeString(bad)
		if _, err := ParseSigningCertificateV2(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSigningCertificateV2(%s) = %v", bad, err)
		}
	}
}

func TestParseSigningCertificate(t *testing.T) {
	p := getPKI(t)
	h1 := sha1.Sum(p.leaf.Raw)
	v := buildESS(t, essOptions{v1: true, certHash: h1[:], issuerNames: [][]byte{dirName(t, p.leaf)}, serial: p.leaf.SerialNumber})
	ids, err := ParseSigningCertificate(v)
	if err != nil || len(ids) != 1 {
		t.Fatal(err)
	}
	if err := ids[0].Matches(p.leaf); err != nil {
		t.Fatal(err)
	}
	if err := ids[0].Matches(p.leafNoSKI); !errors.Is(err, ErrESSCertHash) {
		t.Fatalf("another certificate: %v", err)
	}
	ids[0].IssuerSerial.Serial = big.NewInt(1)
	if err := ids[0].Matches(p.leaf); !errors.Is(err, ErrESSIssuerSerial) {
		t.Fatalf("wrong serial: %v", err)
	}
}

func FuzzParseSigningCertificateV2(f *testing.F) {
	var certs []*x509.Certificate
	for _, s := range fixtureSignatures(f) {
		sd, err := Parse(s.p7s)
		if err != nil {
			f.Fatal(err)
		}
		si := sd.SignerInfos[0]
		if c, err := sd.SignerCertificate(si); err == nil && len(certs) < 4 {
			certs = append(certs, c)
		}
		for _, a := range si.SignedAttr(OIDSigningCertificateV2) {
			f.Add(a.Values[0])
		}
		for _, a := range si.UnsignedAttr(OIDTimeStampToken) {
			tok, err := Parse(a.Values[0])
			if err != nil {
				f.Fatal(err)
			}
			for _, oid := range []asn1.ObjectIdentifier{OIDSigningCertificate, OIDSigningCertificateV2} {
				for _, e := range tok.SignerInfos[0].SignedAttr(oid) {
					f.Add(e.Values[0])
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if ids, err := ParseSigningCertificateV2(in); err == nil {
			if len(ids) == 0 {
				t.Fatal("no ids and no error")
			}
			for _, id := range ids {
				if id.Hash == 0 || (id.IssuerSerial != nil && id.IssuerSerial.Serial == nil) {
					t.Fatalf("incomplete ESSCertIDv2 %+v", id)
				}
				for _, c := range certs {
					_ = id.Matches(c)
				}
			}
		}
		if ids, err := ParseSigningCertificate(in); err == nil {
			for _, id := range ids {
				for _, c := range certs {
					_ = id.Matches(c)
				}
			}
		}
	})
}
