package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// nugetContent is signature content as NuGet writes it (spec 2.3).
var nugetContent = []byte("Version:1\n\n2.16.840.1.101.3.4.2.1-Hash:CNn327PCiAWJfLRdqV4hYn/HObSdr9DVgDcqWfqRQ/U=\n\n")

// testAttributes returns NuGet-like extra signed attributes for cert.
func testAttributes(t *testing.T, cert *x509.Certificate, h crypto.Hash) []Attribute {
	t.Helper()
	st, err := MarshalSigningTime(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ess, err := MarshalSigningCertificateV2(cert, h)
	if err != nil {
		t.Fatal(err)
	}
	cti, _ := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDProofOfOrigin) })
	})
	return []Attribute{
		{Type: OIDSigningTime, Values: [][]byte{st}},
		{Type: OIDSigningCertificateV2, Values: [][]byte{ess}},
		{Type: OIDCommitmentTypeIndication, Values: [][]byte{cti}},
	}
}

// signedAttrEncodings returns the encodings of the signed attributes in the
// order of RawSignedAttrs.
func signedAttrEncodings(t *testing.T, si *SignerInfo) [][]byte {
	t.Helper()
	s := cryptobyte.String(si.RawSignedAttrs)
	var content cryptobyte.String
	if !s.ReadASN1(&content, tagSignedAttrs) {
		t.Fatal("RawSignedAttrs is not [0]")
	}
	var out [][]byte
	for !content.Empty() {
		var e cryptobyte.String
		if !content.ReadASN1Element(&e, cbasn1.SEQUENCE) {
			t.Fatal("bad attribute")
		}
		out = append(out, e)
	}
	return out
}

// TestBuildOpenSSL builds SignedData with each hash and both signer
// identifier choices and has openssl verify it.
func TestBuildOpenSSL(t *testing.T) {
	p := getPKI(t)
	tests := []struct {
		name        string
		signer      crypto.Signer
		cert        *x509.Certificate
		hash        crypto.Hash
		wantVersion int
		wantSigAlg  asn1.ObjectIdentifier
	}{
		{"rsa ski sha256", p.leafKey, p.leaf, crypto.SHA256, 3, OIDRSAEncryption},
		{"rsa ski sha384", p.leafKey, p.leaf, crypto.SHA384, 3, OIDRSAEncryption},
		{"rsa ski sha512", p.leafKey, p.leaf, crypto.SHA512, 3, OIDRSAEncryption},
		{"rsa issuer-serial sha256", p.leafKey, p.leafNoSKI, crypto.SHA256, 1, OIDRSAEncryption},
		{"ecdsa sha384", p.ecKey, p.ecLeaf, crypto.SHA384, 3, OIDECDSAWithSHA384},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			si, err := NewSignerInfo(nugetContent, SignerOptions{
				Signer: tt.signer, Certificate: tt.cert, Hash: tt.hash,
				Attributes: testAttributes(t, tt.cert, tt.hash), ContentType: OIDData,
			})
			if err != nil {
				t.Fatal(err)
			}
			if si.Version != tt.wantVersion || !si.SignatureAlgorithm.Algorithm.Equal(tt.wantSigAlg) {
				t.Fatalf("version %d, signature algorithm %s", si.Version, si.SignatureAlgorithm.Algorithm)
			}
			if tt.wantSigAlg.Equal(OIDRSAEncryption) && !bytes.Equal(si.SignatureAlgorithm.Parameters.FullBytes, []byte{5, 0}) &&
				si.SignatureAlgorithm.Parameters.Tag != asn1.TagNull {
				t.Fatal("rsaEncryption without NULL parameters")
			}
			if !der.ParamsAbsent(si.DigestAlgorithm) {
				t.Fatal("digestAlgorithm has parameters")
			}
			if encs := signedAttrEncodings(t, si); len(encs) != 5 || !der.IsSortedSetOf(encs) {
				t.Fatalf("%d signed attributes, sorted %v", len(encs), der.IsSortedSetOf(encs))
			}
			sd := NewSignedData(OIDData, nugetContent, si, [][]byte{tt.cert.Raw, p.root.Raw, tt.cert.Raw})
			if sd.Version != tt.wantVersion || len(sd.RawCertificates) != 2 {
				t.Fatalf("SignedData version %d, %d certificates", sd.Version, len(sd.RawCertificates))
			}
			sig, err := sd.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			out, err := opensslVerify(t, sig, p.root)
			if err != nil || !bytes.Equal(out, nugetContent) {
				t.Fatalf("openssl: %v; output %q", err, out)
			}
			back := parseRoundTrip(t, sig)
			bsi := back.SignerInfos[0]
			cert, err := back.SignerCertificate(bsi)
			if err != nil || !cert.Equal(tt.cert) {
				t.Fatalf("SignerCertificate = %v, %v", cert, err)
			}
			if err := back.CheckSignerInfo(bsi, cert); err != nil {
				t.Fatal(err)
			}
			if h, err := bsi.Hash(); err != nil || h != tt.hash {
				t.Fatalf("Hash = %v, %v", h, err)
			}
		})
	}
}

