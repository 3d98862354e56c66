package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/signet-nuget/signet/internal/nuget"
	"github.com/signet-nuget/signet/nupkg"
)

// Flat container requests
// (https://learn.microsoft.com/nuget/api/package-base-address-resource):
// {base}{lower id}/index.json, {base}{lower id}/{lower version}/{lower
// id}.{lower version}.nupkg and …/{lower id}.nuspec, the version in NuGet's
// normalised form.

// flatBase returns the flat container's URL, ending in "/".
func (c *Client) flatBase(ctx context.Context) (string, error) {
	u, err := c.resource(ctx, TypePackageBaseAddress)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u, nil
}

// lowerID checks id and returns its lower-case, path-escaped form.
func lowerID(id string) (string, error) {
	if !nuget.ValidID(id) {
		return "", fmt.Errorf("client: %q is not a valid package id", id)
	}
	return strings.ToLower(id), nil
}

// lowerVersion parses version and returns its normalised lower-case form.
func lowerVersion(version string) (string, error) {
	v, err := nuget.ParseVersion(version)
	if err != nil {
		return "", fmt.Errorf("client: %w", err)
	}
	return strings.ToLower(v.String()), nil
}

// packageURL returns the flat container URL of a file of a version.
func (c *Client) packageURL(ctx context.Context, id, version, file string) (string, error) {
	lid, err := lowerID(id)
	if err != nil {
		return "", err
	}
	lv, err := lowerVersion(version)
	if err != nil {
		return "", err
	}
	base, err := c.flatBase(ctx)
	if err != nil {
		return "", err
	}
	name := lid + ".nuspec"
	if file == "nupkg" {
		name = lid + "." + lv + ".nupkg"
	}
	return base + url.PathEscape(lid) + "/" + url.PathEscape(lv) + "/" + url.PathEscape(name), nil
}

// Versions returns every version of the package the feed holds, listed or
// not, in ascending order. A package the feed does not know (404) has no
// versions: nil and no error, as NuGet reads it. A version that does not
// parse is an error.
func (c *Client) Versions(ctx context.Context, id string) ([]nuget.Version, error) {
	lid, err := lowerID(id)
	if err != nil {
		return nil, err
	}
	base, err := c.flatBase(ctx)
	if err != nil {
		return nil, err
	}
	u := base + url.PathEscape(lid) + "/index.json"
	var raw []byte
	err = c.get(ctx, u, "application/json", func(resp *http.Response) error {
		b, err := readLimited(resp, MaxJSONSize, "the version list of "+id)
		raw = b
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct {
		Versions []string `json:"versions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("client: the version list of %s is not valid JSON: %w", id, err)
	}
	out := make([]nuget.Version, 0, len(doc.Versions))
	for _, s := range doc.Versions {
		v, err := nuget.ParseVersion(s)
		if err != nil {
			return nil, fmt.Errorf("client: the version list of %s holds %q, not a version", id, s)
		}
		out = append(out, v)
	}
	slices.SortStableFunc(out, nuget.Compare)
	return out, nil
}

// DownloadNupkg writes the package file of id and version to w and
// returns its size. It is retried only while nothing has been written to w;
// a failure after that is returned as it is. A package larger than
// Options.MaxPackageSize is refused. The error matches ErrNotFound when the
// feed has no such version.
func (c *Client) DownloadNupkg(ctx context.Context, id, version string, w io.Writer) (int64, error) {
	u, err := c.packageURL(ctx, id, version, "nupkg")
	if err != nil {
		return 0, err
	}
	var n int64
	err = c.get(ctx, u, "", func(resp *http.Response) error {
		cw := &countingWriter{w: w}
		err := c.copyPackage(cw, resp, id, version)
		n = cw.n
		if err != nil && cw.n > 0 {
			return &permanentError{fmt.Errorf("client: GET %s: %w", redact(u), err)}
		}
		return err
	})
	return n, err
}

// DownloadNupkgFile downloads the package file of id and version into a new
// temporary file in dir (os.TempDir() when empty) and returns its path; the
// caller removes it. A failed attempt's bytes are discarded before a retry,
// and nothing is left behind on error.
func (c *Client) DownloadNupkgFile(ctx context.Context, id, version, dir string) (string, error) {
	u, err := c.packageURL(ctx, id, version, "nupkg")
	if err != nil {
		return "", err
	}
	lid, _ := lowerID(id)
	f, err := os.CreateTemp(dir, ".download-"+lid+"-*.nupkg")
	if err != nil {
		return "", fmt.Errorf("client: %w", err)
	}
	err = c.get(ctx, u, "", func(resp *http.Response) error {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return &permanentError{err}
		}
		if err := f.Truncate(0); err != nil {
			return &permanentError{err}
		}
		return c.copyPackage(f, resp, id, version)
	})
	if err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// copyPackage copies a package answer to w within the size bound.
func (c *Client) copyPackage(w io.Writer, resp *http.Response, id, version string) error {
	limit := c.opts.MaxPackageSize
	if resp.ContentLength > limit {
		return &permanentError{fmt.Errorf("client: package %s %s is %d bytes, more than the %d-byte limit", id, version, resp.ContentLength, limit)}
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return err
	}
	if n > limit {
		return &permanentError{fmt.Errorf("client: package %s %s is larger than the %d-byte limit", id, version, limit)}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("client: package %s %s: got %d of %d bytes", id, version, n, resp.ContentLength)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Nuspec fetches and parses the manifest of id and version from the flat
// container (bounded by nupkg.MaxNuspecSize). The error matches
// ErrNotFound when the feed has no such version.
func (c *Client) Nuspec(ctx context.Context, id, version string) (*nupkg.Nuspec, error) {
	u, err := c.packageURL(ctx, id, version, "nuspec")
	if err != nil {
		return nil, err
	}
	var raw []byte
	err = c.get(ctx, u, "", func(resp *http.Response) error {
		b, err := readLimited(resp, nupkg.MaxNuspecSize, "the manifest of "+id+" "+version)
		raw = b
		return err
	})
	if err != nil {
		return nil, err
	}
	ns, err := nupkg.ParseNuspec(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("client: the manifest of %s %s: %w", id, version, err)
	}
	return ns, nil
}
