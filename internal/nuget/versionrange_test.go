package nuget

import (
	"strings"
	"testing"
)

func mustVersions(t *testing.T, list string) []Version {
	t.Helper()
	var out []Version
	for _, s := range strings.Fields(list) {
		v, err := ParseVersion(s)
		if err != nil {
			t.Fatalf("bad test version %q: %v", s, err)
		}
		out = append(out, v)
	}
	return out
}

// TestParseRange pins the normalised form of the range notations of NuGet's
// "Package versioning" page, floating notations included.
func TestParseRange(t *testing.T) {
	tests := []struct {
		in, norm string
		floating bool
	}{
		{"1.0", "[1.0.0, )", false},
		{"1.0.0", "[1.0.0, )", false},
		{" 1.0 ", "[1.0.0, )", false},
		{"01.0", "[1.0.0, )", false},
		{"1.0.0.0", "[1.0.0, )", false},
		{"1.0.0.1", "[1.0.0.1, )", false},
		{"1.0.0+build", "[1.0.0, )", false},
		{"1.0.0-beta", "[1.0.0-beta, )", false},
		{"[1.0]", "[1.0.0, 1.0.0]", false},
		{"[ 1.0 ]", "[1.0.0, 1.0.0]", false},
		{"[1.0,2.0)", "[1.0.0, 2.0.0)", false},
		{"[1.0, 2.0)", "[1.0.0, 2.0.0)", false},
		{"[ 1.0 , 2.0 )", "[1.0.0, 2.0.0)", false},
		{"\t[1.0,2.0)\n", "[1.0.0, 2.0.0)", false},
		{"(1.0,2.0)", "(1.0.0, 2.0.0)", false},
		{"[1.0,2.0]", "[1.0.0, 2.0.0]", false},
		{"(1.0,2.0]", "(1.0.0, 2.0.0]", false},
		{"(,2.0]", "(, 2.0.0]", false},
		{"(,2.0)", "(, 2.0.0)", false},
		{"[,2.0)", "(, 2.0.0)", false},
		{"(1.0,)", "(1.0.0, )", false},
		{"[1.0,)", "[1.0.0, )", false},
		{"[1.0,]", "[1.0.0, )", false},
		{"(, )", "(, )", false},
		{"[ ]", "(, )", false},
		{"[1.0,1.0]", "[1.0.0, 1.0.0]", false},
		{"(1.0,1.0)", "(1.0.0, 1.0.0)", false},
		{"[1.0.0-alpha,1.0.0]", "[1.0.0-alpha, 1.0.0]", false},
		{"1.*", "[1.*, )", true},
		{"1.0.*", "[1.0.*, )", true},
		{"1.0.0.*", "[1.0.0.*, )", true},
		{"*", "[*, )", true},
		{" * ", "[*, )", true},
		{"1.0.0-*", "[1.0.0-*, )", true},
		{"1.0.0-beta*", "[1.0.0-beta*, )", true},
		{"1.0.0-beta.*", "[1.0.0-beta.*, )", true},
		{"1.0.0-beta-*", "[1.0.0-beta-*, )", true},
		{"1.0.0.1-rc*", "[1.0.0.1-rc*, )", true},
		{"*-*", "[*-*, )", true},
		{"*-rc*", "[*-rc*, )", true},
		{"1.*-*", "[1.*-*, )", true},
		{"1.0.*-*", "[1.0.*-*, )", true},
		{"1.0.0.*-*", "[1.0.0.*-*, )", true},
		{"1.*-rc.*", "[1.*-rc.*, )", true},
		{"[1.*,2.0)", "[1.*, 2.0.0)", true},
		{"[1.0.*, 2.0.0]", "[1.0.*, 2.0.0]", true},
		{"( 1.*, 2.0)", "(1.*, 2.0.0)", true},
		// NuGet's quirk: the star replaces a digit.
		{"1.2*", "[1.*, )", true},
		{"1*", "[10.0.0, )", false},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.in)
		if err != nil {
			t.Errorf("ParseRange(%q): %v", tt.in, err)
			continue
		}
		if got := r.String(); got != tt.norm {
			t.Errorf("ParseRange(%q).String() = %q, want %q", tt.in, got, tt.norm)
		}
		if r.IsFloating() != tt.floating {
			t.Errorf("ParseRange(%q).IsFloating() = %v, want %v", tt.in, r.IsFloating(), tt.floating)
		}
		back, err := ParseRange(r.String())
		if err != nil || back.String() != r.String() {
			t.Errorf("normalised %q of %q does not parse back: %v, %q", r.String(), tt.in, err, back.String())
		}
	}
}

