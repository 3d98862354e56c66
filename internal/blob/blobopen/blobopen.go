// Package blobopen opens the blob store that a storage URL names:
//
//	file:PATH or a plain path     a local directory (blob.Dir), created if missing
//	s3://BUCKET[/PREFIX]?…        an S3-compatible bucket (package s3)
//
// It is separate from package blob so that blob does not import its
// implementations.
package blobopen

import (
	"context"
	"fmt"
	"strings"

	"github.com/signet-nuget/signet/internal/blob"
)

// Open opens the blob store that url names.
func Open(ctx context.Context, url string) (blob.Store, error) {
	switch {
	case strings.HasPrefix(url, "s3://"):
		return openS3(ctx, url)
	case strings.HasPrefix(url, "file:"):
		url = strings.TrimPrefix(strings.TrimPrefix(url, "file:"), "//")
	case strings.Contains(url, "://"):
		return nil, fmt.Errorf("blobopen: unknown storage URL scheme in %q (want file:PATH or s3://BUCKET)", url)
	}
	if url == "" {
		return nil, fmt.Errorf("blobopen: storage URL has no path")
	}
	d, err := blob.NewDir(url)
	if err != nil {
		return nil, err
	}
	return d, nil
}
