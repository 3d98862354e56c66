package trust

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tree is a directory tree of config files with its own home and
// machine-wide directories, so that tests never read the real ones.
type tree struct {
	t    *testing.T
	root string
	env  map[string]string
}

func newTree(t *testing.T) *tree {
	root := t.TempDir()
	return &tree{t: t, root: root, env: map[string]string{
		"HOME":                          filepath.Join(root, "home"),
		"NUGET_COMMON_APPLICATION_DATA": filepath.Join(root, "machine"),
	}}
}

func (tr *tree) path(rel string) string { return filepath.Join(tr.root, filepath.FromSlash(rel)) }

func (tr *tree) write(rel, content string) string {
	tr.t.Helper()
	p := tr.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tr.t.Fatal(err)
	}
	return p
}

func (tr *tree) mkdir(rel string) string {
	tr.t.Helper()
	p := tr.path(rel)
	if err := os.MkdirAll(p, 0o755); err != nil {
		tr.t.Fatal(err)
	}
	return p
}

func (tr *tree) loader() Loader { return Loader{Getenv: func(k string) string { return tr.env[k] }} }

func (tr *tree) load(rel string) (*Config, error) { return tr.loader().Load(tr.path(rel)) }

func (tr *tree) mustLoad(rel string) *Config {
	tr.t.Helper()
	c, err := tr.load(rel)
	if err != nil {
		tr.t.Fatal(err)
	}
	return c
}

func (tr *tree) userConfig() string { return tr.path("home/.nuget/NuGet/NuGet.Config") }

func cfg(body string) string {
	return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n" + body + "</configuration>\n"
}

func signers(body string) string { return cfg("  <trustedSigners>\n" + body + "  </trustedSigners>\n") }

func fp(c byte, alg string) string {
	n := map[string]int{"SHA256": 64, "SHA384": 96, "SHA512": 128}[alg]
	return strings.Repeat(string(c), n)
}

func certXML(fingerprint, alg string, untrusted bool) string {
	return fmt.Sprintf("      <certificate fingerprint=%q hashAlgorithm=%q allowUntrustedRoot=\"%t\" />\n", fingerprint, alg, untrusted)
}

func authorXML(name string, certs ...string) string {
	return fmt.Sprintf("    <author name=%q>\n%s    </author>\n", name, strings.Join(certs, ""))
}

func repoXML(name, index, owners string, certs ...string) string {
	o := ""
	if owners != "" {
		o = "      <owners>" + owners + "</owners>\n"
	}
	return fmt.Sprintf("    <repository name=%q serviceIndex=%q>\n%s%s    </repository>\n", name, index, strings.Join(certs, ""), o)
}

// summary renders signers as "name/kind/fingerprint-initials@file".
func summary(tr *tree, c *Config) []string {
	var out []string
	for _, s := range c.TrustedSigners() {
		var fps []string
		for _, e := range s.Certificates {
			fps = append(fps, e.Fingerprint[:1])
		}
		rel, _ := filepath.Rel(tr.root, s.File)
		out = append(out, fmt.Sprintf("%s/%s/%s@%s", s.Name, s.Kind, strings.Join(fps, ""), filepath.ToSlash(rel)))
	}
	return out
}