func TestParseRangeInvalid(t *testing.T) {
	for _, in := range []string{
		"", " ", "a", "1.0 2.0", "(1.0)", "[1.0)", "(1.0]", "(,)", "[,]", "()", "[]", "(", "[",
		"[2.0,1.0]", "(1.0,1.0]", "[1.0,1.0)", "[1.0,2.0,3.0]", "[1.0,2.0", "1.0,2.0]", "[1.0 2.0]",
		"[1.0,2.*)", "[1.*]", "1.*.0", "*.1", "**", "1.**", "1.0.0-**", "1.0.*-beta", "-*", "*-",
		"1.0.0-*+meta", "1.2.3.4.*", "1.2.3.4.*-*", "[1.* ,2.0)", "1.0.0-", "[a,b]", "{1.0}",
		"[1.0,2.0)x", "1.0.0-a-b.*", "1.*.*-*", "1.0-*-*", strings.Repeat("1", 2000),
	} {
		if r, err := ParseRange(in); err == nil {
			t.Errorf("ParseRange(%q) = %q, want an error", in, r.String())
		} else if !strings.HasPrefix(err.Error(), "nuget: ") {
			t.Errorf("ParseRange(%q) error %q lacks the package prefix", in, err)
		}
	}
}

func TestRangeBounds(t *testing.T) {
	r, err := ParseRange("(1.0, 2.0]")
	if err != nil {
		t.Fatal(err)
	}
	min, hasMin := r.Min()
	max, hasMax := r.Max()
	if !hasMin || !hasMax || min.String() != "1.0.0" || max.String() != "2.0.0" || r.MinInclusive() || !r.MaxInclusive() {
		t.Errorf("bounds of (1.0, 2.0] = %v %v %v %v %v %v", min, hasMin, max, hasMax, r.MinInclusive(), r.MaxInclusive())
	}
	var all Range
	if _, ok := all.Min(); ok {
		t.Error("the zero Range has a lower bound")
	}
	if all.String() != "(, )" || all.IsFloating() || !all.Satisfies(Version{Major: 9, Release: []string{"x"}}) {
		t.Errorf("zero Range: %q floating=%v", all.String(), all.IsFloating())
	}
	v := Version{Major: 1, Minor: 2}
	if got := Exactly(v).String(); got != "[1.2.0, 1.2.0]" {
		t.Errorf("Exactly = %q", got)
	}
	if got, ok := Exactly(v).IsExact(); !ok || !got.Equal(v) {
		t.Errorf("Exactly(v).IsExact() = %v, %v", got, ok)
	}
	if _, ok := AtLeast(v).IsExact(); ok {
		t.Error("AtLeast is exact")
	}
	if got := AtLeast(v).String(); got != "[1.2.0, )" {
		t.Errorf("AtLeast = %q", got)
	}
	for in, want := range map[string]FloatBehavior{
		"1.*": FloatMinor, "1.0.*": FloatPatch, "1.0.0.*": FloatRevision, "*": FloatMajor,
		"1.0.0-*": FloatPrerelease, "*-*": FloatAbsoluteLatest, "*-rc*": FloatPrereleaseMajor,
		"1.*-*": FloatPrereleaseMinor, "1.0.*-*": FloatPrereleasePatch, "1.0.0.*-*": FloatPrereleaseRevision,
		"1.0": FloatNone,
	} {
		r, err := ParseRange(in)
		if err != nil || r.Float() != want {
			t.Errorf("ParseRange(%q).Float() = %v, %v; want %v", in, r.Float(), err, want)
		}
	}
}

func TestRangeSatisfies(t *testing.T) {
	tests := []struct {
		rng, version string
		want         bool
	}{
		{"1.0", "1.0.0", true},
		{"1.0", "0.9.9", false},
		{"1.0", "1.0.0-beta", false},
		{"1.0", "1.0.1-beta", true}, // bounds only: a prerelease above the floor is inside
		{"1.0", "1.0.0+meta", true},
		{"[1.0,2.0)", "2.0.0", false},
		{"[1.0,2.0)", "2.0.0-beta", true},
		{"[1.0,2.0)", "1.9.9.9", true},
		{"[1.0,2.0]", "2.0.0", true},
		{"(1.0,2.0)", "1.0.0", false},
		{"(1.0,)", "1.0.0.1", true},
		{"(,2.0]", "0.0.1", true},
		{"(,2.0)", "2.0.0", false},
		{"[1.0]", "1.0.0.0", true},
		{"[1.0]", "1.0.1", false},
		{"[1.0.0-Beta]", "1.0.0-beta", true},
		{"(1.0,1.0)", "1.0.0", false},
		{"1.*", "2.5.0", true}, // bounds only: [1.0.0, )
		{"1.*", "0.9.0", false},
		{"(, )", "0.0.0-0", true},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.rng)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ParseVersion(tt.version)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Satisfies(v); got != tt.want {
			t.Errorf("%s.Satisfies(%s) = %v, want %v", tt.rng, tt.version, got, tt.want)
		}
	}
}

