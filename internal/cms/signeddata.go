package cms

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"sync"

	"github.com/signet-nuget/signet/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// IMPLICIT and EXPLICIT context tags of ContentInfo and SignedData.
var (
	tagExplicit0    = cbasn1.Tag(0).ContextSpecific().Constructed() // content, eContent
	tagCertificates = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagCRLs         = cbasn1.Tag(1).ContextSpecific().Constructed()
)

// SignedData is a CMS SignedData (RFC 5652 5.1) with the raw bytes of
// everything signed kept as received.
type SignedData struct {
	// Raw is the ContentInfo given to Parse; nil when built.
	Raw []byte
	// Version is the CMSVersion.
	Version int
	// DigestAlgorithms lists the signers' digest algorithms.
	DigestAlgorithms []pkix.AlgorithmIdentifier
	// EContentType is the type of the encapsulated content.
	EContentType asn1.ObjectIdentifier
	// EContent is the encapsulated content; nil when detached.
	EContent []byte
	// RawCertificates holds every element of the certificates field as
	// received, in order: certificates and any other CertificateChoices.
	// It is what Marshal writes; change it with AddCertificates.
	RawCertificates [][]byte
	// Certificates are the elements of RawCertificates that parse as X.509
	// certificates, in order.
	Certificates []*x509.Certificate
	// UnparsedCertificates counts the elements of RawCertificates that are
	// not in Certificates (other CertificateChoices, or certificates
	// crypto/x509 refuses, such as negative serial numbers).
	UnparsedCertificates int
	// RawCRLs is the [1] IMPLICIT crls field as received (tag included);
	// nil when absent.
	RawCRLs []byte
	// SignerInfos are the signers, in order.
	SignerInfos []*SignerInfo
}

// Parse parses a DER ContentInfo holding a SignedData: a NuGet
// .signature.p7s, a timestamp token, or any CMS signature. It refuses more
// than MaxSize bytes and the other bounds of limits.go, trailing data, and
// any encoding that would not marshal back byte for byte (so that
// Marshal(Parse(b)) == b). Certificates are parsed into Certificates where
// crypto/x509 accepts them; the others are kept raw and counted.
// Countersignatures and timestamp tokens are parsed on demand
// (SignerInfo.Countersignatures; Parse of an OIDTimeStampToken value).
func Parse(contentInfo []byte) (*SignedData, error) {
	sd, err := parse(contentInfo)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	return sd, nil
}

func parse(in []byte) (*SignedData, error) {
	if len(in) > MaxSize {
		return nil, fmt.Errorf("%d bytes, more than %d: %w", len(in), MaxSize, ErrLimit)
	}
	raw := bytes.Clone(in)
	s := cryptobyte.String(raw)
	var ci, content cryptobyte.String
	var ctype asn1.ObjectIdentifier
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&ctype) {
		return nil, fmt.Errorf("not a ContentInfo: %w", ErrMalformed)
	}
	if !s.Empty() {
		return nil, fmt.Errorf("trailing data after the ContentInfo: %w", ErrMalformed)
	}
	if !ctype.Equal(OIDSignedData) {
		return nil, fmt.Errorf("content type %q is not signedData: %w", ctype.String(), ErrMalformed)
	}
	var sdSeq cryptobyte.String
	if !ci.ReadASN1(&content, tagExplicit0) || !ci.Empty() || !content.ReadASN1(&sdSeq, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, fmt.Errorf("ContentInfo content: %w", ErrMalformed)
	}
	sd := &SignedData{Raw: raw}
	if !sdSeq.ReadASN1Integer(&sd.Version) || sd.Version < 0 || sd.Version > 5 {
		return nil, fmt.Errorf("SignedData version: %w", ErrMalformed)
	}
	if err := sd.readDigestAlgorithms(&sdSeq); err != nil {
		return nil, err
	}
	if err := sd.readEncapContentInfo(&sdSeq); err != nil {
		return nil, err
	}
	if sdSeq.PeekASN1Tag(tagCertificates) {
		if err := sd.readCertificates(&sdSeq); err != nil {
			return nil, err
		}
	}
	if sdSeq.PeekASN1Tag(tagCRLs) {
		var crls cryptobyte.String
		if !sdSeq.ReadASN1Element(&crls, tagCRLs) {
			return nil, fmt.Errorf("crls: %w", ErrMalformed)
		}
		sd.RawCRLs = crls
	}
	if err := sd.readSignerInfos(&sdSeq); err != nil {
		return nil, err
	}
	if !sdSeq.Empty() {
		return nil, fmt.Errorf("trailing data in SignedData: %w", ErrMalformed)
	}
	enc, err := sd.encode(false)
	if err != nil || !bytes.Equal(enc, raw) {
		return nil, fmt.Errorf("SignedData is not DER: %w", ErrMalformed)
	}
	return sd, nil
}

