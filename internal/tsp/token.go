package tsp

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"github.com/signet-nuget/signet/internal/cms"
)

// MaxTokenSize bounds a timestamp token, below internal/cms's general bound.
// Real tokens are 3–12 KiB; one with a long chain stays far below 256 KiB.
const MaxTokenSize = 256 << 10

// Token is a parsed RFC 3161 timestamp token: a CMS SignedData whose
// content is a TSTInfo (RFC 3161 section 2.4.2).
//
// ParseToken is lenient about what verification reports: a token with the
// wrong content type, no or several SignerInfos, or no signer certificate
// still parses (Info, SignerInfo or Certificate is then nil) so that Verify
// can name each problem with its NuGet code.
type Token struct {
	// Raw is the DER ContentInfo as received.
	Raw []byte
	// SignedData is the parsed token.
	SignedData *cms.SignedData
	// SignerInfo is the token's only SignerInfo, nil unless SignerCount is 1.
	SignerInfo *cms.SignerInfo
	// SignerCount is the number of SignerInfos; a token needs exactly one.
	SignerCount int
	// ContentType is the eContentType; id-ct-TSTInfo for a well-formed token.
	ContentType asn1.ObjectIdentifier
	// Info is the TSTInfo, nil when ContentType is not id-ct-TSTInfo.
	Info *TSTInfo
	// Certificates are the token's certificate bag (those crypto/x509
	// parses), for the caller's chain building as untrusted intermediates;
	// SignedData.RawCertificates has every element as received.
	Certificates []*x509.Certificate
	// Certificate is the TSA certificate the SignerInfo's sid names, or nil
	// when the bag does not hold it.
	Certificate *x509.Certificate
	// DigestHash is the SignerInfo's digest algorithm, 0 when unknown.
	DigestHash crypto.Hash
	// DigestOID is the SignerInfo's digest algorithm OID as sent.
	DigestOID asn1.ObjectIdentifier
}

// ParseToken parses a DER timestamp token with internal/cms. It fails only
// when the bytes are not a DER SignedData of at most MaxTokenSize bytes, or
// the content claims to be a TSTInfo and is not one; such errors are
// *CheckError with CheckStructure and NU3021.
func ParseToken(der []byte) (*Token, error) {
	if len(der) > MaxTokenSize {
		return nil, fail(CheckStructure, CodeInvalidToken, "token of %d bytes exceeds %d", len(der), MaxTokenSize)
	}
	sd, err := cms.Parse(der)
	if err != nil {
		return nil, &CheckError{Check: CheckStructure, Code: CodeInvalidToken, Err: err}
	}
	t := &Token{
		Raw: der, SignedData: sd, SignerCount: len(sd.SignerInfos),
		ContentType: sd.EContentType, Certificates: sd.Certificates,
	}
	if sd.EContentType.Equal(cms.OIDTSTInfo) {
		if sd.EContent == nil {
			return nil, fail(CheckStructure, CodeInvalidToken, "token has no TSTInfo content")
		}
		if t.Info, err = ParseTSTInfo(sd.EContent); err != nil {
			return nil, &CheckError{Check: CheckStructure, Code: CodeInvalidToken, Err: err}
		}
	}
	if len(sd.SignerInfos) == 1 {
		t.SignerInfo = sd.SignerInfos[0]
		t.DigestOID = t.SignerInfo.DigestAlgorithm.Algorithm
		t.DigestHash, _ = hashFromOID(t.DigestOID)
		t.Certificate, _ = sd.SignerCertificate(t.SignerInfo) // nil is reported by Verify (NU3020)
	}
	return t, nil
}

// String describes the token briefly, for logs and CLI output.
func (t *Token) String() string {
	if t.Info == nil {
		return fmt.Sprintf("timestamp token with content %s", t.ContentType)
	}
	who := "unknown TSA"
	if t.Certificate != nil {
		who = t.Certificate.Subject.CommonName
	}
	return fmt.Sprintf("timestamp %s by %q (serial %s)", formatGeneralizedTime(t.Info.GenTime), who, t.Info.SerialNumber)
}