// TestFindBest follows the examples of NuGet's "Package versioning" and
// "Dependency resolution" pages and the floating prerelease design notes.
func TestFindBest(t *testing.T) {
	tests := []struct {
		rng, versions, want string // want "" means no match
	}{
		// Lowest applicable version.
		{"1.0", "1.0.0 1.0.1 1.1.0", "1.0.0"},
		{"1.0", "2.0.0 1.1.0 0.9.0 1.0.1", "1.0.1"},
		{"1.0", "1.0.0-beta 1.0.1-rc 1.1.0", "1.1.0"},
		{"1.0", "1.0.0-beta 1.0.1-rc", ""},
		{"1.0", "0.1.0 0.9.0", ""},
		{"1.0.0-beta", "1.0.0-alpha 1.0.0-beta 1.0.0", "1.0.0-beta"},
		{"1.0.0-beta", "1.0.0-rc 1.0.0", "1.0.0-rc"},
		{"[1.0,2.0)", "0.9.0 1.5.0 1.8.0 2.0.0", "1.5.0"},
		{"[1.0,2.0)", "2.0.0 2.1.0", ""},
		{"[1.0,2.0)", "1.5.0-beta 1.6.0", "1.6.0"},
		{"[1.0,2.0-beta)", "1.5.0-beta 1.6.0", "1.5.0-beta"},
		{"[1.0]", "1.0.1 0.9.0", ""},
		{"[1.0]", "1.0.1 1.0.0", "1.0.0"},
		{"(1.0,)", "1.0.0 1.1.0 1.2.0", "1.1.0"},
		{"(,2.0]", "0.5.0 1.0.0 2.0.0", "0.5.0"},
		{"(, )", "3.0.0 2.0.0 2.0.0-rc", "2.0.0"},
		// Floating.
		{"*", "1.1.0 1.1.1 1.2.0 1.3.0-alpha", "1.2.0"},
		{"1.1.*", "1.1.0 1.1.1 1.1.2-alpha 1.2.0-alpha", "1.1.1"},
		{"*-*", "1.1.0 1.1.1 1.1.2-alpha 1.3.0-beta", "1.3.0-beta"},
		{"1.1.*-*", "1.1.0 1.1.1 1.1.2-alpha 1.1.2-beta 1.3.0-beta", "1.1.2-beta"},
		{"1.2.0-rc.*", "1.1.0 1.2.0-rc.1 1.2.0-rc.2 1.2.0", "1.2.0"},
		{"1.2.0-rc.*", "1.1.0 1.2.0-rc.1 1.2.0-rc.2 1.3.0", "1.2.0-rc.2"},
		{"1.2.*-rc.*", "1.1.0 1.2.0-rc.1 1.2.0-rc.2 1.2.1 1.3.0-rc.1", "1.2.1"},
		{"5.*", "5.1.0 5.2.0 5.3.0 5.4.0 5.5.0-preview.1 5.5.0-preview.2 5.5.0-preview.3", "5.4.0"},
		{"5.*-*", "5.1.0 5.2.0 5.3.0 5.4.0 5.5.0-preview.1 5.5.0-preview.2 5.5.0-preview.3", "5.5.0-preview.3"},
		{"1.*", "1.0.0 1.5.0 1.5.1-beta 2.0.0", "1.5.0"},
		{"1.*", "2.0.0 3.0.0", "2.0.0"}, // nothing in the float: the lowest above it
		{"1.*", "0.9.0", ""},
		{"[1.*, 2.0)", "1.0.0 1.9.0 2.0.0", "1.9.0"},
		{"1.0.0-*", "1.0.0-alpha 1.0.0-beta 1.0.1", "1.0.0-beta"},
		{"1.0.0-*", "1.0.0-alpha 1.0.0", "1.0.0"},
		{"1.0.0-beta.*", "1.0.0-alpha.1 1.0.0-beta.1 1.0.0-beta.2 1.0.0-rc.1", "1.0.0-beta.2"},
		{"1.0.0-beta*", "1.0.0-beta1 1.0.0-beta2 1.0.0-BETA3", "1.0.0-BETA3"},
		{"1.0.*", "1.0.0 1.0.5 1.1.0", "1.0.5"},
		{"1.0.0.*", "1.0.0.1 1.0.0.9 1.0.1", "1.0.0.9"},
		{"*-rc*", "1.0.0-beta 2.0.0-rc.1 1.5.0", "2.0.0-rc.1"},
		{"2.*", "1.0.0 3.0.0-beta", ""},
		{"2.*", "3.0.0 4.0.0", "3.0.0"},
		{"*", "", ""},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.rng)
		if err != nil {
			t.Fatalf("ParseRange(%q): %v", tt.rng, err)
		}
		vs := mustVersions(t, tt.versions)
		got, ok := r.FindBest(vs)
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s.FindBest(%s) = %s, want no match", tt.rng, tt.versions, got.Full())
		case tt.want != "" && (!ok || got.Full() != tt.want):
			t.Errorf("%s.FindBest(%s) = %s (%v), want %s", tt.rng, tt.versions, got.Full(), ok, tt.want)
		}
		// The choice never depends on the order of the versions.
		for i, j := 0, len(vs)-1; i < j; i, j = i+1, j-1 {
			vs[i], vs[j] = vs[j], vs[i]
		}
		if again, ok2 := r.FindBest(vs); ok2 != ok || (ok && again.Full() != got.Full()) {
			t.Errorf("%s.FindBest depends on order: %s then %s", tt.rng, got.Full(), again.Full())
		}
		if ok && !r.Satisfies(got) {
			t.Errorf("%s.FindBest chose %s outside the range", tt.rng, got)
		}
	}
}

