package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"time"
)

// Publishing (https://learn.microsoft.com/nuget/api/package-publish-resource):
// a push is PUT {endpoint} with the package as the one file part of a
// multipart/form-data body; unlisting is DELETE {endpoint}/{id}/{version};
// the API key goes in X-NuGet-ApiKey.

// v2PushPath is where NuGet pushes on a V2 source given by its bare host.
const v2PushPath = "api/v2/package/"

// PushOptions configure a push.
type PushOptions struct {
	// SkipDuplicate makes a 409 Conflict (the version exists) a success, as
	// dotnet nuget push --skip-duplicate does.
	SkipDuplicate bool
	// Timeout bounds the whole push (DefaultPushTimeout if 0).
	Timeout time.Duration
}

// PushResult is what a push did.
type PushResult struct {
	// URL is where the package was sent.
	URL string
	// StatusCode is the feed's answer: 201 or 202, or 409 with Duplicate.
	StatusCode int
	// Duplicate is set when the version existed and SkipDuplicate was on.
	Duplicate bool
	// Duration is the time from sending to the answer.
	Duration time.Duration
}

// PublishURL returns the endpoint pushes go to, as NuGet computes it: the
// PackagePublish/2.0.0 resource of a V3 source; for a V2 source, the source
// URL itself, or {source}/api/v2/package when the URL has no path. It ends
// in "/", as the URLs NuGet sends to do.
func (c *Client) PublishURL(ctx context.Context) (string, error) {
	var base string
	if c.v3 {
		u, err := c.resource(ctx, TypePackagePublish)
		if err != nil {
			return "", err
		}
		base = u
	} else {
		u := *c.source
		if strings.Trim(u.Path, "/") == "" {
			u.Path = "/" + v2PushPath
			u.RawPath = ""
		}
		base = u.String()
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base, nil
}

// Push sends the size bytes of r, a package, to the publish endpoint with
// apiKey. 201 and 202 are success; 409 is a success with Duplicate set when
// o.SkipDuplicate, else an error; any other answer is a *StatusError
// carrying the status line's reason phrase (where the feed explains) and the
// body. The result is returned with the error when the feed answered.
// Pushes are not retried.
func (c *Client) Push(ctx context.Context, r io.Reader, size int64, apiKey string, o PushOptions) (*PushResult, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultPushTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	endpoint, err := c.PublishURL(ctx)
	if err != nil {
		return nil, err
	}
	prefix, suffix, ctype, err := multipartEnvelope()
	if err != nil {
		return nil, err
	}
	body := func() io.Reader {
		return io.MultiReader(bytes.NewReader(prefix), io.LimitReader(r, size), bytes.NewReader(suffix))
	}
	req, err := c.newRequest(ctx, http.MethodPut, endpoint, body())
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(prefix)) + size + int64(len(suffix))
	if ra, ok := r.(io.ReaderAt); ok {
		// A redirect that keeps the method (307, 308) sends the body again.
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(io.MultiReader(bytes.NewReader(prefix), io.NewSectionReader(ra, 0, size), bytes.NewReader(suffix))), nil
		}
	} else {
		req.GetBody = nil
	}
	req.Header.Set("Content-Type", ctype)
	if apiKey != "" {
		req.Header.Set(apiKeyHeader, apiKey)
	}
	start := time.Now()
	resp, err := c.send(req, 1)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("client: PUT %s: no answer within the %s timeout", redact(endpoint), timeout)
		}
		return nil, err
	}
	res := &PushResult{URL: redact(endpoint), StatusCode: resp.StatusCode, Duration: time.Since(start)}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		return res, nil
	case resp.StatusCode == http.StatusConflict && o.SkipDuplicate:
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		res.Duplicate = true
		return res, nil
	}
	return res, statusError(req, resp)
}

// PushFile pushes the package file at path.
func (c *Client) PushFile(ctx context.Context, path, apiKey string, o PushOptions) (*PushResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("client: %q is not a regular file", path)
	}
	return c.Push(ctx, f, fi.Size(), apiKey, o)
}

// multipartEnvelope returns what goes before and after the package in a
// push body, and the body's Content-Type: one part named "package", file
// name "package.nupkg", application/octet-stream, as NuGet sends it.
func multipartEnvelope() (prefix, suffix []byte, ctype string, err error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="package"; filename="package.nupkg"`)
	hdr.Set("Content-Type", "application/octet-stream")
	if _, err := mw.CreatePart(hdr); err != nil {
		return nil, nil, "", fmt.Errorf("client: %w", err)
	}
	prefix = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := mw.Close(); err != nil {
		return nil, nil, "", fmt.Errorf("client: %w", err)
	}
	return prefix, bytes.Clone(buf.Bytes()), mw.FormDataContentType(), nil
}

// Unlist hides a version from search and from version resolution without
// deleting it (DELETE {endpoint}{id}/{version}; nuget.org and Signet's
// feed unlist). It is sent once; any answer but 200, 202 or 204 is a
// *StatusError.
func (c *Client) Unlist(ctx context.Context, id, version, apiKey string) error {
	if _, err := lowerID(id); err != nil {
		return err
	}
	if _, err := lowerVersion(version); err != nil {
		return err
	}
	endpoint, err := c.PublishURL(ctx)
	if err != nil {
		return err
	}
	u := endpoint + url.PathEscape(id) + "/" + url.PathEscape(version)
	req, err := c.newRequest(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return err
	}
	if apiKey != "" {
		req.Header.Set(apiKeyHeader, apiKey)
	}
	resp, err := c.send(req, 1)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusAccepted, http.StatusNoContent:
		resp.Body.Close()
		return nil
	}
	return statusError(req, resp)
}

// IsConflict reports whether err is a 409 answer.
func IsConflict(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.StatusCode == http.StatusConflict
}
