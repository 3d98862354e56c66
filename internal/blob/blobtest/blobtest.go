// Package blobtest is the contract test for blob.Store. Every implementation
// runs it from its own tests:
//
//	func TestContract(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blobtest.Opener {
//			root := t.TempDir()
//			return func() (blob.Store, error) { return blob.NewDir(root) }
//		})
//	}
//
// Each check cites the clause of the blob.Store contract it tests.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha512"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/signet-nuget/signet/internal/blob"
)

// Opener returns a new, independent handle on one storage location, as a
// restarted process (or another replica) would open it.
type Opener func() (blob.Store, error)

// Run runs the contract tests. newStorage is called once per subtest; it
// must return an Opener for fresh, empty storage that t cleans up.
func Run(t *testing.T, newStorage func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"RoundTrip", testRoundTrip},
		{"OtherHandleSees", testOtherHandleSees},
		{"Missing", testMissing},
		{"Overwrite", testOverwrite},
		{"FailedPut", testFailedPut},
		{"Cancel", testCancel},
		{"OpenSnapshot", testOpenSnapshot},
		{"Delete", testDelete},
		{"List", testList},
		{"Keys", testKeys},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStorage(t))
		})
	}
}

func mustOpen(t *testing.T, open Opener) blob.Store {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	return s
}

// Pattern returns n bytes that differ between seeds and along their length,
// so that a truncated, shifted or mixed object does not compare equal.
func Pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	n, sum, err := s.Put(context.Background(), key, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	want := sha512.Sum512(data)
	if n != int64(len(data)) || !bytes.Equal(sum, want[:]) {
		t.Fatalf("Put(%q) = %d, %x; want %d, %x", key, n, sum, len(data), want)
	}
}

// read returns the whole object under key, failing the test on any error.
func read(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	o, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	if o.Size() != int64(len(b)) {
		t.Fatalf("%q: Size() = %d, read %d bytes", key, o.Size(), len(b))
	}
	return b
}

func wantContent(t *testing.T, s blob.Store, key string, want []byte) {
	t.Helper()
	if got := read(t, s, key); !bytes.Equal(got, want) {
		t.Fatalf("%q holds %d bytes (sha512 %x), want %d bytes (sha512 %x)",
			key, len(got), sha512.Sum512(got), len(want), sha512.Sum512(want))
	}
}

func wantAbsent(t *testing.T, s blob.Store, key string) {
	t.Helper()
	ctx := context.Background()
	if ok, err := s.Exists(ctx, key); err != nil || ok {
		t.Fatalf("Exists(%q) = %v, %v; want false, nil", key, ok, err)
	}
	if o, err := s.Open(ctx, key); !errors.Is(err, blob.ErrNotExist) {
		if err == nil {
			o.Close()
		}
		t.Fatalf("Open(%q) error = %v, want ErrNotExist", key, err)
	}
}

