package gpf

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/signet-nuget/signet/internal/client"
	"github.com/signet-nuget/signet/internal/client/testfeed"
	"github.com/signet-nuget/signet/internal/fixtures"
	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/internal/pki"
	"github.com/signet-nuget/signet/nupkg"
	"github.com/signet-nuget/signet/nusig"
)

var ctx = context.Background()

// signedFixture is a small real package, repository-signed by nuget.org.
const (
	signedFixture = "real/Microsoft.AspNet.FriendlyUrls.1.0.2.nupkg"
	signedID      = "Microsoft.AspNet.FriendlyUrls"
	signedVersion = "1.0.2"
)

// verifier verifies packages as restore does in require mode, with the
// roots the fixtures chain to, counting its calls and recording whether
// anything of the package existed under root when it ran.
type verifier struct {
	opts    nusig.VerifyOptions
	calls   atomic.Int32
	root    string
	early   atomic.Bool // something existed under root/<id> during a call
	idLower string
}

func newVerifier(t *testing.T, root, id string) *verifier {
	t.Helper()
	var b pki.Bundle
	if err := b.AddFile(filepath.Join(fixtures.Dir(t), "roots", "roots_used_by_fixtures.pem")); err != nil {
		t.Fatal(err)
	}
	o := nusig.RequireModeOptions()
	o.Roots, o.TimestampRoots, o.OfflineRevocation = b.Certificates, b.Certificates, true
	return &verifier{opts: o, root: root, idLower: strings.ToLower(id)}
}

func (v *verifier) verify(p *nupkg.Package) error {
	v.calls.Add(1)
	if _, err := os.Lstat(filepath.Join(v.root, v.idLower)); err == nil {
		v.early.Store(true)
	}
	r := nusig.Verify(ctx, p, v.opts)
	if r.Valid() {
		return nil
	}
	var msgs []string
	for _, is := range r.AllIssues() {
		if is.Severity == nusig.SeverityError {
			msgs = append(msgs, is.String())
		}
	}
	return fmt.Errorf("signature validation failed: %s", strings.Join(msgs, "; "))
}

func accept(*nupkg.Package) error { return nil }