func TestRangePretty(t *testing.T) {
	for in, want := range map[string]string{
		"1.0":          "(>= 1.0.0)",
		"[1.0]":        "(= 1.0.0)",
		"[1.0,2.0)":    "(>= 1.0.0 && < 2.0.0)",
		"(1.0,2.0]":    "(> 1.0.0 && <= 2.0.0)",
		"(1.0,)":       "(> 1.0.0)",
		"(,2.0]":       "(<= 2.0.0)",
		"(, )":         "",
		"1.*":          "(>= 1.0.0)",
		"1.0.0-*":      "(>= 1.0.0)",
		"1.0.0-beta*":  "(>= 1.0.0-beta)",
		"1.0.0-beta.*": "(>= 1.0.0-beta)",
		"1.0.0-rc1-*":  "(>= 1.0.0-rc1)",
		"[1.0.0-beta]": "(= 1.0.0-beta)",
	} {
		r, err := ParseRange(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Pretty(); got != want {
			t.Errorf("ParseRange(%q).Pretty() = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{
		"1.0", "[1.0]", "[1.0,2.0)", "(,2.0]", "(1.0,)", "1.*", "1.0.*", "*", "1.0.0-*", "1.0.0-beta.*",
		"*-*", "1.*-rc.*", "[1.*, 2.0)", "(, )", "[ ]", "1.2*", "1.0.0-a-b*", "(1.0,1.0)", "[1.0.0-beta+x,2]",
	} {
		f.Add(s)
	}
	probe := mustVersionsF(f, "0.0.0-0 0.9.0 1.0.0-beta 1.0.0 1.0.1 1.5.0-rc.1 1.9.9 2.0.0 2.0.0.1 3.0.0-alpha 10.0.0")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			return
		}
		norm := r.String()
		back, err := ParseRange(norm)
		if err != nil {
			t.Fatalf("ParseRange(%q) normalises to %q, which does not parse: %v", s, norm, err)
		}
		if back.String() != norm {
			t.Fatalf("normal form of %q is not stable: %q then %q", s, norm, back.String())
		}
		_ = r.Pretty()
		if best, ok := r.FindBest(probe); ok && !r.Satisfies(best) {
			t.Fatalf("%q chose %s outside its bounds", s, best)
		}
		if min, ok := r.Min(); ok && r.MinInclusive() && !r.Satisfies(min) && Compare(min, mustMax(r)) <= 0 {
			t.Fatalf("%q excludes its inclusive lower bound %s", s, min)
		}
	})
}

func mustMax(r Range) Version {
	if max, ok := r.Max(); ok {
		return max
	}
	return Version{Major: maxVersionPart}
}

func mustVersionsF(f *testing.F, list string) []Version {
	var out []Version
	for _, s := range strings.Fields(list) {
		v, err := ParseVersion(s)
		if err != nil {
			f.Fatalf("bad seed version %q: %v", s, err)
		}
		out = append(out, v)
	}
	return out
}