// TestBuildCountersignature adds a countersignature and a fake token to a
// built signature and checks that both survive a round trip, that the
// countersignature verifies, and that openssl still accepts the signature.
func TestBuildCountersignature(t *testing.T) {
	p := getPKI(t)
	si, err := NewSignerInfo(nugetContent, SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256,
		Attributes: testAttributes(t, p.leaf, crypto.SHA256)})
	if err != nil {
		t.Fatal(err)
	}
	sd := NewSignedData(OIDData, nugetContent, si, [][]byte{p.leaf.Raw, p.root.Raw})
	sig, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}

	sd = parseRoundTrip(t, sig)
	primary := sd.SignerInfos[0]
	cs, err := NewSignerInfo(primary.Signature, SignerOptions{Signer: p.leafKey, Certificate: p.leafNoSKI, Hash: crypto.SHA384,
		Attributes: testAttributes(t, p.leafNoSKI, crypto.SHA384), Countersignature: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.SignedAttr(OIDContentType)) != 0 {
		t.Fatal("countersignature has a content-type attribute")
	}
	csRaw, err := cs.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// A made-up token value first, then the countersignature: the rebuilt
	// unsigned attributes must come out in DER order.
	primary.AddUnsignedAttrValue(OIDTimeStampToken, []byte{0x30, 0x03, 0x02, 0x01, 0x01})
	primary.AddUnsignedAttrValue(OIDCounterSignature, csRaw)
	sd.AddCertificates(p.leafNoSKI.Raw, p.leaf.Raw)
	sig2, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(sig2, sig) {
		t.Fatal("Marshal returned the old bytes after a change")
	}
	if out, err := opensslVerify(t, sig2, p.root); err != nil || !bytes.Equal(out, nugetContent) {
		t.Fatalf("openssl after countersigning: %v", err)
	}
	back := parseRoundTrip(t, sig2)
	if len(back.RawCertificates) != 3 {
		t.Fatalf("%d certificates, want 3", len(back.RawCertificates))
	}
	bp := back.SignerInfos[0]
	if !bytes.Equal(bp.RawSignedAttrs, primary.RawSignedAttrs) || !bytes.Equal(bp.Signature, primary.Signature) {
		t.Fatal("signed attributes or signature changed")
	}
	var ua [][]byte
	for _, a := range bp.UnsignedAttrs {
		e, _ := marshalAttribute(a, false)
		ua = append(ua, e)
	}
	if len(ua) != 2 || !der.IsSortedSetOf(ua) {
		t.Fatalf("unsigned attributes not in DER order: %d", len(ua))
	}
	got, err := bp.Countersignatures()
	if err != nil || len(got) != 1 {
		t.Fatalf("Countersignatures = %d, %v", len(got), err)
	}
	ccert, err := back.SignerCertificate(got[0])
	if err != nil || !ccert.Equal(p.leafNoSKI) {
		t.Fatalf("countersigner certificate: %v", err)
	}
	if err := got[0].CheckSignature(ccert, bp.Signature); err != nil {
		t.Fatal(err)
	}
	if err := got[0].CheckContentType(nil); err != nil {
		t.Fatal(err)
	}
	if err := got[0].CheckSignature(ccert, nugetContent); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("countersignature over the wrong content: %v", err)
	}
	if err := back.CheckSignerInfo(bp, p.leaf); err != nil {
		t.Fatal(err)
	}

	// Removing the countersignature gives the first signature back.
	bp.RemoveUnsignedAttr(OIDCounterSignature)
	bp.RemoveUnsignedAttr(OIDTimeStampToken)
	back.RawCertificates, back.Certificates = sd.RawCertificates[:2], sd.Certificates[:2]
	sig3, err := back.Marshal()
	if err != nil || !bytes.Equal(sig3, sig) {
		t.Fatalf("removing everything did not give the original back (err %v)", err)
	}
}

