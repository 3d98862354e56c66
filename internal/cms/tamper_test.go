package cms

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"

	"github.com/signet-nuget/signet/internal/der"
	"github.com/signet-nuget/signet/internal/fixtures"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// authorSigned returns the signature of a real author-signed, countersigned
// package.
func authorSigned(t *testing.T) []byte {
	t.Helper()
	sig, ok := signatureEntry(t, fixtures.Read(t, "real/Newtonsoft.Json.13.0.1.nupkg"))
	if !ok {
		t.Fatal("no signature")
	}
	return sig
}

// offsetOf returns the offset of needle in hay, which must occur once.
func offsetOf(t *testing.T, hay, needle []byte) int {
	t.Helper()
	i := bytes.Index(hay, needle)
	if i < 0 || bytes.Index(hay[i+1:], needle) >= 0 {
		t.Fatalf("%x occurs %d times", needle, bytes.Count(hay, needle))
	}
	return i
}

// TestTamperedFixture flips one byte of a real signature in each signed
// part and checks that the right check fails with a typed error.
func TestTamperedFixture(t *testing.T) {
	orig := authorSigned(t)
	sd := parseRoundTrip(t, orig)
	si := sd.SignerInfos[0]
	st, _ := singleValue(si.SignedAttrs, OIDSigningTime)
	md, _ := singleValue(si.SignedAttrs, OIDMessageDigest)
	tok := si.UnsignedAttr(OIDTimeStampToken)[0].Values[0]
	tsd := parseRoundTrip(t, tok)

	attrsAt := offsetOf(t, orig, si.RawSignedAttrs)
	tests := []struct {
		name string
		at   int // offset of the byte to change
		// check runs the check that must fail on the tampered signature.
		check func(t *testing.T, sd *SignedData) error
		want  error
	}{
		{"signing-time digit", attrsAt + offsetOf(t, si.RawSignedAttrs, st) + len(st) - 2, checkPrimary, ErrSignatureInvalid},
		{"message-digest value", attrsAt + offsetOf(t, si.RawSignedAttrs, md) + len(md) - 1, checkPrimary, ErrDigestMismatch},
		{"signature value", offsetOf(t, orig, si.Signature) + 17, checkPrimary, ErrSignatureInvalid},
		{"content", offsetOf(t, orig, sd.EContent) + 40, checkPrimary, ErrDigestMismatch},
		{"primary signature under the countersignature", offsetOf(t, orig, si.Signature) + 17, checkCountersignature, ErrDigestMismatch},
		{"TSTInfo", offsetOf(t, orig, tsd.EContent) + 20, checkToken0, ErrDigestMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.check(t, parseRoundTrip(t, orig)); err != nil {
				t.Fatalf("the untouched signature fails: %v", err)
			}
			b := bytes.Clone(orig)
			if c := b[tt.at]; c >= '0' && c <= '9' {
				b[tt.at] = '0' + (c-'0'+1)%10 // keep a time a valid time
			} else {
				b[tt.at] ^= 0x01
			}
			err := tt.check(t, parseRoundTrip(t, b))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func checkPrimary(t *testing.T, sd *SignedData) error {
	si := sd.SignerInfos[0]
	cert, err := sd.SignerCertificate(si)
	if err != nil {
		t.Fatal(err)
	}
	return sd.CheckSignerInfo(si, cert)
}

func checkCountersignature(t *testing.T, sd *SignedData) error {
	si := sd.SignerInfos[0]
	cs, err := si.Countersignatures()
	if err != nil || len(cs) != 1 {
		t.Fatalf("Countersignatures: %d, %v", len(cs), err)
	}
	cert, err := sd.SignerCertificate(cs[0])
	if err != nil {
		t.Fatal(err)
	}
	return cs[0].CheckSignature(cert, si.Signature)
}

func checkToken0(t *testing.T, sd *SignedData) error {
	tsd, err := Parse(sd.SignerInfos[0].UnsignedAttr(OIDTimeStampToken)[0].Values[0])
	if err != nil {
		t.Fatal(err)
	}
	return checkPrimary(t, tsd)
}

// TestCheckSignatureAlgorithms changes the algorithm fields of a real
// signer: the equivalent sha256WithRSAEncryption still verifies; weak,
// mismatched or unknown algorithms are refused.
func TestCheckSignatureAlgorithms(t *testing.T) {
	orig := authorSigned(t)
	null := asn1.RawValue{FullBytes: []byte{5, 0}}
	tests := []struct {
		name   string
		digest pkix.AlgorithmIdentifier
		sig    pkix.AlgorithmIdentifier
		want   error
	}{
		{"as received", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256}, pkix.AlgorithmIdentifier{Algorithm: OIDRSAEncryption, Parameters: null}, nil},
		{"rsaEncryption without parameters", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256}, pkix.AlgorithmIdentifier{Algorithm: OIDRSAEncryption}, nil},
		{"sha256WithRSA NULL", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256}, pkix.AlgorithmIdentifier{Algorithm: OIDSHA256WithRSA, Parameters: null}, nil},
		{"sha256WithRSA absent, digest NULL", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256, Parameters: null}, pkix.AlgorithmIdentifier{Algorithm: OIDSHA256WithRSA}, nil},
		{"sha384WithRSA with a sha256 digest", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256}, pkix.AlgorithmIdentifier{Algorithm: OIDSHA384WithRSA}, ErrUnsupportedAlgorithm},
		{"sha1 digest", pkix.AlgorithmIdentifier{Algorithm: OIDSHA1}, pkix.AlgorithmIdentifier{Algorithm: OIDRSAEncryption}, ErrUnsupportedAlgorithm},
		{"unknown digest", pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 3}}, pkix.AlgorithmIdentifier{Algorithm: OIDRSAEncryption}, ErrUnsupportedAlgorithm},
		{"digest with parameters", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256, Parameters: asn1.RawValue{FullBytes: []byte{4, 0}}}, pkix.AlgorithmIdentifier{Algorithm: OIDRSAEncryption}, ErrUnsupportedAlgorithm},
		{"rsaEncryption with parameters", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256}, pkix.AlgorithmIdentifier{Algorithm: OIDRSAEncryption, Parameters: asn1.RawValue{FullBytes: []byte{4, 0}}}, ErrUnsupportedAlgorithm},
		{"rsassa-pss", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256}, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}}, ErrUnsupportedAlgorithm},
		{"ecdsa with an rsa key", pkix.AlgorithmIdentifier{Algorithm: OIDSHA256}, pkix.AlgorithmIdentifier{Algorithm: OIDECDSAWithSHA256}, ErrUnsupportedAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd := parseRoundTrip(t, orig)
			si := sd.SignerInfos[0]
			cert, err := sd.SignerCertificate(si)
			if err != nil {
				t.Fatal(err)
			}
			si.DigestAlgorithm, si.SignatureAlgorithm = tt.digest, tt.sig
			if err := sd.CheckSignerInfo(si, cert); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// signRaw signs signed attributes given as encodings in the given order,
// without sorting, as a non-DER signer would.
func signRaw(t *testing.T, key *rsa.PrivateKey, sid SignerIdentifier, attrs [][]byte) *SignerInfo {
	t.Helper()
	set, err := der.Marshal(func(b *cryptobyte.Builder) { der.AddSequenceOf(b, cbasn1.SET, attrs) })
	if err != nil {
		t.Fatal(err)
	}
	sig, err := key.Sign(nil, digest(crypto.SHA256, set), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	raw := append([]byte{byte(tagSignedAttrs)}, set[1:]...)
	si := &SignerInfo{Version: 3, SID: sid, DigestAlgorithm: pkix.AlgorithmIdentifier{Algorithm: OIDSHA256},
		RawSignedAttrs: raw, SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: OIDRSAEncryption}, Signature: sig}
	b, err := si.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out, err := parseSignerInfo(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func attr(t *testing.T, oid asn1.ObjectIdentifier, values ...[]byte) []byte {
	t.Helper()
	b, err := marshalAttribute(Attribute{Type: oid, Values: values}, false)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignedAttributesAsReceived: signed attributes not in DER order verify
// over the bytes received; the message-digest attribute must be single.
func TestSignedAttributesAsReceived(t *testing.T) {
	p := getPKI(t)
	sid := SignerIdentifier{SubjectKeyID: p.leaf.SubjectKeyId}
	md, _ := der.Marshal(func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest(crypto.SHA256, nugetContent)) })
	badMD, _ := der.Marshal(func(b *cryptobyte.Builder) { b.AddASN1OctetString(make([]byte, 32)) })
	ct, _ := der.MarshalOID(OIDData)
	st, _ := MarshalSigningTime(testTime)
	notOctets, _ := der.MarshalOID(OIDData)
	tests := []struct {
		name  string
		attrs [][]byte
		want  error
	}{
		{"unsorted", [][]byte{attr(t, OIDMessageDigest, md), attr(t, OIDSigningTime, st), attr(t, OIDContentType, ct)}, nil},
		{"no message-digest", [][]byte{attr(t, OIDContentType, ct), attr(t, OIDSigningTime, st)}, ErrMessageDigestAttribute},
		{"two message-digest attributes", [][]byte{attr(t, OIDContentType, ct), attr(t, OIDMessageDigest, md), attr(t, OIDMessageDigest, md)}, ErrMessageDigestAttribute},
		{"two message-digest values", [][]byte{attr(t, OIDContentType, ct), attr(t, OIDMessageDigest, md, badMD)}, ErrMessageDigestAttribute},
		{"message-digest not an OCTET STRING", [][]byte{attr(t, OIDContentType, ct), attr(t, OIDMessageDigest, notOctets)}, ErrMessageDigestAttribute},
		{"wrong message-digest", [][]byte{attr(t, OIDContentType, ct), attr(t, OIDMessageDigest, badMD)}, ErrDigestMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			si := signRaw(t, p.leafKey, sid, tt.attrs)
			if tt.name == "unsorted" && der.IsSortedSetOf(signedAttrEncodings(t, si)) {
				t.Fatal("the test attributes are sorted")
			}
			if err := si.CheckSignature(p.leaf, nugetContent); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			// The SignedAttrs view plays no part in the check.
			si.SignedAttrs = nil
			if err := si.CheckSignature(p.leaf, nugetContent); !errors.Is(err, tt.want) {
				t.Fatalf("without the view: err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestCheckContentType covers the content-type rules for signers and
// countersignatures.
func TestCheckContentType(t *testing.T) {
	p := getPKI(t)
	sid := SignerIdentifier{SubjectKeyID: p.leaf.SubjectKeyId}
	md, _ := der.Marshal(func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest(crypto.SHA256, nugetContent)) })
	data, _ := der.MarshalOID(OIDData)
	tst, _ := der.MarshalOID(OIDTSTInfo)
	tests := []struct {
		name  string
		attrs [][]byte
		want  asn1.ObjectIdentifier
		err   error
	}{
		{"id-data", [][]byte{attr(t, OIDContentType, data), attr(t, OIDMessageDigest, md)}, OIDData, nil},
		{"missing", [][]byte{attr(t, OIDMessageDigest, md)}, OIDData, ErrContentTypeAttribute},
		{"other type", [][]byte{attr(t, OIDContentType, tst), attr(t, OIDMessageDigest, md)}, OIDData, ErrContentTypeAttribute},
		{"two values", [][]byte{attr(t, OIDContentType, data, tst), attr(t, OIDMessageDigest, md)}, OIDData, ErrContentTypeAttribute},
		{"countersignature without", [][]byte{attr(t, OIDMessageDigest, md)}, nil, nil},
		{"countersignature with id-data (CryptoAPI)", [][]byte{attr(t, OIDContentType, data), attr(t, OIDMessageDigest, md)}, nil, nil},
		{"countersignature with TSTInfo", [][]byte{attr(t, OIDContentType, tst), attr(t, OIDMessageDigest, md)}, nil, ErrContentTypeAttribute},
		{"countersignature with two", [][]byte{attr(t, OIDContentType, data), attr(t, OIDContentType, data), attr(t, OIDMessageDigest, md)}, nil, ErrContentTypeAttribute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			si := signRaw(t, p.leafKey, sid, tt.attrs)
			if err := si.CheckContentType(tt.want); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

// TestOpenSSLRejectsTampered makes sure the openssl helper does fail.
func TestOpenSSLRejectsTampered(t *testing.T) {
	p := getPKI(t)
	si, err := NewSignerInfo(nugetContent, SignerOptions{Signer: p.leafKey, Certificate: p.leaf, Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	si.Signature = bytes.Clone(si.Signature)
	si.Signature[5] ^= 1
	b, err := NewSignedData(OIDData, nugetContent, si, [][]byte{p.leaf.Raw}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := opensslVerify(t, b, p.root); err == nil {
		t.Fatal("openssl accepted a tampered signature")
	}
	if err := si.CheckSignature(p.leaf, nugetContent); !errors.Is(err, ErrSignatureInvalid) {
		t.Fatalf("CheckSignature = %v", err)
	}
}
