package main

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/tsa"
)

// testPKI is a PKI made with the openssl command line, so that what Signet
// signs is checked against certificates and PFX files it did not make.
type testPKI struct {
	dir                   string
	rootPEM               string
	codePFX, codePassword string
	codePEM, codeKey      string
	otherKey              string // a key that matches no certificate
	serverAuthPFX         string // a certificate without the code-signing EKU
	tsaPEM, tsaKey        string
	repoPFX               string
}

var (
	pkiOnce sync.Once
	pkiVal  *testPKI
	pkiErr  string
)

func openssl(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// makePKI builds (once per test binary) a root CA and leaves for code
// signing, timestamping, repository signing and TLS server use.
func makePKI(t testing.TB) *testPKI {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is required by these tests (scripts/test installs it): %v", err)
	}
	pkiOnce.Do(func() {
		dir, err := os.MkdirTemp("", "signet-testpki-")
		if err != nil {
			pkiErr = err.Error()
			return
		}
		p := &testPKI{dir: dir, codePassword: "s3cret"}
		write := func(name, s string) {
			os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600)
		}
		write("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n")
		write("code.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
		write("tsa.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
		write("server.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n")
		run := func(args ...string) { openssl(t, dir, args...) }
		run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.pem", "-days", "3650",
			"-subj", "/CN=Signet OpenSSL Test Root/O=Signet Tests", "-sha256", "-extensions", "v3_ca",
			"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
		leaf := func(name, cn, ext string) {
			run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name+".key", "-out", name+".csr", "-subj", "/CN="+cn+"/O=Signet Tests")
			run("x509", "-req", "-in", name+".csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
				"-out", name+".pem", "-days", "365", "-sha256", "-extfile", ext)
		}
		leaf("code", "Signet Test Author", "code.ext")
		leaf("repo", "Signet Test Repository", "code.ext")
		leaf("tsa", "Signet Test TSA", "tsa.ext")
		leaf("server", "Signet Test Server", "server.ext")
		run("genrsa", "-out", "other.key", "2048")
		run("pkcs12", "-export", "-in", "code.pem", "-inkey", "code.key", "-certfile", "root.pem", "-out", "code.pfx", "-passout", "pass:"+p.codePassword)
		run("pkcs12", "-export", "-in", "repo.pem", "-inkey", "repo.key", "-certfile", "root.pem", "-out", "repo.pfx", "-passout", "pass:")
		run("pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-out", "server.pfx", "-passout", "pass:")
		j := func(n string) string { return filepath.Join(dir, n) }
		p.rootPEM, p.codePFX, p.codePEM, p.codeKey = j("root.pem"), j("code.pfx"), j("code.pem"), j("code.key")
		p.otherKey, p.serverAuthPFX, p.tsaPEM, p.tsaKey, p.repoPFX = j("other.key"), j("server.pfx"), j("tsa.pem"), j("tsa.key"), j("repo.pfx")
		// openssl 3.0 cannot backdate certificates: they are valid from
		// this second, and a timestamp's lower bound (its time minus its
		// accuracy) must come after that, or verify reports NU3037. Wait
		// once, so that no test signs in the certificates' first seconds.
		time.Sleep(2 * time.Second)
		pkiVal = p
	})
	if pkiVal == nil {
		t.Fatalf("test PKI: %s", pkiErr)
	}
	return pkiVal
}

// startTSA runs Signet's timestamp authority with the openssl-made TSA
// certificate on 127.0.0.1 for the duration of the test.
func startTSA(t testing.TB, p *testPKI) string {
	t.Helper()
	id, err := signer.Load(p.tsaPEM, p.tsaKey, "")
	if err != nil {
		t.Fatal(err)
	}
	s := &tsa.Server{Certificate: id.Certificate, Chain: id.Chain, Signer: id.Signer}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL + "/"
}

// writeTestPackage writes a small valid package as dotnet pack lays it out.
func writeTestPackage(t testing.TB, path, id, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := []struct{ name, body string }{
		{"_rels/.rels", `<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" Target="/` + id + `.nuspec" Id="R1" /></Relationships>`},
		{id + ".nuspec", `<?xml version="1.0" encoding="utf-8"?><package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"><metadata><id>` + id + `</id><version>` + version + `</version><authors>Signet Tests</authors><description>A test package.</description></metadata></package>`},
		{"lib/net8.0/" + id + ".dll", strings.Repeat("not really a dll\n", 200)},
		{"[Content_Types].xml", `<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" /><Default Extension="nuspec" ContentType="application/octet" /><Default Extension="dll" ContentType="application/octet" /></Types>`},
	}
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// runCLI runs a signet subcommand in-process and returns its exit code,
// standard output and standard error.
func runCLI(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}