// TestBuildRefusesMismatchedKey: a key that does not match the certificate
// is an error, never a bad signature.
func TestBuildRefusesMismatchedKey(t *testing.T) {
	p := getPKI(t)
	tests := []struct {
		name   string
		signer crypto.Signer
	}{
		{"other key", p.otherKey},
		{"signer lying about its public key", lyingSigner{pub: &p.leafKey.PublicKey, key: p.otherKey}},
		{"ecdsa key for an rsa certificate", p.ecKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSignerInfo(nugetContent, SignerOptions{Signer: tt.signer, Certificate: p.leaf, Hash: crypto.SHA256})
			if !errors.Is(err, ErrKeyMismatch) {
				t.Fatalf("err = %v, want ErrKeyMismatch", err)
			}
		})
	}
}

// TestBuildOptions covers the option checks.
func TestBuildOptions(t *testing.T) {
	p := getPKI(t)
	md, _ := der.Marshal(func(b *cryptobyte.Builder) { b.AddASN1OctetString(make([]byte, 32)) })
	ct, _ := der.MarshalOID(OIDData)
	st, _ := MarshalSigningTime(time.Now())
	tests := []struct {
		name string
		o    SignerOptions
		want error
	}{
		{"no signer", SignerOptions{Certificate: p.leaf, Hash: crypto.SHA256}, ErrInvalidOptions},
		{"no certificate", SignerOptions{Signer: p.leafKey, Hash: crypto.SHA256}, ErrInvalidOptions},
		{"sha1", SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA1}, ErrUnsupportedAlgorithm},
		{"no hash", SignerOptions{Signer: p.leafKey, Certificate: p.leaf}, ErrUnsupportedAlgorithm},
		{"message-digest given", SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256,
			Attributes: []Attribute{{Type: OIDMessageDigest, Values: [][]byte{md}}}}, ErrInvalidOptions},
		{"content-type given", SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256,
			Attributes: []Attribute{{Type: OIDContentType, Values: [][]byte{ct}}}}, ErrInvalidOptions},
		{"content type on a countersignature", SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256,
			Countersignature: true, ContentType: OIDData}, ErrInvalidOptions},
		{"attribute twice", SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256,
			Attributes: []Attribute{{Type: OIDSigningTime, Values: [][]byte{st}}, {Type: OIDSigningTime, Values: [][]byte{st}}}}, ErrInvalidOptions},
		{"attribute without value", SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256,
			Attributes: []Attribute{{Type: OIDSigningTime}}}, ErrInvalidOptions},
		{"value not DER", SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256,
			Attributes: []Attribute{{Type: OIDSigningTime, Values: [][]byte{{0x17, 0x05}}}}}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSignerInfo(nugetContent, tt.o); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestBuildTokenContentType: a non-id-data content type gets its
