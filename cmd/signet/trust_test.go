package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/fixtures"
)

// trustStep is one signet invocation and what it must print.
type trustStep struct {
	args           []string
	code           int
	stdout, errOut string // substrings; "" checks nothing
}

func runTrustSteps(t *testing.T, steps []trustStep) {
	t.Helper()
	for _, s := range steps {
		code, out, errOut := runCLI(t, s.args...)
		if code != s.code || !strings.Contains(out, s.stdout) || !strings.Contains(errOut, s.errOut) {
			t.Errorf("signet %s: exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout with %q, stderr with %q",
				strings.Join(s.args, " "), code, s.code, out, errOut, s.stdout, s.errOut)
		}
	}
}

func trustConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nuget.config")
	if err := os.WriteFile(p, []byte("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n"+body+"</configuration>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func trustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hexFP(c byte, n int) string { return strings.Repeat(string(c), n) }

func TestTrustList(t *testing.T) {
	cfg := trustConfig(t, `  <trustedSigners>
    <author name="contoso">
      <certificate fingerprint="`+hexFP('3', 64)+`" hashAlgorithm="SHA256" allowUntrustedRoot="false" />
    </author>
    <repository name="nuget.org" serviceIndex="https://api.nuget.org/v3/index.json">
      <certificate fingerprint="`+hexFP('e', 64)+`" hashAlgorithm="sha256" allowUntrustedRoot="true" />
      <certificate fingerprint="`+hexFP('5', 128)+`" hashAlgorithm="SHA512" allowUntrustedRoot="false" />
      <owners>microsoft; aspnet</owners>
      <certificateIdentity eku="1.3.6.1.4.1.311.97.1" />
    </repository>
    <widget />
  </trustedSigners>
`)
	want := `Registered trusted signers:

 1.   contoso [author]
      Certificate fingerprint(s):
        SHA256 - ` + hexFP('3', 64) + `

 2.   nuget.org [repository]
      Service Index: https://api.nuget.org/v3/index.json
      Trusted owners: microsoft; aspnet
      Certificate fingerprint(s):
        [U] SHA256 - ` + hexFP('E', 64) + `
        SHA512 - ` + hexFP('5', 128) + `
      Certificate identities (Signet):
        EKU 1.3.6.1.4.1.311.97.1

`
	for _, args := range [][]string{{"trust", "--configfile", cfg}, {"trust", "list", "--configfile", cfg}, {"trust", "list", "-v", "q", "--configfile", cfg}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || out != want {
			t.Errorf("%v: exit %d\n%s\nwant\n%s\nstderr: %s", args, code, out, want, errOut)
		}
		if !strings.Contains(errOut, "signet: warning: "+cfg+":13: unknown element <widget> in <trustedSigners> is ignored") {
			t.Errorf("%v: stderr lacks the warning: %s", args, errOut)
		}
	}
	code, out, _ := runCLI(t, "trust", "list", "-v", "detailed", "--configfile", cfg)
	if code != 0 || !strings.Contains(out, "Config files (closest first):\n  "+cfg+"\n") || !strings.Contains(out, "Defined in: "+cfg+":4\n") {
		t.Errorf("detailed list: %d\n%s", code, out)
	}
	runTrustSteps(t, []trustStep{
		{args: []string{"trust", "list", "--configfile", trustConfig(t, "")}, stdout: "There are no trusted signers.\n"},
		{args: []string{"trust", "list", "--configfile", trustConfig(t, "  <trustedSigners>\n  <author name=\"x\" />\n")}, code: 1, errOut: "signet: error: trust: "},
		{args: []string{"trust", "list", "--configfile", filepath.Join(t.TempDir(), "missing.config")}, code: 1, errOut: "missing.config"},
		{args: []string{"trust", "list", "extra", "--configfile", cfg}, code: 2, errOut: "want 0 arguments"},
		{args: []string{"trust", "frobnicate"}, code: 2, errOut: `unknown trust subcommand "frobnicate"`},
		{args: []string{"trust", "help"}, errOut: "signet trust sync <NAME>"},
	})
}

func TestTrustCertificateAndRemove(t *testing.T) {
	cfg := trustConfig(t, "  <!-- keep -->\n")
	colons := strings.ToLower(strings.TrimSuffix(strings.Repeat("AB:", 32), ":"))
	runTrustSteps(t, []trustStep{
		{args: []string{"trust", "certificate", "contoso", colons, "--configfile", cfg}, stdout: "Successfully added a trusted author 'contoso'.\n"},
		{args: []string{"trust", "certificate", "Contoso", hexFP('c', 96), "--algorithm", "sha384", "--allow-untrusted-root", "--configfile", cfg}, stdout: "Successfully updated the trusted signer 'Contoso'.\n"},
	})
	want := "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <!-- keep -->\n  <trustedSigners>\n    <author name=\"contoso\">\n" +
		"      <certificate fingerprint=\"" + strings.Repeat("AB", 32) + "\" hashAlgorithm=\"SHA256\" allowUntrustedRoot=\"false\" />\n" +
		"      <certificate fingerprint=\"" + hexFP('C', 96) + "\" hashAlgorithm=\"SHA384\" allowUntrustedRoot=\"true\" />\n" +
		"    </author>\n  </trustedSigners>\n</configuration>\n"
	if got := trustRead(t, cfg); got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	runTrustSteps(t, []trustStep{
		{args: []string{"trust", "certificate", "x", hexFP('1', 40), "--algorithm", "SHA1", "--configfile", cfg}, code: 1, errOut: "SHA-1 is broken"},
		{args: []string{"trust", "certificate", "x", "ABCD", "--configfile", cfg}, code: 1, errOut: "has 4 hex digits"},
		{args: []string{"trust", "certificate", "x", hexFP('1', 64), "--algorithm", "MD5", "--configfile", cfg}, code: 1, errOut: `"MD5" is not supported`},
		{args: []string{"trust", "certificate", "contoso", strings.Repeat("AB", 32), "--configfile", cfg}, code: 1, errOut: "already has the certificate"},
		{args: []string{"trust", "certificate", "onlyname", "--configfile", cfg}, code: 2, errOut: "want 2 arguments (NAME, FINGERPRINT)"},
		{args: []string{"trust", "remove", "CONTOSO", "--configfile", cfg}, stdout: "Successfully removed the trusted signer 'CONTOSO'.\n"},
		{args: []string{"trust", "remove", "contoso", "--configfile", cfg}, stdout: "No trusted signers with the name: 'contoso' were found.\n"},
		{args: []string{"trust", "list", "--configfile", cfg}, stdout: "There are no trusted signers.\n"},
	})
	if got := trustRead(t, cfg); got != "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <!-- keep -->\n</configuration>\n" {
		t.Errorf("after remove:\n%s", got)
	}
}

// certFingerprint returns the upper-case SHA-256 fingerprint of the
// signer of a package's primary signature or of its first countersignature,
// read with the CMS layer.
func certFingerprint(t *testing.T, pkg string, counter bool) string {
	t.Helper()
	sd, err := cms.Parse(readSignature(t, pkg))
	if err != nil {
		t.Fatal(err)
	}
	si := sd.SignerInfos[0]
	if counter {
		cs, err := si.Countersignatures()
		if err != nil || len(cs) == 0 {
			t.Fatalf("no countersignature in %s: %v", pkg, err)
		}
		si = cs[0]
	}
	c, err := sd.SignerCertificate(si)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%X", sha256.Sum256(c.Raw))
}

func TestTrustFromRealPackages(t *testing.T) {
	real := func(n string) string { return filepath.Join(fixtures.Dir(t), "real", n) }
	newtonsoft := real("Newtonsoft.Json.13.0.1.nupkg")
	friendly := real("Microsoft.AspNet.FriendlyUrls.1.0.2.nupkg")
	authorOnly := real("TestPackage.AuthorSigned.1.0.0.nupkg")
	unsigned := filepath.Join(fixtures.Dir(t), "unsigned", "TestUnsigned.1.0.0.nupkg")
	cfg := trustConfig(t, "")
	runTrustSteps(t, []trustStep{
		{args: []string{"trust", "author", "json.net", newtonsoft, "--configfile", cfg}, stdout: "Successfully added a trusted author 'json.net'.\n"},
		{args: []string{"trust", "author", "JSON.NET", newtonsoft, "--configfile", cfg}, code: 1, errOut: "signet: error: A trusted signer 'json.net' already exists."},
		{args: []string{"trust", "author", "friendly", friendly, "--configfile", cfg}, code: 1, errOut: "The package is not author signed (its primary signature is a repository primary signature)"},
		{args: []string{"trust", "repository", "nuget.org", newtonsoft, "--owners", "jamesnk;Microsoft", "--owners", "newtonsoft", "--allow-untrusted-root", "--configfile", cfg},
			stdout: "Successfully added a trusted repository 'nuget.org'.\n"},
		{args: []string{"trust", "repository", "other", friendly, "--configfile", cfg}, code: 1,
			errOut: "A trusted repository with the service index 'https://api.nuget.org/v3/index.json' already exists."},
		{args: []string{"trust", "author", "x", unsigned, "--configfile", cfg}, code: 1, errOut: "The package is not signed."},
		{args: []string{"trust", "repository", "x", authorOnly, "--configfile", cfg}, code: 1, errOut: "not repository signed or countersigned"},
		{args: []string{"trust", "author", "x", real("Missing.1.0.0.nupkg"), "--configfile", cfg}, code: 1, errOut: "Missing.1.0.0.nupkg"},
		{args: []string{"trust", "author", "x", newtonsoft, "--owners", "a", "--configfile", cfg}, code: 2},
		{args: []string{"trust", "author", "x", "--configfile", cfg}, code: 2, errOut: "want 2 arguments (NAME, PACKAGE)"},
	})
	want := "  <trustedSigners>\n    <author name=\"json.net\">\n" +
		"      <certificate fingerprint=\"" + certFingerprint(t, newtonsoft, false) + "\" hashAlgorithm=\"SHA256\" allowUntrustedRoot=\"false\" />\n    </author>\n" +
		"    <repository name=\"nuget.org\" serviceIndex=\"https://api.nuget.org/v3/index.json\">\n" +
		"      <certificate fingerprint=\"" + certFingerprint(t, newtonsoft, true) + "\" hashAlgorithm=\"SHA256\" allowUntrustedRoot=\"true\" />\n" +
		"      <owners>jamesnk;Microsoft;newtonsoft</owners>\n    </repository>\n  </trustedSigners>\n"
	if got := trustRead(t, cfg); !strings.Contains(got, want) {
		t.Errorf("config:\n%s\nwant it to contain:\n%s", got, want)
	}
	// A repository-signed package gives its primary signature's certificate.
	cfg2 := trustConfig(t, "")
	runTrustSteps(t, []trustStep{{args: []string{"trust", "repository", "nuget.org", friendly, "--configfile", cfg2}, stdout: "Successfully added"}})
	if got := trustRead(t, cfg2); !strings.Contains(got, `fingerprint="`+certFingerprint(t, friendly, false)+`"`) {
		t.Errorf("repository-signed package:\n%s", got)
	}
}

// TestTrustSignetSignedPackage trusts the author and repository of a
// package Signet signed and countersigned with the openssl-made test PKI.
func TestTrustSignetSignedPackage(t *testing.T) {
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	pkg := filepath.Join(t.TempDir(), "Contoso.Lib.1.0.0.nupkg")
	writeTestPackage(t, pkg, "Contoso.Lib", "1.0.0")
	if code, out, errOut := runCLI(t, "sign", pkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.codePFX, "--certificate-password", p.codePassword, "--timestamper", tsaURL); code != 0 {
		t.Fatalf("sign: %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "repository-sign", pkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.repoPFX, "--timestamper", tsaURL,
		"--service-index-url", "https://feed.example/v3/index.json", "--owners", "alice;bob"); code != 0 {
		t.Fatalf("repository-sign: %d\n%s\n%s", code, out, errOut)
	}
	cfg := trustConfig(t, "")
	runTrustSteps(t, []trustStep{
		{args: []string{"trust", "author", "contoso", pkg, "--allow-untrusted-root", "--configfile", cfg}, stdout: "Successfully added a trusted author 'contoso'."},
		{args: []string{"trust", "repository", "feed", pkg, "--owners", "alice", "--configfile", cfg}, stdout: "Successfully added a trusted repository 'feed'."},
	})
	got := trustRead(t, cfg)
	for _, want := range []string{
		`fingerprint="` + pemFingerprint(t, p.codePEM) + `" hashAlgorithm="SHA256" allowUntrustedRoot="true"`,
		`<repository name="feed" serviceIndex="https://feed.example/v3/index.json">`,
		"<owners>alice</owners>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
}

func pemFingerprint(t *testing.T, path string) string {
	t.Helper()
	b, _ := pem.Decode([]byte(trustRead(t, path)))
	if b == nil {
		t.Fatalf("no PEM in %s", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%X", sha256.Sum256(c.Raw))
}

// trustFeed serves a service index and a RepositorySignatures resource over
// TLS; certs is the resource's signingCertificates JSON, swappable.
func trustFeed(t *testing.T, certs *atomic.Value) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v3/index.json":
			fmt.Fprintf(w, `{"version":"3.0.0","resources":[{"@id":"%s/v3/sigs.json","@type":"RepositorySignatures/5.0.0"},{"@id":"%s/flat/","@type":"PackageBaseAddress/3.0.0"}]}`, srv.URL, srv.URL)
		case "/v3/sigs.json":
			fmt.Fprintf(w, `{"allRepositorySigned":true,"signingCertificates":[%s]}`, certs.Load().(string))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	old := trustHTTPClient
	trustHTTPClient = srv.Client()
	t.Cleanup(func() { trustHTTPClient = old })
	return srv
}

func sigCertJSON(fps ...string) string {
	var kv []string
	oids := []string{"2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.2", "2.16.840.1.101.3.4.2.3"}
	for i, f := range fps {
		kv = append(kv, fmt.Sprintf("%q:%q", oids[i], f))
	}
	return `{"fingerprints":{` + strings.Join(kv, ",") + `},"subject":"CN=Feed","issuer":"CN=CA","notBefore":"2024-01-01T00:00:00Z","notAfter":"2027-01-01T00:00:00Z","contentUrl":"https://feed.example/cert.crt"}`
}

func TestTrustSourceAndSync(t *testing.T) {
	var certs atomic.Value
	certs.Store(sigCertJSON(hexFP('a', 64), hexFP('b', 96)) + "," + sigCertJSON(hexFP('c', 64)))
	srv := trustFeed(t, &certs)
	index := srv.URL + "/v3/index.json"
	cfg := trustConfig(t, `  <packageSources>
    <add key="MyFeed" value="`+index+`" />
    <add key="plain" value="http://127.0.0.1/v3/index.json" />
  </packageSources>
  <trustedSigners>
    <repository name="kept" serviceIndex="`+srv.URL+`/gone/index.json">
      <certificate fingerprint="`+hexFP('1', 64)+`" hashAlgorithm="SHA256" allowUntrustedRoot="false" />
    </repository>
  </trustedSigners>
`)
	runTrustSteps(t, []trustStep{
		{args: []string{"trust", "source", "myfeed", "--owners", "alice; bob", "--configfile", cfg}, stdout: "Successfully added a trusted repository 'myfeed'.\n"},
		{args: []string{"trust", "source", "again", "--source-url", index, "--configfile", cfg}, code: 1, errOut: "A trusted repository with the service index '" + index + "' already exists."},
		{args: []string{"trust", "source", "plain", "--configfile", cfg}, code: 1, errOut: "is not a valid https URL"},
		{args: []string{"trust", "source", "nosuch", "--configfile", cfg}, code: 1, errOut: `there is no package source named "nosuch"`},
		{args: []string{"trust", "source", "broken", "--source-url", srv.URL + "/nothing.json", "--configfile", cfg}, code: 1, errOut: "404"},
	})
	repo := func(fps string) string {
		return "    <repository name=\"myfeed\" serviceIndex=\"" + index + "\">\n" + fps + "      <owners>alice;bob</owners>\n    </repository>\n"
	}
	cert := func(fp, alg string) string {
		return "      <certificate fingerprint=\"" + fp + "\" hashAlgorithm=\"" + alg + "\" allowUntrustedRoot=\"false\" />\n"
	}
	if got, want := trustRead(t, cfg), repo(cert(hexFP('A', 64), "SHA256")+cert(hexFP('B', 96), "SHA384")+cert(hexFP('C', 64), "SHA256")); !strings.Contains(got, want) {
		t.Errorf("after source:\n%s\nwant it to contain:\n%s", got, want)
	}

	// The feed rotates its certificate; sync replaces the list, keeping
	// the owners.
	certs.Store(sigCertJSON(hexFP('d', 64), "", hexFP('e', 128)))
	runTrustSteps(t, []trustStep{
		{args: []string{"trust", "sync", "myfeed", "--configfile", cfg}, stdout: "Successfully synchronized the trusted repository 'myfeed'.\n"},
		{args: []string{"trust", "sync", "nosuch", "--configfile", cfg}, code: 1, errOut: "A trusted repository 'nosuch' does not exist."},
		{args: []string{"trust", "sync", "kept", "--configfile", cfg}, code: 1, errOut: "404"},
	})
	got := trustRead(t, cfg)
	want := "    <repository name=\"myfeed\" serviceIndex=\"" + index + "\">\n      <owners>alice;bob</owners>\n" +
		cert(hexFP('D', 64), "SHA256") + cert(hexFP('E', 128), "SHA512") + "    </repository>\n"
	if !strings.Contains(got, want) {
		t.Errorf("after sync:\n%s\nwant it to contain:\n%s", got, want)
	}
	if !strings.Contains(got, hexFP('1', 64)) {
		t.Error("sync touched another repository")
	}
	if bytes.Contains([]byte(got), []byte(hexFP('A', 64))) {
		t.Error("sync kept an old certificate")
	}
}
