package s3_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/signet-nuget/signet/internal/blob"
	"github.com/signet-nuget/signet/internal/blob/blobtest"
	"github.com/signet-nuget/signet/internal/blob/s3"
	"github.com/signet-nuget/signet/internal/blob/s3/s3test"
)

func TestContract(t *testing.T) {
	s3test.URL(t) // skips or fails here, once, when there is no server
	blobtest.Run(t, func(t *testing.T) blobtest.Opener {
		u := s3test.URL(t)
		return func() (blob.Store, error) { return s3.Open(context.Background(), u) }
	})
}

// open returns a store on a fresh prefix that uploads in parts of S3's
// minimum size, so that a few megabytes reach the multipart path.
func open(t *testing.T) *s3.Store {
	t.Helper()
	s, err := s3.Open(context.Background(), s3test.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	s3.SetPartSize(s, s3.MinPartSize)
	return s
}

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	n, sum, err := s.Put(context.Background(), key, bytes.NewReader(data))
	want := sha512.Sum512(data)
	if err != nil || n != int64(len(data)) || !bytes.Equal(sum, want[:]) {
		t.Fatalf("Put(%q, %d bytes) = %d, %x, %v", key, len(data), n, sum, err)
	}
}

func read(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	o, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil || int64(len(b)) != o.Size() {
		t.Fatalf("reading %q: %d bytes of %d, %v", key, len(b), o.Size(), err)
	}
	return b
}

func wantNoUploads(t *testing.T, s *s3.Store) {
	t.Helper()
	ups, err := s3.IncompleteUploads(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 0 {
		t.Fatalf("multipart uploads left behind: %q", ups)
	}
}

// Objects around the part size round-trip: one full part (the reader's
// end is only seen by the second read), two full parts, and a short tail.
func TestMultipart(t *testing.T) {
	s := open(t)
	for i, n := range []int{s3.MinPartSize - 1, s3.MinPartSize, 2 * s3.MinPartSize, 2*s3.MinPartSize + 12345} {
		key := fmt.Sprintf("m/%d", i)
		data := blobtest.Pattern(byte(i), n)
		put(t, s, key, data)
		if got := read(t, s, key); !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read back %d different bytes", n, len(got))
		}
		// A read that starts in the last part.
		o, err := s.Open(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		off := int64(n - 100)
		if _, err := o.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		tail, err := io.ReadAll(o)
		o.Close()
		if err != nil || !bytes.Equal(tail, data[off:]) {
			t.Fatalf("%d bytes: tail after Seek = %d bytes, %v", n, len(tail), err)
		}
	}
	wantNoUploads(t, s)
}

// cancellingReader cancels its context once it has returned after bytes,
// and keeps returning data.
type cancellingReader struct {
	r      io.Reader
	after  int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.after <= 0 {
		c.cancel()
	}
	n, err := c.r.Read(p)
	c.after -= n
	return n, err
}

// A Put that is cancelled or whose reader fails after some parts went up
// leaves nothing: no object, the old object unchanged, no upload.
func TestMultipartFailureLeavesNothing(t *testing.T) {
	s := open(t)
	old := []byte("old")
	put(t, s, "keep", old)
	boom := errors.New("boom")
	data := blobtest.Pattern(1, 3*s3.MinPartSize)
	for _, key := range []string{"fresh", "keep"} {
		ctx, cancel := context.WithCancel(context.Background())
		r := &cancellingReader{r: bytes.NewReader(data), after: s3.MinPartSize + 1<<20, cancel: cancel}
		_, _, err := s.Put(ctx, key, r)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put(%q) cancelled after the first part = %v", key, err)
		}
		r2 := io.MultiReader(bytes.NewReader(data[:2*s3.MinPartSize+1]), &failingReader{boom})
		if _, _, err := s.Put(context.Background(), key, r2); !errors.Is(err, boom) {
			t.Fatalf("Put(%q) failing after two parts = %v", key, err)
		}
		// Cancelled just as the reader ends after two whole parts, when
		// only the completion is left to do.
		ctx, cancel = context.WithCancel(context.Background())
		r3 := &cancelAtEOF{r: bytes.NewReader(data[:2*s3.MinPartSize]), cancel: cancel}
		_, _, err = s.Put(ctx, key, r3)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put(%q) cancelled at the end = %v", key, err)
		}
	}
	ctx := context.Background()
	if ok, err := s.Exists(ctx, "fresh"); ok || err != nil {
		t.Fatalf("Exists(fresh) = %v, %v after failed Puts", ok, err)
	}
	if got := read(t, s, "keep"); !bytes.Equal(got, old) {
		t.Fatalf("keep holds %q after failed Puts", got)
	}
	wantNoUploads(t, s)
}

