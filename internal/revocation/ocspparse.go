package revocation

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/der"
)

// Object identifiers of RFC 6960.
var (
	// oidOCSPBasic is id-pkix-ocsp-basic, the only response type (4.2.1).
	oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	// oidOCSPNonce is id-pkix-ocsp-nonce (4.4.1, RFC 8954).
	oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// OCSP responseStatus values (RFC 6960 4.2.1); 4 is not used.
var ocspStatusNames = map[int]string{
	0: "successful",
	1: "malformedRequest",
	2: "internalError",
	3: "tryLater",
	5: "sigRequired",
	6: "unauthorized",
}

// certStatus is a SingleResponse's CertStatus CHOICE (RFC 6960 4.2.1).
type certStatus int

const (
	statusGood certStatus = iota
	statusRevoked
	statusUnknown
)

// certID is an OCSP CertID (RFC 6960 4.1.1).
type certID struct {
	hashAlgorithm  pkix.AlgorithmIdentifier
	issuerNameHash []byte
	issuerKeyHash  []byte
	serial         *big.Int
}

// extension is one X.509 Extension (RFC 5280 4.1).
type extension struct {
	id       asn1.ObjectIdentifier
	critical bool
	value    []byte
}

// singleResponse is one SingleResponse of a BasicOCSPResponse.
type singleResponse struct {
	certID     certID
	status     certStatus
	revokedAt  time.Time
	reason     Reason
	thisUpdate time.Time
	nextUpdate time.Time // zero when absent
	extensions []extension
}

// ocspResponse is a parsed OCSPResponse with a BasicOCSPResponse. Raw bytes
// are kept for what is signed (tbs) and for the certificates.
type ocspResponse struct {
	raw []byte
	// tbs is the whole ResponseData element, the bytes the signature covers.
	tbs       []byte
	sigAlg    pkix.AlgorithmIdentifier
	signature []byte
	certs     [][]byte
	// Exactly one of responderName (a DER Name) and responderKeyHash is set.
	responderName    []byte
	responderKeyHash []byte
	producedAt       time.Time
	responses        []singleResponse
	extensions       []extension
}

// malformed returns an ErrMalformed error about what.
func malformed(what string) error {
	return fmt.Errorf("%w OCSP response: %s", ErrMalformed, what)
}

// parseOCSPResponse parses a DER OCSPResponse (RFC 6960 4.2.1). A response
// whose responseStatus is not successful gives an ErrUnsuccessful error.
func parseOCSPResponse(b []byte) (*ocspResponse, error) {
	if len(b) > maxOCSPResponseSize {
		return nil, fmt.Errorf("%w: OCSP response of %d bytes (limit %d)", ErrTooLarge, len(b), maxOCSPResponseSize)
	}
	s := cryptobyte.String(b)
	var resp cryptobyte.String
	if !s.ReadASN1(&resp, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, malformed("not one DER SEQUENCE")
	}
	var status int
	if !resp.ReadASN1Enum(&status) {
		return nil, malformed("responseStatus")
	}
	if status != 0 {
		name, ok := ocspStatusNames[status]
		if !ok {
			name = fmt.Sprintf("status %d", status)
		}
		return nil, fmt.Errorf("%w: %s", ErrUnsuccessful, name)
	}
	var rb cryptobyte.String
	if !resp.ReadASN1(&rb, cbasn1.Tag(0).Constructed().ContextSpecific()) || !resp.Empty() {
		return nil, malformed("responseBytes")
	}
	var rbSeq, basicDER cryptobyte.String
	var typ asn1.ObjectIdentifier
	if !rb.ReadASN1(&rbSeq, cbasn1.SEQUENCE) || !rb.Empty() ||
		!rbSeq.ReadASN1ObjectIdentifier(&typ) || !rbSeq.ReadASN1(&basicDER, cbasn1.OCTET_STRING) || !rbSeq.Empty() {
		return nil, malformed("responseBytes")
	}
	if !typ.Equal(oidOCSPBasic) {
		return nil, fmt.Errorf("%w: OCSP response type %s", ErrUnsupported, typ)
	}
	r, err := parseBasicResponse(basicDER)
	if err != nil {
		return nil, err
	}
	r.raw = b
	return r, nil
}

// parseBasicResponse parses a BasicOCSPResponse (RFC 6960 4.2.1).
func parseBasicResponse(b cryptobyte.String) (*ocspResponse, error) {
	var basic cryptobyte.String
	if !b.ReadASN1(&basic, cbasn1.SEQUENCE) || !b.Empty() {
		return nil, malformed("BasicOCSPResponse")
	}
	r := &ocspResponse{}
	tbsRaw, tbs, ok := der.ReadTagged(&basic, cbasn1.SEQUENCE)
	if !ok {
		return nil, malformed("tbsResponseData")
	}
	r.tbs = tbsRaw
	if r.sigAlg, ok = der.ReadAlgorithmIdentifier(&basic); !ok {
		return nil, malformed("signatureAlgorithm")
	}
	var sig asn1.BitString
	if !basic.ReadASN1BitString(&sig) || sig.BitLength%8 != 0 {
		return nil, malformed("signature")
	}
	r.signature = sig.Bytes
	var certs cryptobyte.String
	var hasCerts bool
	if !basic.ReadOptionalASN1(&certs, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) || !basic.Empty() {
		return nil, malformed("certs")
	}
	if hasCerts {
		var seq cryptobyte.String
		if !certs.ReadASN1(&seq, cbasn1.SEQUENCE) || !certs.Empty() {
			return nil, malformed("certs")
		}
		for !seq.Empty() {
			var c cryptobyte.String
			if !seq.ReadASN1Element(&c, cbasn1.SEQUENCE) {
				return nil, malformed("certificate")
			}
			if len(r.certs) < maxOCSPCerts {
				r.certs = append(r.certs, c)
			}
		}
	}
	if err := r.parseResponseData(tbs); err != nil {
		return nil, err
	}
	return r, nil
}

// parseResponseData parses the content of a ResponseData (RFC 6960 4.2.1).
func (r *ocspResponse) parseResponseData(s cryptobyte.String) error {
	var version int64
	if !s.ReadOptionalASN1Integer(&version, cbasn1.Tag(0).Constructed().ContextSpecific(), int64(0)) {
		return malformed("version")
	}
	if version != 0 {
		return fmt.Errorf("%w: OCSP ResponseData version %d", ErrUnsupported, version+1)
	}
	tag, _, id, ok := der.ReadElement(&s)
	switch {
	case !ok:
		return malformed("responderID")
	case tag == cbasn1.Tag(1).Constructed().ContextSpecific():
		var name cryptobyte.String
		if !id.ReadASN1Element(&name, cbasn1.SEQUENCE) || !id.Empty() {
			return malformed("responderID byName")
		}
		r.responderName = name
	case tag == cbasn1.Tag(2).Constructed().ContextSpecific():
		var h cryptobyte.String
		if !id.ReadASN1(&h, cbasn1.OCTET_STRING) || !id.Empty() {
			return malformed("responderID byKey")
		}
		r.responderKeyHash = h
	default:
		return malformed("responderID tag")
	}
	var err error
	if r.producedAt, err = readGeneralizedTime(&s); err != nil {
		return malformed("producedAt")
	}
	var list cryptobyte.String
	if !s.ReadASN1(&list, cbasn1.SEQUENCE) {
		return malformed("responses")
	}
	for !list.Empty() {
		if len(r.responses) == maxOCSPSingleResponses {
			return fmt.Errorf("%w: more than %d single responses", ErrTooLarge, maxOCSPSingleResponses)
		}
		sr, err := parseSingleResponse(&list)
		if err != nil {
			return err
		}
		r.responses = append(r.responses, sr)
	}
	if len(r.responses) == 0 {
		return malformed("no single response")
	}
	if r.extensions, err = readExplicitExtensions(&s, 1); err != nil {
		return err
	}
	if !s.Empty() {
		return malformed("trailing data in ResponseData")
	}
	return nil
}

// parseSingleResponse reads a SingleResponse (RFC 6960 4.2.1).
func parseSingleResponse(s *cryptobyte.String) (singleResponse, error) {
	var sr singleResponse
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return sr, malformed("SingleResponse")
	}
	id, err := readCertID(&seq)
	if err != nil {
		return sr, err
	}
	sr.certID = id
	tag, _, content, ok := der.ReadElement(&seq)
	switch {
	case !ok:
		return sr, malformed("certStatus")
	case tag == cbasn1.Tag(0).ContextSpecific() && content.Empty():
		sr.status = statusGood
	case tag == cbasn1.Tag(2).ContextSpecific() && content.Empty():
		sr.status = statusUnknown
	case tag == cbasn1.Tag(1).Constructed().ContextSpecific():
		sr.status = statusRevoked
		if sr.revokedAt, err = readGeneralizedTime(&content); err != nil {
			return sr, malformed("revocationTime")
		}
		var reason cryptobyte.String
		var has bool
		if !content.ReadOptionalASN1(&reason, &has, cbasn1.Tag(0).Constructed().ContextSpecific()) || !content.Empty() {
			return sr, malformed("revocationReason")
		}
		if has {
			var n int
			if !reason.ReadASN1Enum(&n) || !reason.Empty() {
				return sr, malformed("revocationReason")
			}
			sr.reason = Reason(n)
		}
	default:
		return sr, malformed("certStatus")
	}
	if sr.thisUpdate, err = readGeneralizedTime(&seq); err != nil {
		return sr, malformed("thisUpdate")
	}
	var next cryptobyte.String
	var hasNext bool
	if !seq.ReadOptionalASN1(&next, &hasNext, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return sr, malformed("nextUpdate")
	}
	if hasNext {
		if sr.nextUpdate, err = readGeneralizedTime(&next); err != nil || !next.Empty() {
			return sr, malformed("nextUpdate")
		}
	}
	if sr.extensions, err = readExplicitExtensions(&seq, 1); err != nil {
		return sr, err
	}
	if !seq.Empty() {
		return sr, malformed("trailing data in SingleResponse")
	}
	return sr, nil
}

