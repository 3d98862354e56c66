package tsa

import (
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// collect draws n serials from s (from several goroutines when par > 1)
// and fails on any repeat within the draw or with seen.
func collect(t *testing.T, s SerialSource, n, par int, seen map[string]bool) []*big.Int {
	t.Helper()
	var mu sync.Mutex
	var out []*big.Int
	var wg sync.WaitGroup
	for g := 0; g < par; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/par; i++ {
				v, err := s.Next()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				out = append(out, v)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, v := range out {
		if v.Sign() <= 0 {
			t.Fatalf("serial %v not positive", v)
		}
		if seen[v.String()] {
			t.Fatalf("serial %v repeated", v)
		}
		seen[v.String()] = true
	}
	return out
}

func TestFileSerialsNoRepeatAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "serials")
	seen := map[string]bool{}
	for restart := 0; restart < 4; restart++ {
		s, err := NewFileSerials(path)
		if err != nil {
			t.Fatal(err)
		}
		// Draw across a block boundary on some runs and not on others.
		n := []int{10, fileSerialBlock + 5, 1, 2 * fileSerialBlock}[restart]
		collect(t, s, n, 1, seen)
		// The file must already cover everything handed out: a crash now
		// (no Close) must not repeat anything either.
		recorded, err := readSerialFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for v := range seen {
			b, _ := new(big.Int).SetString(v, 10)
			if b.Cmp(recorded) >= 0 {
				t.Fatalf("serial %v handed out but file records only up to %v", b, recorded)
			}
		}
		if restart%2 == 0 {
			s.Close()
		} else {
			s.unlock() // simulate a crash: lock released by process exit, no Close
		}
	}
	if len(seen) != 10+fileSerialBlock+5+1+2*fileSerialBlock {
		t.Fatalf("%d distinct serials", len(seen))
	}
}

func TestFileSerialsConcurrent(t *testing.T) {
	s, err := NewFileSerials(filepath.Join(t.TempDir(), "serials"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	collect(t, s, 8*1000, 8, map[string]bool{})
}

func TestFileSerialsLockedAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "serials")
	s, err := NewFileSerials(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileSerials(path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open of a locked serial file: %v", err)
	}
	s.Close()
	if _, err := s.Next(); err == nil {
		t.Fatal("Next after Close succeeded")
	}
	for _, content := range []string{"", "abc", "-5", "0", strings.Repeat("9", maxSerialFileSize+1)} {
		os.WriteFile(path, []byte(content), 0o600)
		if _, err := NewFileSerials(path); err == nil {
			t.Errorf("serial file %.20q accepted", content)
		}
	}
	os.WriteFile(path, []byte("1000\n"), 0o600)
	s, err = NewFileSerials(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Next(); v.Int64() != 1000 {
		t.Fatalf("first serial %v, want 1000", v)
	}
}

func TestFileSerialsUnwritable(t *testing.T) {
	dir := t.TempDir()
	s, err := NewFileSerials(filepath.Join(dir, "serials"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if os.Getuid() == 0 {
		// root ignores directory permissions; use a path that cannot exist.
		s.path = filepath.Join(dir, "missing", "serials")
	}
	if v, err := s.Next(); err == nil {
		t.Fatalf("serial %v handed out although it could not be reserved", v)
	}
}

func TestRandomSerials(t *testing.T) {
	r := NewRandomSerials()
	frozen := time.Unix(1700000000, 0)
	r.now = func() time.Time { return frozen } // a stuck clock must not repeat
	out := collect(t, r, 4000, 4, map[string]bool{})
	for _, v := range out {
		if v.BitLen() > 127 {
			t.Fatalf("serial %v has %d bits", v, v.BitLen())
		}
	}
}
