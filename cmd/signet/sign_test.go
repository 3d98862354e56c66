package main

import (
	"archive/zip"
	"bytes"
	"crypto"
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/cms"
	"github.com/signet-nuget/signet/internal/fixtures"
)

// readSignature returns the .signature.p7s entry of a package and checks
// that archive/zip reads every other entry of it.
func readSignature(t *testing.T, path string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("archive/zip cannot read the signed package: %v", err)
	}
	defer zr.Close()
	var sig []byte
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("reading %s: %v", f.Name, err)
		}
		if f.Name == ".signature.p7s" {
			sig = b
		}
	}
	if sig == nil {
		t.Fatal("no .signature.p7s in the signed package")
	}
	return sig
}

func hashOf(h crypto.Hash, b []byte) []byte {
	w := h.New()
	w.Write(b)
	return w.Sum(nil)
}

var hashOIDs = map[crypto.Hash]string{
	crypto.SHA256: "2.16.840.1.101.3.4.2.1",
	crypto.SHA384: "2.16.840.1.101.3.4.2.2",
	crypto.SHA512: "2.16.840.1.101.3.4.2.3",
}

func attrOIDs(attrs []cms.Attribute) []string {
	var s []string
	for _, a := range attrs {
		s = append(s, a.Type.String())
	}
	sort.Strings(s)
	return slices.Compact(s)
}

// realAuthorAttributes returns the signed attribute types of a real author
// signature from the fixtures.
func realAuthorAttributes(t *testing.T) []string {
	t.Helper()
	sig := readSignature(t, filepath.Join(fixtures.Dir(t), "real", "TestPackage.AuthorSigned.1.0.0.nupkg"))
	sd, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	return attrOIDs(sd.SignerInfos[0].SignedAttrs)
}

