package project

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// writeTree writes files (path relative to a fresh directory → content) and
// returns the directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// summary writes a project's frameworks as "net8.0: A [1.0.0, ), B (, )".
func summary(p *Project) string {
	var lines []string
	for _, f := range p.Frameworks {
		var refs []string
		for _, r := range f.References {
			refs = append(refs, r.ID+" "+r.Range.String())
		}
		lines = append(lines, f.Framework.String()+": "+strings.Join(refs, ", "))
	}
	return strings.Join(lines, "\n")
}

func TestReadProject(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		want     string
		warnings []string // substrings, each in some warning
		cpm      bool
	}{
		{
			name: "single framework, attribute and element versions, Update and Remove",
			files: map[string]string{"app/app.csproj": `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net8.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" Version="13.0.1" />
    <PackageReference Include="Serilog">
      <Version>[3.0,4.0)</Version>
      <PrivateAssets>all</PrivateAssets>
    </PackageReference>
    <PackageReference Include="Dropped" Version="1.0" />
    <PackageReference Include="Floating;Other" Version="2.*" />
    <PackageReference Update="Newtonsoft.Json" Version="13.0.3" />
    <PackageReference Update="NotIncluded" Version="9.9" />
    <PackageReference Remove="Dropped" />
    <ProjectReference Include="../lib/lib.csproj" />
  </ItemGroup>
</Project>`},
			want: "net8.0: Newtonsoft.Json [13.0.3, ), Serilog [3.0.0, 4.0.0), Floating [2.*, ), Other [2.*, )",
		},
		{
			name: "several frameworks and conditions on the framework",
			files: map[string]string{"app/app.csproj": `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFrameworks> net8.0 ; net472;netstandard2.0;NET8.0; </TargetFrameworks>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Common" Version="1.0" />
  </ItemGroup>
  <ItemGroup Condition="'$(TargetFramework)' == 'net472'">
    <PackageReference Include="OldOnly" Version="1.0" />
  </ItemGroup>
  <ItemGroup Condition=" '$(TargetFramework)' != 'net472' ">
    <PackageReference Include="NotOld" Version="1.0" />
  </ItemGroup>
  <ItemGroup Condition="'$(TargetFramework)' == 'NET8.0' Or '$(TargetFramework)' == 'netstandard2.0'">
    <PackageReference Include="Modern" Version="1.0" />
  </ItemGroup>
  <ItemGroup Condition="('$(TargetFramework)' == 'net8.0' or '$(TargetFramework)' == 'net472') and '$(Configuration)' != 'Release'">
    <PackageReference Include="Debugish" Version="1.0" />
  </ItemGroup>
  <ItemGroup>
    <PackageReference Include="PerItem" Version="1.0" Condition="$(TargetFramework) == 'netstandard2.0'" />
  </ItemGroup>
  <Choose>
    <When Condition="'$(TargetFramework)' == 'net472'">
      <ItemGroup><PackageReference Include="Chosen" Version="1.0" /></ItemGroup>
    </When>
    <Otherwise>
      <ItemGroup><PackageReference Include="Otherwise" Version="1.0" /></ItemGroup>
    </Otherwise>
  </Choose>
</Project>`},
			want: "net8.0: Common [1.0.0, ), NotOld [1.0.0, ), Modern [1.0.0, ), Debugish [1.0.0, ), Otherwise [1.0.0, )\n" +
				"net472: Common [1.0.0, ), OldOnly [1.0.0, ), Debugish [1.0.0, ), Chosen [1.0.0, )\n" +
				"netstandard2.0: Common [1.0.0, ), NotOld [1.0.0, ), Modern [1.0.0, ), PerItem [1.0.0, ), Otherwise [1.0.0, )",
		},
		{
			name: "unsupported conditions are ignored with a warning",
			files: map[string]string{"app/app.csproj": `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup>
  <ItemGroup Condition="Exists('foo.txt')">
    <PackageReference Include="IfExists" Version="1.0" />
  </ItemGroup>
  <ItemGroup Condition="$([MSBuild]::IsTargetFrameworkCompatible('$(TargetFramework)', 'net6.0'))">
    <PackageReference Include="IfCompatible" Version="1.0" />
  </ItemGroup>
  <ItemGroup>
    <PackageReference Include="Kept" Version="1.0" />
    <PackageReference Include="Functional" Version="$([System.String]::Copy('1.0'))" />
  </ItemGroup>
</Project>`},
			want:     "net8.0: Kept [1.0.0, )",
			warnings: []string{`condition "Exists('foo.txt')"`, "IsTargetFrameworkCompatible", "not evaluated"},
		},
		{
			name: "properties from Directory.Build.props and the project, and the empty-property idiom",
			files: map[string]string{
				"Directory.Build.props": `<Project>
  <PropertyGroup>
    <JsonVersion>12.0.1</JsonVersion>
    <LogVersion>1.0</LogVersion>
    <TargetFrameworks Condition="'$(TargetFrameworks)' == ''">net6.0</TargetFrameworks>
  </PropertyGroup>
  <ItemGroup><PackageReference Include="Analyzers" Version="$(LogVersion)" /></ItemGroup>
  <Import Project="$(MSBuildThisFileDirectory)..\shared.props" />
</Project>`,
				"src/app/app.csproj": `<Project Sdk="Microsoft.NET.Sdk">
  <Import Project="Sdk.props" Sdk="Microsoft.NET.Sdk" />
  <PropertyGroup>
    <JsonVersion>13.0.1</JsonVersion>
    <Range>[$(LogVersion), 3.0)</Range>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" Version="$(JsonVersion)" />
    <PackageReference Include="Log" Version="$(Range)" />
    <PackageReference Include="NoVersion" />
    <PackageReference Include="newtonsoft.json" Version="1.0" />
  </ItemGroup>
</Project>`,
			},
			want:     "net6.0: Analyzers [1.0.0, ), Newtonsoft.Json [13.0.1, ), Log [1.0.0, 3.0.0), NoVersion (, )",
			warnings: []string{"NU1504: newtonsoft.json", "NU1604: NoVersion", `<Import Project="$(MSBuildThisFileDirectory)..\\shared.props"> is not followed`},
		},
		{
			name: "central package management",
			files: map[string]string{
				"Directory.Packages.props": `<Project>
  <PropertyGroup>
    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>
    <CentralPackageTransitivePinningEnabled>true</CentralPackageTransitivePinningEnabled>
  </PropertyGroup>
  <ItemGroup>
    <PackageVersion Include="Newtonsoft.Json" Version="13.0.1" />
    <PackageVersion Include="Serilog" Version="3.1.1" />
    <PackageVersion Include="Serilog" Version="9.0.0" />
    <PackageVersion Include="Old" Version="1.0" Condition="'$(TargetFramework)' == 'net472'" />
    <PackageVersion Include="Old" Version="2.0" Condition="'$(TargetFramework)' != 'net472'" />
    <GlobalPackageReference Include="Nerdbank.GitVersioning" Version="3.6.133" />
  </ItemGroup>
</Project>`,
				"app/app.csproj": `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFrameworks>net8.0;net472</TargetFrameworks></PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" />
    <PackageReference Include="Serilog" VersionOverride="[3.0]" />
    <PackageReference Include="Old" />
  </ItemGroup>
</Project>`,
			},
			cpm: true,
			want: "net8.0: Newtonsoft.Json [13.0.1, ), Serilog [3.0.0, 3.0.0], Old [2.0.0, ), Nerdbank.GitVersioning [3.6.133, )\n" +
				"net472: Newtonsoft.Json [13.0.1, ), Serilog [3.0.0, 3.0.0], Old [1.0.0, ), Nerdbank.GitVersioning [3.6.133, )",
			warnings: []string{"NU1506: duplicate PackageVersion items for Serilog", "TransitivePinning"},
		},
		{
			name: "legacy project with TargetFrameworkVersion",
			files: map[string]string{"app/app.csproj": `<?xml version="1.0" encoding="utf-8"?>
<Project ToolsVersion="15.0" xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
  <PropertyGroup>
    <TargetFrameworkVersion>v4.7.2</TargetFrameworkVersion>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json"><Version>13.0.1</Version></PackageReference>
  </ItemGroup>
</Project>`},
			want: "net472: Newtonsoft.Json [13.0.1, )",
		},
		{
			name:  "byte order mark",
			files: map[string]string{"app/app.fsproj": "\ufeff<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net8.0-windows</TargetFramework></PropertyGroup></Project>"},
			want:  "net8.0-windows: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			var path string
			for name := range tt.files {
				if strings.HasSuffix(name, "proj") {
					path = filepath.Join(dir, filepath.FromSlash(name))
				}
			}
			p, err := ReadProject(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(p); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if p.CentralPackageManagement != tt.cpm {
				t.Errorf("CentralPackageManagement = %v", p.CentralPackageManagement)
			}
			for _, w := range tt.warnings {
				found := false
				for _, have := range p.Warnings {
					found = found || strings.Contains(have, w)
				}
				if !found {
					t.Errorf("no warning containing %q in %q", w, p.Warnings)
				}
			}
			if len(tt.warnings) == 0 && len(p.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", p.Warnings)
			}
			targets := p.Targets()
			if len(targets) != len(p.Frameworks) {
				t.Fatalf("%d targets for %d frameworks", len(targets), len(p.Frameworks))
			}
			for i, tg := range targets {
				if !tg.Framework.Equal(p.Frameworks[i].Framework) || len(tg.Dependencies) != len(p.Frameworks[i].References) {
					t.Errorf("target %d does not match its framework", i)
				}
			}
		})
	}
}

