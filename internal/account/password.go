package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters of new password hashes follow OWASP's Password
// Storage Cheat Sheet, whose recommendation for argon2id is 19 MiB of
// memory, 2 iterations and 1 degree of parallelism; salt and hash sizes
// follow RFC 9106, section 4 (a 128-bit salt, a 256-bit tag). A hash costs
// about 20 ms of one core. Hashes made with other parameters still verify,
// and VerifyPassword says they need rehashing.
const (
	PasswordMemoryKiB   = 19 * 1024 // OWASP: m=19456 (19 MiB)
	PasswordIterations  = 2         // OWASP: t=2
	PasswordParallelism = 1         // OWASP: p=1
	PasswordSaltBytes   = 16        // RFC 9106: 128-bit salt
	PasswordHashBytes   = 32        // RFC 9106: 256-bit tag
)

// Bounds on the parameters read from a stored hash. A stored hash is data:
// a tampered or corrupt row must not make a login allocate gigabytes or run
// for minutes, and must not reach argon2 with values it would panic on.
const (
	// maxMemoryKiB (256 MiB) is 13 times today's parameters, room to raise
	// them for years; more per login would let a few concurrent logins
	// exhaust a server's memory.
	maxMemoryKiB = 256 * 1024
	// maxIterations (16) with maxMemoryKiB bounds one verification to a few
	// seconds of one core.
	maxIterations = 16
	// maxParallelism (16) bounds the goroutines one verification starts
	// (argon2 runs one per lane).
	maxParallelism = 16
	// minSaltBytes is RFC 9106's minimum salt; maxSaltBytes is PHC's.
	minSaltBytes = 8
	maxSaltBytes = 64
	// minHashBytes (128 bits) refuses truncated tags that could be guessed;
	// maxHashBytes (512 bits) is more than any hash needs.
	minHashBytes = 16
	maxHashBytes = 64
	// maxPHCLength covers the longest string the bounds above allow, so a
	// longer one is refused before it is split.
	maxPHCLength = 256
)

// Password policy. NIST SP 800-63B (5.1.1.2) asks for a minimum length and
// no composition rules; a long passphrase is the best password.
const (
	// MinPasswordChars is the shortest password accepted, in characters.
	MinPasswordChars = 10
	// MaxPasswordBytes is the longest password accepted, in bytes: any real
	// passphrase fits, and hashing megabytes per login is a cheap attack.
	MaxPasswordBytes = 1024
	// minUsernameInPassword is the shortest user name that a password may
	// not contain; a password containing a one- or two-letter name is fine.
	minUsernameInPassword = 3
)

var (
	// ErrPasswordPolicy means that CheckPassword refuses a new password;
	// the wrapped message says why, in words fit for the user.
	ErrPasswordPolicy = errors.New("account: password refused")
	// ErrNoPassword means that the stored password hash is empty: the user
	// cannot log in with a password.
	ErrNoPassword = errors.New("account: user has no password")
	// ErrMalformedHash means that a stored password hash is not an argon2id
	// PHC string with parameters inside this package's bounds.
	ErrMalformedHash = errors.New("account: malformed password hash")
)

// argonParams are the parameters of one argon2id hash.
type argonParams struct {
	memory, iterations uint32
	parallelism        uint8
	saltLen, hashLen   int
}

var (
	defaultParams = argonParams{PasswordMemoryKiB, PasswordIterations, PasswordParallelism, PasswordSaltBytes, PasswordHashBytes}
	// cheapParams are the cheapest parameters within the bounds.
	cheapParams = argonParams{8, 1, 1, minSaltBytes, minHashBytes}
	// params are the parameters HashPassword uses.
	params atomic.Pointer[argonParams]
)

func init() { params.Store(&defaultParams) }

// UseCheapParamsForTests makes HashPassword use the cheapest argon2id
// parameters (8 KiB, 1 iteration), so that tests creating many users stay
// fast, until the returned function is called. It is for tests only; a
// hash made with them verifies, with needsRehash true, once the normal
// parameters are back. Typical use, in a test or TestMain:
//
//	defer account.UseCheapParamsForTests()()
func UseCheapParamsForTests() (restore func()) {
	old := params.Swap(&cheapParams)
	return func() { params.Store(old) }
}

// hashSlots bounds the argon2 computations running at once to the number
// of cores: argon2 is CPU-bound, so more would not finish sooner, and each
// holds PasswordMemoryKiB of memory. A flood of logins queues here instead
// of allocating 19 MiB each.
var hashSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

func argonKey(pw string, salt []byte, p argonParams) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(pw), salt, p.iterations, p.memory, p.parallelism, uint32(p.hashLen))
}

// HashPassword returns the argon2id hash of pw as a PHC string,
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" with the salt and hash in
// unpadded standard base64, made with a fresh random salt. It does not
// apply the password policy (see CheckPassword) but refuses a password
// longer than MaxPasswordBytes.
func HashPassword(pw string) (string, error) {
	if len(pw) > MaxPasswordBytes {
		return "", fmt.Errorf("account: password of %d bytes is longer than %d", len(pw), MaxPasswordBytes)
	}
	p := *params.Load()
	salt := make([]byte, p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("account: reading random salt: %w", err)
	}
	return formatPHC(p, salt, argonKey(pw, salt, p)), nil
}

