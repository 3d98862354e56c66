package cms

import (
	"crypto"
	"encoding/asn1"
)

// Content types (RFC 5652 4, 5; RFC 3161 2.4.2).
var (
	// OIDData is id-data, the eContentType of a NuGet primary signature.
	OIDData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	// OIDSignedData is id-signedData, the ContentInfo type of every
	// signature and timestamp token.
	OIDSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	// OIDTSTInfo is id-ct-TSTInfo, the eContentType of a timestamp token.
	OIDTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
)

// Attribute types (RFC 5652 11, RFC 2634, RFC 5035, RFC 3161 appendix A,
// RFC 5126, NuGet spec 3.1).
var (
	// OIDContentType is the content-type signed attribute.
	OIDContentType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	// OIDMessageDigest is the message-digest signed attribute.
	OIDMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	// OIDSigningTime is the signing-time signed attribute.
	OIDSigningTime = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	// OIDCounterSignature is the countersignature unsigned attribute; each
	// value is a SignerInfo.
	OIDCounterSignature = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}
	// OIDTimeStampToken is id-aa-signatureTimeStampToken, the unsigned
	// attribute whose values are RFC 3161 tokens (ContentInfo).
	OIDTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	// OIDSigningCertificate is the ESS signing-certificate attribute
	// (RFC 2634 5.4, SHA-1 ESSCertID).
	OIDSigningCertificate = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	// OIDSigningCertificateV2 is the ESS signing-certificate-v2 attribute
	// (RFC 5035 3).
	OIDSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	// OIDCommitmentTypeIndication is the commitment-type-indication attribute
	// (RFC 5126 5.11.1) that gives a NuGet signature its type.
	OIDCommitmentTypeIndication = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 16}
	// OIDProofOfOrigin is id-cti-ets-proofOfOrigin: an author signature.
	OIDProofOfOrigin = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 6, 1}
	// OIDProofOfReceipt is id-cti-ets-proofOfReceipt: a repository signature.
	OIDProofOfReceipt = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 6, 2}
	// OIDNuGetV3ServiceIndexURL is the nuget-v3-service-index-url attribute
	// (an IA5String) of repository signatures.
	OIDNuGetV3ServiceIndexURL = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 84, 2, 1, 1, 1}
	// OIDNuGetPackageOwners is the nuget-package-owners attribute
	// (SEQUENCE OF UTF8String) of repository signatures.
	OIDNuGetPackageOwners = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 84, 2, 1, 1, 2}
)

// Digest algorithms (RFC 3370 2.1, RFC 5754 2).
var (
	// OIDSHA1 is id-sha1 (ESS v1 certificate hashes only).
	OIDSHA1 = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	// OIDSHA256 is id-sha256.
	OIDSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	// OIDSHA384 is id-sha384.
	OIDSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	// OIDSHA512 is id-sha512.
	OIDSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// Signature algorithms (RFC 3370 3.2, RFC 4055 5, RFC 5754 3.2, RFC 5758 3.2).
var (
	// OIDRSAEncryption is rsaEncryption, what .NET writes as the
	// signatureAlgorithm of an RSA PKCS#1 v1.5 SignerInfo.
	OIDRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	// OIDSHA256WithRSA is sha256WithRSAEncryption.
	OIDSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	// OIDSHA384WithRSA is sha384WithRSAEncryption.
	OIDSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	// OIDSHA512WithRSA is sha512WithRSAEncryption.
	OIDSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	// OIDECDSAWithSHA256 is ecdsa-with-SHA256.
	OIDECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	// OIDECDSAWithSHA384 is ecdsa-with-SHA384.
	OIDECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	// OIDECDSAWithSHA512 is ecdsa-with-SHA512.
	OIDECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
)

// hashOIDs maps the digest algorithms this package knows. SHA-1 is here so
// that ESS v1 certificate hashes can be checked; CheckSignature refuses it.
var hashOIDs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{OIDSHA1, crypto.SHA1},
	{OIDSHA256, crypto.SHA256},
	{OIDSHA384, crypto.SHA384},
	{OIDSHA512, crypto.SHA512},
}

// HashFromOID returns the hash a digest algorithm OID names.
func HashFromOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	for _, h := range hashOIDs {
		if h.oid.Equal(oid) {
			return h.hash, true
		}
	}
	return 0, false
}

// OIDFromHash returns the digest algorithm OID of h.
func OIDFromHash(h crypto.Hash) (asn1.ObjectIdentifier, bool) {
	for _, e := range hashOIDs {
		if e.hash == h {
			return e.oid, true
		}
	}
	return nil, false
}

// sigKind is the public-key family a signature algorithm needs.
type sigKind int

const (
	kindRSA sigKind = iota + 1
	kindECDSA
)

// sigAlgs lists the SignerInfo signature algorithms CheckSignature accepts.
// hash is zero for rsaEncryption, whose hash is the digestAlgorithm's; for
// the others it must equal the digestAlgorithm's.
var sigAlgs = []struct {
	oid  asn1.ObjectIdentifier
	kind sigKind
	hash crypto.Hash
}{
	{OIDRSAEncryption, kindRSA, 0},
	{OIDSHA256WithRSA, kindRSA, crypto.SHA256},
	{OIDSHA384WithRSA, kindRSA, crypto.SHA384},
	{OIDSHA512WithRSA, kindRSA, crypto.SHA512},
	{OIDECDSAWithSHA256, kindECDSA, crypto.SHA256},
	{OIDECDSAWithSHA384, kindECDSA, crypto.SHA384},
	{OIDECDSAWithSHA512, kindECDSA, crypto.SHA512},
}

// ecdsaSigOID returns the ecdsa-with-SHAxxx OID for h.
func ecdsaSigOID(h crypto.Hash) (asn1.ObjectIdentifier, bool) {
	for _, a := range sigAlgs {
		if a.kind == kindECDSA && a.hash == h {
			return a.oid, true
		}
	}
	return nil, false
}

// signatureHash reports whether h may digest a CMS signature: SHA-256, -384
// or -512. SHA-1 is refused (chosen-prefix collisions are practical, and
// NuGet allows none of it: NU3016, NU3024).
func signatureHash(h crypto.Hash) bool {
	return h == crypto.SHA256 || h == crypto.SHA384 || h == crypto.SHA512
}
