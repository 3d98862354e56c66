package revocation

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGroup(t *testing.T) {
	var g group[int]
	var calls atomic.Int64
	release := make(chan struct{})
	fn := func() (int, error) {
		calls.Add(1)
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	results := make([]int, 4)
	for i := range results {
		wg.Go(func() { results[i], _ = g.do(context.Background(), "k", fn) })
	}
	// A caller whose context ends stops waiting; the others do not.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.do(ctx, "k", fn); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("impatient caller: %v", err)
	}
	close(release)
	wg.Wait()
	for i, r := range results {
		if r != 42 {
			t.Errorf("caller %d got %d", i, r)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("fn ran %d times, want 1", calls.Load())
	}
	// Once done, the next call runs fn again.
	if v, err := g.do(context.Background(), "k", func() (int, error) { return 7, nil }); v != 7 || err != nil {
		t.Errorf("later call: %d, %v", v, err)
	}
}