// download pushes pkg to the feed (unless it is there) and downloads id
// and version back into a file.
func download(t *testing.T, f *testfeed.Feed, id, version string) string {
	t.Helper()
	c, err := client.New(f.IndexURL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.DownloadNupkgFile(ctx, id, version, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func push(t *testing.T, f *testfeed.Feed, pkg []byte) {
	t.Helper()
	c, err := client.New(f.IndexURL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx, bytes.NewReader(pkg), int64(len(pkg)), f.Key, client.PushOptions{}); err != nil {
		t.Fatal(err)
	}
}

// listTree returns the slash paths of every file and directory under dir,
// and fails on anything that is neither.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		fi, _ := d.Info()
		switch {
		case d.IsDir():
			if fi.Mode().Perm() != dirMode&^umask(t) {
				t.Errorf("%s has mode %v", rel, fi.Mode())
			}
			rel += "/"
		case fi.Mode().IsRegular():
			if fi.Mode().Perm() != fileMode&^umask(t) {
				t.Errorf("%s has mode %v", rel, fi.Mode())
			}
		default:
			t.Errorf("%s is a %v", rel, fi.Mode().Type())
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	slices.Sort(out)
	return out
}

var (
	umaskOnce sync.Once
	umaskVal  os.FileMode
)

// umask finds the process umask by creating a file.
func umask(t *testing.T) os.FileMode {
	umaskOnce.Do(func() {
		p := filepath.Join(t.TempDir(), "probe")
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o777)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		fi, _ := os.Stat(p)
		umaskVal = 0o777 &^ fi.Mode().Perm()
	})
	return umaskVal
}

// TestInstallSignedFromFeed: a signed package downloaded from a real feed
// installs in NuGet's layout: the package and its hash, the lower-case
// manifest, the metadata marker with the unsigned content hash and the
// source, and every entry but the OPC parts (the signature included). A
// second install is a no-op that verifies nothing.
func TestInstallSignedFromFeed(t *testing.T) {
	f := testfeed.Start(t)
	orig := fixtures.Read(t, signedFixture)
	push(t, f, orig)
	pkgPath := download(t, f, signedID, signedVersion)
	root := filepath.Join(t.TempDir(), "packages")
	v := newVerifier(t, root, signedID)

	res, err := Install(ctx, root, pkgPath, v.verify, f.IndexURL)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "microsoft.aspnet.friendlyurls", "1.0.2")
	if !res.Installed || res.Dir != dir || res.ID != signedID || res.Version != "1.0.2" || v.calls.Load() != 1 || v.early.Load() {
		t.Fatalf("result %+v, %d verifications, early %v", res, v.calls.Load(), v.early.Load())
	}
	want := []string{
		".nupkg.metadata", ".signature.p7s", "Content/",
		"Content/App_Start/", "Content/App_Start/RouteConfig.cs.pp",
		"Content/Site.Mobile.Master.cs.pp", "Content/Site.Mobile.Master.designer.cs.pp", "Content/Site.Mobile.Master.pp",
		"Content/ViewSwitcher.ascx.cs.pp", "Content/ViewSwitcher.ascx.designer.cs.pp", "Content/ViewSwitcher.ascx.pp",
		"microsoft.aspnet.friendlyurls.1.0.2.nupkg", "microsoft.aspnet.friendlyurls.1.0.2.nupkg.sha512",
		"microsoft.aspnet.friendlyurls.nuspec", "readme.txt",
	}
	if got := listTree(t, dir); !slices.Equal(got, want) {
		t.Errorf("folder:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := listTree(t, root); len(got) != 2+len(want) {
		t.Errorf("root holds more than the package: %v", got)
	}

	gotPkg, _ := os.ReadFile(filepath.Join(dir, "microsoft.aspnet.friendlyurls.1.0.2.nupkg"))
	if !bytes.Equal(gotPkg, orig) {
		t.Error("the stored package differs from the download")
	}
	sum := sha512.Sum512(orig)
	fileHash := base64.StdEncoding.EncodeToString(sum[:])
	if b, _ := os.ReadFile(filepath.Join(dir, "microsoft.aspnet.friendlyurls.1.0.2.nupkg.sha512")); string(b) != fileHash {
		t.Errorf(".sha512 = %q, want %q", b, fileHash)
	}
	p, err := nupkg.Open(bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	unsigned, _ := p.HashUnsigned(crypto.SHA512)
	contentHash := base64.StdEncoding.EncodeToString(unsigned)
	if contentHash == fileHash {
		t.Fatal("a signed package's content hash equals its file hash")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, MetadataFile))
	wantMeta := "{\n  \"version\": 2,\n  \"contentHash\": \"" + contentHash + "\",\n  \"source\": \"" + f.IndexURL + "\"\n}"
	if string(raw) != wantMeta {
		t.Errorf(".nupkg.metadata:\n%s\nwant:\n%s", raw, wantMeta)
	}
	if res.ContentHash != contentHash {
		t.Errorf("result content hash %q", res.ContentHash)
	}
	rc, _ := p.OpenEntry("Microsoft.AspNet.FriendlyUrls.nuspec")
	var nuspec bytes.Buffer
	nuspec.ReadFrom(rc)
	rc.Close()
	if b, _ := os.ReadFile(filepath.Join(dir, "microsoft.aspnet.friendlyurls.nuspec")); !bytes.Equal(b, nuspec.Bytes()) {
		t.Error("the manifest differs from the package's")
	}
	if fi, err := os.Stat(filepath.Join(dir, "readme.txt")); err != nil || fi.ModTime().Year() != 2013 {
		t.Errorf("readme.txt time: %v %v", fi, err)
	}
	if !Exists(root, "MICROSOFT.AspNet.FriendlyUrls", "1.0.2.0") || Exists(root, signedID, "1.0.3") || Exists(root, "../x", "1.0.0") {
		t.Error("Exists is wrong")
	}
	if m, err := ReadMetadata(root, signedID, signedVersion); err != nil || m.Version != 2 || m.ContentHash != contentHash || m.Source != f.IndexURL {
		t.Errorf("ReadMetadata = %+v, %v", m, err)
	}

	res, err = Install(ctx, root, pkgPath, v.verify, f.IndexURL)
	if err != nil || res.Installed || res.ContentHash != contentHash || v.calls.Load() != 1 {
		t.Fatalf("second install = %+v, %v, %d verifications", res, err, v.calls.Load())
	}
}

// TestInstallUnsigned: an unsigned package's content hash is its file
// hash; an OPC-escaped name is unescaped; source may be empty.
func TestInstallUnsigned(t *testing.T) {
	f := testfeed.Start(t)
	b := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Plain.Pkg", Version: "2.0.0-RC.1", Files: map[string][]byte{
		"lib/net8.0/My%20Lib.dll": []byte("dll"), "package/other.txt": []byte("kept, as NuGet keeps it"), "_rels/x.xml": []byte("kept too"),
	}})
	push(t, f, b)
	root := t.TempDir()
	res, err := Install(ctx, root, download(t, f, "Plain.Pkg", "2.0.0-rc.1"), accept, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "plain.pkg", "2.0.0-rc.1")
	if res.Dir != dir || !res.Installed {
		t.Fatalf("result %+v", res)
	}
	sum := sha512.Sum512(b)
	var m Metadata
	raw, _ := os.ReadFile(filepath.Join(dir, MetadataFile))
	if err := json.Unmarshal(raw, &m); err != nil || m.ContentHash != base64.StdEncoding.EncodeToString(sum[:]) || strings.Contains(string(raw), "source") {
		t.Errorf("metadata %s", raw)
	}
	for _, p := range []string{"lib/net8.0/My Lib.dll", "package/other.txt", "_rels/x.xml", "plain.pkg.nuspec", "plain.pkg.2.0.0-rc.1.nupkg"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
}

