package revocation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// defaultClient is the HTTP client used when Checker.HTTPClient is nil:
// the default transport (which honours proxy settings from the
// environment), at most maxRedirects redirects, to http URLs only.
var defaultClient = &http.Client{CheckRedirect: checkRedirect}

// checkRedirect follows at most maxRedirects redirects, and only to http
// URLs (see usableURL).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("revocation: more than %d redirects", maxRedirects)
	}
	if !usableURL(req.URL.String()) {
		return fmt.Errorf("revocation: redirect to %q: only http URLs are followed", req.URL.String())
	}
	return nil
}

// usableURL reports whether s is a URL we fetch: http only. LDAP and file
// URLs, which certificates also name, are not implemented; https is not
// used because checking the server's certificate would need revocation
// checking in turn, and what we fetch is signed anyway (RFC 6960 A.1 and
// RFC 5280 4.2.1.13 describe HTTP).
func usableURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "http" && u.Host != ""
}

// usableURLs returns the first maxURLsPerKind usable URLs of urls.
func usableURLs(urls []string) []string {
	var out []string
	for _, u := range urls {
		if len(out) == maxURLsPerKind {
			break
		}
		if usableURL(u) {
			out = append(out, u)
		}
	}
	return out
}

// transportError is a failure to get any HTTP answer (connection refused,
// timeout, reset): asking the same server again in another way is pointless.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// httpStatusError is an HTTP answer other than 200.
type httpStatusError struct {
	method, url string
	code        int
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("revocation: %s %q: HTTP status %d", e.method, e.url, e.code)
}

// serverFailed reports whether err says the server is down or broken, so
// that it is not asked again for downBackoff.
func serverFailed(err error) bool {
	var te *transportError
	var se *httpStatusError
	return errors.As(err, &te) || errors.As(err, &se) && se.code >= 500
}

// get does one HTTP exchange and returns the body of a 200 answer, read up
// to limit bytes.
func (c *Checker) get(ctx context.Context, method, u, contentType string, body []byte, limit int64) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("revocation: %s %q: %w", method, u, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := c.HTTPClient
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &transportError{fmt.Errorf("revocation: %s %q: %w", method, u, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &httpStatusError{method, u, resp.StatusCode}
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %s %q: %d bytes (limit %d)", ErrTooLarge, method, u, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, &transportError{fmt.Errorf("revocation: %s %q: reading the body: %w", method, u, err)}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s %q: more than %d bytes", ErrTooLarge, method, u, limit)
	}
	return b, nil
}

// ocspGetURL is the GET form of an OCSP request (RFC 6960 A.1): the
// responder URL, a slash, and the URL-escaped base64 of the DER request.
func ocspGetURL(responder string, req []byte) string {
	return strings.TrimSuffix(responder, "/") + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(req))
}

// askOCSP asks one responder about cert, by POST and, if the responder
// answered but not with a usable response, by GET (RFC 6960 A.1), within
// one ResponderTimeout.
func (c *Checker) askOCSP(ctx context.Context, u string, oc ocspCheck) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.responderTimeout())
	defer cancel()
	var nonce []byte
	if c.OCSPNonce {
		nonce = make([]byte, nonceSize)
		rand.Read(nonce) // never fails (crypto/rand)
	}
	oc.nonce = nonce
	req, err := newOCSPRequest(oc.cert, oc.issuer, nonce)
	if err != nil {
		return Result{}, err
	}
	var errs []error
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		var b []byte
		if method == http.MethodPost {
			b, err = c.get(ctx, method, u, "application/ocsp-request", req, maxOCSPResponseSize)
		} else {
			b, err = c.get(ctx, method, ocspGetURL(u, req), "", nil, maxOCSPResponseSize)
		}
		if err == nil {
			var res Result
			if res, err = verifyOCSP(b, oc); err == nil {
				res.Origin, res.URL = OriginNetwork, u
				return res, nil
			}
			err = fmt.Errorf("%w (OCSP %s %q)", err, method, u)
		}
		errs = append(errs, err)
		var te *transportError
		if errors.As(err, &te) || errors.Is(err, ErrStatusUnknown) {
			break // the server is unreachable, or answered and does not know
		}
	}
	return Result{}, errors.Join(errs...)
}

// fetchCRL downloads and parses the CRL at u within one ResponderTimeout.
func (c *Checker) fetchCRL(ctx context.Context, u string) (*parsedCRL, error) {
	ctx, cancel := context.WithTimeout(ctx, c.responderTimeout())
	defer cancel()
	b, err := c.get(ctx, http.MethodGet, u, "", nil, maxCRLSize)
	if err != nil {
		return nil, err
	}
	p, err := parseCRL(b)
	if err != nil {
		return nil, fmt.Errorf("%w (CRL %q)", err, u)
	}
	return p, nil
}
