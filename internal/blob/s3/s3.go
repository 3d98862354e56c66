// Package s3 is a [blob.Store] in an S3-compatible bucket (AWS S3, MinIO,
// versitygw, Garage, Ceph RGW, …), for feeds whose replicas share storage.
//
// # Configuration
//
// A store is named by a URL:
//
//	s3://BUCKET[/PREFIX][?endpoint=URL][&region=REGION][&path-style=BOOL]
//
// whose parts are:
//
//   - BUCKET must exist; the store never creates it.
//   - PREFIX, optional, is prepended (with a '/') to every key, so several
//     stores can share a bucket. It follows the rules of a blob key.
//   - endpoint is http://HOST[:PORT] or https://HOST[:PORT]; without it the
//     store talks to AWS (https://s3.amazonaws.com). https endpoints have
//     their certificate verified against the system's roots. http sends
//     the objects unencrypted (requests are still signed, and the secret
//     key never leaves the process), so use it only on a trusted network.
//   - region is the bucket's region (us-east-1 for most self-hosted
//     servers); without it the client asks the server for the bucket's
//     location.
//   - path-style=true addresses the bucket as ENDPOINT/BUCKET instead of
//     BUCKET.ENDPOINT; by default the client chooses (virtual-host style for
//     AWS, path style elsewhere).
//
// Credentials come only from the environment variables AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and, for temporary credentials, AWS_SESSION_TOKEN.
// A URL with user info (s3://KEY:SECRET@…) is refused, so that secrets never
// end up in configuration files, command lines or logs.
//
// # How the blob.Store contract is kept
//
// Put streams: it reads r in parts of 8 MiB, hashing as it goes,
// and holds at most one part in memory. An object that fits in one part —
// nearly every package — is stored with one PUT, which S3 applies
// atomically; a larger one with a multipart upload, which becomes visible
// only when it is completed. A Put that fails or is cancelled aborts its
// multipart upload, so nothing appears under the key. Each upload carries
// the signed SHA-256 of its body, so the server refuses a corrupted body.
//
// When Put returns nil the server has acknowledged the object; durability
// is then the server's promise. AWS S3 acknowledges a write once it is
// stored durably; versitygw's posix backend (v1.8.0), which the tests use,
// does not sync its files, so it is no production store. Two cases that no
// S3 client can avoid: if the server stores an object but its answer is lost
// (a dropped connection, a context cancelled at that moment), Put reports
// an error although the object is stored; and if the process dies during a
// multipart upload, the parts stay, invisible, until a bucket lifecycle
// rule (AbortIncompleteMultipartUpload) removes them.
//
// Open sends one GET and pins the object's ETag (and version id on a
// versioned bucket); every later read at another offset is a ranged GET
// with If-Match on that ETag, so a replacement after Open makes the read
// fail rather than mix objects. Reads run under the context given to Open.
//
// List pages through ListObjectsV2 and yields only names under the prefix
// that are valid keys, so folder markers and foreign objects are skipped.
package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/signet-nuget/signet/internal/blob"
)

const (
	// defaultPartSize is the part in which Put reads and uploads, and so the
	// memory one Put holds. S3 parts (but the last) must be at least 5 MiB
	// and an upload has at most maxParts of them: 8 MiB parts allow objects
	// of 78 GiB, far beyond any package, while nearly every package fits in
	// one part and goes up in a single atomic PUT.
	defaultPartSize = 8 << 20
	// minPartSize is S3's smallest part but the last.
	minPartSize = 5 << 20
	// maxParts is S3's limit on the parts of one multipart upload.
	maxParts = 10000
	// initialBufferSize is Put's first allocation; the buffer doubles up to
	// the part size as data keeps coming, so a small nuspec costs 64 KiB,
	// not a whole part.
	initialBufferSize = 64 << 10
	// abortTimeout bounds aborting a failed multipart upload. The abort runs
	// even when the Put's context is cancelled (that is when it matters),
	// so it needs its own bound.
	abortTimeout = 30 * time.Second
	// contentType is what every object is stored as; the feed sets the
	// content type of its responses itself.
	contentType = "application/octet-stream"
)

// Store is a [blob.Store] in an S3 bucket, under an optional key prefix.
// It is safe for concurrent use.
type Store struct {
	core     *minio.Core
	bucket   string
	prefix   string
	partSize int
	pageSize int // keys per List request; 0 is the server's default (1000 on S3)
}

var _ blob.Store = (*Store)(nil)

// Open returns the store that rawURL names (see the package documentation
// for the URL), with credentials from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. It checks that the bucket
// exists, so a wrong endpoint, bucket or key fails here rather than at the
// first upload.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	cfg, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return nil, errors.New("s3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set")
	}
	core, err := minio.NewCore(cfg.endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
		Secure:       cfg.secure,
		Region:       cfg.region,
		BucketLookup: cfg.lookup,
		// TrailingHeaders stays off: no checksum trailers, which not every
		// S3 server accepts; each body's SHA-256 is signed instead.
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	ok, err := core.BucketExists(ctx, cfg.bucket)
	if err != nil {
		return nil, fmt.Errorf("s3: checking bucket %q at %s: %w", cfg.bucket, cfg.endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3: bucket %q does not exist at %s", cfg.bucket, cfg.endpoint)
	}
	return &Store{core: core, bucket: cfg.bucket, prefix: cfg.prefix, partSize: defaultPartSize}, nil
}

// name is the S3 object name of key.
func (s *Store) name(key string) string { return s.prefix + key }

// isNoSuchKey reports whether err is S3's answer for a missing object.
func isNoSuchKey(err error) bool {
	return minio.ToErrorResponse(err).Code == minio.NoSuchKey
}

// Put implements [blob.Store.Put].
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, []byte, error) {
	if err := blob.ValidateKey(key); err != nil {
		return 0, nil, err
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("s3: put %q: %w", key, err)
	}
	src := &hashingReader{ctx: ctx, r: r, h: sha512.New()}
	buf, more, err := fill(src, nil, s.partSize)
	if err != nil {
		return 0, nil, fmt.Errorf("s3: put %q: %w", key, err)
	}
	if more {
		err = s.putMultipart(ctx, s.name(key), buf, src)
	} else {
		err = s.putSingle(ctx, s.name(key), buf)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("s3: put %q: %w", key, err)
	}
	return src.n, src.h.Sum(nil), nil
}