// flipDataByte flips a byte inside the data of the first entry (in local
// header order) that is not the signature: the zip stays readable, the
// signed content changes.
func flipDataByte(t *testing.T) func([]byte) []byte {
	return func(b []byte) []byte {
		p, err := nupkg.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries() {
			if e.Name == nupkg.SignatureName || e.CompressedSize < 4 {
				continue
			}
			off := e.HeaderOffset
			nameLen := int64(binary.LittleEndian.Uint16(b[off+26:]))
			extraLen := int64(binary.LittleEndian.Uint16(b[off+28:]))
			data := off + 30 + nameLen + extraLen
			out := bytes.Clone(b)
			out[data+int64(e.CompressedSize)/2] ^= 0x55
			return out
		}
		t.Fatal("no entry to tamper with")
		return nil
	}
}

// TestTamperedPackageLeavesNothing: a signed package whose bytes were
// changed on the feed's storage fails verification (NU3008) before
// anything is written, and leaves nothing under the root.
func TestTamperedPackageLeavesNothing(t *testing.T) {
	f := testfeed.Start(t)
	push(t, f, fixtures.Read(t, signedFixture))
	f.Tamper(t, signedID, signedVersion, flipDataByte(t))
	root := filepath.Join(t.TempDir(), "packages")
	os.MkdirAll(root, 0o755)
	v := newVerifier(t, root, signedID)
	res, err := Install(ctx, root, download(t, f, signedID, signedVersion), v.verify, f.IndexURL)
	if err == nil || !strings.Contains(err.Error(), "NU3008") || res != nil {
		t.Fatalf("tampered install = %+v, %v", res, err)
	}
	if v.calls.Load() != 1 || v.early.Load() {
		t.Errorf("%d verifications, early %v", v.calls.Load(), v.early.Load())
	}
	if got := listTree(t, root); len(got) != 0 {
		t.Errorf("left on disk: %v", got)
	}
	if Exists(root, signedID, signedVersion) {
		t.Error("Exists after a failed install")
	}
}

