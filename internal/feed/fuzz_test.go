package feed

import (
	"crypto/sha512"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/nupkgtest"
)

// FuzzInspect: any uploaded bytes are refused with a reason or accepted as
// a package with a valid row, never a panic; an accepted package has no
// entry that would extract outside its folder.
func FuzzInspect(f *testing.F) {
	f.Add(nupkgtest.Bytes(f, nupkgtest.Spec{ID: "Seed.Pkg", Version: "1.0.0-beta.1+sha.5",
		ExtraMetadata: "<tags>a b</tags><readme>README.md</readme>", Files: map[string][]byte{"README.md": []byte("# hi")}}))
	f.Add(nupkgtest.Bytes(f, nupkgtest.Spec{ID: "Seed.Deps", Dependencies: map[string][]nupkgtest.Dependency{
		"net8.0": {{ID: "X", Version: "[1.0, 2.0)"}}}}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add([]byte("not a zip"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "fuzz.nupkg")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		u, err := inspect(fh, int64(len(b)))
		if err != nil {
			var bad *badPackage
			if !errors.As(err, &bad) || bad.msg == "" {
				t.Fatalf("inspect error %v is not a reason to refuse", err)
			}
			return
		}
		for _, e := range u.pkg.Entries() {
			if checkEntryName(e.Name) != nil {
				t.Fatalf("accepted an unsafe entry %q", e.Name)
			}
		}
		sum := sha512.Sum512(b)
		if _, err := versionRow(u, sum[:], int64(len(b))); err != nil {
			var bad *badPackage
			if !errors.As(err, &bad) {
				t.Fatalf("versionRow: %v", err)
			}
		}
	})
}

// FuzzCheckEntryName: a name checkEntryName accepts never extracts above
// its folder, whether read as stored or unescaped.
func FuzzCheckEntryName(f *testing.F) {
	for _, s := range []string{"lib/net8.0/a.dll", "../x", "a/%2e%2e/b", `C:\x`, "/abs", "a\\..\\b", "ok/./x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if checkEntryName(name) != nil {
			return
		}
		for _, n := range []string{name, entryPath(name)} {
			n = strings.ReplaceAll(n, `\`, "/")
			if strings.HasPrefix(n, "/") {
				t.Fatalf("accepted absolute %q", name)
			}
			depth := 0
			for seg := range strings.SplitSeq(n, "/") {
				switch seg {
				case "..":
					depth--
				case "", ".":
				default:
					depth++
				}
				if depth < 0 {
					t.Fatalf("accepted %q, which climbs out", name)
				}
			}
		}
	})
}

// TestInspectMutations runs inspect on a thousand packages with random
// bytes changed (a cheap stand-in for fuzzing where the fuzzer's workers
// stall on this large test binary): each is refused with a reason or
// accepted, within a second.
func TestInspectMutations(t *testing.T) {
	seed := nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Seed.Pkg", Version: "1.0.0-beta.1+sha.5",
		ExtraMetadata: "<tags>a b</tags><readme>README.md</readme>", Files: map[string][]byte{"README.md": []byte("# hi")}})
	rng := rand.New(rand.NewPCG(1, 2))
	path := filepath.Join(t.TempDir(), "mutant.nupkg")
	for i := range 1000 {
		b := append([]byte{}, seed...)
		for range 1 + rng.IntN(4) {
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = inspect(fh, int64(len(b)))
		fh.Close()
		var bad *badPackage
		if err != nil && !errors.As(err, &bad) {
			t.Fatalf("mutant %d: error %v is not a reason to refuse", i, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("mutant %d took %v", i, d)
		}
	}
}
