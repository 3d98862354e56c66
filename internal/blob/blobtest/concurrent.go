package blobtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
)

const (
	// writers is how many goroutines Put at once, each to its own keys and
	// all to one shared key.
	writers = 12
	// putsPerWriter is how many distinct keys each writer fills.
	putsPerWriter = 4
	// readers keep reading the shared key while it is being replaced.
	readers = 3
)

// Contract: concurrent Puts of different keys all land; concurrent Puts of
// one key leave exactly one of the written objects, whole, and readers never
// see anything but a whole object.
func testConcurrent(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	// Candidates for the shared key have distinct lengths and contents, so
	// any mix of two is detected.
	candidates := make([][]byte, writers+1)
	for i := range candidates {
		candidates[i] = Pattern(byte(100+i), 64<<10+i*997)
	}
	isCandidate := func(b []byte) bool {
		for _, c := range candidates {
			if bytes.Equal(b, c) {
				return true
			}
		}
		return false
	}
	put(t, s, "shared", candidates[writers])

	var wg sync.WaitGroup
	errs := make(chan error, writers*(putsPerWriter+1)+readers)
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range putsPerWriter {
				key := fmt.Sprintf("own/%d/%d", w, i)
				if _, _, err := s.Put(ctx, key, bytes.NewReader(Pattern(byte(w*putsPerWriter+i), 20<<10))); err != nil {
					errs <- fmt.Errorf("Put(%q): %w", key, err)
				}
			}
			if _, _, err := s.Put(ctx, "shared", bytes.NewReader(candidates[w])); err != nil {
				errs <- fmt.Errorf("Put(shared): %w", err)
			}
		})
	}
	var rg sync.WaitGroup
	for range readers {
		rg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				o, err := s.Open(ctx, "shared")
				if err != nil {
					errs <- fmt.Errorf("Open(shared) during Puts: %w", err)
					return
				}
				b, err := io.ReadAll(o)
				o.Close()
				if err == nil && !isCandidate(b) {
					errs <- fmt.Errorf("a reader saw %d bytes that are no object ever written", len(b))
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for w := range writers {
		for i := range putsPerWriter {
			wantContent(t, s, fmt.Sprintf("own/%d/%d", w, i), Pattern(byte(w*putsPerWriter+i), 20<<10))
		}
	}
	if got := read(t, s, "shared"); !isCandidate(got) {
		t.Fatalf("shared key holds %d bytes that no writer wrote", len(got))
	}
	if got := keys(t, s, ""); len(got) != writers*putsPerWriter+1 {
		t.Fatalf("List yields %d keys, want %d", len(got), writers*putsPerWriter+1)
	}
}
