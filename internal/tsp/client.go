package tsp

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client defaults.
const (
	// DefaultTimeout bounds one attempt against one TSA (connect, send,
	// answer, body). Public TSAs answer in well under a second; ten seconds
	// rides out a slow one without hanging a signing run.
	DefaultTimeout = 10 * time.Second
	// DefaultRetries is how many times a TSA is retried after a transient
	// failure (network error, timeout, HTTP 5xx, 408, 429) before the next
	// URL is tried.
	DefaultRetries = 2
	// DefaultBackoff is the wait before the first retry; it doubles for each
	// further retry of the same URL.
	DefaultBackoff = 250 * time.Millisecond
)

// Media types of RFC 3161 section 3.4. Some TSAs answer with the
// non-standard "application/timestamp-response"; it is accepted too.
const (
	ContentTypeQuery    = "application/timestamp-query"
	ContentTypeReply    = "application/timestamp-reply"
	contentTypeResponse = "application/timestamp-response"
)

// Timestamper obtains timestamp tokens; *Client is the HTTP implementation.
//
// Contract: Timestamp returns a token over data with an imprint of hash h
// only after the token passed every check of Token.Verify against the
// request it answers (status, nonce, imprint, signature, TSA certificate
// present and fit under NuGet's rules), together with the token's DER exactly
// as received. It does not build the TSA chain. On error it returns no token;
// the error is one line and, when every TSA failed, an *AllFailedError.
// Cancelling ctx ends the call promptly with an error wrapping ctx.Err().
type Timestamper interface {
	Timestamp(ctx context.Context, data []byte, h crypto.Hash) (*Token, []byte, error)
}

var _ Timestamper = (*Client)(nil)

// Client obtains timestamp tokens over HTTP (RFC 3161 section 3.4), trying
// each URL in order until one returns a token that verifies.
//
// A token is returned only after every check of [Token.Verify] passed with
// the request as reference: status granted, nonce, imprint, policy, the TSA
// certificate present (certReq is always set), the token signature, and
// NuGet's TSA certificate rules (spec 4.1). Building the TSA chain to a
// trusted root is the caller's job.
type Client struct {
	// URLs are the TSAs, tried in order. Each must be http or https.
	URLs []string
	// HTTPClient sends the requests; nil means a client with no overall
	// timeout (each attempt is bounded by Timeout).
	HTTPClient *http.Client
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Retries is the number of retries per URL after a transient failure;
	// zero means DefaultRetries and a negative value means none.
	Retries int
	// Backoff is the wait before the first retry; zero means DefaultBackoff.
	Backoff time.Duration
	// Verify holds the options the token is verified with; its Request
	// field is overwritten with the request sent, and a zero Now means the
	// time of the answer.
	Verify VerifyOptions
}

// Timestamp obtains a token over data (for NuGet: a SignerInfo's signature
// value) with an imprint of hash h. It returns the parsed token and its DER.
// When every TSA fails, the error names each URL and why it failed, on one
// line. Cancelling ctx stops at once.
func (c *Client) Timestamp(ctx context.Context, data []byte, h crypto.Hash) (*Token, []byte, error) {
	if len(c.URLs) == 0 {
		return nil, nil, errors.New("tsp: no timestamp authority URL configured")
	}
	if !AllowedHash(h) || !h.Available() {
		return nil, nil, fmt.Errorf("tsp: %w for a timestamp: %s (use SHA-256, SHA-384 or SHA-512)", ErrUnsupportedHash, hashName(h))
	}
	hh := h.New()
	hh.Write(data)
	req, err := NewRequest(h, hh.Sum(nil))
	if err != nil {
		return nil, nil, err
	}
	der, err := req.Marshal()
	if err != nil {
		return nil, nil, err
	}
	all := &AllFailedError{}
	for _, u := range c.URLs {
		tok, raw, err := c.fromURL(ctx, u, der, req, data)
		if err == nil {
			return tok, raw, nil
		}
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("tsp: timestamp request cancelled: %w", ctx.Err())
		}
		all.Failures = append(all.Failures, URLError{URL: u, Err: err})
	}
	return nil, nil, all
}

// URLError is why one TSA failed.
type URLError struct {
	URL string
	Err error
}

// AllFailedError is returned by Client.Timestamp when no TSA gave a usable
// token. Its message is one line naming every URL and its failure.
type AllFailedError struct {
	Failures []URLError
}

