package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/fixtures"
)

func fixtureRootsPEM(t *testing.T) string {
	return filepath.Join(fixtures.Dir(t), "roots", "roots_used_by_fixtures.pem")
}

// TestVerifyCLIRealPackages: real packages verify through the CLI, offline,
// with dotnet's shape of output; an unsigned one fails with NU3004.
func TestVerifyCLIRealPackages(t *testing.T) {
	real := filepath.Join(fixtures.Dir(t), "real", "Newtonsoft.Json.13.0.1.nupkg")
	code, out, errOut := runCLI(t, "verify", real, "--all", "--trust-bundle", fixtureRootsPEM(t), "--offline")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"Verifying Newtonsoft.Json.13.0.1",
		"Signature Hash Algorithm: SHA256",
		"Signature type: Author",
		"CN=Json.NET (.NET Foundation)",
		"Signature type: Repository",
		"Service index: https://api.nuget.org/v3/index.json",
		"Timestamp: ",
		"Chain ends at root: ",
		"Successfully verified package 'Newtonsoft.Json.13.0.1'.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	unsigned := filepath.Join(fixtures.Dir(t), "unsigned", "TestUnsigned.1.0.0.nupkg")
	code, out, _ = runCLI(t, "verify", unsigned, "--all", "--offline")
	if code != 1 || !strings.Contains(out, "NU3004") || !strings.Contains(out, "Package signature validation failed.") {
		t.Fatalf("unsigned: exit %d, output:\n%s", code, out)
	}

	notPkg := filepath.Join(t.TempDir(), "x.nupkg")
	os.WriteFile(notPkg, []byte("not a zip"), 0o644)
	code, _, errOut = runCLI(t, "verify", notPkg)
	if code != 1 || !strings.Contains(errOut, "is not a valid package file") {
		t.Fatalf("not a package: exit %d, stderr %q", code, errOut)
	}
}

// TestVerifyCLIJSON: --json prints the same facts as data, one object per
// package, and the exit code still says whether all passed.
func TestVerifyCLIJSON(t *testing.T) {
	dir := filepath.Join(fixtures.Dir(t), "real")
	pkgs := []string{filepath.Join(dir, "Microsoft.AspNet.Mvc.5.2.7.nupkg"), filepath.Join(fixtures.Dir(t), "invalid", "TestSigned.leaf-1.1.0.0.nupkg")}
	code, out, errOut := runCLI(t, append([]string{"verify", "--json", "--offline", "--trust-bundle", fixtureRootsPEM(t)}, pkgs...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (one package is signed by an untrusted test CA)\n%s", code, errOut)
	}
	var got []jsonPackage
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(got) != 2 {
		t.Fatalf("%d objects, want 2", len(got))
	}
	mvc, bad := got[0], got[1]
	if !mvc.Valid || len(mvc.Signatures) != 2 || mvc.Signatures[0].Type != "Author" || mvc.Signatures[1].Placement != "countersignature" {
		t.Errorf("Mvc: %+v", mvc)
	}
	if s := mvc.Signatures[1]; s.ServiceIndexURL != "https://api.nuget.org/v3/index.json" || len(s.Owners) == 0 || s.Timestamp == nil || !s.RootTrusted {
		t.Errorf("Mvc countersignature: %+v", s)
	}
	if mvc.Signatures[0].Certificate == nil || len(mvc.Signatures[0].Certificate.SHA256) != 64 {
		t.Errorf("Mvc author certificate: %+v", mvc.Signatures[0].Certificate)
	}
	if bad.Valid {
		t.Errorf("test-CA package valid: %+v", bad)
	}
	found := false
	for _, s := range bad.Signatures {
		for _, i := range s.Issues {
			if i.Code == "NU3018" && i.Severity == "error" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("test-CA package lacks an NU3018 error: %+v", bad)
	}
}

// TestVerifyCLIRequireMode: with signatureValidationMode=require, a package
// whose author is not in trustedSigners fails with NU3034; trusting its
// certificate (signet trust certificate) makes it pass.
func TestVerifyCLIRequireMode(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nuget.config")
	os.WriteFile(cfg, []byte(`<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config><add key="signatureValidationMode" value="require" /></config>
  <trustedSigners>
    <author name="someone-else">
      <certificate fingerprint="0000000000000000000000000000000000000000000000000000000000000000" hashAlgorithm="SHA256" allowUntrustedRoot="false" />
    </author>
  </trustedSigners>
</configuration>`), 0o644)
	pkg := filepath.Join(fixtures.Dir(t), "real", "TestPackage.AuthorSigned.1.0.0.nupkg")
	args := []string{"verify", pkg, "--offline", "--trust-bundle", fixtureRootsPEM(t), "--configfile", cfg}
	code, out, _ := runCLI(t, args...)
	if code != 1 || !strings.Contains(out, "NU3034") {
		t.Fatalf("untrusted author: exit %d\n%s", code, out)
	}
	if code, out, errOut := runCLI(t, "trust", "author", "msft", pkg, "--configfile", cfg); code != 0 {
		t.Fatalf("trust author: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, args...)
	if code != 0 || strings.Contains(out, "NU3034") {
		t.Fatalf("trusted author: exit %d\n%s", code, out)
	}
}
