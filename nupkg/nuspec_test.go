package nupkg

import (
	"archive/zip"
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/internal/nuget"
)

func TestNuspecFixtures(t *testing.T) {
	files := append(fixtures.Glob(t, "real/*.nupkg"), fixtures.Glob(t, "unsigned/*.nupkg")...)
	for _, path := range files {
		rel := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		t.Run(rel, func(t *testing.T) {
			p, _ := openFixture(t, rel)
			n, err := p.Nuspec()
			if err != nil {
				t.Fatal(err)
			}
			// The file is named <id>.<version>[~hash].nupkg.
			base, _, _ := strings.Cut(strings.TrimSuffix(filepath.Base(path), ".nupkg"), "~")
			if len(base) <= len(n.ID) || !strings.EqualFold(base[:len(n.ID)], n.ID) || base[len(n.ID)] != '.' {
				t.Fatalf("id %q does not start file name %q", n.ID, base)
			}
			fv, err := nuget.ParseVersion(base[len(n.ID)+1:])
			if err != nil {
				t.Fatal(err)
			}
			if fv.String() != n.Version {
				t.Fatalf("version %q (%q), file name says %q", n.Version, n.OriginalVersion, fv)
			}
			if n.Authors == "" || n.Description == "" {
				t.Fatalf("authors %q description %q", n.Authors, n.Description)
			}
		})
	}
	p, _ := openFixture(t, "real/Newtonsoft.Json.13.0.1.nupkg")
	n, err := p.Nuspec()
	if err != nil {
		t.Fatal(err)
	}
	if n.ID != "Newtonsoft.Json" || n.Version != "13.0.1" || n.License == nil || n.License.Type != "expression" || n.License.Text != "MIT" ||
		n.Repository == nil || n.Repository.Type != "git" || !strings.Contains(n.Repository.URL, "github.com/JamesNK/Newtonsoft.Json") ||
		n.MinClientVersion == "" || len(n.DependencyGroups) < 5 {
		t.Fatalf("Newtonsoft.Json 13.0.1 nuspec: %+v", n)
	}
}

func TestParseNuspec(t *testing.T) {
	full := `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata minClientVersion="2.12">
    <id> My.Package </id>
    <version>01.2.0.0-Beta.1+build</version>
    <title>Title</title>
    <authors>A, B</authors>
    <owners>O</owners>
    <requireLicenseAcceptance>True</requireLicenseAcceptance>
    <developmentDependency>false</developmentDependency>
    <license type="expression">MIT OR Apache-2.0</license>
    <licenseUrl>https://licenses.nuget.org/MIT</licenseUrl>
    <icon>icon.png</icon>
    <readme>docs/README.md</readme>
    <projectUrl>https://example.com/</projectUrl>
    <description>Desc &amp; more</description>
    <releaseNotes>Notes</releaseNotes>
    <copyright>(c)</copyright>
    <tags>a b c</tags>
    <serviceable>true</serviceable>
    <repository type="git" url="https://github.com/x/y" branch="main" commit="abc123" />
    <packageTypes><packageType name="DotnetTool" version="1.0" /></packageTypes>
    <dependencies>
      <group targetFramework=".NETStandard2.0">
        <dependency id="Dep.A" version="[1.0.0, )" exclude="Build,Analyzers" />
      </group>
      <group>
        <dependency id="Dep.B" version="2.0" include="All" />
      </group>
    </dependencies>
    <frameworkAssemblies>
      <frameworkAssembly assemblyName="System.Web" targetFramework="net40" />
    </frameworkAssemblies>
  </metadata>
  <files><file src="x" /></files>
</package>`
	want := &Nuspec{
		ID: "My.Package", Version: "1.2.0-Beta.1", OriginalVersion: "01.2.0.0-Beta.1+build", MinClientVersion: "2.12",
		Title: "Title", Authors: "A, B", Owners: "O", Description: "Desc & more", ReleaseNotes: "Notes",
		Copyright: "(c)", Tags: "a b c", ProjectURL: "https://example.com/", Icon: "icon.png",
		LicenseURL: "https://licenses.nuget.org/MIT", Readme: "docs/README.md",
		RequireLicenseAcceptance: true, Serviceable: true,
		License:      &License{Type: "expression", Text: "MIT OR Apache-2.0"},
		Repository:   &Repository{Type: "git", URL: "https://github.com/x/y", Branch: "main", Commit: "abc123"},
		PackageTypes: []PackageType{{Name: "DotnetTool", Version: "1.0"}},
		DependencyGroups: []DependencyGroup{
			{TargetFramework: ".NETStandard2.0", Dependencies: []Dependency{{ID: "Dep.A", Version: "[1.0.0, )", Exclude: "Build,Analyzers"}}},
			{Dependencies: []Dependency{{ID: "Dep.B", Version: "2.0", Include: "All"}}},
		},
		FrameworkAssemblies: []FrameworkAssembly{{AssemblyName: "System.Web", TargetFramework: "net40"}},
	}
	got, err := ParseNuspec(strings.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}

	// UTF-8 with a byte order mark, and UTF-16 in both byte orders.
	bom := append([]byte{0xEF, 0xBB, 0xBF}, full...)
	utf16Doc := strings.Replace(full, `encoding="utf-8"`, `encoding="utf-16"`, 1)
	for name, doc := range map[string][]byte{
		"bom":     bom,
		"utf16le": encodeUTF16(utf16Doc, false),
		"utf16be": encodeUTF16(utf16Doc, true),
	} {
		got, err := ParseNuspec(bytes.NewReader(doc))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, %v", name, got, err)
		}
	}
}