// readCertID reads a CertID (RFC 6960 4.1.1).
func readCertID(s *cryptobyte.String) (certID, error) {
	var id certID
	var seq cryptobyte.String
	var ok bool
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return id, malformed("CertID")
	}
	if id.hashAlgorithm, ok = der.ReadAlgorithmIdentifier(&seq); !ok {
		return id, malformed("CertID hashAlgorithm")
	}
	var name, key cryptobyte.String
	id.serial = new(big.Int)
	if !seq.ReadASN1(&name, cbasn1.OCTET_STRING) || !seq.ReadASN1(&key, cbasn1.OCTET_STRING) ||
		!seq.ReadASN1Integer(id.serial) || !seq.Empty() {
		return id, malformed("CertID")
	}
	id.issuerNameHash, id.issuerKeyHash = name, key
	return id, nil
}

// readExplicitExtensions reads an optional [tag] EXPLICIT Extensions.
func readExplicitExtensions(s *cryptobyte.String, tag uint8) ([]extension, error) {
	var wrapped cryptobyte.String
	var has bool
	if !s.ReadOptionalASN1(&wrapped, &has, cbasn1.Tag(tag).Constructed().ContextSpecific()) {
		return nil, malformed("extensions")
	}
	if !has {
		return nil, nil
	}
	var seq cryptobyte.String
	if !wrapped.ReadASN1(&seq, cbasn1.SEQUENCE) || !wrapped.Empty() {
		return nil, malformed("extensions")
	}
	var exts []extension
	for !seq.Empty() {
		if len(exts) == maxExtensions {
			return nil, fmt.Errorf("%w: more than %d extensions", ErrTooLarge, maxExtensions)
		}
		var e cryptobyte.String
		var ext extension
		var value cryptobyte.String
		if !seq.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&ext.id) ||
			e.PeekASN1Tag(cbasn1.BOOLEAN) && !e.ReadASN1Boolean(&ext.critical) ||
			!e.ReadASN1(&value, cbasn1.OCTET_STRING) || !e.Empty() {
			return nil, malformed("extension")
		}
		ext.value = value
		exts = append(exts, ext)
	}
	return exts, nil
}

// readGeneralizedTime reads a GeneralizedTime element (RFC 6960 uses no
// UTCTime).
func readGeneralizedTime(s *cryptobyte.String) (time.Time, error) {
	var content cryptobyte.String
	if !s.ReadASN1(&content, cbasn1.GeneralizedTime) {
		return time.Time{}, der.ErrTime
	}
	return der.ParseGeneralizedTime(content)
}
