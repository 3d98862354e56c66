// Package blob stores package files (.nupkg, .nuspec, readme, icon) as
// opaque objects under slash-separated keys. The feed writes each blob before
// it commits the metadata row that makes the blob visible to clients, so the
// contract below is what keeps a crash from publishing half a package.
//
// Two implementations are planned: [Dir], a local directory (the embedded
// default), and an S3-compatible bucket for feeds that scale out. Both are
// tested by one contract test, package blobtest.
package blob

import (
	"context"
	"errors"
	"io"
	"iter"
)

// ErrNotExist is returned (wrapped) by Open when no object is stored under
// the key. Test for it with errors.Is.
var ErrNotExist = errors.New("blob: object does not exist")

// Store is a flat namespace of immutable byte objects. Every method accepts
// only keys that pass [ValidateKey] and otherwise returns an error wrapping
// [ErrInvalidKey] without touching storage.
//
// The contract that every implementation keeps, checked by blobtest.Run:
//
//   - Put reads r to EOF and stores its bytes under key. When Put returns a
//     nil error the object is complete and durable: it survives a process
//     crash or power loss, and every later Open, from this handle or any other
//     handle on the same storage, sees exactly these bytes. Put returns the
//     number of bytes stored and their SHA-512.
//   - A Put that fails (r returns an error, ctx is cancelled, the process
//     dies, the disk fills up) leaves nothing visible under key: not a
//     partial object, and if key held an object before, that object
//     unchanged.
//   - Put on a key that already holds an object replaces it atomically:
//     readers see either the old object or the new one, never a mix or a
//     missing key. Concurrent Puts on one key leave exactly one of the
//     written objects, whole.
//   - Open returns the object as it was when Open was called. Reads from it
//     return those bytes or an error, never bytes of a later replacement.
//   - Delete removes the object; deleting a missing key is not an error, so a
//     cleanup can be retried. Exists reports whether a complete object is
//     stored under key.
//   - List yields every key that holds a complete object and starts with
//     prefix, in no particular order. It never yields a temporary name.
//   - A key must never be both an object and a folder of other objects
//     ("a/b" and "a/b/c"): S3 allows it, a file system does not, so callers
//     must not rely on either behaviour.
//   - Keys are case-sensitive bytes. Callers that want NuGet's flat container
//     layout lower-case ids and versions themselves; on a case-insensitive
//     file system two keys that differ only in case are the same object, so
//     callers should keep keys lower-case.
//
// All methods are safe for concurrent use, also by several processes sharing
// the storage.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader) (size int64, sha512 []byte, err error)
	Open(ctx context.Context, key string) (Object, error)
	Exists(ctx context.Context, key string) (bool, error)
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, prefix string) iter.Seq2[string, error]
}

// Object is an open stored object. It supports Seek so that an HTTP handler
// can serve ranges (http.ServeContent); Size is the object's length in bytes.
// The caller must Close it.
type Object interface {
	io.ReadSeekCloser
	Size() int64
}
