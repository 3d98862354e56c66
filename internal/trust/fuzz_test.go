package trust

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/fixtures"
)

// FuzzLoadConfig feeds arbitrary bytes to the nuget.config parser and the
// merge. Whatever parses must write back byte for byte, merge without
// panicking, and stay well-formed after an edit.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte(sampleConfig))
	f.Add([]byte(strings.ReplaceAll(sampleConfig, "\n", "\r\n")))
	f.Add([]byte("\xEF\xBB\xBF<configuration/>"))
	f.Add([]byte(signers(authorXML("a", certXML(fp('1', "SHA256"), "SHA256", true), `      <certificateIdentity subject="CN=a, O=&quot;b, c&quot;" issuer="CN=x+OU=y" eku="1.2.3.4" />`+"\n"))))
	f.Add([]byte(signers(repoXML("r", "https://f/i.json", "a; b", certXML(fp('2', "SHA512"), "SHA512", false)) + "    <clear/>\n")))
	f.Add([]byte(cfg(`  <config><add key="signatureValidationMode" value="require"/><add key="revocationMode" value="offline"/></config>` + "\n")))
	f.Add([]byte("<!DOCTYPE configuration [<!ENTITY x \"y\">]><configuration/>"))
	// XML as real packages carry it: nuspec, content types, relationships.
	for _, p := range fixtures.Glob(f, "real/*.nupkg")[:4] {
		zr, err := zip.OpenReader(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, zf := range zr.File {
			if !strings.HasSuffix(zf.Name, ".nuspec") && !strings.HasSuffix(zf.Name, ".xml") && !strings.HasSuffix(zf.Name, ".rels") {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				f.Fatal(err)
			}
			b, _ := io.ReadAll(io.LimitReader(rc, 64<<10))
			rc.Close()
			f.Add(b)
			f.Add(bytes.Replace(b, []byte("<package"), []byte("<configuration"), 1))
		}
		zr.Close()
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseDocument("fuzz.config", data)
		if err != nil {
			return
		}
		if got := doc.bytes(); !bytes.Equal(got, data) {
			t.Fatalf("round trip changed the bytes:\n%q\n%q", data, got)
		}
		file := &configFile{path: "fuzz.config", doc: doc, level: levelExplicit, perm: 0o600}
		c := &Config{files: []*configFile{file}, target: file, getenv: func(string) string { return "" }}
		if err := c.rebuild(); err != nil {
			return
		}
		_ = c.Policy()
		_ = c.SignatureValidationMode()
		_ = c.RevocationMode()
		if err := c.AddAuthor("fuzz-added", fp('1', "SHA256"), "SHA256", false); err != nil {
			return // the name may be taken
		}
		out := doc.bytes()
		if file.doc != doc {
			out = file.doc.bytes()
		}
		again, err := parseDocument("fuzz.config", out)
		if err != nil {
			t.Fatalf("an edit made the document malformed: %v\n%q", err, out)
		}
		c2 := &Config{files: []*configFile{{path: "fuzz.config", doc: again}}, getenv: func(string) string { return "" }}
		if err := c2.rebuild(); err != nil {
			t.Fatalf("the edited document does not load: %v\n%q", err, out)
		}
		if !strings.Contains(strings.Join(summaryNames(c2), ","), "fuzz-added") {
			t.Fatalf("the added signer is not in the edited document:\n%q", out)
		}
	})
}

func summaryNames(c *Config) []string {
	var out []string
	for _, s := range c.TrustedSigners() {
		out = append(out, s.Name)
	}
	return out
}
