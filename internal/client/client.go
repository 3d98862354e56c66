// Package client speaks the NuGet V3 protocol to a feed, as the NuGet
// client does: service index discovery, the flat container
// (PackageBaseAddress/3.0.0: version lists, .nupkg and .nuspec files) and
// publishing (PackagePublish/2.0.0: push and unlist).
//
// # Contract
//
//   - Every call takes a context and returns when it is done.
//   - Idempotent GETs are retried on network errors and on 408, 429 and 5xx
//     answers, at most Options.MaxAttempts times in all, with exponential
//     backoff (and Retry-After, bounded); pushes and deletes are sent once,
//     as a retried push would answer 409 for a package that the lost
//     attempt stored.
//   - Every response body is bounded: JSON documents by MaxJSONSize,
//     packages by Options.MaxPackageSize, manifests by nupkg.MaxNuspecSize,
//     error bodies by maxErrorBody. gzip is accepted (the transport
//     decompresses, and the bounds apply to the decompressed bytes).
//   - Secrets go only where they belong: the API key only on publish
//     requests, basic-auth credentials only to the origin (scheme, host and
//     port) of the source URL, neither across a redirect to another origin
//     or from https to http. Error messages never hold them.
//
// # Threat model
//
// Everything a feed sends is untrusted. This package only bounds and
// parses it; it does not judge packages. A caller must verify a package's
// signatures (nusig.Verify with the user's trust policy) before using a
// byte of it, as internal/restore/gpf does before extraction.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds and defaults.
const (
	// MaxJSONSize bounds a JSON document (service index, version list).
	// nuget.org's service index is 8 KiB; the version list of its package
	// with the most versions is about 100 KiB. 16 MiB is a broken or hostile
	// feed.
	MaxJSONSize = 16 << 20
	// DefaultMaxPackageSize bounds a downloaded .nupkg unless
	// Options.MaxPackageSize says otherwise. nuget.org refuses packages over
	// 250 MB; private feeds hold larger ones (SDK packs, models), so the
	// default leaves four times that before a download is cut off.
	DefaultMaxPackageSize = 1 << 30
	// DefaultMaxAttempts is how many times a GET is tried in all (NuGet
	// tries three times too).
	DefaultMaxAttempts = 3
	// DefaultRetryDelay is the first backoff; each retry doubles it.
	DefaultRetryDelay = 500 * time.Millisecond
	// maxRetryDelay caps one backoff, including a server's Retry-After, so
	// that a feed cannot stall a restore for long.
	maxRetryDelay = 30 * time.Second
	// DefaultPushTimeout is dotnet nuget push's default --timeout.
	DefaultPushTimeout = 300 * time.Second
	// responseHeaderTimeout bounds the wait for an answer's headers once
	// the request is sent (NuGet's HTTP timeout is 100 s).
	responseHeaderTimeout = 100 * time.Second
	// maxErrorBody bounds the body kept from a failed request: feeds send a
	// sentence or a small JSON document.
	maxErrorBody = 4 << 10
	// maxRedirects bounds the redirects a request follows (Go's default).
	maxRedirects = 10
	// maxConnsPerHost allows concurrent downloads from one feed.
	maxConnsPerHost = 16
	// protocolVersion is the X-NuGet-Protocol-Version NuGet clients send.
	protocolVersion = "4.1.0"
	// apiKeyHeader carries the API key on publish requests.
	apiKeyHeader = "X-NuGet-ApiKey"
)

// DefaultUserAgent is the User-Agent unless Options.UserAgent is set.
var DefaultUserAgent = "Signet (NuGet V3 client; " + runtime.GOOS + "/" + runtime.GOARCH + ")"

// ErrNotFound is matched (errors.Is) by the error of a request that the feed
// answered with 404.
var ErrNotFound = errors.New("client: not found")