func putOptions() minio.PutObjectOptions {
	// DisableContentSha256 turns off minio's streaming (aws-chunked)
	// signature; we sign the SHA-256 of the whole body instead.
	return minio.PutObjectOptions{ContentType: contentType, DisableContentSha256: true}
}

// putSingle stores data with one PUT.
func (s *Store) putSingle(ctx context.Context, name string, data []byte) error {
	sum := sha256.Sum256(data)
	_, err := s.core.PutObject(ctx, s.bucket, name, bytes.NewReader(data), int64(len(data)),
		"", hex.EncodeToString(sum[:]), putOptions())
	return err
}

// putMultipart uploads first and the rest of src as a multipart upload,
// and aborts the upload if anything fails.
func (s *Store) putMultipart(ctx context.Context, name string, first []byte, src io.Reader) (err error) {
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, name, putOptions())
	if err != nil {
		return err
	}
	defer func() {
		if err == nil {
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		defer cancel()
		if aerr := s.core.AbortMultipartUpload(actx, s.bucket, name, id); aerr != nil {
			err = fmt.Errorf("%w (aborting the multipart upload failed too: %v)", err, aerr)
		}
	}()

	var parts []minio.CompletePart
	buf, more := first, true
	for len(buf) > 0 {
		if len(parts) == maxParts {
			return fmt.Errorf("object larger than %d parts of %d bytes", maxParts, s.partSize)
		}
		sum := sha256.Sum256(buf)
		number := len(parts) + 1
		part, perr := s.core.PutObjectPart(ctx, s.bucket, name, id, number, bytes.NewReader(buf), int64(len(buf)),
			minio.PutObjectPartOptions{Sha256Hex: hex.EncodeToString(sum[:]), DisableContentSha256: true})
		if perr != nil {
			return perr
		}
		parts = append(parts, minio.CompletePart{PartNumber: number, ETag: part.ETag})
		if !more {
			break
		}
		if buf, more, err = fill(src, buf, s.partSize); err != nil {
			return err
		}
	}
	// The last point at which a cancelled Put can still leave nothing.
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = s.core.CompleteMultipartUpload(ctx, s.bucket, name, id, parts, putOptions())
	return err
}

// hashingReader counts and hashes what it reads, and stops when its
// context is done (a reader that ignores the context could otherwise keep
// a cancelled Put running).
type hashingReader struct {
	ctx context.Context
	r   io.Reader
	h   hash.Hash
	n   int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	if err := h.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// fill reads r into buf (reusing its memory) until it holds limit bytes or
// r ends. more reports that buf is full, so r may hold more.
func fill(r io.Reader, buf []byte, limit int) (_ []byte, more bool, err error) {
	buf = buf[:0]
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(max(2*cap(buf), initialBufferSize), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	return buf, true, nil
}

// Exists implements [blob.Store.Exists].
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := blob.ValidateKey(key); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("s3: exists %q: %w", key, err)
	}
	if _, err := s.core.StatObject(ctx, s.bucket, s.name(key), minio.StatObjectOptions{}); err != nil {
		if isNoSuchKey(err) {
			return false, nil
		}
		return false, fmt.Errorf("s3: exists %q: %w", key, err)
	}
	return true, nil
}

// Delete implements [blob.Store.Delete].
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: delete %q: %w", key, err)
	}
	if err := s.core.RemoveObject(ctx, s.bucket, s.name(key), minio.RemoveObjectOptions{}); err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("s3: delete %q: %w", key, err)
	}
	return nil
}

// List implements [blob.Store.List].
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if p := strings.TrimSuffix(prefix, "/"); prefix != "" {
			if err := blob.ValidateKey(p); err != nil {
				yield("", fmt.Errorf("s3: invalid prefix %q: %w", prefix, err))
				return
			}
		}
		// The client's iterator ends silently when its context is done;
		// listCtx stops it when the caller stops early, and ctx is checked
		// at the end so that a cancelled listing is not taken for a
		// complete one.
		listCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		noOwner := false
		objects := s.core.ListObjectsIter(listCtx, s.bucket, minio.ListObjectsOptions{
			Prefix:     s.prefix + prefix,
			Recursive:  true,
			FetchOwner: &noOwner,
			MaxKeys:    s.pageSize,
		})
		for o := range objects {
			if o.Err != nil {
				yield("", fmt.Errorf("s3: list %q: %w", prefix, o.Err))
				return
			}
			key, ok := strings.CutPrefix(o.Key, s.prefix)
			if !ok || blob.ValidateKey(key) != nil {
				continue
			}
			if !yield(key, nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield("", fmt.Errorf("s3: list %q: %w", prefix, err))
		}
	}
}