// cancelAtEOF cancels its context when r reports its end.
type cancelAtEOF struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelAtEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cancel()
	}
	return n, err
}

type failingReader struct{ err error }

func (r *failingReader) Read([]byte) (int, error) { return 0, r.err }

// Concurrent multipart Puts to one key leave one of the objects, whole,
// and readers only ever see whole objects.
func TestConcurrentPutOneKey(t *testing.T) {
	s := open(t)
	const writers = 4
	candidates := make([][]byte, writers)
	for i := range candidates {
		candidates[i] = blobtest.Pattern(byte(50+i), s3.MinPartSize+1000*(i+1))
	}
	isCandidate := func(b []byte) bool {
		return slices.ContainsFunc(candidates, func(c []byte) bool { return bytes.Equal(b, c) })
	}
	put(t, s, "k", candidates[0])

	ctx := context.Background()
	errs := make(chan error, 2*writers)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			o, err := s.Open(ctx, "k")
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(o)
			o.Close()
			if err == nil && !isCandidate(b) {
				errs <- fmt.Errorf("a reader saw %d bytes that no writer wrote", len(b))
				return
			}
		}
	})
	var writersWG sync.WaitGroup
	for _, c := range candidates {
		writersWG.Go(func() {
			if _, _, err := s.Put(ctx, "k", bytes.NewReader(c)); err != nil {
				errs <- err
			}
		})
	}
	writersWG.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := read(t, s, "k"); !isCandidate(got) {
		t.Fatalf("k holds %d bytes that no writer wrote", len(got))
	}
	wantNoUploads(t, s)
}

