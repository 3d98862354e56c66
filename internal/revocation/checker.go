package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Mode says whether a Checker may use the network.
type Mode int

const (
	// Online asks OCSP responders and CRL distribution points when neither
	// a bundle nor the cache answers (the default).
	Online Mode = iota
	// Offline uses only bundles and the cache, and makes no network
	// request (NuGet's NUGET_CERT_REVOCATION_MODE=offline).
	Offline
)

// Checker checks certificates for revocation; it implements
// nusig.RevocationChecker. The zero value is an online checker without disk
// cache or bundles. Set the fields before the first check and do not change
// them afterwards; a Checker is safe for concurrent use and must not be
// copied after first use.
type Checker struct {
	// Mode is Online (the default) or Offline.
	Mode Mode
	// CacheDir, when not empty, is a directory (created when needed) where
	// verified OCSP responses and CRLs that have a nextUpdate are kept, and
	// reused until then by this and later Checkers. Several processes may
	// share it.
	CacheDir string
	// Bundles are offline revocation bundles, consulted before the cache
	// and the network (see ReadBundle).
	Bundles []*Bundle
	// ResponderTimeout bounds one exchange with one responder or
	// distribution point; DefaultResponderTimeout when zero.
	ResponderTimeout time.Duration
	// Timeout bounds one Check; DefaultTimeout when zero. The context given
	// to Check may end it sooner.
	Timeout time.Duration
	// OCSPNonce sends a nonce with every OCSP request and refuses responses
	// that do not echo it (RFC 8954), which defeats replay of old responses
	// at the cost of OCSP with responders that pre-sign their answers (all
	// large public CAs, RFC 5019): for those the CRL is used. Cached and
	// bundled responses are still used. Off by default.
	OCSPNonce bool
	// HTTPClient does the HTTP requests; when nil, a client with the
	// default transport that follows at most maxRedirects redirects to http
	// URLs. Its own timeouts apply on top of ResponderTimeout.
	HTTPClient *http.Client
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Logger receives a debug line per failed source and a warning when the
	// cache cannot be written; nothing is logged when nil.
	Logger *slog.Logger

	mu      sync.Mutex
	results map[string]Result     // by certKey, until NextUpdate
	crls    map[string]*parsedCRL // by distribution point URL
	down    map[string]time.Time  // URL → when to ask again

	lookups    group[Result]
	crlFetches group[*parsedCRL]
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Checker) responderTimeout() time.Duration {
	if c.ResponderTimeout > 0 {
		return c.ResponderTimeout
	}
	return DefaultResponderTimeout
}

func (c *Checker) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Checker) debug(msg string, args ...any) {
	if c.Logger != nil {
		c.Logger.Debug(msg, args...)
	}
}

// Lookup establishes whether cert, issued by issuer, is revoked, and returns
// the evidence. The error is nil when the status is Good or Revoked, and an
// *UnknownError when it is Unknown. It returns within Timeout (or sooner if
// ctx ends); concurrent lookups of the same certificate share the work.
// cert and issuer should come from a verified chain: issuer's key is what
// every answer is verified with.
func (c *Checker) Lookup(ctx context.Context, cert, issuer *x509.Certificate) (Result, error) {
	if cert == nil || issuer == nil || cert.SerialNumber == nil {
		return Result{}, &UnknownError{Errs: []error{errors.New("revocation: no certificate or issuer")}}
	}
	key := certKey(cert, issuer)
	if r, ok := c.memResult(key); ok {
		return r, nil
	}
	if err := ctx.Err(); err != nil {
		return Result{}, unknownError(cert, []error{err})
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	res, err := c.lookups.do(ctx, key, func() (Result, error) {
		// The shared lookup outlives a caller that gives up, within its own
		// deadline.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout())
		defer cancel()
		return c.resolve(fctx, key, cert, issuer)
	})
	if err != nil {
		var ue *UnknownError
		if !errors.As(err, &ue) {
			err = unknownError(cert, []error{err})
		}
		return Result{}, err
	}
	return res, nil
}

// resolve looks for an answer in bundles, the cache and then the network,
// in that order (see the package documentation).
func (c *Checker) resolve(ctx context.Context, key string, cert, issuer *x509.Certificate) (Result, error) {
	now := c.now()
	var errs []error
	done := func(r Result) (Result, error) {
		c.remember(key, r)
		return r, nil
	}
	for _, b := range c.Bundles {
		r, err := b.lookup(cert, issuer, now)
		if err == nil {
			return done(r)
		}
		errs = appendIfReal(errs, err)
	}
	crlURLs := usableURLs(cert.CRLDistributionPoints)
	if c.CacheDir != "" {
		r, err := c.diskOCSP(key, cert, issuer, now)
		if err == nil {
			return done(r)
		}
		errs = appendIfReal(errs, err)
	}
	for _, u := range crlURLs {
		r, err := c.cachedCRL(u, cert, issuer, now)
		if err == nil {
			return done(r)
		}
		errs = appendIfReal(errs, err)
	}
	if c.Mode == Offline {
		return Result{}, unknownError(cert, append(errs, ErrOffline))
	}
	ocspURLs := usableURLs(cert.OCSPServer)
	if len(ocspURLs) == 0 && len(crlURLs) == 0 {
		return Result{}, unknownError(cert, append(errs, ErrNoLocation))
	}
	oc := ocspCheck{cert: cert, issuer: issuer, now: now}
	for _, u := range ocspURLs {
		r, err := c.online(ctx, u, func() (Result, error) { return c.askOCSP(ctx, u, oc) })
		if err == nil {
			if !r.NextUpdate.IsZero() && c.CacheDir != "" {
				c.store(c.ocspPath(key), r.Raw)
			}
			return done(r)
		}
		errs = append(errs, err)
	}
	for _, u := range crlURLs {
		r, err := c.online(ctx, u, func() (Result, error) { return c.networkCRL(ctx, u, cert, issuer, now) })
		if err == nil {
			return done(r)
		}
		errs = append(errs, err)
	}
	return Result{}, unknownError(cert, errs)
}

// online runs one network source unless its server failed recently or the
// check's deadline has passed, and remembers server failures.
func (c *Checker) online(ctx context.Context, u string, ask func() (Result, error)) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("revocation: %q not asked: %w", u, err)
	}
	if c.isDown(u) {
		return Result{}, fmt.Errorf("%w: %q", ErrResponderDown, u)
	}
	r, err := ask()
	if err != nil {
		c.debug("revocation source failed", "url", u, "err", err)
		if serverFailed(err) {
			c.markDown(u)
		}
	}
	return r, err
}

// unknownError builds the error of an Unknown result.
func unknownError(cert *x509.Certificate, errs []error) error {
	return &UnknownError{Subject: cert.Subject.String(), Errs: errs}
}

// appendIfReal appends err unless it only says that a cache entry does not
// exist.
func appendIfReal(errs []error, err error) []error {
	if errors.Is(err, errNotCached) {
		return errs
	}
	return append(errs, err)
}