func TestReadProjectErrors(t *testing.T) {
	cpmProps := `<Project><PropertyGroup><ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>%s</PropertyGroup>
<ItemGroup><PackageVersion Include="A" Version="1.0" /></ItemGroup></Project>`
	project := func(body string) string {
		return `<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup><ItemGroup>` + body + `</ItemGroup></Project>`
	}
	tests := []struct {
		name  string
		files map[string]string
		code  string
		msg   string
	}{
		{"NU1008 version on a reference", map[string]string{
			"Directory.Packages.props": strings.Replace(cpmProps, "%s", "", 1),
			"a.csproj":                 project(`<PackageReference Include="A" Version="1.0" />`),
		}, "NU1008", "should not define the version"},
		{"NU1010 no PackageVersion", map[string]string{
			"Directory.Packages.props": strings.Replace(cpmProps, "%s", "", 1),
			"a.csproj":                 project(`<PackageReference Include="A" /><PackageReference Include="B" /><PackageReference Include="C" />`),
		}, "NU1010", "B;C"},
		{"NU1013 overrides disabled", map[string]string{
			"Directory.Packages.props": strings.Replace(cpmProps, "%s", "<CentralPackageVersionOverrideEnabled>false</CentralPackageVersionOverrideEnabled>", 1),
			"a.csproj":                 project(`<PackageReference Include="A" VersionOverride="2.0" />`),
		}, "NU1013", "VersionOverride"},
		{"invalid version", map[string]string{"a.csproj": project(`<PackageReference Include="A" Version="not-a-version" />`)}, "", "not a valid version range"},
		{"invalid id", map[string]string{"a.csproj": project(`<PackageReference Include="A B" Version="1.0" />`)}, "", "not a valid package id"},
		{"no framework", map[string]string{"a.csproj": `<Project Sdk="Microsoft.NET.Sdk"></Project>`}, "", "no target framework"},
		{"unsupported framework", map[string]string{"a.csproj": `<Project><PropertyGroup><TargetFramework>monoandroid10.0</TargetFramework></PropertyGroup></Project>`}, "", "monoandroid10.0"},
		{"framework from a property function", map[string]string{"a.csproj": `<Project><PropertyGroup><TargetFramework>$([System.String]::Copy('net8.0'))</TargetFramework></PropertyGroup></Project>`}, "", "not evaluated"},
		{"invalid XML", map[string]string{"a.csproj": `<Project><PropertyGroup></Project>`}, "", "invalid XML"},
		{"wrong root", map[string]string{"a.csproj": `<packages/>`}, "", "not <Project>"},
		{"invalid props", map[string]string{"Directory.Build.props": `<Project>`, "a.csproj": project("")}, "", "invalid XML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			_, err := ReadProject(filepath.Join(dir, "a.csproj"))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *project.Error", err)
			}
			if pe.Code != tt.code || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "project: ") {
				t.Errorf("error = %v (code %q), want code %q and %q", err, pe.Code, tt.code, tt.msg)
			}
		})
	}
	if _, err := ReadProject(filepath.Join(t.TempDir(), "missing.csproj")); err == nil {
		t.Error("a missing project was read")
	}
}