func (sd *SignedData) readDigestAlgorithms(s *cryptobyte.String) error {
	var set cryptobyte.String
	if !s.ReadASN1(&set, cbasn1.SET) {
		return fmt.Errorf("digestAlgorithms: %w", ErrMalformed)
	}
	for !set.Empty() {
		if len(sd.DigestAlgorithms) == maxDigestAlgorithms {
			return fmt.Errorf("more than %d digest algorithms: %w", maxDigestAlgorithms, ErrLimit)
		}
		ai, ok := der.ReadAlgorithmIdentifier(&set)
		if !ok {
			return fmt.Errorf("digestAlgorithms: %w", ErrMalformed)
		}
		sd.DigestAlgorithms = append(sd.DigestAlgorithms, ai)
	}
	return nil
}

func (sd *SignedData) readEncapContentInfo(s *cryptobyte.String) error {
	var eci cryptobyte.String
	if !s.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&sd.EContentType) {
		return fmt.Errorf("encapContentInfo: %w", ErrMalformed)
	}
	if eci.Empty() {
		return nil
	}
	var wrapped, octets cryptobyte.String
	// Only the primitive (DER) OCTET STRING: a constructed BER one would
	// not round-trip, and no real signer writes it.
	if !eci.ReadASN1(&wrapped, tagExplicit0) || !eci.Empty() ||
		!wrapped.ReadASN1(&octets, cbasn1.OCTET_STRING) || !wrapped.Empty() {
		return fmt.Errorf("eContent: %w", ErrMalformed)
	}
	sd.EContent = append([]byte{}, octets...)
	return nil
}

func (sd *SignedData) readCertificates(s *cryptobyte.String) error {
	var set cryptobyte.String
	if !s.ReadASN1(&set, tagCertificates) {
		return fmt.Errorf("certificates: %w", ErrMalformed)
	}
	for !set.Empty() {
		if len(sd.RawCertificates) == maxCertificates {
			return fmt.Errorf("more than %d certificates: %w", maxCertificates, ErrLimit)
		}
		tag, raw, _, ok := der.ReadElement(&set)
		if !ok {
			return fmt.Errorf("certificate %d: %w", len(sd.RawCertificates), ErrMalformed)
		}
		sd.addCertificate(raw, tag == cbasn1.SEQUENCE)
	}
	return nil
}

// addCertificate appends raw to the bag and, when it may be an X.509
// certificate, parses it.
func (sd *SignedData) addCertificate(raw []byte, isCert bool) {
	sd.RawCertificates = append(sd.RawCertificates, raw)
	if isCert {
		if c, err := parseCertificate(raw); err == nil {
			sd.Certificates = append(sd.Certificates, c)
			return
		}
	}
	sd.UnparsedCertificates++
}

// Bounds of the cache of parsed certificates. It holds far more than the
// distinct certificates (signers, intermediates, TSAs) a restore of
// thousands of packages meets; certificates larger than any real one
// (1-2 KiB, rarely 8) are not cached, so that hostile signatures uploaded
// to a feed can make it hold at most 1024 × 16 KiB.
const (
	maxParsedCertificates    = 1024
	maxParsedCertificateSize = 16 << 10
)

// parsedCertificates remembers parsed certificates by their DER: the same
// few certificates (a feed's repository certificate, a TSA's, their
// intermediates) come with every package, and parsing them is a good part
// of reading a signature. A *x509.Certificate is never modified after
// parsing, so sharing it is safe.
var parsedCertificates struct {
	sync.Mutex
	m map[string]*x509.Certificate
}

// parseCertificate is x509.ParseCertificate through that cache. Only
// certificates that parse are remembered.
func parseCertificate(raw []byte) (*x509.Certificate, error) {
	pc := &parsedCertificates
	pc.Lock()
	c, ok := pc.m[string(raw)]
	pc.Unlock()
	if ok {
		return c, nil
	}
	c, err := x509.ParseCertificate(raw)
	if err != nil || len(raw) > maxParsedCertificateSize {
		return c, err
	}
	pc.Lock()
	if pc.m == nil || len(pc.m) >= maxParsedCertificates {
		pc.m = make(map[string]*x509.Certificate)
	}
	pc.m[string(raw)] = c
	pc.Unlock()
	return c, nil
}