func TestLoadMerge(t *testing.T) {
	a := func(name string, c byte) string { return authorXML(name, certXML(fp(c, "SHA256"), "SHA256", false)) }
	tests := []struct {
		name  string
		files map[string]string
		dir   string
		want  []string
	}{
		{"closest wins per author name", map[string]string{
			"nuget.config":       signers(a("x", 'A') + a("y", 'B')),
			"sub/nuget.config":   signers(a("x", 'C')),
			"sub/deeper/.keep":   "",
			"other/nuget.config": signers(a("z", 'D')),
		}, "sub/deeper", []string{"y/author/B@nuget.config", "x/author/C@sub/nuget.config"}},
		{"clear drops further files", map[string]string{
			"nuget.config":     signers(a("x", 'A')),
			"sub/nuget.config": signers("    <clear />\n" + a("y", 'B')),
		}, "sub", []string{"y/author/B@sub/nuget.config"}},
		{"clear drops earlier lines of the same section", map[string]string{
			"nuget.config": signers(a("x", 'A') + "    <CLEAR/>\n" + a("y", 'B')),
		}, ".", []string{"y/author/B@nuget.config"}},
		{"repository replaced by service index, not name", map[string]string{
			"nuget.config":     signers(repoXML("old", "https://f/index.json", "", certXML(fp('A', "SHA256"), "SHA256", false))),
			"sub/nuget.config": signers(repoXML("new", "https://f/index.json", "", certXML(fp('B', "SHA256"), "SHA256", false))),
		}, "sub", []string{"new/repository/B@sub/nuget.config"}},
		{"author and repository of one name coexist", map[string]string{
			"nuget.config":     signers(repoXML("x", "https://f/index.json", "", certXML(fp('A', "SHA256"), "SHA256", false))),
			"sub/nuget.config": signers(a("x", 'B')),
		}, "sub", []string{"x/repository/A@nuget.config", "x/author/B@sub/nuget.config"}},
		{"user, additional and machine-wide configs below the walk", map[string]string{
			"home/.nuget/NuGet/NuGet.Config":        signers(a("user", '1') + a("shared", '2')),
			"home/.nuget/NuGet/config/b.config":     signers(a("extra", '3')),
			"home/.nuget/NuGet/config/a.Config":     signers(a("extra", '4')),
			"machine/NuGet/Config/m.config":         signers(a("machine", '5') + a("user", '6')),
			"work/nuget.config":                     signers(a("shared", 'D')),
			"home/.nuget/NuGet/config/ignored.json": "{}",
		}, "work", []string{"machine/author/5@machine/NuGet/Config/m.config", "extra/author/4@home/.nuget/NuGet/config/a.Config",
			"user/author/1@home/.nuget/NuGet/NuGet.Config", "shared/author/D@work/nuget.config"}},
		{"file name preference", map[string]string{
			"d/NuGet.Config": signers(a("upper", 'A')),
			"d/nuget.config": signers(a("lower", 'B')),
			"e/NuGet.config": signers(a("mixed", 'C')),
		}, "d", []string{"lower/author/B@d/nuget.config"}},
		{"NuGet.config alone is found", map[string]string{
			"e/NuGet.config": signers(a("mixed", 'C')),
		}, "e", []string{"mixed/author/C@e/NuGet.config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			for rel, content := range tt.files {
				tr.write(rel, content)
			}
			c := tr.mustLoad(tt.dir)
			if got := summary(tr, c); !slices.Equal(got, tt.want) {
				t.Errorf("signers:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLoadFileOnlyThatFile(t *testing.T) {
	tr := newTree(t)
	tr.write("home/.nuget/NuGet/NuGet.Config", signers(authorXML("user", certXML(fp('1', "SHA256"), "SHA256", false))))
	tr.write("nuget.config", signers(authorXML("walk", certXML(fp('2', "SHA256"), "SHA256", false))))
	p := tr.write("sub/custom.config", signers(authorXML("only", certXML(fp('0', "SHA256"), "SHA256", false))))
	c, err := tr.loader().LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(tr, c); !slices.Equal(got, []string{"only/author/0@sub/custom.config"}) {
		t.Errorf("signers = %q", got)
	}
	if !slices.Equal(c.Files(), []string{p}) || c.WritePath() != p {
		t.Errorf("files %q, write path %q", c.Files(), c.WritePath())
	}
	if _, err := tr.loader().LoadFile(tr.path("missing.config")); err == nil || !strings.Contains(err.Error(), "missing.config") {
		t.Errorf("missing --configfile: err = %v", err)
	}
}

func TestWritePath(t *testing.T) {
	tr := newTree(t)
	tr.mkdir("a/b")
	c := tr.mustLoad("a/b")
	if c.WritePath() != tr.userConfig() {
		t.Errorf("no config anywhere: write path %q, want the user config", c.WritePath())
	}
	if len(c.Files()) != 0 {
		t.Errorf("files = %q, want none", c.Files())
	}
	tr.write("a/nuget.config", cfg(""))
	tr.write("nuget.config", cfg(""))
	c = tr.mustLoad("a/b")
	if c.WritePath() != tr.path("a/nuget.config") {
		t.Errorf("write path %q, want the closest file", c.WritePath())
	}
	delete(tr.env, "HOME")
	tr2 := newTree(t)
	tr2.env = map[string]string{"NUGET_COMMON_APPLICATION_DATA": tr2.path("m")}
	tr2.mkdir("x")
	c = tr2.mustLoad("x")
	if c.WritePath() != "" {
		t.Errorf("no home and no config: write path %q, want none", c.WritePath())
	}
	tr2.env["DOTNET_CLI_HOME"] = tr2.path("cli")
	c = tr2.mustLoad("x")
	if c.WritePath() != tr2.path("cli/.nuget/NuGet/NuGet.Config") {
		t.Errorf("DOTNET_CLI_HOME: write path %q", c.WritePath())
	}
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name            string
		files           map[string]string
		env             string
		mode, revMode   string
		errLine         int
		errText, source string
	}{
		{name: "defaults", files: map[string]string{"nuget.config": cfg("")}, mode: "accept", revMode: "online"},
		{name: "require, any case", files: map[string]string{
			"nuget.config": cfg(`  <config><add key="signatureValidationMode" value=" REQUIRE " /></config>` + "\n"),
		}, mode: "require", revMode: "online"},
		{name: "closer file overrides, keys case-insensitive", files: map[string]string{
			"../nuget.config": cfg(`  <config><add key="signatureValidationMode" value="require" /></config>` + "\n"),
			"nuget.config":    cfg(`  <config><add key="SignatureValidationMode" value="accept" /></config>` + "\n"),
		}, mode: "accept", revMode: "online"},
		{name: "clear resets", files: map[string]string{
			"../nuget.config": cfg(`  <config><add key="signatureValidationMode" value="require" /></config>` + "\n"),
			"nuget.config":    cfg("  <config><clear /></config>\n"),
		}, mode: "accept", revMode: "online"},
		{name: "revocation from config", files: map[string]string{
			"nuget.config": cfg(`  <config><add key="revocationMode" value="Offline" /></config>` + "\n"),
		}, mode: "accept", revMode: "offline"},
		{name: "environment wins", env: "online", files: map[string]string{
			"nuget.config": cfg(`  <config><add key="revocationMode" value="offline" /></config>` + "\n"),
		}, mode: "accept", revMode: "online"},
		{name: "environment alone", env: "OFFLINE", files: map[string]string{"nuget.config": cfg("")}, mode: "accept", revMode: "offline"},
		{name: "unknown environment value ignored", env: "sometimes", files: map[string]string{
			"nuget.config": cfg(`  <config><add key="revocationMode" value="offline" /></config>` + "\n"),
		}, mode: "accept", revMode: "offline"},
		{name: "typo in mode refused", files: map[string]string{
			"nuget.config": cfg("  <config>\n    <add key=\"signatureValidationMode\" value=\"requre\" />\n  </config>\n"),
		}, errLine: 4, errText: `signatureValidationMode="requre"`},
		{name: "overridden typo is fine", files: map[string]string{
			"../nuget.config": cfg(`  <config><add key="signatureValidationMode" value="requre" /></config>` + "\n"),
			"nuget.config":    cfg(`  <config><add key="signatureValidationMode" value="require" /></config>` + "\n"),
		}, mode: "require", revMode: "online"},
		{name: "bad revocation mode", files: map[string]string{
			"nuget.config": cfg(`  <config><add key="revocationMode" value="never" /></config>` + "\n"),
		}, errLine: 3, errText: "revocationMode"},
		{name: "package sources", files: map[string]string{
			"../nuget.config": cfg(`  <packageSources><add key="Feed" value="https://far/index.json" /><add key="other" value="https://o/index.json" /></packageSources>` + "\n"),
			"nuget.config":    cfg(`  <packageSources><add key="feed" value="https://near/index.json" /></packageSources>` + "\n"),
		}, mode: "accept", revMode: "online", source: "https://near/index.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			for rel, content := range tt.files {
				tr.write(filepath.Join("p/q", rel), content)
			}
			tr.env["NUGET_CERT_REVOCATION_MODE"] = tt.env
			c, err := tr.load("p/q")
			if tt.errText != "" {
				var ce *ConfigError
				if !errors.As(err, &ce) || ce.Line != tt.errLine || !strings.Contains(ce.Msg, tt.errText) {
					t.Fatalf("err = %v, want line %d with %q", err, tt.errLine, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.SignatureValidationMode(); got != tt.mode {
				t.Errorf("mode = %q, want %q", got, tt.mode)
			}
			if got := c.RevocationMode(); got != tt.revMode {
				t.Errorf("revocation mode = %q, want %q", got, tt.revMode)
			}
			if tt.source != "" {
				if got, ok := c.PackageSource("FEED"); !ok || got != tt.source {
					t.Errorf("source = %q, %v", got, ok)
				}
				if _, ok := c.PackageSource("nope"); ok {
					t.Error("unknown source found")
				}
			}
		})
	}
}

func TestValidation(t *testing.T) {
	good := certXML(fp('A', "SHA256"), "SHA256", false)
	tests := []struct {
		name, body string
		line       int
		msg        string
	}{
		{"missing fingerprint", authorXML("a", `      <certificate hashAlgorithm="SHA256" allowUntrustedRoot="false" />`+"\n"), 5, "needs the attribute fingerprint"},
		{"missing algorithm", authorXML("a", `      <certificate fingerprint="`+fp('A', "SHA256")+`" allowUntrustedRoot="false" />`+"\n"), 5, "needs the attribute hashAlgorithm"},
		{"missing allowUntrustedRoot", authorXML("a", `      <certificate fingerprint="`+fp('A', "SHA256")+`" hashAlgorithm="SHA256" />`+"\n"), 5, "needs the attribute allowUntrustedRoot"},
		{"attribute names are exact", authorXML("a", `      <certificate Fingerprint="`+fp('A', "SHA256")+`" hashAlgorithm="SHA256" allowUntrustedRoot="false" />`+"\n"), 5, "needs the attribute fingerprint"},
		{"SHA1 refused", authorXML("a", certXML(strings.Repeat("A", 40), "SHA1", false)), 5, "SHA-1 is broken"},
		{"unknown algorithm", authorXML("a", certXML(fp('A', "SHA256"), "MD5", false)), 5, `"MD5" is not supported`},
		{"fingerprint length", authorXML("a", certXML(fp('A', "SHA256"), "SHA384", false)), 5, "a SHA384 fingerprint has 96"},
		{"fingerprint not hex", authorXML("a", certXML(strings.Repeat("Z", 64), "SHA256", false)), 5, "not hexadecimal"},
		{"allowUntrustedRoot not a bool", authorXML("a", strings.Replace(good, `"false"`, `"yes"`, 1)), 5, "neither true nor false"},
		{"certificate with children", authorXML("a", `      <certificate fingerprint="`+fp('A', "SHA256")+`" hashAlgorithm="SHA256" allowUntrustedRoot="false"><x/></certificate>`+"\n"), 5, "cannot have child elements"},
		{"no certificate", authorXML("a"), 4, "has no <certificate>"},
		{"no name", "    <author>\n" + good + "    </author>\n", 4, "non-empty name"},
		{"empty name", "    <author name=\" \">\n" + good + "    </author>\n", 4, "non-empty name"},
		{"owners under author", authorXML("a", good, "      <owners>x</owners>\n"), 6, "only allowed in <repository>"},
		{"repository without service index", "    <repository name=\"r\">\n" + good + "    </repository>\n", 4, "needs a serviceIndex"},
		{"http service index", repoXML("r", "http://feed/index.json", "", good), 4, "not an absolute https URL"},
		{"relative service index", repoXML("r", "/index.json", "", good), 4, "not an absolute https URL"},
		{"two owners elements", "    <repository name=\"r\" serviceIndex=\"https://f/i.json\">\n" + good + "      <owners>a</owners>\n      <owners>b</owners>\n    </repository>\n", 7, "more than one <owners>"},
		{"empty owners", repoXML("r", "https://f/i.json", " ; ", good), 6, "';'-separated list"},
		{"duplicate author in a file", authorXML("a", good) + authorXML("a", good), 7, `an author named "a" is already defined on line 4`},
		{"duplicate service index in a file", repoXML("r", "https://f/i.json", "", good) + repoXML("s", "https://f/i.json", "", good), 7, "already defined on line 4"},
		{"identity with subject only", authorXML("a", good, `      <certificateIdentity subject="CN=x" />`+"\n"), 6, "subject and issuer must be given together"},
		{"empty identity", authorXML("a", good, `      <certificateIdentity />`+"\n"), 6, "give subject and issuer, or eku"},
		{"generic EKU", authorXML("a", good, `      <certificateIdentity eku="1.3.6.1.5.5.7.3.3" />`+"\n"), 6, "code signing"},
		{"bad EKU", authorXML("a", good, `      <certificateIdentity eku="1.3.x" />`+"\n"), 6, "not a dotted OID"},
		{"bad subject", authorXML("a", good, `      <certificateIdentity subject="Contoso" issuer="CN=CA" />`+"\n"), 6, "not type=value"},
		{"unknown attribute type", authorXML("a", good, `      <certificateIdentity subject="XX=Contoso" issuer="CN=CA" />`+"\n"), 6, "unknown attribute type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			p := tr.write("nuget.config", signers(tt.body))
			_, err := tr.loader().LoadFile(p)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if ce.File != p || ce.Line != tt.line || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("got %q (line %d), want line %d with %q", ce.Msg, ce.Line, tt.line, tt.msg)
			}
		})
	}
}

func TestDuplicateSection(t *testing.T) {
	tr := newTree(t)
	p := tr.write("nuget.config", cfg("  <trustedSigners />\n  <config />\n  <trustedSigners />\n"))
	_, err := tr.loader().LoadFile(p)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Line != 5 || !strings.Contains(ce.Msg, "second <trustedSigners>") {
		t.Errorf("err = %v", err)
	}
}

func TestMalformedFileInHierarchy(t *testing.T) {
	tr := newTree(t)
	bad := tr.write("nuget.config", "<configuration>\n  <trustedSigners>\n</configuration>\n")
	tr.write("sub/nuget.config", cfg(""))
	_, err := tr.load("sub")
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.File != bad || ce.Line != 3 {
		t.Errorf("err = %v, want the broken parent file at line 3", err)
	}
}

func TestReadValuesAndWarnings(t *testing.T) {
	tr := newTree(t)
	p := tr.write("nuget.config", cfg(`  <TrustedSigners />
  <trustedSigners>
    <autor name="typo" />
    <author name="mixed">
      <certificate fingerprint="`+strings.ToLower(fp('A', "SHA384"))+`" hashAlgorithm="sha384" allowUntrustedRoot="True" />
      <signetNote>x</signetNote>
      <certificateIdentity subject="CN=Contoso, O=&quot;Contoso, Inc.&quot;" issuer="CN=Contoso CA" eku="1.3.6.1.4.1.311.97.1.2" />
    </author>
    <repository name="idonly" serviceIndex="https://feed.example/v3/index.json">
      <certificateIdentity eku="1.3.6.1.4.1.99999.1" />
      <owners> alice ;bob;; </owners>
    </repository>
  </trustedSigners>
`))
	c, err := tr.loader().LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	got := c.TrustedSigners()
	if len(got) != 2 {
		t.Fatalf("signers = %+v", got)
	}
	m := got[0]
	wantCert := CertEntry{Fingerprint: fp('A', "SHA384"), HashAlgorithm: "SHA384", AllowUntrustedRoot: true}
	if m.Name != "mixed" || m.Kind != KindAuthor || len(m.Certificates) != 1 || m.Certificates[0] != wantCert || m.Line != 6 {
		t.Errorf("author = %+v", m)
	}
	if len(m.Identities) != 1 || m.Identities[0] != (Identity{Subject: `CN=Contoso, O="Contoso, Inc."`, Issuer: "CN=Contoso CA", EKU: "1.3.6.1.4.1.311.97.1.2"}) {
		t.Errorf("identities = %+v", m.Identities)
	}
	r := got[1]
	if r.Kind != KindRepository || r.ServiceIndex != "https://feed.example/v3/index.json" || !slices.Equal(r.Owners, []string{"alice", "bob"}) || len(r.Certificates) != 0 {
		t.Errorf("repository = %+v", r)
	}
	warnings := strings.Join(c.Warnings(), "\n")
	for _, w := range []string{
		p + ":3: section <TrustedSigners> is ignored",
		p + ":5: unknown element <autor>",
		p + ":8: unknown element <signetNote>",
		p + `:11: <repository name="idonly"> has only <certificateIdentity> entries; plain NuGet refuses`,
	} {
		if !strings.Contains(warnings, w) {
			t.Errorf("warnings lack %q:\n%s", w, warnings)
		}
	}
}
