package nuget

import (
	"slices"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in         string
		norm, full string
		pre, semv2 bool
	}{
		{"1", "1.0.0", "1.0.0", false, false},
		{"1.2", "1.2.0", "1.2.0", false, false},
		{"1.2.3", "1.2.3", "1.2.3", false, false},
		{"1.2.3.4", "1.2.3.4", "1.2.3.4", false, false},
		{"1.2.3.0", "1.2.3", "1.2.3", false, false},
		{"1.0.0.0", "1.0.0", "1.0.0", false, false},
		{"01.002.0003", "1.2.3", "1.2.3", false, false},
		{"1.01", "1.1.0", "1.1.0", false, false},
		{"  1.0.0  ", "1.0.0", "1.0.0", false, false},
		{"1 . 2", "1.2.0", "1.2.0", false, false},
		{"1.0.0 -beta", "1.0.0-beta", "1.0.0-beta", true, false},
		{"\t1.0.0\n", "1.0.0", "1.0.0", false, false},
		{"1.0.0-beta", "1.0.0-beta", "1.0.0-beta", true, false},
		{"1.0.0-Beta", "1.0.0-Beta", "1.0.0-Beta", true, false},
		{"1.0.0-beta.1", "1.0.0-beta.1", "1.0.0-beta.1", true, true},
		{"1.0.0-beta-1", "1.0.0-beta-1", "1.0.0-beta-1", true, false},
		{"1.0.0--", "1.0.0--", "1.0.0--", true, false},
		{"1.0.0-0", "1.0.0-0", "1.0.0-0", true, false},
		{"1.0.0-0a", "1.0.0-0a", "1.0.0-0a", true, false},
		{"1.0.0+meta", "1.0.0", "1.0.0+meta", false, true},
		{"1.0.0+01.meta-x", "1.0.0", "1.0.0+01.meta-x", false, true},
		{"1.0.0-rc.1+build.5", "1.0.0-rc.1", "1.0.0-rc.1+build.5", true, true},
		{"1.0.0.0-beta+x", "1.0.0-beta", "1.0.0-beta+x", true, true},
		{"1.2.3.4-alpha", "1.2.3.4-alpha", "1.2.3.4-alpha", true, false},
		{"2147483647.0.0", "2147483647.0.0", "2147483647.0.0", false, false},
		{"9.0.2-beta1", "9.0.2-beta1", "9.0.2-beta1", true, false},
	}
	for _, tt := range tests {
		v, err := ParseVersion(tt.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tt.in, err)
			continue
		}
		if got := v.String(); got != tt.norm {
			t.Errorf("ParseVersion(%q).String() = %q, want %q", tt.in, got, tt.norm)
		}
		if got := v.Full(); got != tt.full {
			t.Errorf("ParseVersion(%q).Full() = %q, want %q", tt.in, got, tt.full)
		}
		if v.IsPrerelease() != tt.pre || v.IsSemVer2() != tt.semv2 {
			t.Errorf("ParseVersion(%q): prerelease %v semver2 %v, want %v %v", tt.in, v.IsPrerelease(), v.IsSemVer2(), tt.pre, tt.semv2)
		}
		// The normalised form parses back to the same version.
		w, err := ParseVersion(v.Full())
		if err != nil || Compare(v, w) != 0 || w.Metadata != v.Metadata {
			t.Errorf("round trip of %q through %q: %v, %v", tt.in, v.Full(), w, err)
		}
	}
}

func TestParseVersionInvalid(t *testing.T) {
	for _, in := range []string{
		"", " ", "a", "1.", ".1", "1..2", "1.2.3.4.5", "-1.0", "1.0.0-", "1.0.0+", "1.0.0-+x",
		"1.0.0-beta+", "1.0.0-01", "1.0.0-beta.01", "1.0.0-beta..1", "1.0.0-beta_1", "1.0.0-ß",
		"1.0.0+a+b", "1.0.0+a..b", "1.0.0+", "1.0.0+ x", "2147483648.0.0", "1.0.99999999999",
		"1 2.0", "v1.0.0", "1.0.0.0.0", "1,0", "１.0.0", "1.0.0-beta 1",
	} {
		if v, err := ParseVersion(in); err == nil {
			t.Errorf("ParseVersion(%q) = %v, want an error", in, v)
		} else if !strings.HasPrefix(err.Error(), "nuget: ") {
			t.Errorf("ParseVersion(%q) error %q lacks the package prefix", in, err)
		}
	}
}