func TestSignIsAcceptedByOpenSSL(t *testing.T) {
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	wantAttrs := realAuthorAttributes(t)
	for _, alg := range []struct {
		name string
		h    crypto.Hash
	}{{"SHA256", crypto.SHA256}, {"SHA384", crypto.SHA384}, {"SHA512", crypto.SHA512}} {
		t.Run(alg.name, func(t *testing.T) {
			dir := t.TempDir()
			pkg := filepath.Join(dir, "Contoso.Lib.1.0.0.nupkg")
			orig := writeTestPackage(t, pkg, "Contoso.Lib", "1.0.0")
			code, out, errOut := runCLI(t, "sign", pkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.codePFX, "--certificate-password", p.codePassword,
				"--timestamper", tsaURL, "--hash-algorithm", alg.name, "--timestamp-hash-algorithm", alg.name)
			if code != 0 {
				t.Fatalf("sign exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if !strings.Contains(out, "Package(s) signed successfully.") {
				t.Errorf("stdout lacks the success line:\n%s", out)
			}
			sig := readSignature(t, pkg)
			sigPath := filepath.Join(dir, "sig.p7s")
			os.WriteFile(sigPath, sig, 0o644)
			contentPath := filepath.Join(dir, "content.txt")
			openssl(t, dir, "cms", "-verify", "-inform", "DER", "-in", sigPath, "-binary", "-CAfile", p.rootPEM, "-purpose", "any", "-out", contentPath)
			got, _ := os.ReadFile(contentPath)
			want := "Version:1\n\n" + hashOIDs[alg.h] + "-Hash:" + base64.StdEncoding.EncodeToString(hashOf(alg.h, orig)) + "\n\n"
			if string(got) != want {
				t.Fatalf("openssl cms output = %q\nwant %q", got, want)
			}

			sd, err := cms.Parse(sig)
			if err != nil {
				t.Fatal(err)
			}
			si := sd.SignerInfos[0]
			if got := attrOIDs(si.SignedAttrs); !slices.Equal(got, wantAttrs) {
				t.Errorf("signed attributes %v, real author signatures carry %v", got, wantAttrs)
			}
			tokens := si.UnsignedAttr(cms.OIDTimeStampToken)
			if len(tokens) != 1 || len(tokens[0].Values) != 1 {
				t.Fatalf("want one timestamp token, have %v", tokens)
			}
			tokPath := filepath.Join(dir, "token.der")
			os.WriteFile(tokPath, tokens[0].Values[0], 0o644)
			openssl(t, dir, "ts", "-verify", "-in", tokPath, "-token_in", "-digest", hex.EncodeToString(hashOf(alg.h, si.Signature)),
				"-CAfile", p.rootPEM, "-untrusted", p.tsaPEM)

			code, out, errOut = runCLI(t, "verify", pkg, "--trust-bundle", p.rootPEM, "--offline")
			if code != 0 {
				t.Fatalf("verify exit %d\n%s\n%s", code, out, errOut)
			}
		})
	}
}

func TestRepositorySign(t *testing.T) {
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	dir := t.TempDir()
	pkg := filepath.Join(dir, "Contoso.Lib.2.0.0.nupkg")
	writeTestPackage(t, pkg, "Contoso.Lib", "2.0.0")
	if code, out, errOut := runCLI(t, "sign", pkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.codePFX, "--certificate-password", p.codePassword, "--timestamper", tsaURL); code != 0 {
		t.Fatalf("sign: %d\n%s\n%s", code, out, errOut)
	}
	authorSig := readSignature(t, pkg)
	repoArgs := []string{"repository-sign", pkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.repoPFX, "--timestamper", tsaURL,
		"--service-index-url", "https://feed.example/v3/index.json", "--owners", "alice;bob"}
	if code, out, errOut := runCLI(t, repoArgs...); code != 0 {
		t.Fatalf("repository-sign: %d\n%s\n%s", code, out, errOut)
	}
	sig := readSignature(t, pkg)
	sd, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := cms.Parse(authorSig)
	if !bytes.Equal(sd.SignerInfos[0].Signature, before.SignerInfos[0].Signature) || !bytes.Equal(sd.EContent, before.EContent) {
		t.Fatal("countersigning changed the author signature")
	}
	cs, err := sd.SignerInfos[0].Countersignatures()
	if err != nil || len(cs) != 1 {
		t.Fatalf("countersignatures: %d, %v", len(cs), err)
	}
	oids := attrOIDs(cs[0].SignedAttrs)
	for _, want := range []asn1.ObjectIdentifier{cms.OIDNuGetV3ServiceIndexURL, cms.OIDNuGetPackageOwners, cms.OIDSigningTime, cms.OIDSigningCertificateV2, cms.OIDCommitmentTypeIndication, cms.OIDMessageDigest} {
		if !slices.Contains(oids, want.String()) {
			t.Errorf("countersignature lacks attribute %v (has %v)", want, oids)
		}
	}
	// nuget.org's countersignatures carry content-type id-data (the fixtures
	// all do, against RFC 5652 11.4); Signet's match them.
	if err := cs[0].CheckContentType(nil); err != nil || !slices.Contains(oids, cms.OIDContentType.String()) {
		t.Errorf("countersignature content-type: %v (attributes %v)", err, oids)
	}
	if len(cs[0].UnsignedAttr(cms.OIDTimeStampToken)) != 1 {
		t.Error("countersignature is not timestamped")
	}
	sigPath := filepath.Join(dir, "sig.p7s")
	os.WriteFile(sigPath, sig, 0o644)
	openssl(t, dir, "cms", "-verify", "-inform", "DER", "-in", sigPath, "-binary", "-CAfile", p.rootPEM, "-purpose", "any", "-out", filepath.Join(dir, "c.txt"))

	code, out, errOut := runCLI(t, "verify", pkg, "--trust-bundle", p.rootPEM, "--offline")
	if code != 0 {
		t.Fatalf("verify: %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"Signature type: Author", "Signature type: Repository", "Service index: https://feed.example/v3/index.json", "Owners: alice, bob"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}

	// A second repository signature needs --overwrite, which replaces it.
	before2, _ := os.ReadFile(pkg)
	code, _, errOut = runCLI(t, repoArgs...)
	if code != 1 || !strings.Contains(errOut, "NU3032") {
		t.Fatalf("second repository-sign: exit %d, stderr %q; want 1 and NU3032", code, errOut)
	}
	if after, _ := os.ReadFile(pkg); !bytes.Equal(before2, after) {
		t.Fatal("a failed repository-sign changed the package")
	}
	if code, out, errOut := runCLI(t, append(repoArgs, "--overwrite")...); code != 0 {
		t.Fatalf("repository-sign --overwrite: %d\n%s\n%s", code, out, errOut)
	}
	sd, _ = cms.Parse(readSignature(t, pkg))
	if cs, _ := sd.SignerInfos[0].Countersignatures(); len(cs) != 1 {
		t.Fatalf("after --overwrite: %d countersignatures, want 1", len(cs))
	}

	// An unsigned package gets a primary repository signature.
	unsigned := filepath.Join(dir, "Contoso.Other.1.0.0.nupkg")
	writeTestPackage(t, unsigned, "Contoso.Other", "1.0.0")
	if code, out, errOut := runCLI(t, "repository-sign", unsigned, "--trust-bundle", p.rootPEM, "--certificate-path", p.repoPFX, "--timestamper", tsaURL, "--service-index-url", "https://feed.example/v3/index.json"); code != 0 {
		t.Fatalf("repository-sign unsigned: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "verify", unsigned, "--trust-bundle", p.rootPEM, "--offline")
	if code != 0 || !strings.Contains(out, "Signature type: Repository") {
		t.Fatalf("verify repository primary: %d\n%s\n%s", code, out, errOut)
	}
}

func TestSignNeedsOpenSSLAndUnzipToAgree(t *testing.T) {
	if _, err := exec.LookPath("unzip"); err != nil {
		t.Fatalf("unzip is required (scripts/test installs it): %v", err)
	}
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	dir := t.TempDir()
	pkg := filepath.Join(dir, "Contoso.Zip.1.0.0.nupkg")
	writeTestPackage(t, pkg, "Contoso.Zip", "1.0.0")
	if code, out, errOut := runCLI(t, "sign", pkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.codePEM, "--key-path", p.codeKey, "--timestamper", tsaURL); code != 0 {
		t.Fatalf("sign with PEM: %d\n%s\n%s", code, out, errOut)
	}
	if out, err := exec.Command("unzip", "-t", pkg).CombinedOutput(); err != nil {
		t.Fatalf("unzip -t: %v\n%s", err, out)
	}
}

// TestSignOverwrite: --overwrite replaces an author signature; the package
// still hashes to what the new signature names, and -o leaves the input be.
func TestSignOverwrite(t *testing.T) {
	p := makePKI(t)
	tsaURL := startTSA(t, p)
	dir := t.TempDir()
	pkg := filepath.Join(dir, "Contoso.Re.1.0.0.nupkg")
	orig := writeTestPackage(t, pkg, "Contoso.Re", "1.0.0")
	args := []string{"sign", pkg, "--trust-bundle", p.rootPEM, "--certificate-path", p.codePFX, "--certificate-password", p.codePassword, "--timestamper", tsaURL}
	if code, _, errOut := runCLI(t, args...); code != 0 {
		t.Fatal(errOut)
	}
	first := readSignature(t, pkg)
	if code, _, errOut := runCLI(t, append(args, "--overwrite", "--hash-algorithm", "SHA512")...); code != 0 {
		t.Fatal(errOut)
	}
	second := readSignature(t, pkg)
	if bytes.Equal(first, second) {
		t.Fatal("--overwrite kept the old signature")
	}
	sd, err := cms.Parse(second)
	if err != nil {
		t.Fatal(err)
	}
	want := "Version:1\n\n" + hashOIDs[crypto.SHA512] + "-Hash:" + base64.StdEncoding.EncodeToString(hashOf(crypto.SHA512, orig)) + "\n\n"
	if string(sd.EContent) != want {
		t.Fatalf("re-signed content %q, want %q (the hash of the original unsigned package)", sd.EContent, want)
	}
	out := filepath.Join(dir, "out")
	before, _ := os.ReadFile(pkg)
	if code, _, errOut := runCLI(t, append(args, "--overwrite", "-o", out)...); code != 0 {
		t.Fatal(errOut)
	}
	if after, _ := os.ReadFile(pkg); !bytes.Equal(before, after) {
		t.Fatal("signing with -o changed the input")
	}
	readSignature(t, filepath.Join(out, filepath.Base(pkg)))
}
