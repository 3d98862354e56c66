package feed

import (
	"testing"

	"github.com/signet-nuget/signet/internal/blob/s3/s3test"
	"github.com/signet-nuget/signet/internal/store/pgtest"
)

// scaleBackend is the scale-out pair: PostgreSQL and an S3 bucket, the
// real servers that scripts/services.d starts.
var scaleBackend = backend{"postgres+s3", func(t *testing.T) (string, string) {
	return pgtest.URL(t), s3test.URL(t)
}}

// backends are the store and blob store pairs the feed's suites run on:
// the embedded default always, and PostgreSQL with S3 when the services
// run (always under scripts/test, which requires them).
func backends(t *testing.T) []backend {
	return []backend{sqliteBackend, scaleBackend}
}