func TestXMLSafety(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("TOPSECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	docs := []string{
		`<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file://` + secret + `">]><Project><PropertyGroup><TargetFramework>net8.0</TargetFramework><X>&xxe;</X></PropertyGroup><ItemGroup><PackageReference Include="A" Version="1.0&xxe;"/></ItemGroup></Project>`,
		`<!DOCTYPE Project [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Project><X>&b;</X></Project>`,
	}
	for _, doc := range docs {
		root, err := parseXML([]byte(doc))
		if err == nil {
			t.Errorf("a document with custom entities parsed: %+v", root)
		}
		if err != nil && strings.Contains(err.Error(), "TOPSECRET") {
			t.Error("external entity was read")
		}
	}
	deep := strings.Repeat("<a>", maxDepth+1) + strings.Repeat("</a>", maxDepth+1)
	if _, err := parseXML([]byte(deep)); err == nil {
		t.Error("nesting beyond maxDepth accepted")
	}
	if _, err := parseXML(make([]byte, maxFileSize+1)); err == nil {
		t.Error("a file beyond maxFileSize accepted")
	}
	big := filepath.Join(t.TempDir(), "big.csproj")
	if err := os.WriteFile(big, []byte("<Project>"+strings.Repeat(" ", maxFileSize)+"</Project>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadProject(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized project: %v", err)
	}
}

