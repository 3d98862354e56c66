package account

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TOTP as RFC 6238 defines it with the parameters every authenticator app
// supports: HMAC-SHA1, six digits, a 30-second step counted from the Unix
// epoch.
const (
	// TOTPSecretBytes is the size of a new secret: RFC 4226 (section 4)
	// recommends 160 bits, the output size of HMAC-SHA1.
	TOTPSecretBytes = 20
	// TOTPDigits is the length of a code.
	TOTPDigits = 6
	// TOTPPeriod is the time step.
	TOTPPeriod = 30 * time.Second
	// minTOTPSecretBytes is RFC 4226's minimum (128 bits); CheckTOTP
	// refuses a shorter stored secret.
	minTOTPSecretBytes = 16
	// maxTOTPSecretBytes bounds a stored secret; HMAC-SHA1 hashes longer
	// keys down to 20 bytes anyway.
	maxTOTPSecretBytes = 64
	// totpSkewSteps is the clock difference allowed between the server and
	// the user's device, in steps, either way (RFC 6238, section 5.2,
	// recommends at most one).
	totpSkewSteps = 1
	// maxTOTPCodeLength bounds a code as typed, spaces included, before it
	// is read.
	maxTOTPCodeLength = 32
)

var (
	// ErrTOTPInvalid means that a TOTP code is wrong or not six digits.
	ErrTOTPInvalid = errors.New("account: wrong authentication code")
	// ErrTOTPReplayed means that a TOTP code is right but its time step was
	// already used: a code works once.
	ErrTOTPReplayed = errors.New("account: authentication code already used")
)

// totpEncoding writes secrets in otpauth URIs: base32 without padding.
var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a new random TOTP secret of TOTPSecretBytes. The
// server stores it as it is: it needs it to compute codes.
func NewTOTPSecret() ([]byte, error) {
	s := make([]byte, TOTPSecretBytes)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("account: reading random TOTP secret: %w", err)
	}
	return s, nil
}

// TOTPURI returns the otpauth URI that authenticator apps read from a QR
// code (Google Authenticator's Key Uri Format):
//
//	otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// issuer (the feed's name) and account (the user name) are
// percent-encoded, colons and spaces included, so neither can break the
// label apart.
func TOTPURI(issuer, account string, secret []byte) string {
	return fmt.Sprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d",
		uriEscape(issuer), uriEscape(account), totpEncoding.EncodeToString(secret), uriEscape(issuer),
		TOTPDigits, int(TOTPPeriod/time.Second))
}

// uriEscape percent-encodes every byte but RFC 3986's unreserved
// characters, which is right in a path and a query alike (url.PathEscape
// leaves ":" and url.QueryEscape writes a space as "+", which some apps
// show as it is).
func uriEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// totpStep returns the time step of t: the number of TOTPPeriods since the
// Unix epoch (RFC 6238, section 4.2).
func totpStep(t time.Time) int64 {
	return floorDiv(t.Unix(), int64(TOTPPeriod/time.Second))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// TOTPCode returns the code for secret at time t, TOTPDigits decimal
// digits.
func TOTPCode(secret []byte, t time.Time) string {
	return hotp(secret, uint64(totpStep(t)), TOTPDigits)
}

// hotp computes RFC 4226's HOTP(K, C) with HMAC-SHA1 and dynamic
// truncation (section 5.3), as a string of n = digits decimal digits (n ≤ 9).
func hotp(secret []byte, counter uint64, digits int) string {
	mac := hmac.New(sha1.New, secret)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], counter)
	mac.Write(c[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// CheckTOTP checks a code the user typed against secret at time now, and
// returns the time step the code belongs to. It accepts the codes of the
// current step and of one step either side (clock skew), ignores spaces in
// the code ("123 456"), and compares in constant time.
//
// lastStep is the step of the last code accepted for this secret (0 if
// none): a code of that step or an earlier one is refused with
// ErrTOTPReplayed, so a code seen over a shoulder or in a log cannot be
// used again. The caller must store the returned step, atomically with
// accepting the login, and pass it as lastStep next time. A wrong or
// malformed code gives ErrTOTPInvalid; a stored secret of the wrong size
// gives another error.
func CheckTOTP(secret []byte, code string, now time.Time, lastStep int64) (step int64, err error) {
	if len(secret) < minTOTPSecretBytes || len(secret) > maxTOTPSecretBytes {
		return 0, fmt.Errorf("account: TOTP secret of %d bytes, not %d to %d", len(secret), minTOTPSecretBytes, maxTOTPSecretBytes)
	}
	digits, ok := normalizeTOTPCode(code)
	if !ok {
		return 0, fmt.Errorf("%w: not %d digits", ErrTOTPInvalid, TOTPDigits)
	}
	// Try every step of the window, without stopping at a match, and keep
	// the latest matching step.
	cur := totpStep(now)
	matched := int64(-1)
	for s := cur - totpSkewSteps; s <= cur+totpSkewSteps; s++ {
		if s < 0 {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(hotp(secret, uint64(s), TOTPDigits)), []byte(digits)) == 1 {
			matched = s
		}
	}
	switch {
	case matched < 0:
		return 0, ErrTOTPInvalid
	case matched <= lastStep:
		return 0, ErrTOTPReplayed
	}
	return matched, nil
}

// normalizeTOTPCode removes spaces from a typed code and checks that
// TOTPDigits ASCII digits remain.
func normalizeTOTPCode(code string) (string, bool) {
	if len(code) > maxTOTPCodeLength {
		return "", false
	}
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != TOTPDigits {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	return code, true
}
