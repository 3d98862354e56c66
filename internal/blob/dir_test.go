package blob_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/blob"
	"github.com/signet-nuget/signet/internal/blob/blobtest"
)

func TestDirContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blobtest.Opener {
		root := filepath.Join(t.TempDir(), "blobs")
		return func() (blob.Store, error) { return blob.NewDir(root) }
	})
}

// TestDirLeavesNoTemporaryFiles checks that failed and successful Puts both
// clean up after themselves: a directory that fills with orphans fills the
// disk.
func TestDirLeavesNoTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	d, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	boom := errors.New("boom")
	if _, _, err := d.Put(ctx, "a/b", io.MultiReader(bytes.NewReader(make([]byte, 1000)), errReader{boom})); !errors.Is(err, boom) {
		t.Fatalf("Put = %v", err)
	}
	if _, _, err := d.Put(ctx, "a/c", bytes.NewReader([]byte("ok"))); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join(root, ".tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Fatalf("temporary files left: %v", ents)
	}
	info, err := os.Stat(filepath.Join(root, "a", "c"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Fatalf("object mode = %v, want 0644", info.Mode().Perm())
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestDirRemovesStaleTemporaryFiles checks that NewDir deletes leftovers of
// crashed Puts once they are old enough, and only then.
func TestDirRemovesStaleTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	if _, err := blob.NewDir(root); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(root, ".tmp", "put-stale")
	fresh := filepath.Join(root, ".tmp", "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	d, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temporary file still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a fresh temporary file (maybe another process's Put) was removed: %v", err)
	}
	for k, err := range d.List(context.Background(), "") {
		t.Fatalf("List yielded %q, %v; temporary files are not objects", k, err)
	}
}

// crashEnv names the environment variable that turns the test binary into
// the writer that TestDirCrash kills.
const crashEnv = "SIGNET_BLOB_CRASH_WRITER"

// crashObject is self-checking content: an 8-byte length, then that many
// copies of one byte.
func crashObject(seed int) []byte {
	n := 1 + (seed*7919)%(512<<10)
	b := make([]byte, 8+n)
	binary.BigEndian.PutUint64(b, uint64(n))
	for i := 8; i < len(b); i++ {
		b[i] = byte(seed)
	}
	return b
}

func checkCrashObject(b []byte) error {
	if len(b) < 9 {
		return fmt.Errorf("%d bytes, shorter than any object written", len(b))
	}
	n := binary.BigEndian.Uint64(b)
	if uint64(len(b)-8) != n {
		return fmt.Errorf("header says %d bytes, body has %d", n, len(b)-8)
	}
	for _, c := range b[8:] {
		if c != b[8] {
			return errors.New("body mixes two objects")
		}
	}
	return nil
}

// TestDirCrash kills a process that keeps writing and replacing objects
// (kill -9, at a random point of a Put) and checks that every visible object
// is whole. It tests the rename protocol; power loss, which the fsyncs are
// for, cannot be simulated here.
func TestDirCrash(t *testing.T) {
	if root := os.Getenv(crashEnv); root != "" {
		crashWriter(root)
		return
	}
	root := t.TempDir()
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDirCrash$")
		cmd.Env = append(os.Environ(), crashEnv+"="+root)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the writer has stored something, then let it run a
		// little longer so the kill lands in the middle of a Put.
		buf := make([]byte, 1)
		if _, err := stdout.Read(buf); err != nil {
			t.Fatalf("writer did not start: %v", err)
		}
		time.Sleep(time.Duration(50+round*70) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		d, err := blob.NewDir(root)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for key, err := range d.List(context.Background(), "") {
			if err != nil {
				t.Fatal(err)
			}
			o, err := d.Open(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(o)
			o.Close()
			if err != nil {
				t.Fatal(err)
			}
			if err := checkCrashObject(b); err != nil {
				t.Fatalf("round %d: %q after kill -9: %v", round, key, err)
			}
			n++
		}
		if n == 0 {
			t.Fatalf("round %d: no objects survived; the writer did not write", round)
		}
	}
}

// crashWriter writes and overwrites objects until it is killed.
func crashWriter(root string) {
	d, err := blob.NewDir(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		key := fmt.Sprintf("k/%d", i%16)
		if _, _, err := d.Put(ctx, key, bytes.NewReader(crashObject(i))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if i == 0 {
			os.Stdout.Write([]byte{'.'})
		}
	}
}