func TestCompare(t *testing.T) {
	// Each line is strictly greater than the one before it (NuGet's
	// VersionComparer.Default ordering, with SemVer 2.0.0's own example list
	// embedded).
	ordered := []string{
		"0.0.0-0",
		"0.0.0",
		"1.0.0-alpha",
		"1.0.0-alpha.1",
		"1.0.0-alpha.beta",
		"1.0.0-beta",
		"1.0.0-beta.2",
		"1.0.0-beta.11",
		"1.0.0-rc.1",
		"1.0.0",
		"1.0.0.1-alpha",
		"1.0.0.1",
		"1.0.1",
		"1.1.0",
		"1.10.0",
		"2.0.0-1",
		"2.0.0-2",
		"2.0.0-10",
		"2.0.0-a",
		"2.0.0",
		"10.0.0",
	}
	vs := make([]Version, len(ordered))
	for i, s := range ordered {
		v, err := ParseVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		vs[i] = v
	}
	for i := range vs {
		for j := range vs {
			want := cmpInt(i, j)
			if got := Compare(vs[i], vs[j]); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	shuffled := slices.Clone(vs)
	slices.Reverse(shuffled)
	slices.SortFunc(shuffled, Compare)
	for i := range shuffled {
		if shuffled[i].String() != vs[i].String() {
			t.Fatalf("sorted order differs at %d: %s, want %s", i, shuffled[i], vs[i])
		}
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		eq   bool
	}{
		{"1.0", "1.0.0", true},
		{"1.0.0.0", "1.0.0", true},
		{"01.0.0", "1.0.0", true},
		{"1.0.0-BETA", "1.0.0-beta", true},
		{"1.0.0+a", "1.0.0+b", true},
		{"1.0.0-beta", "1.0.0", false},
		{"1.0.0.1", "1.0.0", false},
		{"1.0.0-beta.1", "1.0.0-beta", false},
		// Numeric labels compare as numbers, and a label with a leading
		// "-" that parses as an Int32 is numeric too (as int.TryParse sees it).
		{"1.0.0--1", "1.0.0-0", false},
	}
	for _, tt := range tests {
		a, err := ParseVersion(tt.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseVersion(tt.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Equal(b); got != tt.eq {
			t.Errorf("%s.Equal(%s) = %v, want %v", tt.a, tt.b, got, tt.eq)
		}
	}
	neg, _ := ParseVersion("1.0.0--1")
	zero, _ := ParseVersion("1.0.0-0")
	if Compare(neg, zero) != -1 {
		t.Errorf("numeric label -1 should sort before 0")
	}
	big, _ := ParseVersion("1.0.0-99999999999")
	alpha, _ := ParseVersion("1.0.0-A")
	if Compare(big, alpha) != -1 {
		// "99999999999" overflows Int32 so NuGet compares it as text: '9' < 'A'.
		t.Errorf("an overflowing numeric label should compare as text")
	}
}

func TestZeroVersion(t *testing.T) {
	var v Version
	if v.String() != "0.0.0" || v.IsPrerelease() || v.IsSemVer2() {
		t.Errorf("zero Version = %q", v.String())
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.0.0", "1.0.0-beta.1+meta", "01.2", " 1 . 2 ", "1.0.0--", "1.2.3.4-a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		w, err := ParseVersion(v.Full())
		if err != nil {
			t.Fatalf("normalised %q of %q does not parse: %v", v.Full(), s, err)
		}
		if Compare(v, w) != 0 || v.Full() != w.Full() {
			t.Fatalf("normalised %q of %q is not stable: %q", v.Full(), s, w.Full())
		}
	})
}
