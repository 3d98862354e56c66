package account

import (
	"regexp"
	"strings"
	"testing"
)

var recoveryPattern = regexp.MustCompile(`^[` + recoveryAlphabet + `]{4}-[` + recoveryAlphabet + `]{4}-[` + recoveryAlphabet + `]{4}$`)

func TestNewRecoveryCodes(t *testing.T) {
	codes, hashes, err := NewRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("got %d codes and %d hashes; want %d", len(codes), len(hashes), RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if !recoveryPattern.MatchString(c) {
			t.Errorf("code %q does not match %v", c, recoveryPattern)
		}
		if seen[c] {
			t.Errorf("code %q given twice", c)
		}
		seen[c] = true
		if len(hashes[i]) != 32 {
			t.Errorf("hash %d has %d bytes", i, len(hashes[i]))
		}
		if idx, ok := MatchRecoveryCode(hashes, c); !ok || idx != i {
			t.Errorf("MatchRecoveryCode(code %d) = %d, %v", i, idx, ok)
		}
	}
	for _, n := range []int{0, -1, maxRecoveryCodes + 1} {
		if _, _, err := NewRecoveryCodes(n); err == nil {
			t.Errorf("NewRecoveryCodes(%d) succeeds", n)
		}
	}
}

// TestRecoveryAlphabetUsed checks that codes draw on the whole alphabet:
// 1200 characters miss one of 32 with probability below 10^-14.
func TestRecoveryAlphabetUsed(t *testing.T) {
	codes, _, err := NewRecoveryCodes(maxRecoveryCodes)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(codes, "")
	for _, c := range recoveryAlphabet {
		if !strings.ContainsRune(all, c) {
			t.Errorf("no code uses %q", c)
		}
	}
}

func TestMatchRecoveryCode(t *testing.T) {
	codes, hashes, err := NewRecoveryCodes(3)
	if err != nil {
		t.Fatal(err)
	}
	// A code with 0s and 1s, to check the o, i and l readings.
	code := "01ab-cd01-xyz0"
	hashes = append(hashes, hashRecoveryCode(strings.ReplaceAll(code, "-", "")))
	other, _, err := NewRecoveryCodes(1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typed string
		index int
	}{
		{codes[1], 1},
		{strings.ToUpper(codes[2]), 2},
		{strings.ReplaceAll(codes[0], "-", ""), 0},
		{" " + strings.ReplaceAll(codes[0], "-", " ") + " ", 0},
		{strings.ReplaceAll(codes[0], "-", "--"), 0},
		{code, 3},
		{"OIAB CDOL XYZo", 3},
		{"o1ab-cdO1-xyzO", 3},
		{other[0], -1},
		{code[:len(code)-1], -1},
		{code + "0", -1},
		{"u1ab-cd01-xyz0", -1}, // u is not in the alphabet
		{"01ab_cd01_xyz0", -1},
		{"01ab-cd01-xyz0\n", -1},
		{"", -1},
		{strings.Repeat("-", maxRecoveryInput) + code, -1},
	}
	for _, tt := range tests {
		idx, ok := MatchRecoveryCode(hashes, tt.typed)
		if idx != tt.index || ok != (tt.index >= 0) {
			t.Errorf("MatchRecoveryCode(%q) = %d, %v; want %d", tt.typed, idx, ok, tt.index)
		}
	}
	hashes[1] = nil // used
	if idx, ok := MatchRecoveryCode(hashes, codes[1]); ok {
		t.Errorf("a used (nil) code matches at %d", idx)
	}
	if _, ok := MatchRecoveryCode(nil, codes[0]); ok {
		t.Error("a code matches no hashes")
	}
}

func FuzzNormalizeRecoveryCode(f *testing.F) {
	codes, _, _ := NewRecoveryCodes(2)
	for _, c := range codes {
		f.Add(c)
	}
	f.Add("OIAB CDOL XYZo")
	f.Add("u1ab-cd01-xyz0")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		norm, ok := normalizeRecoveryCode(s)
		if !ok {
			return
		}
		if len(norm) != recoveryChars || strings.Trim(norm, recoveryAlphabet) != "" {
			t.Fatalf("normalizeRecoveryCode(%q) = %q", s, norm)
		}
		shown := norm[:4] + "-" + norm[4:8] + "-" + norm[8:]
		if again, ok := normalizeRecoveryCode(shown); !ok || again != norm || !recoveryPattern.MatchString(shown) {
			t.Fatalf("normalizeRecoveryCode(%q) = %q, %v; want %q", shown, again, ok, norm)
		}
	})
}
