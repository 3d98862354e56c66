package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// An API key is APIKeyPrefix followed by the unpadded lower-case base32
// (RFC 4648 alphabet) of 32 random bytes and the big-endian CRC-32 (IEEE)
// of those bytes:
//
//	sgn_<58 characters of [a-z2-7]>
//
// The prefix lets people and secret scanners recognise a Signet key; the
// checksum rejects a mistyped key, or a key of another service, before any
// database lookup; base32 has no character that breaks a double-click
// selection. The key is stored only as HashAPIKey's SHA-256: a key has 256
// bits of entropy, so a slow hash would add nothing.
const (
	// APIKeyPrefix starts every key.
	APIKeyPrefix = "sgn_"
	// apiKeyRandomBytes (256 bits) makes keys unguessable, and their
	// SHA-256 impossible to reverse.
	apiKeyRandomBytes = 32
	// apiKeyChecksumBytes (CRC-32) detects every error of up to 32
	// consecutive bits, and an unrelated string with probability 1-2^-32.
	apiKeyChecksumBytes = 4
	// APIKeyLength is the length of every key, in bytes.
	APIKeyLength = len(APIKeyPrefix) + (8*(apiKeyRandomBytes+apiKeyChecksumBytes)+4)/5
)

// ErrMalformedKey means that a string is not a Signet API key: wrong
// length, prefix or characters, or a checksum that does not match.
var ErrMalformedKey = errors.New("account: malformed API key")

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewAPIKey returns a new random API key, to show its user once, and its
// hash, to store (the hash HashAPIKey(key) returns).
func NewAPIKey() (key string, hash []byte, err error) {
	b := make([]byte, apiKeyRandomBytes, apiKeyRandomBytes+apiKeyChecksumBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("account: reading random API key: %w", err)
	}
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	key = APIKeyPrefix + keyEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(key))
	return key, h[:], nil
}

// HashAPIKey checks the form and checksum of a key a client sent and
// returns the SHA-256 hash under which the key is stored. It returns
// ErrMalformedKey, without quoting the key, for anything NewAPIKey could
// not have made; the caller should answer as for an unknown key. The key
// must be exact: no surrounding spaces, lower case.
func HashAPIKey(key string) ([]byte, error) {
	if len(key) != APIKeyLength {
		return nil, fmt.Errorf("%w: not %d characters long", ErrMalformedKey, APIKeyLength)
	}
	body, ok := strings.CutPrefix(key, APIKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: no %q prefix", ErrMalformedKey, APIKeyPrefix)
	}
	b, err := keyEncoding.DecodeString(body)
	// Re-encoding refuses a last character with unused bits set, which
	// base32 decoding ignores: one key has one spelling, and one hash.
	if err != nil || len(b) != apiKeyRandomBytes+apiKeyChecksumBytes || keyEncoding.EncodeToString(b) != body {
		return nil, fmt.Errorf("%w: not base32", ErrMalformedKey)
	}
	random, sum := b[:apiKeyRandomBytes], b[apiKeyRandomBytes:]
	if binary.BigEndian.Uint32(sum) != crc32.ChecksumIEEE(random) {
		return nil, fmt.Errorf("%w: checksum does not match", ErrMalformedKey)
	}
	h := sha256.Sum256([]byte(key))
	return h[:], nil
}
