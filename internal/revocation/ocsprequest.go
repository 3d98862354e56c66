package revocation

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/der"
)

// requestHash is the hash of the CertIDs we send: SHA-1, the one every
// responder supports (RFC 5019 2.1.1 requires it of lightweight responders).
// It only identifies the issuer; the response's signature is what protects
// the answer, and responses whose CertID uses SHA-2 are accepted too.
const requestHash = crypto.SHA1

// nonceSize is the length of the nonces we send (RFC 8954 2.1: 1–32 octets;
// 32 is the recommended size).
const nonceSize = 32

// certIDHashes are the CertID hash algorithms accepted in responses (RFC
// 6960 4.1.1 allows any; these are the ones in use).
var certIDHashes = []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512}

// issuerHashes returns the issuerNameHash and issuerKeyHash of a CertID for
// issuer with h (RFC 6960 4.1.1): the hash of the DER subject name and the
// hash of the subjectPublicKey BIT STRING's value.
func issuerHashes(issuer *x509.Certificate, h crypto.Hash) (nameHash, keyHash []byte, err error) {
	bits, err := subjectPublicKeyBits(issuer)
	if err != nil {
		return nil, nil, err
	}
	d := h.New()
	d.Write(issuer.RawSubject)
	nameHash = d.Sum(nil)
	d.Reset()
	d.Write(bits)
	return nameHash, d.Sum(nil), nil
}

// subjectPublicKeyBits returns the value of c's subjectPublicKey BIT STRING.
func subjectPublicKeyBits(c *x509.Certificate) ([]byte, error) {
	s := cryptobyte.String(c.RawSubjectPublicKeyInfo)
	var spki, alg cryptobyte.String
	var bits asn1.BitString
	if !s.ReadASN1(&spki, cbasn1.SEQUENCE) || !spki.ReadASN1(&alg, cbasn1.SEQUENCE) || !spki.ReadASN1BitString(&bits) {
		return nil, fmt.Errorf("%w: SubjectPublicKeyInfo of %q", ErrMalformed, c.Subject.String())
	}
	return bits.Bytes, nil
}

// newOCSPRequest returns a DER OCSPRequest (RFC 6960 4.1.1) for cert issued
// by issuer, unsigned, with a nonce extension (4.4.1, RFC 8954) when nonce
// is not empty.
func newOCSPRequest(cert, issuer *x509.Certificate, nonce []byte) ([]byte, error) {
	nameHash, keyHash, err := issuerHashes(issuer, requestHash)
	if err != nil {
		return nil, err
	}
	oid, _ := cms.OIDFromHash(requestHash)
	alg := pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue}
	b, err := der.Marshal(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OCSPRequest
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TBSRequest
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // requestList
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // Request
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // CertID
							der.AddAlgorithmIdentifier(b, alg)
							b.AddASN1OctetString(nameHash)
							b.AddASN1OctetString(keyHash)
							b.AddASN1BigInt(cert.SerialNumber)
						})
					})
				})
				if len(nonce) > 0 {
					b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // Extensions
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // Extension
								b.AddASN1ObjectIdentifier(oidOCSPNonce)
								b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
									b.AddASN1OctetString(nonce)
								})
							})
						})
					})
				}
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("revocation: building an OCSP request for %q: %w", cert.Subject.String(), err)
	}
	return b, nil
}
