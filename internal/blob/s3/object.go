package s3

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"

	"github.com/signet-nuget/signet/internal/blob"
)

// Open implements [blob.Store.Open]. It sends one GET and pins the
// object's ETag (and version id, on a versioned bucket): reads continue
// that response while they are sequential, and a read after a Seek sends a
// ranged GET with If-Match on the ETag, so that if the key was replaced
// meanwhile the read fails instead of returning bytes of the new object.
// Every read runs under ctx, so ctx must outlive the use of the object.
// The object is not safe for concurrent use.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3: open %q: %w", key, err)
	}
	body, info, _, err := s.core.GetObject(ctx, s.bucket, s.name(key), minio.GetObjectOptions{})
	if err != nil {
		if isNoSuchKey(err) {
			return nil, fmt.Errorf("%w: %q", blob.ErrNotExist, key)
		}
		return nil, fmt.Errorf("s3: open %q: %w", key, err)
	}
	switch {
	case info.ETag == "":
		body.Close()
		return nil, fmt.Errorf("s3: open %q: the server sent no ETag, so later reads could not be pinned to this object", key)
	case info.Size < 0:
		body.Close()
		return nil, fmt.Errorf("s3: open %q: the server sent no Content-Length", key)
	}
	o := &object{ctx: ctx, store: s, key: key, size: info.Size, etag: info.ETag, body: body}
	if v := info.VersionID; v != "" && v != "null" {
		o.version = v
	}
	return o, nil
}

// object is an open S3 object; see [Store.Open].
type object struct {
	ctx     context.Context
	store   *Store
	key     string
	size    int64
	etag    string
	version string // "" unless the bucket is versioned

	off     int64         // offset of the next Read
	body    io.ReadCloser // a response positioned at bodyOff, or nil
	bodyOff int64
	closed  bool
}

func (o *object) Size() int64 { return o.size }

func (o *object) Read(p []byte) (int, error) {
	if o.closed {
		return 0, fmt.Errorf("s3: read %q: object is closed", o.key)
	}
	if o.off >= o.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if o.body != nil && o.bodyOff != o.off {
		o.closeBody()
	}
	if o.body == nil {
		if err := o.openRange(); err != nil {
			return 0, err
		}
	}
	n, err := o.body.Read(p)
	o.off += int64(n)
	o.bodyOff = o.off
	switch {
	case err == io.EOF && o.off < o.size:
		o.closeBody()
		return n, fmt.Errorf("s3: read %q: %w after %d of %d bytes", o.key, io.ErrUnexpectedEOF, o.off, o.size)
	case err == io.EOF:
		o.closeBody()
		return n, io.EOF
	case err != nil:
		o.closeBody()
		return n, fmt.Errorf("s3: read %q: %w", o.key, err)
	}
	return n, nil
}

// openRange sends a GET for the bytes from o.off to the end, conditional
// on the pinned ETag, and checks that the answer is that range of that
// object.
func (o *object) openRange() error {
	opts := minio.GetObjectOptions{VersionID: o.version}
	if err := opts.SetMatchETag(o.etag); err != nil {
		return fmt.Errorf("s3: read %q: %w", o.key, err)
	}
	if err := opts.SetRange(o.off, o.size-1); err != nil {
		return fmt.Errorf("s3: read %q: %w", o.key, err)
	}
	body, info, header, err := o.store.core.GetObject(o.ctx, o.store.bucket, o.store.name(o.key), opts)
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "PreconditionFailed":
			return fmt.Errorf("s3: read %q: the object was replaced after it was opened: %w", o.key, err)
		case minio.NoSuchKey:
			return fmt.Errorf("s3: read %q: the object was deleted after it was opened: %w", o.key, err)
		}
		return fmt.Errorf("s3: read %q: %w", o.key, err)
	}
	// A server that ignores If-Match or Range must not slip another
	// object's bytes through.
	wantRange := fmt.Sprintf("bytes %d-%d/%d", o.off, o.size-1, o.size)
	if gotRange := header.Get("Content-Range"); info.ETag != o.etag || gotRange != wantRange || info.Size != o.size-o.off {
		body.Close()
		return fmt.Errorf("s3: read %q: asked for %s of ETag %q, got %d bytes of %q (Content-Range %q)",
			o.key, wantRange, o.etag, info.Size, info.ETag, gotRange)
	}
	o.body, o.bodyOff = body, o.off
	return nil
}

func (o *object) closeBody() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	if o.closed {
		return 0, fmt.Errorf("s3: seek %q: object is closed", o.key)
	}
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = o.off + offset
	case io.SeekEnd:
		abs = o.size + offset
	default:
		return 0, fmt.Errorf("s3: seek %q: invalid whence %d", o.key, whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("s3: seek %q: %w", o.key, errNegativeOffset)
	}
	o.off = abs
	return abs, nil
}

var errNegativeOffset = errors.New("negative position")

// Close releases the open response, if any. Closing twice is not an error.
func (o *object) Close() error {
	o.closeBody()
	o.closed = true
	return nil
}
