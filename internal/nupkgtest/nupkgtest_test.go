package nupkgtest_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/signet-nuget/signet/internal/nupkgtest"
	"github.com/signet-nuget/signet/nupkg"
)

func TestWrite(t *testing.T) {
	spec := nupkgtest.Spec{
		ID: "Gen.Pkg", Version: "2.0.0-rc.1",
		Dependencies: map[string][]nupkgtest.Dependency{
			"net8.0":         {{ID: "A", Version: "1.0.0"}, {ID: "B", Version: "[2.0,3.0)"}},
			"netstandard2.0": {{ID: "C", Version: "1.0.0"}},
			"":               {{ID: "D", Version: "1.0.0"}},
		},
		Files: map[string][]byte{"lib/net8.0/Gen.Pkg.dll": []byte("MZ"), "LICENSE": []byte("MIT <&>")},
		Large: &nupkgtest.LargeFile{Name: "data/big.bin", Size: 3<<20 + 17},
	}
	b := nupkgtest.Bytes(t, spec)
	if again := nupkgtest.Bytes(t, spec); !bytes.Equal(b, again) {
		t.Fatal("output is not deterministic")
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Flags&0x8 != 0 || len(f.Extra) != 0 {
			t.Errorf("%q: flags %#x extra %x", f.Name, f.Flags, f.Extra)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("%q: %v", f.Name, err)
		}
	}
	want := []string{"_rels/.rels", "Gen.Pkg.nuspec", "LICENSE", "lib/net8.0/Gen.Pkg.dll", "data/big.bin"}
	for i, w := range want {
		if names[i] != w {
			t.Fatalf("entries %q, want %q first", names, want)
		}
	}
	if names[len(names)-1] != "[Content_Types].xml" || len(names) != len(want)+2 {
		t.Fatalf("entries %q", names)
	}

	p, err := nupkg.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.Nuspec()
	if err != nil {
		t.Fatal(err)
	}
	if n.ID != "Gen.Pkg" || n.Version != "2.0.0-rc.1" || n.Authors != "Signet" || len(n.DependencyGroups) != 3 ||
		n.DependencyGroups[0].TargetFramework != "" || n.DependencyGroups[1].TargetFramework != "net8.0" ||
		len(n.DependencyGroups[1].Dependencies) != 2 || n.DependencyGroups[1].Dependencies[1].Version != "[2.0,3.0)" {
		t.Fatalf("nuspec %+v", n)
	}
	rc, err := p.OpenEntry("data/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	if _, err := io.Copy(got, rc); err != nil {
		t.Fatal(err)
	}
	wantSum := sha256.New()
	io.Copy(wantSum, nupkgtest.LargeData("data/big.bin", 3<<20+17))
	if !bytes.Equal(got.Sum(nil), wantSum.Sum(nil)) {
		t.Fatal("large file content differs from LargeData")
	}
}

func TestWriteRequiresID(t *testing.T) {
	if err := nupkgtest.Write(io.Discard, nupkgtest.Spec{}); err == nil {
		t.Fatal("no error without an id")
	}
}
