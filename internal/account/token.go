package account

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
)

// A token (a session id in a cookie) is 32 random bytes in unpadded
// base64url, 43 characters. The server stores only its SHA-256: with 256
// bits of entropy a fast hash cannot be reversed, and a database copy does
// not give its reader anyone's session.
const (
	// tokenBytes (256 bits) makes tokens unguessable.
	tokenBytes = 32
	// TokenLength is the length of every token, in bytes.
	TokenLength = (8*tokenBytes + 5) / 6
)

// csrfLabel is the HMAC message that derives a session's CSRF token from
// its session token. Changing it invalidates every page already served.
const csrfLabel = "signet csrf token v1"

// ErrMalformedToken means that a string is not a token NewToken made.
var ErrMalformedToken = errors.New("account: malformed token")

var tokenEncoding = base64.RawURLEncoding.Strict()

// NewToken returns a new random token, to give the client (in a cookie),
// and its hash, to store (the hash HashToken(token) returns).
func NewToken() (token string, hash []byte, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("account: reading random token: %w", err)
	}
	token = tokenEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	return token, h[:], nil
}

// HashToken checks the form of a token a client sent and returns the
// SHA-256 hash under which it is stored. It returns ErrMalformedToken,
// without quoting the token, for anything NewToken could not have made; the
// caller should answer as for an unknown session.
func HashToken(token string) ([]byte, error) {
	if !validToken(token) {
		return nil, fmt.Errorf("%w: not %d characters of base64url", ErrMalformedToken, TokenLength)
	}
	h := sha256.Sum256([]byte(token))
	return h[:], nil
}

func validToken(token string) bool {
	if len(token) != TokenLength {
		return false
	}
	b, err := tokenEncoding.DecodeString(token)
	// Re-encoding refuses the newlines the decoder skips.
	return err == nil && len(b) == tokenBytes && tokenEncoding.EncodeToString(b) == token
}

// CSRFToken returns the CSRF token of a session: HMAC-SHA256 of a fixed
// label keyed with the session token, in unpadded base64url. It needs no
// storage, is the same for the whole session, and cannot be computed from
// the stored session hash or used to find the session token. It returns ""
// for a sessionToken that is not a token NewToken made.
func CSRFToken(sessionToken string) string {
	if !validToken(sessionToken) {
		return ""
	}
	mac := hmac.New(sha256.New, []byte(sessionToken))
	mac.Write([]byte(csrfLabel))
	return tokenEncoding.EncodeToString(mac.Sum(nil))
}

// CheckCSRF reports whether got, from a form or header, is the CSRF token
// of the session sessionToken, comparing in constant time. It is false for
// a sessionToken that is not a token NewToken made.
func CheckCSRF(sessionToken, got string) bool {
	want := CSRFToken(sessionToken)
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
