package pki

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/signet-nuget/signet/internal/fixtures"
)

// TestBundleSkipsUnparseable: the NuGet client's bundles hold roots with
// zero or negative serial numbers that crypto/x509 refuses; they are skipped
// and counted, and the rest load.
func TestBundleSkipsUnparseable(t *testing.T) {
	for _, name := range []string{"codesignctl.pem", "timestampctl.pem"} {
		var b Bundle
		if err := b.AddFile(filepath.Join(fixtures.Dir(t), "roots", name)); err != nil {
			t.Fatal(err)
		}
		if b.Skipped == 0 || len(b.Certificates) < 250 {
			t.Errorf("%s: %d loaded, %d skipped; want most loaded and some skipped", name, len(b.Certificates), b.Skipped)
		}
	}
}

func TestBundleErrorsAndDir(t *testing.T) {
	dir := t.TempDir()
	var b Bundle
	if err := b.AddFile(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("missing file accepted")
	}
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("no certificates here"), 0o644)
	if err := b.AddFile(empty); err == nil {
		t.Error("a file without certificates accepted")
	}
	roots := filepath.Join(dir, "roots")
	os.Mkdir(roots, 0o755)
	src := fixtures.Read(t, "roots/roots_used_by_fixtures.pem")
	os.WriteFile(filepath.Join(roots, "a.pem"), src, 0o644)
	os.WriteFile(filepath.Join(roots, "b.crt"), src, 0o644) // duplicates collapse
	os.WriteFile(filepath.Join(roots, "notes.txt"), []byte("ignored"), 0o644)
	var d Bundle
	if err := d.AddDir(roots); err != nil {
		t.Fatal(err)
	}
	if len(d.Certificates) != 6 || len(d.Sources) != 2 {
		t.Errorf("dir: %d certificates from %v, want 6 from 2 files", len(d.Certificates), d.Sources)
	}
	if err := d.AddDir(filepath.Join(dir, "nope")); err != nil {
		t.Errorf("a missing directory is not an error: %v", err)
	}
}
