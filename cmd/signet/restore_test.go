package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/client"
	"github.com/signet-nuget/signet/internal/client/testfeed"
	"github.com/signet-nuget/signet/internal/devpki"
	"github.com/signet-nuget/signet/internal/feed"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/restore/gpf"
	"github.com/signet-nuget/signet/internal/signer"
	"github.com/signet-nuget/signet/internal/store"
	"github.com/signet-nuget/signet/internal/tsa"
	"github.com/signet-nuget/signet/nusig"
)

// signedFeed is a feed that repository-signs every package with a
// certificate of a test CA, and the PEM file of that CA's root.
type signedFeed struct {
	*testfeed.Feed
	rootPEM string
	root    *devpki.CA
	tsa     nusig.Timestamper
}

func startSignedFeed(t *testing.T) *signedFeed {
	t.Helper()
	root, err := devpki.NewRoot("Signet Restore Root", devpki.CAOptions{Key: devpki.TestKey(t, 2048, 720)})
	if err != nil {
		t.Fatal(err)
	}
	repo, err := root.Issue(devpki.LeafOptions{CommonName: "Signet Restore Feed", Key: devpki.TestKey(t, 2048, 721)})
	if err != nil {
		t.Fatal(err)
	}
	tsaID, err := root.Issue(devpki.LeafOptions{CommonName: "Signet Restore TSA", Key: devpki.TestKey(t, 2048, 722),
		EKUs: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, CriticalEKU: true})
	if err != nil {
		t.Fatal(err)
	}
	tsaSrv := httptest.NewServer(&tsa.Server{Certificate: tsaID.Certificate, Chain: tsaID.Chain[1:], Signer: tsaID.Signer,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(tsaSrv.Close)
	ts := nusig.NewRFC3161Timestamper([]string{tsaSrv.URL}, 10*time.Second)
	f := testfeed.Start(t, func(c *feed.Config) {
		c.Signing = &feed.Signing{Certificate: repo.Certificate, Chain: repo.Chain[1:], Signer: repo.Signer,
			Timestamper: ts,
			Roots:       []*x509.Certificate{root.Root()}, TimestampRoots: []*x509.Certificate{root.Root()}}
	})
	path := filepath.Join(t.TempDir(), "feed-root.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Root().Raw}), 0o644)
	return &signedFeed{Feed: f, rootPEM: path, root: root, tsa: ts}
}

// pushAll pushes generated packages to the feed.
func (f *signedFeed) pushAll(t *testing.T, specs ...nupkgtest.Spec) {
	t.Helper()
	c, err := client.New(f.IndexURL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		b := nupkgtest.Bytes(t, s)
		if _, err := c.Push(t.Context(), strings.NewReader(string(b)), int64(len(b)), f.Key, client.PushOptions{}); err != nil {
			t.Fatalf("push %s %s: %v", s.ID, s.Version, err)
		}
	}
}

func dep(id, v string) nupkgtest.Dependency { return nupkgtest.Dependency{ID: id, Version: v} }

// TestInstall installs a package and its dependencies for a framework from
// a feed, verifying each; a tampered package fails with NU3008 and leaves
// nothing of itself.
func TestInstall(t *testing.T) {
	f := startSignedFeed(t)
	f.pushAll(t,
		nupkgtest.Spec{ID: "App.Lib", Version: "1.0.0", Dependencies: map[string][]nupkgtest.Dependency{
			"net8.0":         {dep("Dep.A", "[1.0, 2.0)")},
			"netstandard2.0": {dep("Dep.B", "1.0.0")},
		}},
		nupkgtest.Spec{ID: "Dep.A", Version: "1.0.0"},
		nupkgtest.Spec{ID: "Dep.A", Version: "1.5.0"},
		nupkgtest.Spec{ID: "Dep.A", Version: "2.0.0"},
		nupkgtest.Spec{ID: "Dep.B", Version: "1.0.0", Files: map[string][]byte{"lib/netstandard2.0/Dep.B.dll": []byte(strings.Repeat("not really a DLL; ", 100))}},
	)
	folder := filepath.Join(t.TempDir(), "packages")
	code, stdout, stderr := runCLI(t, "install", "App.Lib", "--framework", "net8.0", "-s", f.IndexURL, "--packages", folder, "--trust-bundle", f.rootPEM)
	if code != 0 {
		t.Fatalf("install = %d\n%s%s", code, stdout, stderr)
	}
	for _, iv := range [][2]string{{"app.lib", "1.0.0"}, {"dep.a", "1.0.0"}} {
		if !gpf.Exists(folder, iv[0], iv[1]) {
			t.Errorf("%s %s not installed", iv[0], iv[1])
		}
		for _, name := range []string{iv[0] + "." + iv[1] + ".nupkg", iv[0] + "." + iv[1] + ".nupkg.sha512", ".nupkg.metadata", iv[0] + ".nuspec"} {
			if _, err := os.Stat(filepath.Join(folder, iv[0], iv[1], name)); err != nil {
				t.Errorf("%s %s: %v", iv[0], iv[1], err)
			}
		}
	}
	if gpf.Exists(folder, "dep.b", "1.0.0") || gpf.Exists(folder, "dep.a", "1.5.0") {
		t.Fatal("installed packages of another framework or a higher version")
	}

	// Again: nothing is downloaded.
	code, stdout, _ = runCLI(t, "install", "App.Lib", "--framework", "net8.0", "-s", f.IndexURL, "--packages", folder, "--trust-bundle", f.rootPEM)
	if code != 0 || !strings.Contains(stdout, "App.Lib 1.0.0 is in the packages folder already") {
		t.Fatalf("second install = %d\n%s", code, stdout)
	}

	// A package whose bytes changed on the feed's storage fails the
	// install with NU3008; nothing of it is on disk.
	f.Tamper(t, "Dep.B", "1.0.0", func(b []byte) []byte {
		// A byte in the data of the library, past its local header.
		i := strings.Index(string(b), "lib/netstandard2.0/Dep.B.dll")
		b[i+len("lib/netstandard2.0/Dep.B.dll")+10] ^= 0xff
		return b
	})
	code, stdout, stderr = runCLI(t, "install", "App.Lib", "--framework", "netstandard2.0", "-s", f.IndexURL, "--packages", folder, "--trust-bundle", f.rootPEM, "--json")
	if code != 1 || !strings.Contains(stdout, "NU3008") {
		t.Fatalf("install of a tampered package = %d\n%s%s", code, stdout, stderr)
	}
	var summary jsonRestore
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil || summary.Succeeded {
		t.Fatalf("JSON summary: %v %+v", err, summary)
	}
	if _, err := os.Stat(filepath.Join(folder, "dep.b")); !os.IsNotExist(err) {
		entries, _ := os.ReadDir(filepath.Join(folder, "dep.b"))
		t.Fatalf("tampered package left %v (%v)", entries, err)
	}
}

// TestInstallTrustPolicy: in require mode an author or repository not in
// trustedSigners fails with NU3034; trusting the feed as a repository
// (with an owners filter) passes.
func TestInstallTrustPolicy(t *testing.T) {
	f := startSignedFeed(t)
	f.pushAll(t, nupkgtest.Spec{ID: "Trusted.Pkg", Version: "1.0.0"})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nuget.config")
	os.WriteFile(cfg, []byte(`<?xml version="1.0" encoding="utf-8"?>
<configuration><config><add key="signatureValidationMode" value="require" /></config></configuration>`), 0o644)
	folder := filepath.Join(dir, "packages")
	install := func() (int, string, string) {
		return runCLI(t, "install", "Trusted.Pkg", "-s", f.IndexURL, "--packages", folder, "--trust-bundle", f.rootPEM, "--configfile", cfg)
	}
	if code, stdout, stderr := install(); code != 1 || !strings.Contains(stderr, "NU3034") {
		t.Fatalf("require mode, nothing trusted = %d\n%s%s", code, stdout, stderr)
	}
	// Trust the feed's repository certificate, from a package it signed,
	// for packages owned by someone else: still refused.
	c, _ := client.New(f.IndexURL, client.Options{})
	pkg, err := c.DownloadNupkgFile(t.Context(), "Trusted.Pkg", "1.0.0", dir)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "trust", "repository", "feed", pkg, "--owners", "somebody", "--configfile", cfg); code != 0 {
		t.Fatalf("trust repository = %d %s%s", code, out, errs)
	}
	if code, stdout, stderr := install(); code != 1 || !strings.Contains(stderr, "NU3034") {
		t.Fatalf("require mode, owners filter not matching = %d\n%s%s", code, stdout, stderr)
	}
	runCLI(t, "trust", "remove", "feed", "--configfile", cfg)
	if code, out, errs := runCLI(t, "trust", "repository", "feed", pkg, "--owners", "tester", "--configfile", cfg); code != 0 {
		t.Fatalf("trust repository = %d %s%s", code, out, errs)
	}
	if code, stdout, stderr := install(); code != 0 {
		t.Fatalf("require mode, feed trusted for its owner = %d\n%s%s", code, stdout, stderr)
	}
}

// graphSpecs is a generated graph for a project targeting net8.0 and
// netstandard2.0: a chain of 22 libraries whose net8.0 groups follow every
// link and whose netstandard2.0 groups skip one, each in two versions, and
// three direct references (one floating, one net8.0 only).
func graphSpecs() []nupkgtest.Spec {
	var specs []nupkgtest.Spec
	const chain = 22
	for i := range chain {
		for _, v := range []string{"1.0.0", "1.1.0"} {
			deps := map[string][]nupkgtest.Dependency{"net8.0": nil, "netstandard2.0": nil}
			if i+1 < chain {
				deps["net8.0"] = []nupkgtest.Dependency{dep(fmt.Sprintf("Graph.L%02d", i+1), "1.0.0")}
			}
			if i+2 < chain {
				deps["netstandard2.0"] = []nupkgtest.Dependency{dep(fmt.Sprintf("Graph.L%02d", i+2), "[1.0.0, 2.0.0)")}
			}
			specs = append(specs, nupkgtest.Spec{ID: fmt.Sprintf("Graph.L%02d", i), Version: v, Dependencies: deps,
				Files: map[string][]byte{fmt.Sprintf("lib/net8.0/Graph.L%02d.dll", i): []byte(strings.Repeat("code ", 50))}})
		}
	}
	specs = append(specs,
		nupkgtest.Spec{ID: "Top.A", Version: "1.0.0", Dependencies: map[string][]nupkgtest.Dependency{"": {dep("Graph.L00", "1.0.0")}}},
		nupkgtest.Spec{ID: "Top.B", Version: "2.0.0"},
		nupkgtest.Spec{ID: "Top.B", Version: "2.5.0"},
		nupkgtest.Spec{ID: "Only.Net8", Version: "1.0.0"},
		nupkgtest.Spec{ID: "Only.Net8", Version: "1.2.0"},
	)
	return specs
}

const graphProject = `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFrameworks>net8.0;netstandard2.0</TargetFrameworks>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Top.A" Version="1.0.0" />
    <PackageReference Include="Top.B" Version="[2.0,3.0)" />
  </ItemGroup>
  <ItemGroup Condition="'$(TargetFramework)' == 'net8.0'">
    <PackageReference Include="Only.Net8" Version="1.*" />
  </ItemGroup>
</Project>
`

// TestRestoreProject is issue #6's end-to-end restore against a real feed
// whose packages are author-signed and carry the feed's repository
// signature: a 25-package graph over two frameworks restores; with one
// package's bytes flipped on the feed's storage the restore fails with
// NU3008 and leaves the folder without it; in require mode an author not
// in trustedSigners fails with NU3034; with the feed trusted as a
// repository (owners filter) it passes.
func TestRestoreProject(t *testing.T) {
	f := startSignedFeed(t)
	author := f.registerAuthor(t)
	f.pushSigned(t, author, graphSpecs()...)
	dir := t.TempDir()
	proj := filepath.Join(dir, "App", "App.csproj")
	os.MkdirAll(filepath.Dir(proj), 0o755)
	os.WriteFile(proj, []byte(graphProject), 0o644)
	folder := filepath.Join(dir, "packages")
	restore := func(folder string, extra ...string) (int, string, string) {
		return runCLI(t, append([]string{"restore", proj, "-s", f.IndexURL, "--packages", folder, "--trust-bundle", f.rootPEM}, extra...)...)
	}
	code, stdout, stderr := restore(folder, "--json")
	if code != 0 {
		t.Fatalf("restore = %d\n%s%s", code, stdout, stderr)
	}
	var summary jsonRestore
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil || !summary.Succeeded {
		t.Fatalf("summary: %v\n%s", err, stdout)
	}
	if len(summary.Packages) != 25 {
		t.Fatalf("restored %d packages, want 25: %+v", len(summary.Packages), summary.Packages)
	}
	want := map[string]string{"top.a": "1.0.0", "top.b": "2.0.0", "only.net8": "1.2.0", "graph.l00": "1.0.0", "graph.l01": "1.0.0", "graph.l21": "1.0.0"}
	for id, v := range want {
		if !gpf.Exists(folder, id, v) {
			t.Errorf("%s %s not in the folder", id, v)
		}
	}
	if gpf.Exists(folder, "graph.l05", "1.1.0") || gpf.Exists(folder, "top.b", "2.5.0") {
		t.Error("restore took a version higher than the lowest applicable")
	}

	// Flip a byte of one package on the feed's storage: a restore into a
	// fresh folder fails with NU3008 and leaves no trace of that package.
	f.Tamper(t, "Graph.L05", "1.0.0", func(b []byte) []byte {
		i := strings.Index(string(b), "lib/net8.0/Graph.L05.dll")
		b[i+len("lib/net8.0/Graph.L05.dll")+8] ^= 0xff
		return b
	})
	fresh := filepath.Join(dir, "fresh")
	code, stdout, stderr = restore(fresh)
	if code != 1 || !strings.Contains(stderr, "NU3008") || !strings.Contains(stderr, "Graph.L05") {
		t.Fatalf("restore with a tampered package = %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(fresh, "graph.l05")); !os.IsNotExist(err) {
		t.Fatalf("the tampered package left something: %v", err)
	}

	// Require mode: an author nobody trusts is NU3034; trusting the feed
	// as a repository for its owner passes (the folder from the first
	// restore has everything, so use another and an untampered graph).
	cfg := filepath.Join(dir, "nuget.config")
	os.WriteFile(cfg, []byte(`<?xml version="1.0" encoding="utf-8"?>
<configuration><config><add key="signatureValidationMode" value="require" /></config></configuration>`), 0o644)
	os.WriteFile(proj, []byte(strings.Replace(graphProject, `<PackageReference Include="Top.A" Version="1.0.0" />`, "", 1)), 0o644)
	strict := filepath.Join(dir, "strict")
	code, stdout, stderr = restore(strict, "--configfile", cfg)
	if code != 1 || !strings.Contains(stderr, "NU3034") {
		t.Fatalf("require mode without trusted signers = %d\n%s%s", code, stdout, stderr)
	}
	pkg := filepath.Join(folder, "top.b", "2.0.0", "top.b.2.0.0.nupkg")
	if code, out, errs := runCLI(t, "trust", "repository", "feed", pkg, "--owners", "tester", "--configfile", cfg); code != 0 {
		t.Fatalf("trust repository = %d %s%s", code, out, errs)
	}
	code, stdout, stderr = restore(strict, "--configfile", cfg)
	if code != 0 {
		t.Fatalf("require mode trusting the feed = %d\n%s%s", code, stdout, stderr)
	}
}

// registerAuthor makes an author certificate under the feed's test CA and
// registers it to the feed's user, so that its pushes may be signed.
func (f *signedFeed) registerAuthor(t *testing.T) *signer.Identity {
	t.Helper()
	id, err := f.root.Issue(devpki.LeafOptions{CommonName: "Restore Test Author", Key: devpki.TestKey(t, 2048, 723)})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := f.Store.AccountByName(t.Context(), "tester")
	if err != nil {
		t.Fatal(err)
	}
	c := id.Certificate
	sum := sha256.Sum256(c.Raw)
	if _, err := f.Store.AddCertificate(t.Context(), acc.ID, store.Certificate{SHA256: sum[:], DER: c.Raw,
		Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter}); err != nil {
		t.Fatal(err)
	}
	return id
}

// pushSigned author-signs the packages and pushes them.
func (f *signedFeed) pushSigned(t *testing.T, author *signer.Identity, specs ...nupkgtest.Spec) {
	t.Helper()
	c, err := client.New(f.IndexURL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		b := signWith(t, nupkgtest.Bytes(t, s), author, f.tsa)
		if _, err := c.Push(t.Context(), bytes.NewReader(b), int64(len(b)), f.Key, client.PushOptions{}); err != nil {
			t.Fatalf("push %s %s: %v", s.ID, s.Version, err)
		}
	}
}