func (e *AllFailedError) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = redactURL(f.URL) + ": " + oneLine(f.Err)
	}
	return "tsp: all timestamp authorities failed: " + strings.Join(parts, "; ")
}

// Unwrap returns each URL's error, so errors.As finds a CheckError.
func (e *AllFailedError) Unwrap() []error {
	errs := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		errs[i] = f.Err
	}
	return errs
}

// rejectedError lists the checks a received token failed.
type rejectedError struct {
	errs []error
}

func (e *rejectedError) Error() string {
	parts := make([]string, len(e.errs))
	for i, err := range e.errs {
		parts[i] = strings.TrimPrefix(err.Error(), "tsp: ")
	}
	return "token rejected: " + strings.Join(parts, "; ")
}

func (e *rejectedError) Unwrap() []error { return e.errs }

// fromURL asks one TSA, retrying transient failures with backoff.
func (c *Client) fromURL(ctx context.Context, u string, der []byte, req *Request, data []byte) (*Token, []byte, error) {
	if err := checkURL(u); err != nil {
		return nil, nil, err
	}
	retries := c.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	wait := c.Backoff
	if wait <= 0 {
		wait = DefaultBackoff
	}
	for attempt := 0; ; attempt++ {
		body, retry, err := c.post(ctx, u, der)
		if err == nil {
			return c.accept(body, req, data)
		}
		if !retry || attempt >= retries || ctx.Err() != nil {
			if attempt > 0 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return nil, nil, err
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(wait << attempt):
		}
	}
}

// redactURL hides a password in a URL's userinfo, so that errors and logs
// never carry one.
func redactURL(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return u
}

// checkURL requires an absolute http or https URL (spec 4.1).
func checkURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return errors.New("malformed URL")
	}
	if p.Scheme != "http" && p.Scheme != "https" || p.Host == "" {
		return errors.New("URL must be absolute http or https")
	}
	return nil
}

// post sends one request and returns the body of a well-formed HTTP answer.
// retry reports whether the failure is worth another attempt.
func (c *Client) post(ctx context.Context, u string, der []byte) (body []byte, retry bool, err error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, u, bytes.NewReader(der))
	if err != nil {
		return nil, false, errors.New("malformed URL")
	}
	hreq.Header.Set("Content-Type", ContentTypeQuery)
	hreq.Header.Set("Accept", ContentTypeReply)
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, true, transportError(actx, ctx, timeout, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseSize))
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
			resp.StatusCode == http.StatusRequestTimeout
		return nil, retry, fmt.Errorf("HTTP status %q", resp.Status)
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != ContentTypeReply && mt != contentTypeResponse) {
		return nil, false, fmt.Errorf("content type %q, want %q", ct, ContentTypeReply)
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return nil, true, transportError(actx, ctx, timeout, err)
	}
	if len(body) > MaxResponseSize {
		return nil, false, fmt.Errorf("response larger than %d bytes", MaxResponseSize)
	}
	return body, false, nil
}

// transportError names a network failure briefly: a timeout as such, and
// other errors without the URL that net/http repeats in them.
func transportError(actx, ctx context.Context, timeout time.Duration, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("request failed: %w", err)
}

// accept parses a response body and verifies its token against the request.
func (c *Client) accept(body []byte, req *Request, data []byte) (*Token, []byte, error) {
	resp, err := ParseResponse(body)
	if err != nil {
		return nil, nil, fmt.Errorf("unreadable response: %w", err)
	}
	if err := resp.Err(); err != nil {
		return nil, nil, err
	}
	if resp.Token == nil {
		return nil, nil, fmt.Errorf("response status %s carries no token", resp.Status)
	}
	tok, err := ParseToken(resp.Token)
	if err != nil {
		return nil, nil, fmt.Errorf("unreadable token: %w", err)
	}
	opts := c.Verify
	opts.Request = req
	if errs := tok.Verify(data, opts); len(errs) > 0 {
		return nil, nil, &rejectedError{errs}
	}
	return tok, resp.Token, nil
}

// oneLine folds a message onto one line and drops the package prefix that
// the enclosing message already carries.
func oneLine(err error) string {
	msg := strings.TrimPrefix(err.Error(), "tsp: ")
	return strings.NewReplacer("\r\n", "; ", "\n", "; ", "\r", " ", ": tsp: ", ": ").Replace(msg)
}
