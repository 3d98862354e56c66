package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/client"
	"github.com/signet-nuget/signet/internal/client/testfeed"
	"github.com/signet-nuget/signet/internal/nupkgtest"
)

// writePackages writes generated packages named <id>.<version>.nupkg into
// dir and returns their paths.
func writePackages(t *testing.T, dir string, idVersions ...[2]string) []string {
	t.Helper()
	var out []string
	for _, iv := range idVersions {
		p := filepath.Join(dir, iv[0]+"."+iv[1]+".nupkg")
		if err := os.WriteFile(p, nupkgtest.Bytes(t, nupkgtest.Spec{ID: iv[0], Version: iv[1]}), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func feedVersions(t *testing.T, f *testfeed.Feed, id string) []string {
	t.Helper()
	c, err := client.New(f.IndexURL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := c.Versions(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		out = append(out, v.String())
	}
	return out
}

// emptyConfig is a nuget.config with nothing in it, so that tests never read
// the machine's.
func emptyConfig(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "nuget.config")
	os.WriteFile(p, []byte("<configuration />"), 0o644)
	return p
}

// TestPushCLI: packages given by a glob are pushed with dotnet's output;
// pushing one again is a 409 with the feed's message (exit 1), unless
// --skip-duplicate; a wrong key shows the feed's 403 message; the key never
// appears in the output.
func TestPushCLI(t *testing.T) {
	f := testfeed.Start(t)
	dir := t.TempDir()
	writePackages(t, dir, [2]string{"Push.A", "1.0.0"}, [2]string{"Push.B", "2.0.0"})
	cfg := emptyConfig(t)
	endpoint := f.Base + "/api/v2/package"

	code, out, errOut := runCLI(t, "push", filepath.Join(dir, "*.nupkg"), "-s", f.IndexURL, "-k", f.Key, "--configfile", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	want := regexp.MustCompile(`^Pushing Push\.A\.1\.0\.0\.nupkg to '` + regexp.QuoteMeta(endpoint) + `'\.\.\.
  PUT ` + regexp.QuoteMeta(endpoint) + `/
  Created ` + regexp.QuoteMeta(endpoint) + `/ \d+ms
Your package was pushed\.
Pushing Push\.B\.2\.0\.0\.nupkg to '` + regexp.QuoteMeta(endpoint) + `'\.\.\.
  PUT ` + regexp.QuoteMeta(endpoint) + `/
  Created ` + regexp.QuoteMeta(endpoint) + `/ \d+ms
Your package was pushed\.
$`)
	if !want.MatchString(out) {
		t.Errorf("output:\n%s", out)
	}
	if !strings.Contains(errOut, "signet: warning: NU1803: ") {
		t.Errorf("no HTTP warning: %q", errOut)
	}
	if got := feedVersions(t, f, "Push.B"); len(got) != 1 || got[0] != "2.0.0" {
		t.Errorf("feed has %v", got)
	}

	a := filepath.Join(dir, "Push.A.1.0.0.nupkg")
	code, out, errOut = runCLI(t, "push", a, "--source", f.IndexURL, "--api-key", f.Key, "--configfile", cfg)
	if code != 1 || !strings.Contains(out, "  Conflict "+endpoint+"/ ") ||
		!strings.Contains(errOut, "signet: error: Response status code does not indicate success: 409 (A package with ID 'Push.A' and version '1.0.0' already exists and cannot be modified).") ||
		!strings.Contains(errOut, "signet: hint: pass --skip-duplicate") {
		t.Errorf("duplicate: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "push", a, "-s", f.IndexURL, "-k", f.Key, "--skip-duplicate", "--configfile", cfg)
	if code != 0 || !strings.Contains(out, "Package 'Push.A.1.0.0.nupkg' already exists at feed '"+endpoint+"'.") || strings.Contains(out, "was pushed") {
		t.Errorf("skip-duplicate: exit %d\n%s\n%s", code, out, errOut)
	}

	c := writePackages(t, t.TempDir(), [2]string{"Push.C", "1.0.0"})[0]
	for _, key := range []string{"sgn_wrong", "sgn_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} {
		code, out, errOut = runCLI(t, "push", c, "-s", f.IndexURL, "-k", key, "--configfile", cfg)
		if code != 1 || !strings.Contains(errOut, "403 (The specified API key is invalid, has expired, or does not have permission to access the specified package).") ||
			!strings.Contains(errOut, "signet: hint: check the API key") {
			t.Errorf("bad key: exit %d\n%s\n%s", code, out, errOut)
		}
		if strings.Contains(out+errOut, key) {
			t.Error("the key is in the output")
		}
	}
	if got := feedVersions(t, f, "Push.C"); len(got) != 0 {
		t.Errorf("pushed with a bad key: %v", got)
	}
}

// TestPushStopsAtFirstFailure: as dotnet, a failed package ends the run.
func TestPushStopsAtFirstFailure(t *testing.T) {
	f := testfeed.Start(t)
	dir := t.TempDir()
	p := writePackages(t, dir, [2]string{"Stop.A", "1.0.0"}, [2]string{"Stop.B", "1.0.0"})
	cfg := emptyConfig(t)
	if code, out, errOut := runCLI(t, "push", p[0], "-s", f.IndexURL, "-k", f.Key, "--configfile", cfg); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ := runCLI(t, "push", p[0], p[1], "-s", f.IndexURL, "-k", f.Key, "--configfile", cfg)
	if code != 1 || strings.Contains(out, "Stop.B") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if got := feedVersions(t, f, "Stop.B"); len(got) != 0 {
		t.Errorf("pushed after a failure: %v", got)
	}
}

// TestPushFromConfig: the source by name (with its protocol version and
// credentials), defaultPushSource, and the key from $SIGNET_API_KEY or a
// clear-text <apikeys> entry; a DPAPI-encrypted key is refused clearly.
func TestPushFromConfig(t *testing.T) {
	f := testfeed.Start(t)
	dir := t.TempDir()
	p := writePackages(t, dir, [2]string{"Cfg.A", "1.0.0"}, [2]string{"Cfg.B", "1.0.0"}, [2]string{"Cfg.C", "1.0.0"})
	cfgPath := filepath.Join(dir, "nuget.config")
	os.WriteFile(cfgPath, []byte(`<configuration>
  <config><add key="defaultPushSource" value="Local Feed" /></config>
  <packageSources><add key="Local Feed" value="`+f.IndexURL+`" protocolVersion="3" /></packageSources>
  <packageSourceCredentials><Local_x0020_Feed>
    <add key="Username" value="me" /><add key="ClearTextPassword" value="%FEED_PASSWORD%" />
  </Local_x0020_Feed></packageSourceCredentials>
  <apikeys><add key="`+f.Base+`/api/v2/package/" value="`+f.Key+`" /></apikeys>
</configuration>`), 0o644)

	code, out, errOut := runCLIEnv(t, map[string]string{"FEED_PASSWORD": "pw"}, "push", p[0], "-s", "local feed", "--configfile", cfgPath)
	if code != 0 || !strings.Contains(out, "Your package was pushed.") {
		t.Fatalf("by name with a configured key: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLIEnv(t, map[string]string{envAPIKey: f.Key}, "push", p[1], "--configfile", emptyConfigWithDefault(t, f.IndexURL))
	if code != 0 || !strings.Contains(out, "Your package was pushed.") {
		t.Fatalf("defaultPushSource and $SIGNET_API_KEY: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := feedVersions(t, f, "Cfg.A"); len(got) != 1 {
		t.Errorf("Cfg.A not on the feed")
	}

	os.WriteFile(cfgPath, []byte(`<configuration>
  <packageSources><add key="win" value="`+f.IndexURL+`" /></packageSources>
  <apikeys><add key="`+f.IndexURL+`" value="AQAAANCMnd8BFdERjHoAwE/Cl+sBAAAA" /></apikeys>
</configuration>`), 0o644)
	code, out, errOut = runCLI(t, "push", p[2], "-s", "win", "--configfile", cfgPath)
	if code != 1 || !strings.Contains(errOut, "Windows Data Protection API") || !strings.Contains(errOut, "--api-key") {
		t.Errorf("DPAPI key: exit %d\n%s\n%s", code, out, errOut)
	}
}

func emptyConfigWithDefault(t *testing.T, source string) string {
	p := filepath.Join(t.TempDir(), "nuget.config")
	os.WriteFile(p, []byte(`<configuration><config><add key="defaultPushSource" value="`+source+`" /></config></configuration>`), 0o644)
	return p
}

// TestPushBadUsage: missing packages, a missing source and bad flags fail
// before anything is sent.
func TestPushBadUsage(t *testing.T) {
	cfg := emptyConfig(t)
	pkg := writePackages(t, t.TempDir(), [2]string{"Use.A", "1.0.0"})[0]
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"push"}, 2, "no package given"},
		{[]string{"push", filepath.Join(t.TempDir(), "missing.nupkg"), "-s", "http://127.0.0.1:1/v3/index.json"}, 1, "File does not exist ("},
		{[]string{"push", filepath.Join(t.TempDir(), "*.nupkg"), "-s", "http://127.0.0.1:1/v3/index.json"}, 1, "File does not exist ("},
		{[]string{"push", pkg}, 1, "Source parameter was not specified"},
		{[]string{"push", pkg, "-s", t.TempDir()}, 1, "does not push to local folders"},
		{[]string{"push", pkg, "-s", "http://127.0.0.1:1/v3/index.json", "-t", "-1"}, 2, "negative"},
	} {
		code, _, errOut := runCLI(t, append(tc.args, "--configfile", cfg)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
	}
}
