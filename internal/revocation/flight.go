package revocation

import (
	"context"
	"sync"
)

// group makes concurrent callers with the same key share one call of a
// function, as golang.org/x/sync/singleflight does, with one difference:
// the function runs in a goroutine of its own, so that each caller can stop
// waiting when its context ends while the others keep waiting for the
// shared result. The function must bound its own running time.
type group[T any] struct {
	mu    sync.Mutex
	calls map[string]*call[T]
}

type call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// do returns the result of fn for key, starting fn unless a call for key is
// already running, in which case it waits for that call. It returns
// ctx.Err() if ctx ends first.
func (g *group[T]) do(ctx context.Context, key string, fn func() (T, error)) (T, error) {
	g.mu.Lock()
	c, running := g.calls[key]
	if !running {
		if g.calls == nil {
			g.calls = map[string]*call[T]{}
		}
		c = &call[T]{done: make(chan struct{})}
		g.calls[key] = c
	}
	g.mu.Unlock()
	if !running {
		go func() {
			c.val, c.err = fn()
			g.mu.Lock()
			delete(g.calls, key)
			g.mu.Unlock()
			close(c.done)
		}()
	}
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
