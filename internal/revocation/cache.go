package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// errNotCached says that a cache has no entry; it is not reported.
var errNotCached = errors.New("revocation: not cached")

// memResult returns the result remembered for key while its evidence is
// current.
func (c *Checker) memResult(key string) (Result, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.results[key]
	if !ok {
		return Result{}, false
	}
	if !now.Before(r.NextUpdate) {
		delete(c.results, key)
		return Result{}, false
	}
	r.Origin = OriginMemory
	return r, true
}

// remember keeps r for key until its NextUpdate; evidence without one is not
// kept.
func (c *Checker) remember(key string, r Result) {
	if r.NextUpdate.IsZero() {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.results == nil {
		c.results = map[string]Result{}
	}
	evict(c.results, func(r Result) bool { return !now.Before(r.NextUpdate) })
	c.results[key] = r
}

// rememberCRL keeps the CRL of distribution point u in memory.
func (c *Checker) rememberCRL(u string, p *parsedCRL) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crls == nil {
		c.crls = map[string]*parsedCRL{}
	}
	evict(c.crls, func(p *parsedCRL) bool { return now.After(p.list.NextUpdate.Add(maxClockSkew)) })
	c.crls[u] = p
}

// isDown reports whether u failed less than downBackoff ago.
func (c *Checker) isDown(u string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.down[u]
	return ok && time.Now().Before(t)
}

// markDown records that u failed.
func (c *Checker) markDown(u string) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down == nil {
		c.down = map[string]time.Time{}
	}
	evict(c.down, now.After)
	c.down[u] = now.Add(downBackoff)
}

// evict makes room in m for one more entry when it holds maxMemoryEntries:
// expired entries go first, then arbitrary ones.
func evict[V any](m map[string]V, expired func(V) bool) {
	if len(m) < maxMemoryEntries {
		return
	}
	for k, v := range m {
		if expired(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < maxMemoryEntries {
			break
		}
		delete(m, k)
	}
}

// diskOCSP returns the status the cached OCSP response for key gives, after
// verifying it again.
func (c *Checker) diskOCSP(key string, cert, issuer *x509.Certificate, now time.Time) (Result, error) {
	path := c.ocspPath(key)
	b, err := readCacheFile(path, maxOCSPResponseSize)
	if errors.Is(err, fs.ErrNotExist) {
		return Result{}, errNotCached
	}
	if err != nil {
		return Result{}, err
	}
	r, err := verifyOCSP(b, ocspCheck{cert: cert, issuer: issuer, now: now})
	if err != nil {
		return Result{}, fmt.Errorf("%w (cached OCSP response %q)", err, path)
	}
	r.Origin = OriginDisk
	return r, nil
}

// cachedCRL returns the status that the CRL of distribution point u, from
// memory or from the disk cache, gives cert, after verifying it for cert.
func (c *Checker) cachedCRL(u string, cert, issuer *x509.Certificate, now time.Time) (Result, error) {
	origin := OriginMemory
	c.mu.Lock()
	p := c.crls[u]
	c.mu.Unlock()
	if p == nil || now.After(p.list.NextUpdate.Add(maxClockSkew)) {
		if c.CacheDir == "" {
			return Result{}, errNotCached
		}
		path := c.crlPath(u)
		b, err := readCacheFile(path, maxCRLSize)
		if errors.Is(err, fs.ErrNotExist) {
			return Result{}, errNotCached
		}
		if err != nil {
			return Result{}, err
		}
		if p, err = parseCRL(b); err != nil {
			return Result{}, fmt.Errorf("%w (cached CRL %q)", err, path)
		}
		origin = OriginDisk
	}
	r, err := verifyCRL(p, cert, issuer, now)
	if err != nil {
		return Result{}, fmt.Errorf("%w (cached CRL of %q)", err, u)
	}
	if origin == OriginDisk {
		c.rememberCRL(u, p)
	}
	r.Origin, r.URL = origin, u
	return r, nil
}

// networkCRL downloads the CRL of distribution point u (one download for
// concurrent callers), verifies it for cert, and keeps it in memory and on
// disk.
func (c *Checker) networkCRL(ctx context.Context, u string, cert, issuer *x509.Certificate, now time.Time) (Result, error) {
	p, err := c.crlFetches.do(ctx, u, func() (*parsedCRL, error) {
		p, err := c.fetchCRL(ctx, u)
		if err != nil {
			return nil, err
		}
		if _, err := verifyCRL(p, cert, issuer, now); err != nil {
			return nil, fmt.Errorf("%w (CRL %q)", err, u)
		}
		c.rememberCRL(u, p)
		if c.CacheDir != "" {
			c.store(c.crlPath(u), p.raw)
		}
		return p, nil
	})
	if err != nil {
		return Result{}, err
	}
	r, err := verifyCRL(p, cert, issuer, now)
	if err != nil {
		return Result{}, fmt.Errorf("%w (CRL %q)", err, u)
	}
	r.Origin, r.URL = OriginNetwork, u
	return r, nil
}

// store writes a cache file; failure only costs a later download, so it is
// logged, not returned.
func (c *Checker) store(path string, b []byte) {
	if err := writeCacheFile(path, b); err != nil && c.Logger != nil {
		c.Logger.Warn("revocation cache not written", "err", err)
	}
}
