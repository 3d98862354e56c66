package trust

import (
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPackageSourcesMerge: sources merge from the user config to the
// closest file, a closer entry replaces a further one of the same name in
// place, <clear /> drops what came before, protocolVersion and disabled
// sources are read, relative folders resolve from their file, and %VAR% is
// expanded.
func TestPackageSourcesMerge(t *testing.T) {
	tr := newTree(t)
	tr.env["FEED_HOST"] = "feed.example"
	tr.write("home/.nuget/NuGet/NuGet.Config", `<configuration><packageSources>
  <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  <add key="Old" value="https://old.example/nuget" />
</packageSources></configuration>`)
	tr.write("repo/nuget.config", `<configuration>
<packageSources>
  <add key="OLD" value="https://%FEED_HOST%/v3/index.json" />
  <add key="local" value="packages" />
  <add key="unset" value="https://%NOT_SET%/x" />
</packageSources>
<disabledPackageSources><add key="local" value="true" /></disabledPackageSources>
</configuration>`)
	tr.mkdir("repo/sub")
	c := tr.mustLoad("repo/sub")
	got := c.PackageSources()
	want := []PackageSource{
		{Name: "nuget.org", Source: "https://api.nuget.org/v3/index.json", ProtocolVersion: 3, Enabled: true},
		{Name: "OLD", Source: "https://feed.example/v3/index.json", ProtocolVersion: 2, Enabled: true},
		{Name: "local", Source: tr.path("repo/packages"), ProtocolVersion: 2, Enabled: false},
		{Name: "unset", Source: "https://%NOT_SET%/x", ProtocolVersion: 2, Enabled: true},
	}
	if len(got) != len(want) {
		t.Fatalf("sources = %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.Name || g.Source != w.Source || g.ProtocolVersion != w.ProtocolVersion || g.Enabled != w.Enabled || g.Line == 0 {
			t.Errorf("source %d = %+v, want %+v", i, g, w)
		}
	}
	if !got[0].IsV3() || !got[1].IsV3() || got[2].IsV3() || got[2].IsHTTP() {
		t.Errorf("IsV3/IsHTTP wrong: %+v", got)
	}
	if s, ok := c.FindSource("old"); !ok || s.Name != "OLD" {
		t.Errorf("FindSource(old) = %+v %v", s, ok)
	}
	if s, ok := c.FindSource("https://api.nuget.org/v3/index.json/"); !ok || s.Name != "nuget.org" {
		t.Errorf("FindSource(url) = %+v %v", s, ok)
	}
	if _, ok := c.FindSource("missing"); ok {
		t.Error("FindSource(missing) found something")
	}

	tr.write("repo/sub/nuget.config", `<configuration><packageSources><clear /><add key="only" value="https://only.example/index.json" /></packageSources></configuration>`)
	c = tr.mustLoad("repo/sub")
	if got := c.PackageSources(); len(got) != 1 || got[0].Name != "only" {
		t.Errorf("after clear: %+v", got)
	}
}

// TestCredentials: a clear-text password is used, with %VAR% expanded and
// the element name decoded; an encrypted Password is refused with its file
// and line.
func TestCredentials(t *testing.T) {
	tr := newTree(t)
	tr.env["TOKEN"] = "s3cret"
	tr.write("repo/nuget.config", `<configuration>
<packageSourceCredentials>
  <My_x0020_Feed>
    <add key="Username" value="me" />
    <add key="ClearTextPassword" value="%TOKEN%" />
    <add key="ValidAuthenticationTypes" value="basic, negotiate" />
  </My_x0020_Feed>
  <windows>
    <add key="Username" value="me" />
    <add key="Password" value="AQAAANCMnd8BFdERjHoAwE/Cl+s=" />
  </windows>
</packageSourceCredentials>
</configuration>`)
	c := tr.mustLoad("repo")
	cred, err := c.Credential("my feed")
	if err != nil || cred == nil || cred.Username != "me" || cred.Password != "s3cret" || strings.Join(cred.AuthenticationTypes, "|") != "basic|negotiate" {
		t.Fatalf("Credential = %+v, %v", cred, err)
	}
	cred, err = c.Credential("windows")
	var ee *EncryptedError
	if !errors.As(err, &ee) || cred != nil || ee.Line != 10 || !strings.Contains(err.Error(), "ClearTextPassword") {
		t.Fatalf("encrypted Credential = %+v, %v", cred, err)
	}
	if cred, err := c.Credential("none"); cred != nil || err != nil {
		t.Fatalf("missing Credential = %+v, %v", cred, err)
	}
}

// TestAPIKeys: a DPAPI blob is refused, a clear value is used, lookups
// ignore case and a final slash and try each key in order.
func TestAPIKeys(t *testing.T) {
	blob := base64.StdEncoding.EncodeToString(append(append([]byte{}, dpapiHeader...), 1, 2, 3, 4))
	tr := newTree(t)
	tr.write("repo/nuget.config", `<configuration><apikeys>
  <add key="https://win.example/v3/index.json" value="`+blob+`" />
  <add key="https://clear.example/api/v2/package/" value="sgn_clear" />
</apikeys></configuration>`)
	c := tr.mustLoad("repo")
	for _, tc := range []struct {
		keys    []string
		want    string
		found   bool
		wantErr bool
	}{
		{[]string{"https://CLEAR.example/api/v2/package"}, "sgn_clear", true, false},
		{[]string{"https://nothing.example/", "https://clear.example/api/v2/package/"}, "sgn_clear", true, false},
		{[]string{"https://win.example/v3/index.json"}, "", false, true},
		{[]string{"https://nothing.example/"}, "", false, false},
	} {
		got, found, err := c.APIKey(tc.keys...)
		if got != tc.want || found != tc.found || (err != nil) != tc.wantErr {
			t.Errorf("APIKey(%v) = %q %v %v", tc.keys, got, found, err)
		}
	}
}

// TestGlobalPackagesFolder: NUGET_PACKAGES wins over the config key, which
// is relative to its file, which wins over ~/.nuget/packages.
func TestGlobalPackagesFolder(t *testing.T) {
	tr := newTree(t)
	tr.mkdir("repo")
	c := tr.mustLoad("repo")
	if got, err := c.GlobalPackagesFolder(); err != nil || got != filepath.Join(tr.env["HOME"], ".nuget", "packages") {
		t.Errorf("default = %q %v", got, err)
	}
	tr.write("repo/nuget.config", `<configuration><config><add key="globalPackagesFolder" value="../gpf" /><add key="defaultPushSource" value="https://push.example/" /></config></configuration>`)
	c = tr.mustLoad("repo")
	if got, err := c.GlobalPackagesFolder(); err != nil || got != tr.path("gpf") {
		t.Errorf("config = %q %v", got, err)
	}
	if got := c.DefaultPushSource(); got != "https://push.example/" {
		t.Errorf("DefaultPushSource = %q", got)
	}
	tr.env["NUGET_PACKAGES"] = tr.path("env-gpf")
	c = tr.mustLoad("repo")
	if got, err := c.GlobalPackagesFolder(); err != nil || got != tr.path("env-gpf") {
		t.Errorf("env = %q %v", got, err)
	}
	tr.env = map[string]string{}
	tr.write("repo/nuget.config", `<configuration />`)
	c = tr.mustLoad("repo")
	if _, err := c.GlobalPackagesFolder(); err == nil {
		t.Error("no home: no error")
	}
}

func TestDecodeXMLName(t *testing.T) {
	for in, want := range map[string]string{
		"plain":               "plain",
		"My_x0020_Feed":       "My Feed",
		"_x0031_st":           "1st",
		"a_x00e9_":            "aé",
		"_xD83D__xDE00_":      "😀",
		"_x0001F600_":         "😀",
		"bad_x12_":            "bad_x12_",
		"_xZZZZ_":             "_xZZZZ_",
		"trailing_x0020":      "trailing_x0020",
		"two_x0020__x0020_sp": "two  sp",
	} {
		if got := decodeXMLName(in); got != want {
			t.Errorf("decodeXMLName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDecodeXMLName: any element name decodes without panicking to valid
// UTF-8, and a name without "_x" is returned as it is.
func FuzzDecodeXMLName(f *testing.F) {
	for _, s := range []string{"My_x0020_Feed", "_xD83D__xDE00_", "_x0001F600_", "_xD800_", "_x", "a_x12345678_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := decodeXMLName(s)
		if !strings.Contains(s, "_x") && got != s {
			t.Fatalf("decodeXMLName(%q) = %q", s, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("decodeXMLName(%q) = %q is not UTF-8", s, got)
		}
	})
}