// VerifyPassword reports whether pw is the password whose hash is phc,
// comparing in constant time. When ok, needsRehash says that phc was made
// with parameters other than HashPassword's current ones: the caller
// should then store HashPassword(pw) in its place.
//
// It returns ErrNoPassword for an empty phc and ErrMalformedHash for a
// string that is not an argon2id PHC string or whose parameters are out of
// bounds; a password longer than MaxPasswordBytes is wrong, without being
// hashed.
func VerifyPassword(phc, pw string) (ok, needsRehash bool, err error) {
	if phc == "" {
		return false, false, ErrNoPassword
	}
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, false, err
	}
	if len(pw) > MaxPasswordBytes {
		return false, false, nil
	}
	got := argonKey(pw, salt, p)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != *params.Load(), nil
}

// dummySalt is the salt of VerifyNoUser's hash; any value will do.
var dummySalt = make([]byte, PasswordSaltBytes)

// VerifyNoUser takes the time of a VerifyPassword with the current
// parameters and discards the result. A login for a user that does not
// exist (or has no password) should call it, so that it is not answered
// faster than a wrong password, which would tell who has an account.
func VerifyNoUser(pw string) {
	if len(pw) > MaxPasswordBytes {
		pw = pw[:MaxPasswordBytes]
	}
	p := *params.Load()
	argonKey(pw, dummySalt[:p.saltLen], p)
}

// formatPHC writes a PHC string (github.com/P-H-C/phc-string-format).
func formatPHC(p argonParams, salt, hash []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.memory, p.iterations, p.parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(hash))
}

// parsePHC reads a string written by formatPHC, strictly: the fields in
// that order, decimal numbers without leading zeros, canonical base64, and
// every parameter within bounds. The error never quotes the string, which
// is secret.
func parsePHC(s string) (p argonParams, salt, hash []byte, err error) {
	bad := func(format string, args ...any) (argonParams, []byte, []byte, error) {
		return argonParams{}, nil, nil, fmt.Errorf("%w: "+format, append([]any{ErrMalformedHash}, args...)...)
	}
	if len(s) > maxPHCLength {
		return bad("%d bytes long, more than %d", len(s), maxPHCLength)
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return bad("not a PHC string of 5 fields")
	}
	if f[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if v, ok := strings.CutPrefix(f[2], "v="); !ok {
		return bad("no version")
	} else if n, ok := parseDecimal(v, argon2.Version); !ok || n != argon2.Version {
		return bad("version is not %d", argon2.Version)
	}
	m, t, par, ok := parseArgonParams(f[3])
	if !ok {
		return bad("parameters are not m=<memory>,t=<iterations>,p=<parallelism> within bounds")
	}
	p = argonParams{memory: m, iterations: t, parallelism: par}
	if salt = decodePHCBase64(f[4]); len(salt) < minSaltBytes || len(salt) > maxSaltBytes {
		return bad("salt is not %d to %d bytes of base64", minSaltBytes, maxSaltBytes)
	}
	if hash = decodePHCBase64(f[5]); len(hash) < minHashBytes || len(hash) > maxHashBytes {
		return bad("hash is not %d to %d bytes of base64", minHashBytes, maxHashBytes)
	}
	p.saltLen, p.hashLen = len(salt), len(hash)
	return p, salt, hash, nil
}

// decodePHCBase64 decodes unpadded standard base64, or returns nil. It
// re-encodes to refuse what the decoder tolerates (newlines, set unused
// bits): one hash has one spelling.
func decodePHCBase64(s string) []byte {
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || base64.RawStdEncoding.EncodeToString(b) != s {
		return nil
	}
	return b
}

// parseArgonParams reads "m=…,t=…,p=…" within bounds. RFC 9106 (3.1) needs
// at least 8 KiB of memory per lane and one iteration.
func parseArgonParams(s string) (m, t uint32, p uint8, ok bool) {
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return 0, 0, 0, false
	}
	var v [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		num, found := strings.CutPrefix(f[i], name)
		if !found {
			return 0, 0, 0, false
		}
		if v[i], found = parseDecimal(num, []uint64{maxMemoryKiB, maxIterations, maxParallelism}[i]); !found {
			return 0, 0, 0, false
		}
	}
	if v[2] < 1 || v[1] < 1 || v[0] < 8*v[2] {
		return 0, 0, 0, false
	}
	return uint32(v[0]), uint32(v[1]), uint8(v[2]), true
}

// parseDecimal reads a decimal number of at most max, without sign or
// leading zeros, as PHC writes numbers.
func parseDecimal(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		return 0, false
	}
	return n, true
}

// CheckPassword applies the password policy to a new password pw of the
// user username: valid UTF-8, at least MinPasswordChars characters, at
// most MaxPasswordBytes bytes, and neither equal to the user name nor
// containing it (ignoring case; containment only for names of three
// characters or more). The error wraps ErrPasswordPolicy and its last part
// is a sentence fit to show the user.
func CheckPassword(pw, username string) error {
	refuse := func(why string) error { return fmt.Errorf("%w: %s", ErrPasswordPolicy, why) }
	switch {
	case !utf8.ValidString(pw):
		return refuse("it is not valid UTF-8 text")
	case len(pw) > MaxPasswordBytes:
		return refuse(fmt.Sprintf("use at most %d bytes", MaxPasswordBytes))
	case utf8.RuneCountInString(pw) < MinPasswordChars:
		return refuse(fmt.Sprintf("use at least %d characters", MinPasswordChars))
	}
	p, u := strings.ToLower(pw), strings.ToLower(username)
	switch {
	case u == "":
	case p == u:
		return refuse("it must not be your user name")
	case utf8.RuneCountInString(u) >= minUsernameInPassword && strings.Contains(p, u):
		return refuse("it must not contain your user name")
	}
	return nil
}