func encodeUTF16(s string, big bool) []byte {
	u := utf16.Encode([]rune(s))
	out := []byte{0xFF, 0xFE}
	if big {
		out = []byte{0xFE, 0xFF}
	}
	for _, c := range u {
		if big {
			out = append(out, byte(c>>8), byte(c))
		} else {
			out = append(out, byte(c), byte(c>>8))
		}
	}
	return out
}

func TestParseNuspecNamespaces(t *testing.T) {
	for _, ns := range []string{
		"",
		` xmlns="http://schemas.microsoft.com/packaging/2010/07/nuspec.xsd"`,
		` xmlns="http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd"`,
		` xmlns="http://schemas.microsoft.com/packaging/2012/06/nuspec.xsd"`,
		` xmlns="http://schemas.microsoft.com/packaging/2013/01/nuspec.xsd"`,
		` xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"`,
		` xmlns="urn:anything-at-all"`,
	} {
		doc := `<package` + ns + `><metadata><id>A</id><version>1.0</version>` +
			`<dependencies><dependency id="B" version="1.0" /><dependency id="C" /></dependencies></metadata></package>`
		n, err := ParseNuspec(strings.NewReader(doc))
		if err != nil {
			t.Fatalf("namespace %q: %v", ns, err)
		}
		// Flat legacy dependencies become one group for any framework.
		if n.ID != "A" || n.Version != "1.0.0" || len(n.DependencyGroups) != 1 || n.DependencyGroups[0].TargetFramework != "" || len(n.DependencyGroups[0].Dependencies) != 2 {
			t.Fatalf("namespace %q: %+v", ns, n)
		}
	}
}

func TestParseNuspecErrors(t *testing.T) {
	doc := func(meta string) string { return `<package><metadata>` + meta + `</metadata></package>` }
	tests := []struct {
		name, doc, want string
	}{
		{"not xml", "hello", "not valid XML"},
		{"wrong root", `<manifest><metadata><id>A</id><version>1.0</version></metadata></manifest>`, "not valid XML"},
		{"no metadata", `<package></package>`, "0 <metadata> elements"},
		{"two metadata", `<package><metadata/><metadata/></package>`, "2 <metadata> elements"},
		{"no id", doc(`<version>1.0</version>`), "0 <id> elements"},
		{"two ids", doc(`<id>A</id><id>B</id><version>1.0</version>`), "2 <id> elements"},
		{"no version", doc(`<id>A</id>`), "0 <version> elements"},
		{"two versions", doc(`<id>A</id><version>1.0</version><version>2.0</version>`), "2 <version> elements"},
		{"invalid id", doc(`<id>A B</id><version>1.0</version>`), `id "A B" is not a valid package id`},
		{"long id", doc(`<id>` + strings.Repeat("a", 101) + `</id><version>1.0</version>`), "not a valid package id"},
		{"invalid version", doc(`<id>A</id><version>1.0.0.0.0</version>`), `invalid version "1.0.0.0.0"`},
		{"entity", `<!DOCTYPE package [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + doc(`<id>&x;</id><version>1.0</version>`), "not valid XML"},
		{"encoding", `<?xml version="1.0" encoding="ebcdic"?>` + doc(`<id>A</id><version>1.0</version>`), "unsupported encoding"},
		{"odd utf-16", "\xff\xfe<\x00p", "odd number of bytes"},
		{"too large", doc(`<id>A</id><version>1.0</version><description>` + strings.Repeat("x", MaxNuspecSize) + `</description>`), "larger than the 4194304-byte limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNuspec(strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "nupkg: ") {
				t.Fatalf("ParseNuspec: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPackageNuspecErrors(t *testing.T) {
	build := func(files map[string]string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for name, content := range files {
			w, _ := zw.Create(name)
			w.Write([]byte(content))
		}
		zw.Close()
		return b.Bytes()
	}
	ok := `<package><metadata><id>A</id><version>1.0</version></metadata></package>`
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"none", map[string]string{"lib/a.dll": ""}, "no .nuspec manifest"},
		{"nested only", map[string]string{"sub/A.nuspec": ok, "sub\\B.nuspec": ok}, "no .nuspec manifest"},
		{"two", map[string]string{"A.nuspec": ok, "B.NUSPEC": ok}, "several .nuspec manifests"},
		{"invalid", map[string]string{"A.nuspec": "<package/>"}, "0 <metadata> elements"},
		{"found", map[string]string{"A.NuSpec": ok, "sub/B.nuspec": ok}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := openBytes(t, build(tt.files)).Nuspec()
			if tt.want == "" {
				if err != nil || n.ID != "A" {
					t.Fatalf("Nuspec: %+v, %v", n, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Nuspec: %v, want %q", err, tt.want)
			}
		})
	}
	// The declared size is checked before decompressing.
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "A.nuspec", Method: zip.Deflate, CompressedSize64: 2, UncompressedSize64: MaxNuspecSize + 1})
	w.Write([]byte{3, 0})
	zw.Close()
	if _, err := openBytes(t, b.Bytes()).Nuspec(); err == nil || !strings.Contains(err.Error(), "more than the 4194304-byte limit") {
		t.Fatalf("large manifest: %v", err)
	}
}
