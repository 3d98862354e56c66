// Package s3test gives tests a fresh, empty place in the S3 server that
// scripts/services.d/s3 starts (versitygw on 127.0.0.1).
//
// The server is named by the environment variable SIGNET_TEST_S3, an s3://
// URL as package s3 takes it, with the credentials in AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY beside it. Without SIGNET_TEST_S3 a test that asks
// for the server is skipped, unless SIGNET_REQUIRE_SERVICES=1 (set by
// scripts/test), where it fails.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// EnvURL is the environment variable that names the test server.
const EnvURL = "SIGNET_TEST_S3"

const (
	// cleanupTimeout bounds deleting a test's objects; a test writes at
	// most a few dozen.
	cleanupTimeout = time.Minute
	// maxNameLen bounds the part of the prefix taken from the test's name,
	// which only helps a human find a test's leftovers.
	maxNameLen = 48
)

// URL returns an s3:// URL for a fresh, empty prefix in the test bucket.
// When t ends, everything under the prefix is deleted, including multipart
// uploads left incomplete.
func URL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(EnvURL)
	if raw == "" {
		msg := EnvURL + " is not set; run ./scripts/test, or: set -a; eval \"$(scripts/services.d/s3 start)\"; set +a"
		if os.Getenv("SIGNET_REQUIRE_SERVICES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.User != nil {
		t.Fatalf("%s must be s3://BUCKET[/PREFIX]?endpoint=http://127.0.0.1:PORT&region=REGION, without credentials", EnvURL)
	}
	q := u.Query()
	endpoint, err := url.Parse(q.Get("endpoint"))
	if err != nil || (endpoint.Scheme != "http" && endpoint.Scheme != "https") {
		t.Fatalf("%s: endpoint %q is not an http(s) URL", EnvURL, q.Get("endpoint"))
	}
	// The cleanup deletes objects: never point it at a real bucket.
	switch endpoint.Hostname() {
	case "127.0.0.1", "localhost", "::1":
	default:
		t.Fatalf("%s: endpoint %q is not on the loopback interface; tests only use a local server", EnvURL, endpoint.Host)
	}

	random := make([]byte, 8)
	rand.Read(random)
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	prefix += "test-" + sanitize(t.Name()) + "-" + hex.EncodeToString(random)
	u.Path = "/" + prefix
	prefix += "/"

	client, err := minio.New(endpoint.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")),
		Secure: endpoint.Scheme == "https",
		Region: q.Get("region"),
	})
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	bucket := u.Host
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		for o := range client.ListObjectsIter(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if o.Err != nil {
				t.Errorf("s3test: listing %s/%s for cleanup: %v", bucket, prefix, o.Err)
				return
			}
			if err := client.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
				t.Errorf("s3test: cleanup: %v", err)
			}
		}
		for up := range client.ListIncompleteUploads(ctx, bucket, prefix, true) {
			if up.Err != nil {
				t.Errorf("s3test: listing uploads for cleanup: %v", up.Err)
				return
			}
			if err := client.RemoveIncompleteUpload(ctx, bucket, up.Key); err != nil {
				t.Errorf("s3test: cleanup: %v", err)
			}
		}
	})
	return u.String()
}

// sanitize keeps the letters, digits and dashes of a test name, so that it
// is a valid key segment.
func sanitize(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		if b.Len() == maxNameLen {
			break
		}
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}