// Options configure a Client. The zero value is usable.
type Options struct {
	// HTTPClient sends the requests; nil means a client with connection and
	// header timeouts. Its CheckRedirect is replaced by one that strips
	// secrets on redirects to another origin.
	HTTPClient *http.Client
	// UserAgent is sent with every request (DefaultUserAgent if empty).
	UserAgent string
	// Username and Password, when Username is set, are sent as HTTP basic
	// authentication to the source's origin (packageSourceCredentials).
	Username, Password string
	// ProtocolVersion is the source's protocolVersion: 3 makes it a V3
	// service index whatever its URL; 0 or 2 leaves it to the URL, which is
	// a V3 service index when its path ends in ".json" (NuGet's rule). A V2
	// source can only be pushed to.
	ProtocolVersion int
	// MaxPackageSize bounds a downloaded package (DefaultMaxPackageSize if 0).
	MaxPackageSize int64
	// MaxAttempts bounds the tries of a GET (DefaultMaxAttempts if 0).
	MaxAttempts int
	// RetryDelay is the first backoff between tries (DefaultRetryDelay if 0).
	RetryDelay time.Duration
	// Trace, when set, is called before each request is sent and when its
	// answer (or failure) arrives; see Event.
	Trace func(Event)
}

// Event is a request as Options.Trace sees it: once with Done false before
// it is sent, once with Done true when its headers arrived (Status) or it
// failed (Err).
type Event struct {
	Method, URL string
	Done        bool
	Status      int
	Duration    time.Duration
	Attempt     int
	Err         error
}

// Client talks to one package source. It is safe for concurrent use.
type Client struct {
	source *url.URL
	v3     bool
	opts   Options
	http   *http.Client

	mu    sync.Mutex
	index *ServiceIndex
}

// New returns a client for the package source at sourceURL: a V3 service
// index URL (…/index.json), or a V2 feed URL that can only be pushed to.
// It sends nothing; the service index is fetched on first use.
func New(sourceURL string, o Options) (*Client, error) {
	u, err := url.Parse(sourceURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: %q is not an http(s) URL", redact(sourceURL))
	}
	if u.User != nil {
		return nil, fmt.Errorf("client: %q holds credentials in the URL; use packageSourceCredentials", redact(sourceURL))
	}
	u.Fragment = ""
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.MaxPackageSize <= 0 {
		o.MaxPackageSize = DefaultMaxPackageSize
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: defaultTransport()}
	}
	hcCopy := *hc
	hcCopy.CheckRedirect = checkRedirect
	c := &Client{source: u, opts: o, http: &hcCopy}
	c.v3 = o.ProtocolVersion >= 3 || strings.HasSuffix(strings.ToLower(u.Path), ".json")
	return c, nil
}

// Source returns the source URL the client was made for.
func (c *Client) Source() string { return c.source.String() }

// IsV3 reports whether the source is read as a V3 service index.
func (c *Client) IsV3() bool { return c.v3 }

func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = responseHeaderTimeout
	t.MaxIdleConnsPerHost = maxConnsPerHost
	return t
}

// checkRedirect follows at most maxRedirects redirects to http(s) URLs and
// drops the API key and credentials when one leaves the original origin or
// goes from https to http. (Go drops Authorization across hosts itself, but
// forwards custom headers such as X-NuGet-ApiKey.)
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("client: stopped after %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("client: redirect to a %q URL refused", req.URL.Scheme)
	}
	first := via[0].URL
	if !sameOrigin(first, req.URL) {
		req.Header.Del(apiKeyHeader)
		req.Header.Del("Authorization")
	}
	return nil
}

func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Host, b.Host)
}

// newRequest builds a request with the headers every request carries, and
// basic authentication when u is on the source's origin.
func (c *Client) newRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, redact(u), err)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("X-NuGet-Protocol-Version", protocolVersion)
	if c.opts.Username != "" && sameOrigin(c.source, req.URL) {
		req.SetBasicAuth(c.opts.Username, c.opts.Password)
	}
	return req, nil
}

// StatusError is an answer that is not a success.
type StatusError struct {
	Method, URL string
	// StatusCode is the HTTP status; Reason the status line's reason
	// phrase, where nuget.org and Signet's feed put their message for
	// publish requests.
	StatusCode int
	Reason     string
	// Body is the start of the answer's body, trimmed.
	Body string
}