// A read that needs a new request after the object was replaced or
// deleted fails; it never returns bytes of the replacement.
func TestOpenPinsObject(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	old, new := blobtest.Pattern(1, 256<<10), blobtest.Pattern(2, 256<<10)
	tests := []struct {
		name   string
		change func()
		want   string
	}{
		{"replaced", func() { put(t, s, "k", new) }, "replaced"},
		{"deleted", func() {
			if err := s.Delete(ctx, "k"); err != nil {
				t.Fatal(err)
			}
		}, "deleted"},
	}
	for _, tt := range tests {
		put(t, s, "k", old)
		o, err := s.Open(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 10)
		if _, err := io.ReadFull(o, head); err != nil || !bytes.Equal(head, old[:10]) {
			t.Fatalf("%s: first read = %v", tt.name, err)
		}
		tt.change()
		if _, err := o.Seek(100<<10, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(o)
		o.Close()
		if err == nil {
			t.Fatalf("%s: a read after Seek succeeded with %d bytes (old object: %v)", tt.name, len(b), bytes.Equal(b, old[100<<10:]))
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not say %q", tt.name, err, tt.want)
		}
	}
}

// http.ServeContent serves ranges from an object with Seek and Read.
func TestServeContent(t *testing.T) {
	s := open(t)
	data := blobtest.Pattern(9, 300<<10)
	put(t, s, "pkg.nupkg", data)
	tests := []struct {
		rangeHeader string
		want        []byte
	}{
		{"", data},
		{"bytes=1000-1999", data[1000:2000]},
		{"bytes=-100", data[len(data)-100:]},
		{"bytes=200000-", data[200000:]},
		{"bytes=0-0", data[:1]},
	}
	for _, tt := range tests {
		o, err := s.Open(context.Background(), "pkg.nupkg")
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/pkg.nupkg", nil)
		if tt.rangeHeader != "" {
			req.Header.Set("Range", tt.rangeHeader)
		}
		rec := httptest.NewRecorder()
		http.ServeContent(rec, req, "pkg.nupkg", time.Time{}, o)
		o.Close()
		wantStatus := http.StatusPartialContent
		if tt.rangeHeader == "" {
			wantStatus = http.StatusOK
		}
		if rec.Code != wantStatus || !bytes.Equal(rec.Body.Bytes(), tt.want) {
			t.Errorf("Range %q: status %d, %d bytes; want %d, %d bytes", tt.rangeHeader, rec.Code, rec.Body.Len(), wantStatus, len(tt.want))
		}
	}
}

// List pages through the bucket, and skips names under the prefix that
// are not keys (a folder marker, a foreign object).
func TestListPages(t *testing.T) {
	s := open(t)
	s3.SetPageSize(s, 3)
	var want []string
	for i := range 10 {
		key := fmt.Sprintf("p/%02d", i)
		put(t, s, key, []byte{byte(i)})
		want = append(want, key)
	}
	put(t, s, "q", []byte("q"))
	core := s3.Core(s)
	bucket, prefix := s3.Location(s)
	for _, name := range []string{"p/folder/", "p/has space"} {
		if _, err := core.PutObject(context.Background(), bucket, prefix+name, bytes.NewReader(nil), 0, "", "", minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for k, err := range s.List(context.Background(), "p/") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("List(p/) = %q, want %q", got, want)
	}

	// A listing cancelled midway reports the cancellation instead of
	// ending as if it were complete.
	ctx, cancel := context.WithCancel(context.Background())
	var seen int
	var lastErr error
	for _, err := range s.List(ctx, "") {
		if err != nil {
			lastErr = err
			break
		}
		if seen++; seen == 4 {
			cancel()
		}
	}
	cancel()
	if !errors.Is(lastErr, context.Canceled) {
		t.Fatalf("List cancelled after %d keys ended with %v, want context.Canceled", seen, lastErr)
	}
}

// Stores on different prefixes of one bucket do not see each other.
func TestPrefixesAreSeparate(t *testing.T) {
	a, b := open(t), open(t)
	put(t, a, "x", []byte("a"))
	ctx := context.Background()
	if ok, err := b.Exists(ctx, "x"); ok || err != nil {
		t.Fatalf("Exists on another prefix = %v, %v", ok, err)
	}
	for k, err := range b.List(ctx, "") {
		t.Fatalf("List on another prefix yielded %q, %v", k, err)
	}
}

// Put holds about one part in memory, however large the object.
func TestPutMemoryBounded(t *testing.T) {
	s := open(t)
	const size = 8 * s3.MinPartSize
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, _, err := s.Put(context.Background(), "big", &patternReader{left: size})
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("Put = %d, %v", n, err)
	}
	// One part buffer, grown by doubling, plus the client's own buffers.
	const limit = 4 * s3.MinPartSize
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
		t.Fatalf("Put of %d MiB allocated %d MiB, more than %d MiB", size>>20, alloc>>20, limit>>20)
	}
	if o, err := s.Open(context.Background(), "big"); err != nil || o.Size() != size {
		t.Fatalf("Open(big) = %v", err)
	} else {
		o.Close()
	}
}

// patternReader yields left bytes without allocating.
type patternReader struct{ left int }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	for i := range n {
		p[i] = byte(r.left - i)
	}
	r.left -= n
	return n, nil
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	base := s3test.URL(t)

	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "signet-no-such-bucket"
	if _, err := s3.Open(ctx, u.String()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open of a missing bucket = %v", err)
	}

	const secret = "not-the-real-secret-0123456789"
	withUser := strings.Replace(base, "s3://", "s3://AKIAEXAMPLE:"+secret+"@", 1)
	if _, err := s3.Open(ctx, withUser); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("Open with credentials in the URL = %v", err)
	}

	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if _, err := s3.Open(ctx, base); err == nil || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("Open without a secret key = %v", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	if _, err := s3.Open(ctx, base); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("Open with a wrong secret key = %v", err)
	}
}
