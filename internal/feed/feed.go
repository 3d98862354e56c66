// Package feed is Signet's NuGet V3 feed: the HTTP protocol that NuGet
// clients speak (service index, flat container, registrations, search,
// autocomplete, push, unlist and relist), the account JSON API under
// /api/v1/, and the push pipeline that turns an upload into a stored,
// visible package.
//
// # State
//
// A Server keeps no state of its own beyond short-lived caches and counters:
// metadata lives in a store.Store and package files in a blob.Store, so any
// number of Servers on one PostgreSQL database and one S3 bucket serve one
// feed. Download counts are added up in memory and flushed to the store
// every few seconds by Run.
//
// # Pushes
//
// A push is authenticated (API key) before its body is read; the body is
// spooled to a temporary file with the upload limit enforced while
// streaming, checked as a package (zip structure, entry names, expansion
// ratio, manifest, id and version), authorised (key scopes and globs,
// ownership and prefix reservations), then written to the blob store under
// names that include its SHA-512, and only then is its row committed: the
// commit is what makes it visible. A crash before the commit leaves blobs
// that no row names, which Run's sweeper deletes later; a row never exists
// without its blobs.
package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/signet-nuget/signet/internal/blob"
	"github.com/signet-nuget/signet/internal/store"
)

// Defaults of Config.
const (
	// DefaultMaxUpload is nuget.org's package size limit (250 MB).
	DefaultMaxUpload = 250 << 20
	// DefaultSessionLifetime bounds a log-in session.
	DefaultSessionLifetime = 12 * time.Hour
	// downloadFlushInterval is how often counted downloads are written to
	// the store: often enough that counts look live, rarely enough that
	// downloads are not database writes.
	downloadFlushInterval = 10 * time.Second
	// sweepInterval is how often Run looks for blobs that no row names.
	// A blob is deleted only when two sweeps, at least sweepInterval apart,
	// both found it unnamed, so a push in progress (whose blobs precede its
	// row by seconds) is never swept.
	sweepInterval = time.Hour
)

// Config configures a Server. The zero value of each field but BaseURL is a
// usable default.
type Config struct {
	// BaseURL is the feed's public URL (scheme, host and an optional path
	// prefix, no query), as clients reach it, also through a reverse proxy.
	// Every URL the feed advertises starts with it, and its path is the
	// prefix under which the handler expects requests.
	BaseURL string
	// MaxUpload bounds a pushed package in bytes (DefaultMaxUpload if 0).
	MaxUpload int64
	// AllowSignup lets anyone create an account with POST /api/v1/users;
	// when false only administrators can.
	AllowSignup bool
	// SecureCookies marks session cookies Secure; set it when the feed is
	// served over HTTPS (also behind a TLS-terminating proxy).
	SecureCookies bool
	// SessionLifetime bounds log-in sessions (DefaultSessionLifetime if 0).
	SessionLifetime time.Duration
	// TempDir holds spooled uploads (os.TempDir() if empty).
	TempDir string
	// Logger receives the feed's logs (slog.Default() if nil).
	Logger *slog.Logger
	// Now is the clock (time.Now if nil); tests set it.
	Now func() time.Time
	// RevalidatePeriod is how often each signing certificate's revocation
	// is checked again (DefaultRevalidatePeriod if 0), and
	// RevalidateInterval how often Run looks for certificates due
	// (DefaultRevalidateInterval if 0).
	RevalidatePeriod, RevalidateInterval time.Duration
	// Signing, when set, turns on signed submissions: author signatures
	// are validated and every accepted package is repository signed.
	Signing *Signing
}

// Server is a feed. Create it with New, serve its Handler, and run Run for
// its background work.
type Server struct {
	cfg     Config
	base    *url.URL
	prefix  string // the path of BaseURL without its final "/"
	store   *store.Store
	blobs   blob.Store
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	handler http.Handler

	dlMu      sync.Mutex
	downloads map[store.VersionRef]int64

	sweepMu    sync.Mutex
	sweepSeen  map[string]bool // unnamed blobs found by the last sweep
	keyTouchMu sync.Mutex
	keyTouched map[int64]time.Time

	logins *limiter    // failed log-ins per account name
	codes  codeLimiter // wrong second-factor codes per user, for the API and the web UI

	allSigned allSignedCache
	refs      blobRefs // the download path's cache of version facts
}