// content-type attribute and SignedData version 3.
func TestBuildTokenContentType(t *testing.T) {
	p := getPKI(t)
	tst := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	si, err := NewSignerInfo(tst, SignerOptions{Signer: p.leafKey, Certificate: p.leafNoSKI, Hash: crypto.SHA256, ContentType: OIDTSTInfo})
	if err != nil {
		t.Fatal(err)
	}
	sd := NewSignedData(OIDTSTInfo, tst, si, [][]byte{p.leafNoSKI.Raw})
	if sd.Version != 3 || si.Version != 1 {
		t.Fatalf("versions %d/%d, want 3/1", sd.Version, si.Version)
	}
	b, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back := parseRoundTrip(t, b)
	if err := back.CheckSignerInfo(back.SignerInfos[0], p.leafNoSKI); err != nil {
		t.Fatal(err)
	}
	if err := back.SignerInfos[0].CheckContentType(OIDData); !errors.Is(err, ErrContentTypeAttribute) {
		t.Fatalf("CheckContentType(id-data) = %v", err)
	}
	if err := back.SignerInfos[0].CheckContentType(nil); !errors.Is(err, ErrContentTypeAttribute) {
		t.Fatalf("CheckContentType(nil) with a TSTInfo content type = %v", err)
	}
	detached := NewSignedData(OIDData, nil, si, nil)
	if detached.EContent != nil {
		t.Fatal("nil content is not detached")
	}
	if err := detached.CheckSignerInfo(si, p.leafNoSKI); !errors.Is(err, ErrNoContent) {
		t.Fatalf("detached CheckSignerInfo = %v", err)
	}
}

// TestOpenSSLSigned parses and verifies what openssl cms -sign writes:
// attached with issuerAndSerialNumber, detached with -keyid (SKI), and
// SHA-384.
func TestOpenSSLSigned(t *testing.T) {
	p := getPKI(t)
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(p.leafKey)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.leaf.Raw}),
		"content":  nugetContent,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		args     []string
		detached bool
		ski      bool
		hash     crypto.Hash
	}{
		{"attached issuer-serial sha256", []string{"-nodetach", "-md", "sha256"}, false, false, crypto.SHA256},
		{"detached ski sha384", []string{"-keyid", "-md", "sha384"}, true, true, crypto.SHA384},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(opensslPath); err != nil {
				t.Fatalf("openssl is required for this test: %v", err)
			}
			out := filepath.Join(dir, "sig.der")
			args := append([]string{"cms", "-sign", "-binary", "-outform", "DER", "-in", filepath.Join(dir, "content"),
				"-signer", filepath.Join(dir, "cert.pem"), "-inkey", filepath.Join(dir, "key.pem"), "-out", out}, tt.args...)
			if b, err := exec.Command(opensslPath, args...).CombinedOutput(); err != nil {
				t.Fatalf("openssl: %v: %s", err, b)
			}
			sig, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			sd := parseRoundTrip(t, sig)
			si := sd.SignerInfos[0]
			if (sd.EContent == nil) != tt.detached || (si.SID.SubjectKeyID != nil) != tt.ski {
				t.Fatalf("detached %v, SKI %x", sd.EContent == nil, si.SID.SubjectKeyID)
			}
			if h, _ := si.Hash(); h != tt.hash {
				t.Fatalf("hash %v", h)
			}
			cert, err := sd.SignerCertificate(si)
			if err != nil {
				t.Fatal(err)
			}
			if err := si.CheckContentType(OIDData); err != nil {
				t.Fatal(err)
			}
			if err := si.CheckSignature(cert, nugetContent); err != nil {
				t.Fatal(err)
			}
			if err := si.CheckSignature(cert, nugetContent[1:]); !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("other content: %v", err)
			}
		})
	}
}
