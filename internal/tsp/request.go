package tsp

import (
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MaxRequestSize bounds a TimeStampReq. A request is an imprint (at most 64
// bytes of SHA-512), a nonce and a few flags: about 100 bytes. 16 KiB leaves
// room for extensions and is what the TSA reads from a request body.
const MaxRequestSize = 16 << 10

// nonceSize is the nonce length .NET (and so NuGet) sends (spec 4.1).
const nonceSize = 32

// ErrUnsupportedHash is wrapped by ParseRequest and ParseTSTInfo when the
// message imprint names a hash algorithm this package does not know. A TSA
// answers it with failInfo badAlg.
var ErrUnsupportedHash = errors.New("unsupported hash algorithm")

// ErrUnsupportedVersion is wrapped by ParseRequest for a version other than
// 1. A TSA answers it with failInfo badRequest.
var ErrUnsupportedVersion = errors.New("unsupported request version")

// Request is a TimeStampReq (RFC 3161 section 2.4.1).
type Request struct {
	// Raw is the DER the request was parsed from; nil for a built request.
	Raw []byte
	// Hash is the hash algorithm of the message imprint.
	Hash crypto.Hash
	// HashParamsNull records that the imprint's AlgorithmIdentifier carried
	// an explicit NULL parameter (openssl sends one). A TSA copies it into
	// the TSTInfo, whose imprint RFC 3161 section 2.4.2 wants identical to
	// the request's.
	HashParamsNull bool
	// Digest is the hashed message: Hash over the data being timestamped.
	Digest []byte
	// Policy is the requested TSA policy, or nil to let the TSA choose.
	Policy asn1.ObjectIdentifier
	// Nonce is a random number the response must echo, or nil for none.
	Nonce *big.Int
	// CertReq asks the TSA to include its certificate in the token.
	CertReq bool
	// Extensions are the request extensions; NuGet sends none.
	Extensions []Extension
}

// NewRequest builds the request NuGet sends (spec 4.1): version 1, the
// imprint, no policy, a 32-byte random nonce with the top bit of its first
// byte cleared (so the INTEGER is positive and exactly as .NET makes it),
// and certReq true.
func NewRequest(h crypto.Hash, digest []byte) (*Request, error) {
	if _, ok := hashOID(h); !ok || !h.Available() {
		return nil, fmt.Errorf("tsp: %w: %s", ErrUnsupportedHash, hashName(h))
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("tsp: digest is %d bytes, %s needs %d", len(digest), h, h.Size())
	}
	var b [nonceSize]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("tsp: nonce: %w", err)
	}
	b[0] &= 0x7f
	return &Request{
		Hash:    h,
		Digest:  append([]byte(nil), digest...),
		Nonce:   new(big.Int).SetBytes(b[:]),
		CertReq: true,
	}, nil
}

// Marshal returns the DER of the request.
func (r *Request) Marshal() ([]byte, error) {
	oid, ok := hashOID(r.Hash)
	if !ok {
		return nil, fmt.Errorf("tsp: %w: %s", ErrUnsupportedHash, hashName(r.Hash))
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		addMessageImprint(b, oid, r.HashParamsNull, r.Digest)
		if r.Policy != nil {
			b.AddASN1ObjectIdentifier(r.Policy)
		}
		if r.Nonce != nil {
			b.AddASN1BigInt(r.Nonce)
		}
		if r.CertReq {
			b.AddASN1Boolean(true)
		}
		if len(r.Extensions) > 0 {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				addExtensions(b, r.Extensions)
			})
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("tsp: marshal request: %w", err)
	}
	return der, nil
}

// ParseRequest parses a DER TimeStampReq. The input is untrusted (it is what
// a TSA receives): it must be at most MaxRequestSize bytes, version 1, with
// an imprint whose length matches its hash algorithm, and nothing after it.
// An unknown imprint algorithm gives an error wrapping ErrUnsupportedHash.
func ParseRequest(der []byte) (*Request, error) {
	if len(der) > MaxRequestSize {
		return nil, fmt.Errorf("tsp: request of %d bytes exceeds %d", len(der), MaxRequestSize)
	}
	r := &Request{Raw: der}
	in := cryptobyte.String(der)
	var s cryptobyte.String
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("tsp: request is not a DER SEQUENCE")
	}
	var version int64
	if !s.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return nil, errors.New("tsp: malformed request version")
	}
	if version != 1 {
		return nil, fmt.Errorf("tsp: %w %d, want 1", ErrUnsupportedVersion, version)
	}
	imp, err := readMessageImprint(&s)
	if err != nil {
		return nil, fmt.Errorf("tsp: request: %w", err)
	}
	r.Hash, r.HashParamsNull, r.Digest = imp.hash, imp.paramsNull, imp.digest
	if s.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		if !s.ReadASN1ObjectIdentifier(&r.Policy) {
			return nil, errors.New("tsp: malformed request policy")
		}
	}
	if s.PeekASN1Tag(cbasn1.INTEGER) {
		if r.Nonce, err = readBoundedInteger(&s, "nonce"); err != nil {
			return nil, fmt.Errorf("tsp: request: %w", err)
		}
	}
	if !readOptionalBoolean(&s, &r.CertReq) {
		return nil, errors.New("tsp: malformed request certReq")
	}
	var exts cryptobyte.String
	var hasExts bool
	if !s.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, errors.New("tsp: malformed request extensions")
	}
	if hasExts {
		if r.Extensions, err = readExtensions(exts); err != nil {
			return nil, fmt.Errorf("tsp: request: %w", err)
		}
	}
	if !s.Empty() {
		return nil, errors.New("tsp: trailing data in request")
	}
	return r, nil
}

// messageImprint is a parsed MessageImprint (RFC 3161 section 2.4.1).
type messageImprint struct {
	oid        asn1.ObjectIdentifier
	hash       crypto.Hash
	paramsNull bool
	digest     []byte
}

// readMessageImprint reads a MessageImprint and checks that the digest
// length matches the algorithm.
func readMessageImprint(s *cryptobyte.String) (messageImprint, error) {
	var m messageImprint
	var seq, digest cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return m, errors.New("malformed message imprint")
	}
	ai, err := readDigestAlgorithm(&seq)
	if err != nil {
		return m, fmt.Errorf("message imprint: %w", err)
	}
	m.oid, m.paramsNull = ai.oid, ai.paramsNull
	if !seq.ReadASN1(&digest, cbasn1.OCTET_STRING) || !seq.Empty() {
		return m, errors.New("malformed message imprint digest")
	}
	m.digest = append([]byte(nil), digest...)
	h, ok := hashFromOID(ai.oid)
	if !ok {
		return m, fmt.Errorf("message imprint: %w %s", ErrUnsupportedHash, ai.oid)
	}
	m.hash = h
	if len(digest) != h.Size() {
		return m, fmt.Errorf("message imprint digest is %d bytes, %s needs %d", len(digest), h, h.Size())
	}
	return m, nil
}

// addMessageImprint writes a MessageImprint.
func addMessageImprint(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, paramsNull bool, digest []byte) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addDigestAlgorithm(b, oid, paramsNull)
		b.AddASN1OctetString(digest)
	})
}