// New returns a feed on st and blobs.
func New(cfg Config, st *store.Store, blobs blob.Store) (*Server, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("feed: base URL %q is not an http(s) URL without query", cfg.BaseURL)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RevalidatePeriod <= 0 {
		cfg.RevalidatePeriod = DefaultRevalidatePeriod
	}
	if cfg.RevalidateInterval <= 0 {
		cfg.RevalidateInterval = DefaultRevalidateInterval
	}
	if cfg.Signing != nil {
		if err := cfg.Signing.check(); err != nil {
			return nil, err
		}
	}
	s := &Server{
		cfg:        cfg,
		base:       base,
		prefix:     base.Path,
		store:      st,
		blobs:      blobs,
		log:        cfg.Logger,
		now:        cfg.Now,
		metrics:    newMetrics(),
		downloads:  map[store.VersionRef]int64{},
		keyTouched: map[int64]time.Time{},
		logins:     newLimiter(),
		codes:      newCodeLimiter(),
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the feed's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// URL returns the feed's public URL for a path that starts with "/".
func (s *Server) URL(path string) string {
	return s.base.Scheme + "://" + s.base.Host + s.prefix + path
}

// ServiceIndexURL is the URL of the feed's service index.
func (s *Server) ServiceIndexURL() string { return s.URL("/v3/index.json") }

// Run does the feed's background work until ctx is done: it flushes
// download counts, deletes expired sessions and sweeps unnamed blobs. On
// return it has flushed the last counts.
func (s *Server) Run(ctx context.Context) error {
	flush := time.NewTicker(downloadFlushInterval)
	defer flush.Stop()
	sweep := time.NewTicker(sweepInterval)
	defer sweep.Stop()
	revalidate := time.NewTicker(s.cfg.RevalidateInterval)
	defer revalidate.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			err := s.FlushDownloads(fctx)
			cancel()
			return err
		case <-flush.C:
			if err := s.FlushDownloads(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("flushing download counts", "err", err)
			}
		case <-revalidate.C:
			if rep, err := s.Revalidate(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("revocation re-check", "err", err)
			} else if rep.Checked > 0 {
				s.log.Info("revocation re-check", "checked", rep.Checked, "revoked", rep.Revoked, "unknown", rep.Unknown,
					"invalidated", rep.Invalidated, "grace", rep.Grace)
			}
		case <-sweep.C:
			if _, err := s.store.DeleteExpiredSessions(ctx, s.now()); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("deleting expired sessions", "err", err)
			}
			if n, err := s.Sweep(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("sweeping unnamed blobs", "err", err)
			} else if n > 0 {
				s.log.Info("deleted unnamed blobs", "count", n)
			}
		}
	}
}

// countDownload records one download.
func (s *Server) countDownload(id, version string) {
	s.dlMu.Lock()
	s.downloads[store.VersionRef{PackageID: strings.ToLower(id), Version: strings.ToLower(version)}]++
	s.dlMu.Unlock()
	s.metrics.downloads.Add(1)
}

// FlushDownloads writes the download counts gathered since the last flush
// to the store. Counts that fail to be written are kept for the next flush.
func (s *Server) FlushDownloads(ctx context.Context) error {
	s.dlMu.Lock()
	batch := s.downloads
	s.downloads = map[store.VersionRef]int64{}
	s.dlMu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := s.store.AddDownloads(ctx, batch); err != nil {
		s.dlMu.Lock()
		for k, n := range batch {
			s.downloads[k] += n
		}
		s.dlMu.Unlock()
		return fmt.Errorf("feed: %w", err)
	}
	return nil
}
