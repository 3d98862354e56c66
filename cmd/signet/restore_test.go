package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
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
	"github.com/signet-nuget/signet/internal/tsa"
	"github.com/signet-nuget/signet/nusig"
)

// signedFeed is a feed that repository-signs every package with a
// certificate of a test CA, and the PEM file of that CA's root.
type signedFeed struct {
	*testfeed.Feed
	rootPEM string
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
	f := testfeed.Start(t, func(c *feed.Config) {
		c.Signing = &feed.Signing{Certificate: repo.Certificate, Chain: repo.Chain[1:], Signer: repo.Signer,
			Timestamper: nusig.NewRFC3161Timestamper([]string{tsaSrv.URL}, 10*time.Second),
			Roots:       []*x509.Certificate{root.Root()}, TimestampRoots: []*x509.Certificate{root.Root()}}
	})
	path := filepath.Join(t.TempDir(), "feed-root.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Root().Raw}), 0o644)
	return &signedFeed{Feed: f, rootPEM: path}
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