func TestUTF16(t *testing.T) {
	doc := `<?xml version="1.0" encoding="utf-16"?><packages><package id="Ünïcode.Pkg" version="1.0.0" /></packages>`
	for _, bigEndian := range []bool{false, true} {
		units := utf16.Encode([]rune(doc))
		data := []byte{0xFF, 0xFE}
		if bigEndian {
			data = []byte{0xFE, 0xFF}
		}
		for _, u := range units {
			if bigEndian {
				data = append(data, byte(u>>8), byte(u))
			} else {
				data = append(data, byte(u), byte(u>>8))
			}
		}
		pc, err := ParsePackagesConfig(data)
		if err != nil {
			t.Fatalf("big endian %v: %v", bigEndian, err)
		}
		if len(pc.Packages) != 1 || pc.Packages[0].ID != "Ünïcode.Pkg" {
			t.Errorf("big endian %v: %+v", bigEndian, pc.Packages)
		}
	}
}

func TestEvalCondition(t *testing.T) {
	ev := newEvaluator("/src/app/app.csproj", map[string]string{"TargetFramework": "net8.0"})
	ev.set("Configuration", "Debug", true)
	ev.set("IsPackable", "true", true)
	ev.set("Weird", "", false)
	tests := []struct {
		cond     string
		want, ok bool
	}{
		{"'$(TargetFramework)' == 'net8.0'", true, true},
		{"'$(TargetFramework)'=='NET8.0'", true, true},
		{`"$(TargetFramework)" == "net8.0"`, true, true},
		{"$(TargetFramework) == 'net8.0'", true, true},
		{"'net8.0' == '$(TargetFramework)'", true, true},
		{"'$(TargetFramework)' != 'net8.0'", false, true},
		{"'$(TargetFramework)' == 'net472' or '$(Configuration)' == 'Debug'", true, true},
		{"'$(TargetFramework)' == 'net472' OR '$(Configuration)' == 'Release'", false, true},
		{"'$(TargetFramework)' == 'net8.0' and '$(Configuration)' == 'Release'", false, true},
		{"'a' == 'b' or 'c' == 'c' and 'd' == 'e'", false, true},
		{"('a' == 'b' or 'c' == 'c') and 'd' == 'd'", true, true},
		{"'$(Undefined)' == ''", true, true},
		{"$(IsPackable)", true, true},
		{"true", true, true},
		{"'false'", false, true},
		{"'$(MSBuildProjectName)' == 'app'", true, true},
		{"'$(Weird)' == ''", false, false},
		{"Exists('x')", false, false},
		{"!$(IsPackable)", false, false},
		{"'$(TargetFramework.StartsWith(`net`))' == 'True'", false, false},
		{"'1' < '2'", false, false},
		{"'a' == ", false, false},
		{"('a' == 'a'", false, false},
		{"'unterminated == 'x'", false, false},
		{"'a' == 'a' 'b'", false, false},
		{"$(Configuration)", false, false},
		{"@(Items) == ''", false, false},
	}
	for _, tt := range tests {
		got, ok := ev.evalCondition(tt.cond)
		if got != tt.want || ok != tt.ok {
			t.Errorf("evalCondition(%q) = %v, %v; want %v, %v", tt.cond, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPackagesConfig(t *testing.T) {
	good := `<?xml version="1.0" encoding="utf-8"?>
<packages>
  <package id="Newtonsoft.Json" version="13.0.1" targetFramework="net472" />
  <package id="xunit" version="2.4.1" targetFramework="net472" developmentDependency="true" allowedVersions="[2,3)" />
  <package id="Legacy" version="1.0" />
  <other id="Ignored" />
</packages>`
	pc, err := ParsePackagesConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pc.Packages {
		got = append(got, p.ID+" "+p.Version.String()+" "+p.TargetFramework+" "+p.AllowedVersions)
	}
	if want := "Newtonsoft.Json 13.0.1 net472 |xunit 2.4.1 net472 [2,3)|Legacy 1.0.0  "; strings.Join(got, "|") != want {
		t.Errorf("packages = %q, want %q", strings.Join(got, "|"), want)
	}
	if pc.Packages[0].DevelopmentDependency || !pc.Packages[1].DevelopmentDependency {
		t.Error("developmentDependency misread")
	}
	for name, doc := range map[string]string{
		"duplicate":        `<packages><package id="A" version="1.0"/><package id="a" version="2.0"/></packages>`,
		"invalid id":       `<packages><package id="A B" version="1.0"/></packages>`,
		"no id":            `<packages><package version="1.0"/></packages>`,
		"no version":       `<packages><package id="A"/></packages>`,
		"range":            `<packages><package id="A" version="[1.0,2.0)"/></packages>`,
		"bad allowed":      `<packages><package id="A" version="1.0" allowedVersions="[x"/></packages>`,
		"wrong root":       `<Project/>`,
		"not XML":          `packages`,
		"two roots":        `<packages/><packages/>`,
		"unknown encoding": `<?xml version="1.0" encoding="ebcdic"?><packages/>`,
	} {
		if _, err := ParsePackagesConfig([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	dir := writeTree(t, map[string]string{"packages.config": good})
	pc, err = ReadPackagesConfig(filepath.Join(dir, "packages.config"))
	if err != nil || len(pc.Packages) != 3 || pc.Path == "" {
		t.Errorf("ReadPackagesConfig: %v %+v", err, pc)
	}
}

func TestLocate(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"one/app.csproj":              "<Project/>",
		"one/packages.config":         "<packages/>",
		"two/a.csproj":                "<Project/>",
		"two/b.vbproj":                "<Project/>",
		"config/packages.config":      "<packages/>",
		"config/readme.txt":           "",
		"none/readme.txt":             "",
		"named/packages.app.config":   "<packages/>",
		"fs/lib.fsproj":               "<Project/>",
		"fs/sub/packages.config":      "<packages/>",
		"file/App.CSPROJ":             "<Project/>",
		"file/notes.md":               "",
		"named/unrelated.config":      "",
		"named/packages.config.bak":   "",
		"named/other/packages.config": "",
	})
	tests := []struct {
		path string
		kind Kind
		file string // relative to dir; "" for an error
	}{
		{"one", KindProject, "one/app.csproj"},
		{"two", 0, ""},
		{"config", KindPackagesConfig, "config/packages.config"},
		{"none", 0, ""},
		{"fs", KindProject, "fs/lib.fsproj"},
		{"file/App.CSPROJ", KindProject, "file/App.CSPROJ"},
		{"named/packages.app.config", KindPackagesConfig, "named/packages.app.config"},
		{"named", 0, ""},
		{"file/notes.md", 0, ""},
		{"missing", 0, ""},
	}
	for _, tt := range tests {
		kind, file, err := Locate(filepath.Join(dir, filepath.FromSlash(tt.path)))
		if tt.file == "" {
			if err == nil {
				t.Errorf("Locate(%s) = %v %s, want an error", tt.path, kind, file)
			}
			continue
		}
		if err != nil || kind != tt.kind || file != filepath.Join(dir, filepath.FromSlash(tt.file)) {
			t.Errorf("Locate(%s) = %v %s %v, want %v %s", tt.path, kind, file, err, tt.kind, tt.file)
		}
	}
}

func FuzzReadProject(f *testing.F) {
	for _, s := range []string{
		`<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFrameworks>net8.0;net472</TargetFrameworks></PropertyGroup><ItemGroup Condition="'$(TargetFramework)' == 'net472'"><PackageReference Include="A" Version="1.0" /></ItemGroup></Project>`,
		`<Project><PropertyGroup><ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally><TargetFramework>net8.0</TargetFramework></PropertyGroup><ItemGroup><PackageVersion Include="A" Version="[1.0]"/><PackageReference Include="A"/></ItemGroup></Project>`,
		`<Project><PropertyGroup><TargetFrameworkVersion>v4.7.2</TargetFrameworkVersion><V>1.*</V></PropertyGroup><Choose><When Condition="$(V) != ''"><ItemGroup><PackageReference Include="B;C" Version="$(V)"/></ItemGroup></When></Choose></Project>`,
		"\ufeff<Project><PropertyGroup><TargetFramework>netstandard2.0</TargetFramework></PropertyGroup></Project>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		read := func(string) ([]byte, error) { return data, nil }
		none := func(string, string) string { return "" }
		p, err := readProject("/src/app/app.csproj", read, none)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *project.Error", err)
			}
			return
		}
		if len(p.Frameworks) == 0 {
			t.Fatal("a project without frameworks was read")
		}
		for _, fw := range p.Frameworks {
			seen := map[string]bool{}
			for _, r := range fw.References {
				k := strings.ToLower(r.ID)
				if seen[k] {
					t.Fatalf("%s referenced twice", r.ID)
				}
				seen[k] = true
			}
		}
	})
}

func FuzzParsePackagesConfig(f *testing.F) {
	f.Add([]byte(`<packages><package id="A" version="1.0" targetFramework="net472"/></packages>`))
	f.Add([]byte(`<?xml version="1.0" encoding="utf-8"?><packages><package id="A.B" version="1.0.0-beta+x" developmentDependency="true" allowedVersions="[1,2)"/></packages>`))
	f.Add([]byte("\xff\xfe<\x00p\x00/\x00>\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pc, err := ParsePackagesConfig(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, p := range pc.Packages {
			k := strings.ToLower(p.ID)
			if seen[k] || p.ID == "" {
				t.Fatalf("bad entry %+v", p)
			}
			seen[k] = true
		}
	})
}
