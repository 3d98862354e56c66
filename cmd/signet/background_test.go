package main

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// bgCommand is a long-running subcommand (serve, tsa) run in-process until
// stopped or the test ends.
type bgCommand struct {
	t        *testing.T
	out, err *syncBuffer
	done     chan int
	stop     func() int // cancels the command and returns its exit code
}

// startCommand runs `signet args...` in the background with the
// environment environ.
func startCommand(t *testing.T, environ map[string]string, args ...string) *bgCommand {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &bgCommand{t: t, out: &syncBuffer{}, err: &syncBuffer{}, done: make(chan int, 1)}
	go func() {
		c.done <- run(ctx, &env{stdout: c.out, stderr: c.err, getenv: func(k string) string { return environ[k] }}, args)
	}()
	var once sync.Once
	exit := -1
	c.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case exit = <-c.done:
			case <-time.After(time.Minute):
				t.Errorf("%s did not stop", args[0])
			}
		})
		return exit
	}
	t.Cleanup(func() { c.stop() })
	return c
}

// waitFor polls ready until it holds, failing the test if the command exits
// or 30 seconds pass first.
func (c *bgCommand) waitFor(what string, ready func() bool) {
	c.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if ready() {
			return
		}
		select {
		case code := <-c.done:
			c.done <- code
			c.t.Fatalf("exited with %d before %s: %s%s", code, what, c.out.String(), c.err.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.t.Fatalf("no %s within 30 s: %s%s", what, c.out.String(), c.err.String())
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startTSACommand runs `signet tsa --listen <free port> args...` and waits
// until it accepts connections; it returns the TSA's URL.
func startTSACommand(t *testing.T, args ...string) (string, *bgCommand) {
	t.Helper()
	addr := freeAddr(t)
	c := startCommand(t, nil, append([]string{"tsa", "--listen", addr}, args...)...)
	c.waitFor("a listening TSA", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return "http://" + addr + "/", c
}
