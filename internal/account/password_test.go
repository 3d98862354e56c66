package account

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestHashPasswordDefaultParams(t *testing.T) {
	phc, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	wantPrefix := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", PasswordMemoryKiB, PasswordIterations, PasswordParallelism)
	if !strings.HasPrefix(phc, wantPrefix) {
		t.Errorf("hash %q does not start with %q", phc, wantPrefix)
	}
	p, salt, hash, err := parsePHC(phc)
	if err != nil {
		t.Fatalf("parsePHC(HashPassword()): %v", err)
	}
	if p != defaultParams || len(salt) != PasswordSaltBytes || len(hash) != PasswordHashBytes {
		t.Errorf("parsed %+v, salt %d bytes, hash %d bytes; want %+v", p, len(salt), len(hash), defaultParams)
	}
	ok, rehash, err := VerifyPassword(phc, "correct horse battery staple")
	if !ok || rehash || err != nil {
		t.Errorf("VerifyPassword(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, rehash, err = VerifyPassword(phc, "correct horse battery stapler")
	if ok || rehash || err != nil {
		t.Errorf("VerifyPassword(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
}

// TestVerifyPasswordReference checks interoperability with the argon2
// reference implementation (phc-winner-argon2, test.c, Argon2id v=19).
func TestVerifyPasswordReference(t *testing.T) {
	const ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	ok, rehash, err := VerifyPassword(ref, "password")
	if !ok || !rehash || err != nil {
		t.Errorf("VerifyPassword(reference) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	if ok, _, _ := VerifyPassword(ref, "Password"); ok {
		t.Error("reference hash accepts another password")
	}
}

func TestPasswordRehashAndSalt(t *testing.T) {
	restore := UseCheapParamsForTests()
	cheap, err := HashPassword("a passphrase")
	if err != nil {
		t.Fatal(err)
	}
	cheap2, err := HashPassword("a passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if cheap == cheap2 {
		t.Error("two hashes of one password are equal: salt is not random")
	}
	if ok, rehash, err := VerifyPassword(cheap, "a passphrase"); !ok || rehash || err != nil {
		t.Errorf("with cheap params: VerifyPassword = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	restore()
	if ok, rehash, err := VerifyPassword(cheap, "a passphrase"); !ok || !rehash || err != nil {
		t.Errorf("after restore: VerifyPassword = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	if *params.Load() != defaultParams {
		t.Errorf("restore left params %+v", *params.Load())
	}
}

func TestPasswordLength(t *testing.T) {
	defer UseCheapParamsForTests()()
	long := strings.Repeat("x", MaxPasswordBytes+1)
	if _, err := HashPassword(long); err == nil {
		t.Error("HashPassword accepts a password longer than MaxPasswordBytes")
	}
	phc, err := HashPassword(long[:MaxPasswordBytes])
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := VerifyPassword(phc, long[:MaxPasswordBytes]); !ok || err != nil {
		t.Errorf("VerifyPassword(longest password) = %v, %v", ok, err)
	}
	if ok, _, err := VerifyPassword(phc, long); ok || err != nil {
		t.Errorf("VerifyPassword(too long) = %v, %v; want false, nil", ok, err)
	}
	VerifyNoUser(long) // must not panic
}

func TestVerifyPasswordMalformed(t *testing.T) {
	defer UseCheapParamsForTests()()
	good, err := HashPassword("a passphrase")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(good, "$") // "", argon2id, v=19, m=8,t=1,p=1, salt, hash
	join := func(fields ...string) string { return "$" + strings.Join(fields, "$") }
	tests := []struct {
		name string
		phc  string
	}{
		{"argon2i", join("argon2i", f[2], f[3], f[4], f[5])},
		{"argon2d", join("argon2d", f[2], f[3], f[4], f[5])},
		{"version 16", join(f[1], "v=16", f[3], f[4], f[5])},
		{"no version", join(f[1], f[3], f[4], f[5])},
		{"version leading zero", join(f[1], "v=019", f[3], f[4], f[5])},
		{"memory 4 GiB", join(f[1], f[2], "m=4194304,t=1,p=1", f[4], f[5])},
		{"memory above bound", join(f[1], f[2], fmt.Sprintf("m=%d,t=1,p=1", maxMemoryKiB+1), f[4], f[5])},
		{"memory overflows", join(f[1], f[2], "m=99999999999999999999,t=1,p=1", f[4], f[5])},
		{"memory below 8 per lane", join(f[1], f[2], "m=15,t=1,p=2", f[4], f[5])},
		{"iterations zero", join(f[1], f[2], "m=8,t=0,p=1", f[4], f[5])},
		{"iterations above bound", join(f[1], f[2], fmt.Sprintf("m=8,t=%d,p=1", maxIterations+1), f[4], f[5])},
		{"parallelism zero", join(f[1], f[2], "m=8,t=1,p=0", f[4], f[5])},
		{"parallelism 256", join(f[1], f[2], "m=4096,t=1,p=256", f[4], f[5])},
		{"parameters reordered", join(f[1], f[2], "t=1,m=8,p=1", f[4], f[5])},
		{"parameter missing", join(f[1], f[2], "m=8,t=1", f[4], f[5])},
		{"extra parameter", join(f[1], f[2], "m=8,t=1,p=1,keyid=x", f[4], f[5])},
		{"plus sign", join(f[1], f[2], "m=+8,t=1,p=1", f[4], f[5])},
		{"leading zero", join(f[1], f[2], "m=08,t=1,p=1", f[4], f[5])},
		{"space", join(f[1], f[2], "m=8, t=1,p=1", f[4], f[5])},
		{"salt too short", join(f[1], f[2], f[3], "c2FsdA", f[5])},
		{"salt padded", join(f[1], f[2], f[3], f[4]+"==", f[5])},
		{"salt not base64", join(f[1], f[2], f[3], "!"+f[4][1:], f[5])},
		{"hash too short", join(f[1], f[2], f[3], f[4], f[5][:16])},
		{"hash URL base64", join(f[1], f[2], f[3], f[4], strings.NewReplacer("+", "-", "/", "_").Replace(f[5])+"-_")},
		{"no hash", join(f[1], f[2], f[3], f[4])},
		{"extra field", join(f[1], f[2], f[3], f[4], f[5], "x")},
		{"no leading dollar", strings.TrimPrefix(good, "$")},
		{"too long", good + strings.Repeat("A", maxPHCLength)},
		{"bcrypt", "$2b$10$abcdefghijklmnopqrstuuO3Bc6M7ZEX6IbWv2yv5Kqf0X0V0aZYi"},
		{"plain text", "a passphrase"},
	}
	for _, tt := range tests {
		ok, rehash, err := VerifyPassword(tt.phc, "a passphrase")
		if ok || rehash || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: VerifyPassword(%q) = %v, %v, %v; want ErrMalformedHash", tt.name, tt.phc, ok, rehash, err)
		}
		if err != nil && strings.Contains(err.Error(), f[5]) {
			t.Errorf("%s: error %q quotes the hash", tt.name, err)
		}
	}
	if _, _, err := VerifyPassword("", "a passphrase"); !errors.Is(err, ErrNoPassword) {
		t.Errorf("VerifyPassword(\"\") error = %v; want ErrNoPassword", err)
	}
	// The malformed cases are derived from a hash that verifies.
	if ok, _, err := VerifyPassword(join(f[1], f[2], f[3], f[4], f[5]), "a passphrase"); !ok || err != nil {
		t.Fatalf("rejoined hash does not verify: %v, %v", ok, err)
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw, user string
		ok       bool
	}{
		{"ten chars!", "alice", true},
		{"nine char", "alice", false},
		{"ééééééééé", "", false}, // 9 characters, 18 bytes
		{"éééééééééé", "", true}, // 10 characters
		{strings.Repeat("a", MaxPasswordBytes), "bob", true},
		{strings.Repeat("a", MaxPasswordBytes+1), "bob", false},
		{"Administrator", "administrator", false},
		{"my-Alice-password", "alice", false},
		{"my-alic3-password", "alice", true},
		{"xy secret words", "xy", true}, // short names may appear
		{"xyz secret words", "XYZ", false},
		{"valid \xff password", "", false},
		{"a long passphrase", "", true},
	}
	for _, tt := range tests {
		err := CheckPassword(tt.pw, tt.user)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%q, %q) = %v; want ok %v", tt.pw, tt.user, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrPasswordPolicy) {
			t.Errorf("CheckPassword(%q, %q) = %v; not ErrPasswordPolicy", tt.pw, tt.user, err)
		}
	}
}

func FuzzParsePHC(f *testing.F) {
	restore := UseCheapParamsForTests()
	cheap, _ := HashPassword("seed")
	restore()
	f.Add(cheap)
	f.Add("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$$$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, hash, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parsePHC error %v is not ErrMalformedHash", err)
			}
			return
		}
		if p.memory > maxMemoryKiB || p.memory < 8*uint32(p.parallelism) || p.iterations < 1 || p.iterations > maxIterations ||
			p.parallelism < 1 || p.parallelism > maxParallelism {
			t.Fatalf("parsePHC(%q) accepted out-of-bounds parameters %+v", s, p)
		}
		if len(salt) < minSaltBytes || len(salt) > maxSaltBytes || len(hash) < minHashBytes || len(hash) > maxHashBytes {
			t.Fatalf("parsePHC(%q) accepted salt %d, hash %d bytes", s, len(salt), len(hash))
		}
		if again := formatPHC(p, salt, hash); again != s {
			t.Fatalf("parsePHC accepted a non-canonical string %q (canonical %q)", s, again)
		}
	})
}
