package gpf

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/nupkg"
)

func TestEntryPath(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		dir, ok    bool
	}{
		{"lib/net8.0/A.dll", "lib/net8.0/A.dll", false, true},
		{"lib/net8.0/", "lib/net8.0", true, true},
		{`lib\net45\A.dll`, "lib/net45/A.dll", false, true},
		{"content/My%20File%2Bx.txt", "content/My File+x.txt", false, true},
		{"content/100%.txt", "content/100%.txt", false, true},
		{"content/%E2%82%AC.txt", "content/€.txt", false, true},
		{".signature.p7s", ".signature.p7s", false, true},
		{"a..b/c", "a..b/c", false, true},
		{"../x", "", false, false},
		{"..", "", false, false},
		{"a/..", "", false, false},
		{"%2E%2E/x", "", false, false},
		{"a%2F..%2F..%2Fx", "", false, false},
		{"/x", "", false, false},
		{`\x`, "", false, false},
		{"c:x", "", false, false},
		{"x/y:z", "", false, false},
		{"", "", false, false},
		{"/", "", false, false},
		{"a//b", "", false, false},
		{"a/./b", "", false, false},
		{"NUL", "", false, false},
		{"lib/nul.txt", "", false, false},
		{"lib/Lpt1.dll", "", false, false},
		{"lib/com²", "", false, false},
		{"lib/x ", "", false, false},
		{"lib/x.", "", false, false},
		{"lib/a\x00b", "", false, false},
		{"lib/a%00b", "", false, false},
		{"lib/a|b", "", false, false},
		{"lib/\xff", "", false, false},
		{strings.Repeat("a", 256), "", false, false},
		{strings.Repeat("a/", 600) + "b", "", false, false},
	} {
		rel, dir, err := entryPath(tc.name)
		if (err == nil) != tc.ok || rel != tc.want || dir != tc.dir {
			t.Errorf("entryPath(%q) = %q %v %v, want %q %v ok=%v", tc.name, rel, dir, err, tc.want, tc.dir, tc.ok)
		}
	}
}

func TestExtracted(t *testing.T) {
	const hash = "x.1.0.0.nupkg.sha512"
	for rel, want := range map[string]bool{
		"_rels/.rels":               false,
		"lib/.rels":                 false,
		"[Content_Types].xml":       false,
		"package/services/a.psmdcp": false,
		"X.nuspec":                  false,
		"other.NUPKG":               false,
		"X.1.0.0.nupkg.SHA512":      false,
		".NUPKG.metadata":           false,
		".signature.p7s":            true,
		"lib/x.nuspec":              true,
		"package/other.txt":         true,
		"_rels/x.xml":               true,
		"lib/a.dll":                 true,
	} {
		if got := extracted(rel, hash); got != want {
			t.Errorf("extracted(%q) = %v, want %v", rel, got, want)
		}
	}
}

// FuzzEntryPath: whatever the name, entryPath does not panic, and what it
// accepts is a clean relative path inside the folder, with no character
// that means something else on another system.
func FuzzEntryPath(f *testing.F) {
	for _, s := range []string{"lib/a.dll", "../x", `a\..\b`, "%2e%2e/x", "c:x", "CON", "a/b/", "%", "%zz", "a%2Fb", "\xff", "x "} {
		f.Add(s)
	}
	// Every entry name of the real packages.
	for _, dir := range []string{"real", "unsigned"} {
		matches, _ := filepath.Glob(filepath.Join(fixtures.Dir(f), dir, "*.nupkg"))
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				continue
			}
			p, err := nupkg.Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				continue
			}
			for _, e := range p.Entries() {
				f.Add(e.Name)
			}
		}
	}
	f.Fuzz(func(t *testing.T, name string) {
		rel, dir, err := entryPath(name)
		if err != nil {
			if rel != "" || dir {
				t.Fatalf("refusal returned %q %v", rel, dir)
			}
			return
		}
		switch {
		case rel == "", len(rel) > maxRelPathLength, !utf8.ValidString(rel):
			t.Fatalf("entryPath(%q) = %q", name, rel)
		case !filepath.IsLocal(filepath.FromSlash(rel)), path.Clean(rel) != rel, strings.HasPrefix(rel, "/"):
			t.Fatalf("entryPath(%q) = %q is not local and clean", name, rel)
		case strings.ContainsAny(rel, "\\:<>\"|?*\x00"):
			t.Fatalf("entryPath(%q) = %q holds a forbidden character", name, rel)
		}
		for _, seg := range strings.Split(rel, "/") {
			if seg == "." || seg == ".." || seg == "" || isDeviceName(seg) || strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") {
				t.Fatalf("entryPath(%q) = %q has segment %q", name, rel, seg)
			}
			for _, r := range seg {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("entryPath(%q) = %q has a control character", name, rel)
				}
			}
		}
		if !strings.ContainsAny(name, `%\`) && rel != strings.TrimSuffix(name, "/") {
			t.Fatalf("entryPath(%q) = %q changed a plain name", name, rel)
		}
	})
}