// TestConcurrentInstalls: four installs of one package at once, with and
// without the in-process lock (the latter is what separate processes do),
// give one complete folder; exactly one of them installed it.
func TestConcurrentInstalls(t *testing.T) {
	pkg := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Race.Pkg", Files: map[string][]byte{
		"lib/a.dll": bytes.Repeat([]byte("a"), 100000), "lib/b.dll": bytes.Repeat([]byte("b"), 100000), "content/c.txt": []byte("c"),
	}})
	src := filepath.Join(t.TempDir(), "race.nupkg")
	os.WriteFile(src, pkg, 0o644)
	for _, lock := range []bool{true, false} {
		t.Run(fmt.Sprintf("lock=%v", lock), func(t *testing.T) {
			inProcessLock = lock
			defer func() { inProcessLock = true }()
			root := t.TempDir()
			var wg sync.WaitGroup
			var installed, verified atomic.Int32
			errs := make([]error, 4)
			for i := range 4 {
				wg.Go(func() {
					res, err := Install(ctx, root, src, func(*nupkg.Package) error { verified.Add(1); return nil }, "s")
					errs[i] = err
					if err == nil && res.Installed {
						installed.Add(1)
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if installed.Load() != 1 || (lock && verified.Load() != 1) {
				t.Errorf("%d installed, %d verified", installed.Load(), verified.Load())
			}
			want := []string{"race.pkg/", "race.pkg/1.0.0/", "race.pkg/1.0.0/.nupkg.metadata", "race.pkg/1.0.0/content/",
				"race.pkg/1.0.0/content/c.txt", "race.pkg/1.0.0/lib/", "race.pkg/1.0.0/lib/a.dll", "race.pkg/1.0.0/lib/b.dll",
				"race.pkg/1.0.0/race.pkg.1.0.0.nupkg", "race.pkg/1.0.0/race.pkg.1.0.0.nupkg.sha512", "race.pkg/1.0.0/race.pkg.nuspec"}
			if got := listTree(t, root); !slices.Equal(got, want) {
				t.Errorf("tree:\n%s", strings.Join(got, "\n"))
			}
			if b, _ := os.ReadFile(filepath.Join(root, "race.pkg/1.0.0/lib/a.dll")); !bytes.Equal(b, bytes.Repeat([]byte("a"), 100000)) {
				t.Error("a.dll damaged")
			}
		})
	}
}

// TestStaleFolderReplaced: a version folder without its marker (a crashed
// install) is replaced.
func TestStaleFolderReplaced(t *testing.T) {
	root := t.TempDir()
	stale := filepath.Join(root, "stale.pkg", "1.0.0")
	os.MkdirAll(filepath.Join(stale, "lib"), 0o755)
	os.WriteFile(filepath.Join(stale, "lib", "half.dll"), []byte("half"), 0o644)
	if Exists(root, "Stale.Pkg", "1.0.0") {
		t.Fatal("a folder without marker exists")
	}
	src := filepath.Join(t.TempDir(), "s.nupkg")
	os.WriteFile(src, nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Stale.Pkg", Files: map[string][]byte{"lib/whole.dll": []byte("whole")}}), 0o644)
	res, err := Install(ctx, root, src, accept, "")
	if err != nil || !res.Installed {
		t.Fatalf("install = %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(stale, "lib", "half.dll")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("stale file kept")
	}
	if _, err := os.Stat(filepath.Join(stale, "lib", "whole.dll")); err != nil {
		t.Error(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "stale.pkg")); len(ents) != 1 {
		t.Errorf("id folder holds %v", ents)
	}
}

// writeZip writes a package with a manifest and the given raw entry names.
func writeZip(t *testing.T, id string, names ...string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(id + ".nuspec")
	fmt.Fprintf(w, `<?xml version="1.0"?><package><metadata><id>%s</id><version>1.0.0</version><authors>a</authors><description>d</description></metadata></package>`, id)
	for _, n := range names {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: n, Method: zip.Store, CompressedSize64: 1, UncompressedSize64: 1, CRC32: 0xe8b7be43})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("a"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), id+".nupkg")
	os.WriteFile(p, buf.Bytes(), 0o644)
	return p
}

// TestUnsafePackagesRefused: a package with any unsafe or colliding name is
// refused before a byte is written, even when verification passes.
func TestUnsafePackagesRefused(t *testing.T) {
	for _, names := range [][]string{
		{"../evil.txt"},
		{"lib/../../evil.txt"},
		{`lib\..\..\evil.txt`},
		{"%2e%2e/evil.txt"},
		{"lib%2f..%2f..%2fevil.txt"},
		{"/etc/evil"},
		{"C:/evil.txt"},
		{"lib/file.txt:stream"},
		{"lib/CON.txt"},
		{"lib/aux"},
		{"lib//x"},
		{"lib/./x"},
		{"lib/x."},
		{"lib/x\x01"},
		{"lib/%ff%fe"},
		{"lib/A.dll", "lib/a.DLL"},
		{"lib/x", "lib/x/y"},
		{"lib/q?.txt"},
	} {
		root := t.TempDir()
		called := false
		_, err := Install(ctx, root, writeZip(t, "Bad.Pkg", names...), func(*nupkg.Package) error { called = true; return nil }, "")
		if err == nil {
			t.Errorf("%q installed", names)
			continue
		}
		if !called {
			t.Errorf("%q: refused before verification (%v)", names, err)
		}
		if ents, _ := os.ReadDir(root); len(ents) != 0 {
			t.Errorf("%q left %v", names, ents)
		}
	}
	// The same names that are fine.
	root := t.TempDir()
	if _, err := Install(ctx, root, writeZip(t, "Good.Pkg", "lib/a%2Bb.txt", "lib/dir/", "content/x..y.txt", "content/COM10.txt"), accept, ""); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"lib/a+b.txt", "content/x..y.txt", "content/COM10.txt"} {
		if _, err := os.Stat(filepath.Join(root, "good.pkg", "1.0.0", p)); err != nil {
			t.Error(err)
		}
	}
}

// TestVerifyErrorAndIdentity: a verification error is returned wrapped and
// nothing is written; InstallAs refuses another identity before verifying.
func TestVerifyErrorAndIdentity(t *testing.T) {
	src := writeZip(t, "Who.Pkg", "lib/a.txt")
	root := t.TempDir()
	sentinel := errors.New("not trusted")
	if _, err := Install(ctx, root, src, func(*nupkg.Package) error { return sentinel }, ""); !errors.Is(err, sentinel) {
		t.Errorf("verify error: %v", err)
	}
	called := false
	verify := func(*nupkg.Package) error { called = true; return nil }
	for _, tc := range [][2]string{{"Other.Pkg", ""}, {"", "2.0.0"}, {"who.pkg", "1.0.1"}} {
		if _, err := InstallAs(ctx, root, src, tc[0], tc[1], verify, ""); err == nil {
			t.Errorf("InstallAs(%q, %q) succeeded", tc[0], tc[1])
		}
	}
	if called {
		t.Error("verified a package of another identity")
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("left %v", ents)
	}
	if res, err := InstallAs(ctx, root, src, "WHO.pkg", "1.0", verify, ""); err != nil || !res.Installed {
		t.Errorf("InstallAs matching = %+v, %v", res, err)
	}
	if _, err := Install(ctx, root, src, nil, ""); err == nil {
		t.Error("nil verify accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Install(cctx, t.TempDir(), src, accept, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestExpansionBound: a package that expands beyond the bound is refused.
func TestExpansionBound(t *testing.T) {
	old := maxExtracted
	maxExtracted = 2
	defer func() { maxExtracted = old }()
	root := t.TempDir()
	if _, err := Install(ctx, root, writeZip(t, "Big.Pkg", "a", "b", "c"), accept, ""); err == nil || !strings.Contains(err.Error(), "expands") {
		t.Fatalf("err = %v", err)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("left %v", ents)
	}
}
