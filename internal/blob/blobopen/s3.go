package blobopen

import (
	"context"

	"github.com/signet-nuget/signet/internal/blob"
	"github.com/signet-nuget/signet/internal/blob/s3"
)

func openS3(ctx context.Context, url string) (blob.Store, error) {
	s, err := s3.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return s, nil
}