// keys lists every key under prefix, sorted.
func keys(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var out []string
	for k, err := range s.List(context.Background(), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Contract: Put stores r's bytes and returns their length and SHA-512; Open
// reads them back, with Size and Seek.
func testRoundTrip(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	sizes := []int{0, 1, 4095, 64<<10 + 1, 3 << 20}
	for i, n := range sizes {
		key := "pkg/" + string(rune('a'+i)) + "/x.nupkg"
		data := Pattern(byte(i), n)
		put(t, s, key, data)
		wantContent(t, s, key, data)
		if ok, err := s.Exists(context.Background(), key); err != nil || !ok {
			t.Fatalf("Exists(%q) = %v, %v after Put", key, ok, err)
		}
		if n < 2 {
			continue
		}
		o, err := s.Open(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if off, err := o.Seek(int64(n/2), io.SeekStart); err != nil || off != int64(n/2) {
			t.Fatalf("Seek = %d, %v", off, err)
		}
		rest, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(rest, data[n/2:]) {
			t.Fatalf("read after Seek: %d bytes, %v; want the second half", len(rest), err)
		}
		if end, err := o.Seek(-1, io.SeekEnd); err != nil || end != int64(n-1) {
			t.Fatalf("Seek from end = %d, %v", end, err)
		}
		o.Close()
	}
}

// Contract: when Put returns, every later Open from any other handle on the
// same storage sees the object.
func testOtherHandleSees(t *testing.T, open Opener) {
	a := mustOpen(t, open)
	data := Pattern(7, 100<<10)
	put(t, a, "p/1.0.0/p.1.0.0.nupkg", data)
	b := mustOpen(t, open)
	wantContent(t, b, "p/1.0.0/p.1.0.0.nupkg", data)
	if got := keys(t, b, ""); !slices.Equal(got, []string{"p/1.0.0/p.1.0.0.nupkg"}) {
		t.Fatalf("List on a second handle = %q", got)
	}
}

// Contract: a missing key is ErrNotExist for Open, false for Exists, and not
// an error for Delete.
func testMissing(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	put(t, s, "a/b", []byte("x"))
	for _, key := range []string{"nothing", "a/c", "a/b/c", "a"} {
		wantAbsent(t, s, key)
		if err := s.Delete(context.Background(), key); err != nil {
			t.Fatalf("Delete(%q) of a missing key = %v", key, err)
		}
	}
	wantContent(t, s, "a/b", []byte("x"))
}

// Contract: Put on an existing key replaces the object.
func testOverwrite(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	old, new := Pattern(1, 200<<10), Pattern(2, 1000)
	put(t, s, "k", old)
	put(t, s, "k", new)
	wantContent(t, s, "k", new)
	if got := keys(t, s, ""); !slices.Equal(got, []string{"k"}) {
		t.Fatalf("List after overwrite = %q, want just k", got)
	}
}

var errBoom = errors.New("reader failed")

// failingReader yields n bytes of data and then fails.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// Contract: a Put whose reader fails leaves nothing under key, and an object
// already there unchanged.
func testFailedPut(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	old := Pattern(3, 10<<10)
	put(t, s, "exists", old)
	for _, key := range []string{"fresh/x.nupkg", "exists"} {
		_, _, err := s.Put(ctx, key, &failingReader{data: Pattern(4, 300<<10), err: errBoom})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Put(%q) with a failing reader = %v, want it to wrap the reader's error", key, err)
		}
	}
	wantAbsent(t, s, "fresh/x.nupkg")
	wantContent(t, s, "exists", old)
	if got := keys(t, s, ""); !slices.Equal(got, []string{"exists"}) {
		t.Fatalf("List after failed Puts = %q, want only the earlier object", got)
	}
	// The failure must not poison the key.
	put(t, s, "fresh/x.nupkg", []byte("ok"))
	wantContent(t, s, "fresh/x.nupkg", []byte("ok"))
}

// cancellingReader cancels its context after after bytes and keeps going.
type cancellingReader struct {
	r      io.Reader
	after  int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.after <= 0 {
		c.cancel()
	}
	if len(p) > 4096 {
		p = p[:4096]
	}
	n, err := c.r.Read(p)
	c.after -= n
	return n, err
}

// Contract: a method called with a done context fails with ctx.Err() and has
// no effect; a Put cancelled midway leaves nothing.
func testCancel(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	put(t, s, "keep", []byte("kept"))

	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Put(done, "new", bytes.NewReader([]byte("x"))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v", err)
	}
	if o, err := s.Open(done, "keep"); !errors.Is(err, context.Canceled) {
		if err == nil {
			o.Close()
		}
		t.Fatalf("Open with a cancelled context = %v", err)
	}
	if err := s.Delete(done, "keep"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Delete with a cancelled context = %v", err)
	}
	wantContent(t, s, "keep", []byte("kept"))
	wantAbsent(t, s, "new")

	for _, key := range []string{"midway", "keep"} {
		ctx, cancel := context.WithCancel(context.Background())
		r := &cancellingReader{r: bytes.NewReader(Pattern(5, 2<<20)), after: 64 << 10, cancel: cancel}
		_, _, err := s.Put(ctx, key, r)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put(%q) cancelled midway = %v, want context.Canceled", key, err)
		}
	}
	wantAbsent(t, s, "midway")
	wantContent(t, s, "keep", []byte("kept"))
	if got := keys(t, s, ""); !slices.Equal(got, []string{"keep"}) {
		t.Fatalf("List after cancelled Puts = %q", got)
	}
}

// Contract: an opened object reads the bytes it was opened on, or fails;
// never bytes of a later replacement.
func testOpenSnapshot(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	old, new := Pattern(10, 512<<10), Pattern(11, 512<<10)
	put(t, s, "k", old)
	o, err := s.Open(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(o, head); err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", new)
	rest, err := io.ReadAll(o)
	if err == nil && !bytes.Equal(append(head, rest...), old) {
		t.Fatal("an object opened before an overwrite returned bytes of the new object")
	}
	wantContent(t, s, "k", new)
}

// Contract: Delete removes the object; the key can be written again.
func testDelete(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	put(t, s, "d/1/x", []byte("one"))
	put(t, s, "d/1/y", []byte("two"))
	if err := s.Delete(ctx, "d/1/x"); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, s, "d/1/x")
	wantContent(t, s, "d/1/y", []byte("two"))
	if err := s.Delete(ctx, "d/1/x"); err != nil {
		t.Fatalf("second Delete = %v", err)
	}
	put(t, s, "d/1/x", []byte("again"))
	wantContent(t, s, "d/1/x", []byte("again"))
	if got := keys(t, mustOpen(t, open), "d/"); !slices.Equal(got, []string{"d/1/x", "d/1/y"}) {
		t.Fatalf("List = %q", got)
	}
}

// Contract: List yields the keys of complete objects that start with prefix,
// matched byte-wise.
func testList(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	all := []string{
		"a.b/1.0.0/a.b.1.0.0.nupkg",
		"a.b/1.0.0/a.b.nuspec",
		"a.b/10.0.0/a.b.10.0.0.nupkg",
		"a.bc/2.0.0/a.bc.2.0.0.nupkg",
		"z",
	}
	for i, k := range all {
		put(t, s, k, Pattern(byte(i), 10))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"a.b/", all[:3]},
		{"a.b", all[:4]},
		{"a.b/1", all[:3]},
		{"a.b/1.", all[:2]},
		{"a.b/1.0.0/a.b.n", all[1:2]},
		{"z", all[4:]},
		{"nothing/", nil},
		{"nothing", nil},
	}
	for _, tt := range tests {
		if got := keys(t, s, tt.prefix); !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
	// Stopping early must not fail or hang.
	for k, err := range s.List(context.Background(), "") {
		if err != nil || k == "" {
			t.Fatalf("List yielded %q, %v", k, err)
		}
		break
	}
}

// Contract: keys that ValidateKey refuses are refused by every method with
// ErrInvalidKey, and valid keys of NuGet's layout work.
func testKeys(t *testing.T, open Opener) {
	s := mustOpen(t, open)
	ctx := context.Background()
	long := string(bytes.Repeat([]byte("a"), 256))
	bad := []string{
		"", "/a", "a/", "a//b", "..", "../a", "a/../b", ".", "./a", ".hidden", "a/.tmp/x",
		`a\b`, "a b", "a\x00b", "a:b", "é", "a/" + long,
		string(bytes.Repeat([]byte("abcdefg/"), blob.MaxKeyLen/8)) + "x",
	}
	for _, key := range bad {
		if _, _, err := s.Put(ctx, key, bytes.NewReader([]byte("x"))); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if o, err := s.Open(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			if err == nil {
				o.Close()
			}
			t.Errorf("Open(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Exists(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Exists(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	for _, prefix := range []string{"/", "../", "a//", ".tmp/"} {
		for _, err := range s.List(ctx, prefix) {
			if !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("List(%q) yielded %v, want ErrInvalidKey", prefix, err)
			}
		}
	}
	if got := keys(t, s, ""); len(got) != 0 {
		t.Fatalf("refused keys left objects: %q", got)
	}
	good := []string{
		"newtonsoft.json/13.0.1/newtonsoft.json.13.0.1.nupkg",
		"x/1.0.0-beta.1/x.nuspec",
		"x/1.0.0-beta.1+meta/x.nuspec",
		"UPPER_case~key=1@2",
		string(bytes.Repeat([]byte("a"), 255)),
	}
	for i, key := range good {
		put(t, s, key, []byte{byte(i)})
		wantContent(t, s, key, []byte{byte(i)})
	}
}
