package account

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
)

// A recovery code is 12 characters of Crockford's base32 alphabet, which
// has no I, L, O or U, shown in lower case as three groups of four
// ("7kq2-m9xd-4hz0"): 60 bits, so its SHA-256 is enough storage even if the
// database leaks (guessing one takes 2^59 hashes on average, per code).
// Reading it back ignores case, spaces and dashes, and takes o for 0 and i
// or l for 1, as Crockford's decoding does.
const (
	// RecoveryCodeCount is the usual number of codes to give a user.
	RecoveryCodeCount = 10
	// maxRecoveryCodes bounds NewRecoveryCodes(n): a user needs a handful,
	// and MatchRecoveryCode hashes against every one.
	maxRecoveryCodes = 100
	recoveryChars    = 12 // 12 × 5 bits = 60 bits
	recoveryGroup    = 4
	// maxRecoveryInput bounds a code as typed, before it is read.
	maxRecoveryInput = 64
)

const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford, lower case

// NewRecoveryCodes returns n new recovery codes, to show the user once,
// and their hashes, to store in the same order. n is from 1 to 100;
// RecoveryCodeCount is usual.
func NewRecoveryCodes(n int) (codes []string, hashes [][]byte, err error) {
	if n < 1 || n > maxRecoveryCodes {
		return nil, nil, fmt.Errorf("account: %d recovery codes asked for, not 1 to %d", n, maxRecoveryCodes)
	}
	random := make([]byte, n*recoveryChars)
	if _, err := rand.Read(random); err != nil {
		return nil, nil, fmt.Errorf("account: reading random recovery codes: %w", err)
	}
	for i := range n {
		var canon, shown strings.Builder
		for j, b := range random[i*recoveryChars : (i+1)*recoveryChars] {
			if j > 0 && j%recoveryGroup == 0 {
				shown.WriteByte('-')
			}
			c := recoveryAlphabet[b%32] // uniform: 256 is a multiple of 32
			canon.WriteByte(c)
			shown.WriteByte(c)
		}
		codes = append(codes, shown.String())
		hashes = append(hashes, hashRecoveryCode(canon.String()))
	}
	return codes, hashes, nil
}

// MatchRecoveryCode finds the code a user typed among stored hashes and
// returns its index. It compares with every hash in constant time, whether
// or not one matches. The caller must then mark that code used: delete its
// hash, or set it to nil, which never matches, to keep the indexes.
func MatchRecoveryCode(hashes [][]byte, code string) (index int, ok bool) {
	canon, valid := normalizeRecoveryCode(code)
	if !valid {
		return -1, false
	}
	h := hashRecoveryCode(canon)
	index = -1
	for i, stored := range hashes {
		if subtle.ConstantTimeCompare(h, stored) == 1 && index < 0 {
			index = i
		}
	}
	return index, index >= 0
}

func hashRecoveryCode(canon string) []byte {
	h := sha256.Sum256([]byte(canon))
	return h[:]
}

// normalizeRecoveryCode reads a typed code: it drops spaces and dashes,
// lowers case, reads o as 0 and i and l as 1, and checks that 12 characters
// of the alphabet remain.
func normalizeRecoveryCode(code string) (string, bool) {
	if len(code) > maxRecoveryInput {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		c := code[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch c {
		case ' ', '-':
			continue
		case 'o':
			c = '0'
		case 'i', 'l':
			c = '1'
		}
		if strings.IndexByte(recoveryAlphabet, c) < 0 {
			return "", false
		}
		b.WriteByte(c)
	}
	if b.Len() != recoveryChars {
		return "", false
	}
	return b.String(), true
}
