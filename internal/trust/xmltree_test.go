package trust

import (
	"errors"
	"strings"
	"testing"
)

// sampleConfig is a nuget.config with everything a round trip must keep:
// a declaration, comments, unknown sections, entities, CDATA, single
// quotes, a self-closing element with and without a space, and odd layout.
const sampleConfig = `<?xml version="1.0" encoding="utf-8"?>
<!-- top comment -->
<configuration>
  <packageSources>
    <clear/>
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion='3' />
    <add key="local &amp; odd" value="/tmp/a&lt;b" />
  </packageSources>
  <packageSourceCredentials>
    <local>
      <add key="Username" value="me" />
    </local>
  </packageSourceCredentials>
  <unknownSection   attr = "x" ><![CDATA[ raw <text> ]]></unknownSection >
  <config>
    <add key="signatureValidationMode" value="accept" />
  </config>
  <trustedSigners>
    <!-- pinned -->
    <author name="contoso">
      <certificate fingerprint="3F9001EA83C560D712C24CF213C3D312CB3BFF51EE89435D3430BD06B5D0EECE" hashAlgorithm="SHA256" allowUntrustedRoot="false" />
    </author>
  </trustedSigners>
</configuration>
`

func TestParseDocumentRoundTrip(t *testing.T) {
	tests := []struct{ name, in string }{
		{"sample", sampleConfig},
		{"crlf", strings.ReplaceAll(sampleConfig, "\n", "\r\n")},
		{"bom", "\xEF\xBB\xBF" + sampleConfig},
		{"minimal", `<configuration/>`},
		{"prefixed root", `<n:configuration xmlns:n="urn:x"><n:config/></n:configuration>`},
		{"doctype", "<!DOCTYPE configuration>\n<configuration></configuration>"},
		{"no trailing newline", `<configuration><config><add key="a" value="b"/></config></configuration>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parseDocument("x.config", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(doc.bytes()); got != tt.in {
				t.Errorf("round trip changed the document:\n got %q\nwant %q", got, tt.in)
			}
		})
	}
}

func TestParseDocumentErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"unclosed", "<configuration>\n  <config>\n</configuration>", 3, "closed by"},
		{"never closed", "<configuration>\n<config>", 2, "not closed"},
		{"bad root", "<?xml version=\"1.0\"?>\n<settings/>", 2, "not <configuration>"},
		{"two roots", "<configuration/>\n<configuration/>", 2, "second root"},
		{"text outside", "<configuration/>\ntrailing", 2, "text outside"},
		{"unknown entity", "<configuration>\n<a v=\"&foo;\"/></configuration>", 2, "malformed XML"},
		{"duplicate attribute", "<configuration>\n <a k=\"1\" k=\"2\"/></configuration>", 2, "repeats the attribute"},
		{"empty", "", 0, "no root element"},
		{"utf-16 declared", `<?xml version="1.0" encoding="utf-16"?><configuration/>`, 1, "malformed XML"},
		{"stray end", "</configuration>", 1, "unexpected end tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseDocument("/p/nuget.config", []byte(tt.in))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if ce.File != "/p/nuget.config" || ce.Line != tt.line || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("got %+v, want line %d and %q", ce, tt.line, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "trust: /p/nuget.config") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestParseDocumentBounds(t *testing.T) {
	big := "<configuration>" + strings.Repeat(" ", MaxConfigSize) + "</configuration>"
	if _, err := parseDocument("f", []byte(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: err = %v", err)
	}
	deep := "<configuration>" + strings.Repeat("<a>", maxDepth) + strings.Repeat("</a>", maxDepth) + "</configuration>"
	if _, err := parseDocument("f", []byte(deep)); err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Errorf("deep file: err = %v", err)
	}
	ok := "<configuration>" + strings.Repeat("<a>", maxDepth-1) + strings.Repeat("</a>", maxDepth-1) + "</configuration>"
	if _, err := parseDocument("f", []byte(ok)); err != nil {
		t.Errorf("depth %d refused: %v", maxDepth, err)
	}
}

func TestAppendAndRemoveIndented(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"into indented section",
			"<configuration>\n  <s>\n    <a />\n  </s>\n</configuration>\n",
			"<configuration>\n  <s>\n    <a />\n    <new k=\"v&quot;\" />\n  </s>\n</configuration>\n"},
		{"into empty element",
			"<configuration>\n  <s></s>\n</configuration>\n",
			"<configuration>\n  <s>\n    <new k=\"v&quot;\" />\n  </s>\n</configuration>\n"},
		{"into self-closing element",
			"<configuration>\n\t<s/>\n</configuration>\n",
			"<configuration>\n\t<s>\n\t  <new k=\"v&quot;\" />\n\t</s>\n</configuration>\n"},
		{"crlf",
			"<configuration>\r\n  <s>\r\n    <a />\r\n  </s>\r\n</configuration>\r\n",
			"<configuration>\r\n  <s>\r\n    <a />\r\n    <new k=\"v&quot;\" />\r\n  </s>\r\n</configuration>\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parseDocument("f", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			s := doc.root.elements()[0]
			n := newElement("new", "k", `v"`)
			doc.appendIndented(s, n)
			if got := string(doc.bytes()); got != tt.want {
				t.Errorf("append:\n got %q\nwant %q", got, tt.want)
			}
			if _, err := parseDocument("f", doc.bytes()); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
			removeIndented(n)
			if strings.Contains(string(doc.bytes()), "<new") {
				t.Errorf("remove left the element: %q", doc.bytes())
			}
		})
	}
}
