package feed

import (
	"context"
	"strings"
	"sync"
	"time"
)

// maxBlobRefs bounds the download path's cache of version facts: a few
// megabytes for the hottest versions of a large feed.
const maxBlobRefs = 50000

// blobRef is what a download needs of a version's row. A version's bytes
// never change once committed (no version is deleted or replaced), so these
// facts can be remembered without expiry, and replicas never disagree.
type blobRef struct {
	id, version string // as stored
	sha512      []byte
	published   time.Time
}

// blobRefs caches blobRef by lower-cased id and normalised version.
type blobRefs struct {
	mu sync.Mutex
	m  map[string]blobRef
}

// blobRef returns the download facts of a version, from the cache or the
// store (store.ErrNotFound when there is no such version).
func (s *Server) blobRef(ctx context.Context, id, version string) (blobRef, error) {
	k := strings.ToLower(id) + "/" + strings.ToLower(version)
	c := &s.refs
	c.mu.Lock()
	ref, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return ref, nil
	}
	v, err := s.store.Version(ctx, id, version)
	if err != nil {
		return blobRef{}, err
	}
	ref = blobRef{id: v.PackageID, version: v.Version, sha512: v.SHA512, published: v.Published}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxBlobRefs {
		c.m = map[string]blobRef{} // start over rather than track recency
	}
	c.m[k] = ref
	c.mu.Unlock()
	return ref, nil
}
