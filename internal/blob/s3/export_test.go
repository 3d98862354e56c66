package s3

import (
	"context"
	"strings"

	"github.com/minio/minio-go/v7"
)

// MinPartSize is S3's smallest part but the last.
const MinPartSize = minPartSize

// SetPartSize makes s upload in parts of n bytes, so that tests reach the
// multipart path with small objects.
func SetPartSize(s *Store, n int) { s.partSize = n }

// SetPageSize makes s list n keys per request, so that tests reach the
// second page with few objects.
func SetPageSize(s *Store, n int) { s.pageSize = n }

// IncompleteUploads returns the keys of the multipart uploads in progress
// under s's prefix.
func IncompleteUploads(ctx context.Context, s *Store) ([]string, error) {
	var keys []string
	keyMarker, idMarker := "", ""
	for {
		res, err := s.core.ListMultipartUploads(ctx, s.bucket, s.prefix, keyMarker, idMarker, "", 1000)
		if err != nil {
			return nil, err
		}
		for _, u := range res.Uploads {
			keys = append(keys, strings.TrimPrefix(u.Key, s.prefix))
		}
		if !res.IsTruncated {
			return keys, nil
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}

// Core exposes the client, for tests that talk to the server directly.
func Core(s *Store) *minio.Core { return s.core }

// Location returns the bucket and the key prefix of s.
func Location(s *Store) (bucket, prefix string) { return s.bucket, s.prefix }
