package cms

import (
	"bytes"
	"crypto"
	"errors"
	"math/big"
	"testing"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// wrapSignedData wraps the content of a SignedData SEQUENCE in a ContentInfo.
func wrapSignedData(t *testing.T, content ...[]byte) []byte {
	t.Helper()
	return must(der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(OIDSignedData)
			b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, c := range content {
						b.AddBytes(c)
					}
				})
			})
		})
	}))
}

// signedDataParts splits a ContentInfo into the elements of its SignedData.
func signedDataParts(t *testing.T, ci []byte) [][]byte {
	t.Helper()
	s := cryptobyte.String(ci)
	var seq, content, sd cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.SkipASN1(cbasn1.OBJECT_IDENTIFIER) ||
		!seq.ReadASN1(&content, tagExplicit0) || !content.ReadASN1(&sd, cbasn1.SEQUENCE) {
		t.Fatal("not a ContentInfo")
	}
	var parts [][]byte
	for !sd.Empty() {
		_, raw, _, ok := der.ReadElement(&sd)
		if !ok {
			t.Fatal("bad element")
		}
		parts = append(parts, raw)
	}
	return parts
}

func TestParseRefuses(t *testing.T) {
	orig := authorSigned(t)
	parts := signedDataParts(t, orig) // version, digestAlgorithms, encap, certificates, signerInfos
	if len(parts) != 5 {
		t.Fatalf("%d SignedData parts", len(parts))
	}
	if got := wrapSignedData(t, parts...); !bytes.Equal(got, orig) {
		t.Fatal("wrapSignedData does not rebuild the fixture")
	}
	replace := func(i int, with ...[]byte) []byte {
		p := append(append(append([][]byte{}, parts[:i]...), with...), parts[i+1:]...)
		return wrapSignedData(t, p...)
	}
	indefinite := bytes.Clone(orig)
	indefinite[1] = 0x80
	indefinite = append(append(indefinite[:2], orig[4:]...), 0, 0)
	berOctets := must(der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(OIDData)
			b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.OCTET_STRING.Constructed(), func(b *cryptobyte.Builder) { b.AddASN1OctetString([]byte("x")) })
			})
		})
	}))
	idData := must(der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(OIDData)
			b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1OctetString([]byte("x")) })
		})
	}))
	signer := parseRoundTrip(t, orig).SignerInfos[0]
	signers := func(n int, si []byte) []byte {
		return must(der.Marshal(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for range n {
					b.AddBytes(si)
				}
			})
		}))
	}
	emptyAttrs := *signer
	emptyAttrs.RawSignedAttrs = []byte{0xa0, 0x00}
	emptyAttrsRaw, err := emptyAttrs.encode(false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"not CMS", []byte("content"), ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"trailing byte", append(bytes.Clone(orig), 0), ErrMalformed},
		{"indefinite length", indefinite, ErrMalformed},
		{"id-data ContentInfo", idData, ErrMalformed},
		{"too large", make([]byte, MaxSize+1), ErrLimit},
		{"non-minimal version", replace(0, []byte{2, 2, 0, 1}), ErrMalformed},
		{"version 6", replace(0, []byte{2, 1, 6}), ErrMalformed},
		{"constructed eContent", replace(2, berOctets), ErrMalformed},
		{"no signerInfos", replace(4), ErrMalformed},
		{"two SignerInfos", replace(4, signers(2, signer.Raw)), nil},
		{"too many SignerInfos", replace(4, signers(maxSignerInfos+1, signer.Raw)), ErrLimit},
		{"extra field", replace(4, parts[4], []byte{5, 0}), ErrMalformed},
		{"signed attributes empty", replace(4, signers(1, emptyAttrsRaw)), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestCertificateBag: other CertificateChoices and certificates crypto/x509
// refuses are kept raw and counted; too many are refused; duplicates are
// skipped when adding.
func TestCertificateBag(t *testing.T) {
	p := getPKI(t)
	si, err := NewSignerInfo(nugetContent, SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	attrCert := []byte{0xa2, 0x03, 0x02, 0x01, 0x01} // a [2] v2AttrCert choice (content made up)
	notACert := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	sd := NewSignedData(OIDData, nugetContent, si, [][]byte{p.leaf.Raw, attrCert, notACert, p.leaf.Raw})
	if sd.Version != 4 || len(sd.RawCertificates) != 3 || len(sd.Certificates) != 1 || sd.UnparsedCertificates != 2 {
		t.Fatalf("version %d, raw %d, parsed %d, unparsed %d", sd.Version, len(sd.RawCertificates), len(sd.Certificates), sd.UnparsedCertificates)
	}
	b, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back := parseRoundTrip(t, b)
	if len(back.RawCertificates) != 3 || len(back.Certificates) != 1 || back.UnparsedCertificates != 2 {
		t.Fatalf("parsed: raw %d, parsed %d, unparsed %d", len(back.RawCertificates), len(back.Certificates), back.UnparsedCertificates)
	}
	back.AddCertificates(p.leaf.Raw, attrCert)
	if len(back.RawCertificates) != 3 {
		t.Fatal("AddCertificates added a duplicate")
	}
	if out, _ := back.Marshal(); !bytes.Equal(out, b) {
		t.Fatal("skipped duplicates changed the encoding")
	}

	var many [][]byte
	for i := range maxCertificates + 1 {
		many = append(many, []byte{0x30, 0x03, 0x02, 0x01, byte(i)})
	}
	b, err = NewSignedData(OIDData, nugetContent, si, many).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b); !errors.Is(err, ErrLimit) {
		t.Fatalf("%d certificates: %v", len(many), err)
	}
}

// TestSignerCertificate: the signer is found by SID wherever it sits in the
// bag; distinct certificates sharing an SKI are told apart by ESS.
func TestSignerCertificate(t *testing.T) {
	p := getPKI(t)
	tmpl := *p.leaf
	tmpl.SerialNumber = new(big.Int).Add(p.leaf.SerialNumber, big.NewInt(1))
	twin, err := mint(&tmpl, p.root, &p.leafKey.PublicKey, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(twin.SubjectKeyId, p.leaf.SubjectKeyId) || twin.Equal(p.leaf) {
		t.Fatal("twin is not a distinct certificate with the same SKI")
	}
	withESS, err := NewSignerInfo(nugetContent, SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256,
		Attributes: testAttributes(t, p.leaf, crypto.SHA256)})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := NewSignerInfo(nugetContent, SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	byIssuer, err := NewSignerInfo(nugetContent, SignerOptions{Signer: p.leafKey, Certificate: p.leafNoSKI, Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		si    *SignerInfo
		certs [][]byte
		want  []byte // raw certificate, nil for ErrSignerNotFound
	}{
		{"ski, leaf last", withESS, [][]byte{p.root.Raw, p.leafNoSKI.Raw, p.leaf.Raw}, p.leaf.Raw},
		{"issuer and serial", byIssuer, [][]byte{p.leaf.Raw, p.leafNoSKI.Raw, p.root.Raw}, p.leafNoSKI.Raw},
		{"not in the bag", byIssuer, [][]byte{p.leaf.Raw, p.root.Raw}, nil},
		{"empty bag", withESS, nil, nil},
		{"same SKI, ESS decides", withESS, [][]byte{twin.Raw, p.leaf.Raw}, p.leaf.Raw},
		{"same SKI, nothing decides", bare, [][]byte{twin.Raw, p.leaf.Raw}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd := NewSignedData(OIDData, nugetContent, tt.si, tt.certs)
			sd.RawCertificates = append(sd.RawCertificates, tt.certs...) // byte-identical duplicates
			b, err := sd.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back := parseRoundTrip(t, b)
			c, err := back.SignerCertificate(back.SignerInfos[0])
			if tt.want == nil {
				if !errors.Is(err, ErrSignerNotFound) {
					t.Fatalf("err = %v, want ErrSignerNotFound", err)
				}
				return
			}
			if err != nil || !bytes.Equal(c.Raw, tt.want) {
				t.Fatalf("SignerCertificate = %v, %v", c, err)
			}
		})
	}
}
