package tsp

import (
	"crypto"
	_ "crypto/sha1"   // parse SHA-1 imprints to refuse them by name
	_ "crypto/sha256" // imprints and ESSCertIDv2 hashes
	_ "crypto/sha512" // SHA-384 and SHA-512
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-nuget/signet/internal/cms"
)

// hashOID returns the digest algorithm OID of h (internal/cms's table: SHA-1
// and SHA-2), or false.
func hashOID(h crypto.Hash) (asn1.ObjectIdentifier, bool) { return cms.OIDFromHash(h) }

// hashFromOID returns the hash a digest algorithm OID names, or false. SHA-1
// is named so that SHA-1 imprints and requests parse and are then refused by
// name (see AllowedHash).
func hashFromOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) { return cms.HashFromOID(oid) }

// AllowedHash reports whether h may be used for a message imprint or a token
// digest: SHA-256, SHA-384 or SHA-512 (NuGet spec 4.1 and 4.3; SHA-1 is
// refused with NU3024 or NU3030).
func AllowedHash(h crypto.Hash) bool {
	return h == crypto.SHA256 || h == crypto.SHA384 || h == crypto.SHA512
}

// algorithmIdentifier is a parsed AlgorithmIdentifier whose parameters are
// either absent or NULL, the only forms RFC 5754 allows for digests.
type algorithmIdentifier struct {
	oid        asn1.ObjectIdentifier
	paramsNull bool // parameters were an explicit NULL rather than absent
}

// readDigestAlgorithm reads an AlgorithmIdentifier for a digest.
func readDigestAlgorithm(s *cryptobyte.String) (algorithmIdentifier, error) {
	var ai algorithmIdentifier
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return ai, errors.New("malformed algorithm identifier")
	}
	if !seq.ReadASN1ObjectIdentifier(&ai.oid) {
		return ai, errors.New("malformed algorithm OID")
	}
	if seq.PeekASN1Tag(cbasn1.NULL) {
		var null cryptobyte.String
		if !seq.ReadASN1(&null, cbasn1.NULL) || len(null) != 0 {
			return ai, errors.New("malformed algorithm parameters")
		}
		ai.paramsNull = true
	}
	if !seq.Empty() {
		return ai, fmt.Errorf("unexpected parameters for digest algorithm %s", ai.oid)
	}
	return ai, nil
}

// addDigestAlgorithm writes an AlgorithmIdentifier for a digest.
func addDigestAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, paramsNull bool) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if paramsNull {
			b.AddASN1NULL()
		}
	})
}

// hashName names h in messages, including hashes Go does not link in.
func hashName(h crypto.Hash) string {
	if h == 0 {
		return "unknown hash"
	}
	return h.String()
}