func (sd *SignedData) readSignerInfos(s *cryptobyte.String) error {
	var set cryptobyte.String
	if !s.ReadASN1(&set, cbasn1.SET) {
		return fmt.Errorf("signerInfos: %w", ErrMalformed)
	}
	for !set.Empty() {
		if len(sd.SignerInfos) == maxSignerInfos {
			return fmt.Errorf("more than %d SignerInfos: %w", maxSignerInfos, ErrLimit)
		}
		var raw cryptobyte.String
		if !set.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
			return fmt.Errorf("SignerInfo %d: %w", len(sd.SignerInfos), ErrMalformed)
		}
		si, err := parseSignerInfo(raw, 0)
		if err != nil {
			return fmt.Errorf("SignerInfo %d: %w", len(sd.SignerInfos), err)
		}
		sd.SignerInfos = append(sd.SignerInfos, si)
	}
	return nil
}

// encode writes the ContentInfo from the fields. sorted puts every SET OF
// (digest algorithms, certificates, signer infos) into DER order; without it
// they keep their current order, which for an unchanged parse reproduces
// Raw.
func (sd *SignedData) encode(sorted bool) ([]byte, error) {
	var signers [][]byte
	for i, si := range sd.SignerInfos {
		// The bytes are copied into the encoding below and not kept, so
		// an unchanged SignerInfo's Raw can be used as it is.
		b, err := si.marshal(false)
		if err != nil {
			return nil, fmt.Errorf("SignerInfo %d: %w", i, err)
		}
		signers = append(signers, b)
	}
	var algs [][]byte
	for _, a := range sd.DigestAlgorithms {
		b, err := der.Marshal(func(b *cryptobyte.Builder) { der.AddAlgorithmIdentifier(b, a) })
		if err != nil {
			return nil, fmt.Errorf("digest algorithm: %w", err)
		}
		algs = append(algs, b)
	}
	for i, c := range sd.RawCertificates {
		if !der.IsElement(c) {
			return nil, fmt.Errorf("certificate %d is not one DER element: %w", i, ErrMalformed)
		}
	}
	if sd.RawCRLs != nil {
		s := cryptobyte.String(sd.RawCRLs)
		var c cryptobyte.String
		if !s.ReadASN1(&c, tagCRLs) || !s.Empty() {
			return nil, fmt.Errorf("RawCRLs is not one [1] element: %w", ErrMalformed)
		}
	}
	set := der.AddSequenceOf
	if sorted {
		set = der.AddSetOf
	}
	b, err := der.MarshalSize(len(sd.Raw), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(OIDSignedData)
			b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1Int64(int64(sd.Version))
					set(b, cbasn1.SET, algs)
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(sd.EContentType)
						if sd.EContent != nil {
							b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
								b.AddASN1OctetString(sd.EContent)
							})
						}
					})
					if len(sd.RawCertificates) > 0 {
						set(b, tagCertificates, sd.RawCertificates)
					}
					b.AddBytes(sd.RawCRLs)
					set(b, cbasn1.SET, signers)
				})
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("encoding SignedData: %w", err)
	}
	return b, nil
}

// Marshal returns the DER ContentInfo. For a parsed SignedData that nothing
// changed (its SignerInfos included), that is a copy of the input byte for
// byte; otherwise it is rebuilt from the fields with every SET OF in DER
// order, keeping raw certificates, signed attributes and signatures
// verbatim.
func (sd *SignedData) Marshal() ([]byte, error) {
	if sd.Raw != nil {
		if enc, err := sd.encode(false); err == nil && bytes.Equal(enc, sd.Raw) {
			return slices.Clone(sd.Raw), nil
		}
	}
	b, err := sd.encode(true)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	return b, nil
}

// AddCertificates adds certificates (raw DER) to the bag, skipping any that
// is byte-identical to one already there.
func (sd *SignedData) AddCertificates(raw ...[]byte) {
	for _, r := range raw {
		if slices.ContainsFunc(sd.RawCertificates, func(c []byte) bool { return bytes.Equal(c, r) }) {
			continue
		}
		sd.addCertificate(bytes.Clone(r), len(r) > 0 && r[0] == byte(cbasn1.SEQUENCE))
	}
}