// Error formats the error as NuGet reports an unsuccessful answer.
func (e *StatusError) Error() string {
	return fmt.Sprintf("client: %s %s: response status code does not indicate success: %d (%s)", e.Method, e.URL, e.StatusCode, e.Reason)
}

// Is makes a 404 match ErrNotFound.
func (e *StatusError) Is(target error) bool {
	return target == ErrNotFound && e.StatusCode == http.StatusNotFound
}

// statusError reads what is useful of a failed answer and closes it.
func statusError(req *http.Request, resp *http.Response) *StatusError {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	if reason == "" {
		reason = http.StatusText(resp.StatusCode)
	}
	return &StatusError{Method: req.Method, URL: redact(req.URL.String()), StatusCode: resp.StatusCode, Reason: reason, Body: strings.TrimSpace(string(b))}
}

// retryable reports whether an answer with this status is worth another
// try: the server is overloaded, timed out or failed.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// get sends a GET and hands a 200 answer to read, retrying as the package
// contract says. read must consume and may fail: a failure is retried
// unless read reports that it cannot start over (permanent).
func (c *Client) get(ctx context.Context, u string, accept string, read func(*http.Response) error) error {
	delay := c.opts.RetryDelay
	var last error
	for attempt := 1; ; attempt++ {
		req, err := c.newRequest(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := c.send(req, attempt)
		var wait time.Duration
		switch {
		case err != nil:
			last = err
		case resp.StatusCode == http.StatusOK:
			err = read(resp)
			resp.Body.Close()
			if err == nil {
				return nil
			}
			var p *permanentError
			if errors.As(err, &p) {
				return p.err
			}
			last = fmt.Errorf("client: GET %s: %w", redact(u), err)
		case retryable(resp.StatusCode):
			wait = retryAfter(resp)
			last = statusError(req, resp)
		default:
			return statusError(req, resp)
		}
		if ctx.Err() != nil || attempt >= c.opts.MaxAttempts {
			if ctx.Err() != nil {
				return fmt.Errorf("client: GET %s: %w", redact(u), ctx.Err())
			}
			return last
		}
		if wait < delay {
			wait = delay + rand.N(delay/2+1)
		}
		wait = min(wait, maxRetryDelay)
		select {
		case <-ctx.Done():
			return fmt.Errorf("client: GET %s: %w", redact(u), ctx.Err())
		case <-time.After(wait):
		}
		delay = min(delay*2, maxRetryDelay)
	}
}

// permanentError marks a read failure that a retry cannot repair (the
// bytes already went to the caller's writer, or a bound was exceeded).
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }

// send sends req with tracing.
func (c *Client) send(req *http.Request, attempt int) (*http.Response, error) {
	u := redact(req.URL.String())
	if c.opts.Trace != nil {
		c.opts.Trace(Event{Method: req.Method, URL: u, Attempt: attempt})
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = fmt.Errorf("client: %s %s: %w", req.Method, u, unwrapURLError(err))
	}
	if c.opts.Trace != nil {
		ev := Event{Method: req.Method, URL: u, Done: true, Duration: time.Since(start), Attempt: attempt, Err: err}
		if resp != nil {
			ev.Status = resp.StatusCode
		}
		c.opts.Trace(ev)
	}
	return resp, err
}

// unwrapURLError drops *url.Error's "Get \"url\": " prefix (the caller
// names the request) and any credentials it would repeat.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryAfter reads a Retry-After of seconds (0 when absent or a date).
func retryAfter(resp *http.Response) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		return min(time.Duration(s)*time.Second, maxRetryDelay)
	}
	return 0
}

// readLimited reads a body of at most limit bytes, refusing a longer one
// (first by its Content-Length when it has one).
func readLimited(resp *http.Response, limit int64, what string) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, &permanentError{fmt.Errorf("client: %s is %d bytes, more than the %d-byte limit", what, resp.ContentLength, limit)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &permanentError{fmt.Errorf("client: %s is larger than the %d-byte limit", what, limit)}
	}
	return b, nil
}

// redact removes a password from a URL for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
