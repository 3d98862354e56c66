package s3

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/signet-nuget/signet/internal/blob"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want config
	}{
		{"s3://bucket", config{bucket: "bucket", endpoint: awsEndpoint, secure: true, lookup: minio.BucketLookupAuto}},
		{"s3://my.bucket-1/", config{bucket: "my.bucket-1", endpoint: awsEndpoint, secure: true, lookup: minio.BucketLookupAuto}},
		{"s3://bucket/feeds/main", config{bucket: "bucket", prefix: "feeds/main/", endpoint: awsEndpoint, secure: true, lookup: minio.BucketLookupAuto}},
		{"s3://bucket/feeds/main/", config{bucket: "bucket", prefix: "feeds/main/", endpoint: awsEndpoint, secure: true, lookup: minio.BucketLookupAuto}},
		{"S3://bucket?region=eu-west-3", config{bucket: "bucket", endpoint: awsEndpoint, secure: true, region: "eu-west-3", lookup: minio.BucketLookupAuto}},
		{
			"s3://signet-test?endpoint=http://127.0.0.1:7070&region=us-east-1",
			config{bucket: "signet-test", endpoint: "127.0.0.1:7070", region: "us-east-1", lookup: minio.BucketLookupAuto},
		},
		{
			"s3://b0b/p?endpoint=https://minio.example.org/&path-style=true",
			config{bucket: "b0b", prefix: "p/", endpoint: "minio.example.org", secure: true, lookup: minio.BucketLookupPath},
		},
		{
			"s3://bucket?endpoint=https%3A%2F%2F%5B%3A%3A1%5D%3A9000&path-style=0",
			config{bucket: "bucket", endpoint: "[::1]:9000", secure: true, lookup: minio.BucketLookupDNS},
		},
	}
	for _, tt := range tests {
		got, err := parseURL(tt.raw)
		if err != nil {
			t.Errorf("parseURL(%q): %v", tt.raw, err)
			continue
		}
		if got != tt.want {
			t.Errorf("parseURL(%q) = %+v, want %+v", tt.raw, got, tt.want)
		}
	}
}

func TestParseURLRefuses(t *testing.T) {
	tests := []struct {
		raw  string
		want string // in the error
	}{
		{"", "scheme"},
		{"bucket", "scheme"},
		{"https://bucket", "scheme"},
		{"s3:bucket", "form"},
		{"s3://", "bucket"},
		{"s3://ab", "bucket"},
		{"s3://Bucket", "bucket"},
		{"s3://bucket_name", "bucket"},
		{"s3://192.168.1.1", "bucket"},
		{"s3://bucket:9000", "bucket"},
		{"s3://" + strings.Repeat("b", 64), "bucket"},
		{"s3://bucket//x", "prefix"},
		{"s3://bucket/.hidden", "prefix"},
		{"s3://bucket/a/../b", "prefix"},
		{"s3://bucket/a%20b", "prefix"},
		{"s3://bucket/" + strings.Repeat("a", maxPrefixLen+1), "prefix"},
		{"s3://bucket#x", "fragment"},
		{"s3://bucket?region=a&region=b", "2 times"},
		{"s3://bucket?secret=x", "unknown URL parameter"},
		{"s3://bucket?endpoint", "scheme"},
		{"s3://bucket?endpoint=", "scheme"},
		{"s3://bucket?endpoint=127.0.0.1:9000", "endpoint"},
		{"s3://bucket?endpoint=ftp://host", "scheme"},
		{"s3://bucket?endpoint=http://", "no host"},
		{"s3://bucket?endpoint=http://:9000", "no host"},
		{"s3://bucket?endpoint=http://host/path", "just a scheme"},
		{"s3://bucket?endpoint=http://host?x=1", "just a scheme"},
		{"s3://bucket?endpoint=http://host:0", "port"},
		{"s3://bucket?endpoint=http://host:99999", "port"},
		{"s3://bucket?endpoint=http://host%3Fx%3D1", "just a scheme"},
		{"s3://bucket?region=", "region"},
		{"s3://bucket?region=us%20east", "region"},
		{"s3://bucket?path-style=yes", "path-style"},
		{"s3://bucket?a=%zz", "query"},
		{"s3://bucket/" + strings.Repeat("a", maxURLLen), "bytes"},
	}
	for _, tt := range tests {
		_, err := parseURL(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseURL(%q) = %v, want an error about %q", tt.raw, err, tt.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "s3: ") {
			t.Errorf("parseURL(%q) error %q lacks the package prefix", tt.raw, err)
		}
	}
}

// Credentials in the URL are refused, and the error does not repeat them:
// a configuration error ends up in logs.
func TestParseURLRefusesCredentials(t *testing.T) {
	const secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
	for _, raw := range []string{
		"s3://AKIAEXAMPLE:" + secret + "@bucket",
		"s3://" + secret + "@bucket/prefix",
		"s3://AKIAEXAMPLE:" + secret + "%zz@bucket",
		"s3://bucket?endpoint=http://AKIAEXAMPLE:" + secret + "@127.0.0.1:9000",
		"s3://bucket?endpoint=http://AKIAEXAMPLE:" + secret + "%zz@127.0.0.1:9000",
		"s3://AKIAEXAMPLE:" + secret + "@bucket?" + strings.Repeat("x", maxURLLen),
	} {
		_, err := parseURL(raw)
		if err == nil {
			t.Errorf("parseURL accepted credentials in %q", raw)
			continue
		}
		if strings.Contains(err.Error(), secret[:8]) {
			t.Errorf("parseURL error repeats the secret: %v", err)
		}
	}
	if _, err := parseURL("s3://AKIAEXAMPLE:" + secret + "@bucket"); err == nil || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("error %v does not say where credentials go", err)
	}
}

func FuzzParseURL(f *testing.F) {
	for _, seed := range []string{
		"s3://bucket",
		"s3://signet-test/feeds/a?endpoint=http://127.0.0.1:27070&region=us-east-1",
		"s3://b0b/p?endpoint=https://minio.example.org/&path-style=true",
		"s3://bucket?endpoint=https%3A%2F%2F%5B%3A%3A1%5D%3A9000&path-style=0",
		"s3://key:secret-value@bucket",
		"s3://bucket?endpoint=http://key:secret-value@host",
		"s3://bucket/a%2Fb",
		"s3:opaque",
		"s3://bucket?a=%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := parseURL(raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "s3: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			// An error never repeats a password from the URL.
			for _, s := range []string{raw, endpointParam(raw)} {
				if u, perr := url.Parse(s); perr == nil && u.User != nil {
					if p, ok := u.User.Password(); ok && len(p) >= 8 && strings.Contains(err.Error(), p) {
						t.Errorf("error %q repeats the password", err)
					}
				}
			}
			return
		}
		if err := s3utils.CheckValidBucketNameStrict(c.bucket); err != nil {
			t.Errorf("accepted bucket %q: %v", c.bucket, err)
		}
		if c.prefix != "" {
			if !strings.HasSuffix(c.prefix, "/") || len(c.prefix) > maxPrefixLen+1 {
				t.Errorf("accepted prefix %q", c.prefix)
			}
			if err := blob.ValidateKey(strings.TrimSuffix(c.prefix, "/")); err != nil {
				t.Errorf("accepted prefix %q: %v", c.prefix, err)
			}
		}
		if c.endpoint == "" || strings.ContainsAny(c.endpoint, "@/?#") {
			t.Errorf("accepted endpoint %q", c.endpoint)
		}
		if c.region != "" && checkRegion(c.region) != nil {
			t.Errorf("accepted region %q", c.region)
		}
		if u, err := url.Parse(raw); err != nil || u.User != nil {
			t.Errorf("accepted %q, which has credentials or does not parse", raw)
		}
	})
}

// endpointParam returns the endpoint parameter of raw, if any.
func endpointParam(raw string) string {
	_, query, _ := strings.Cut(raw, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return ""
	}
	return q.Get("endpoint")
}

func TestFill(t *testing.T) {
	data := make([]byte, 3*initialBufferSize+17)
	for i := range data {
		data[i] = byte(i * 7)
	}
	tests := []struct {
		n, limit int
		more     bool
	}{
		{0, 100, false},
		{5, 100, false},
		{100, 100, true},
		{101, 100, true},
		{len(data), len(data), true},
		{len(data), len(data) + 1, false},
		{len(data), initialBufferSize, true},
	}
	for _, tt := range tests {
		r := &oneByteReader{data: data[:tt.n]}
		got, more, err := fill(r, nil, tt.limit)
		want := data[:min(tt.n, tt.limit)]
		if err != nil || more != tt.more || string(got) != string(want) || cap(got) > tt.limit {
			t.Errorf("fill(%d bytes, limit %d) = %d bytes (cap %d), more %v, %v; want %d bytes, more %v",
				tt.n, tt.limit, len(got), cap(got), more, err, len(want), tt.more)
		}
	}
	boom := errors.New("boom")
	if _, _, err := fill(&oneByteReader{data: data[:10], err: boom}, nil, 100); !errors.Is(err, boom) {
		t.Errorf("fill with a failing reader = %v", err)
	}
}

// oneByteReader returns its data a byte at a time, then err (io.EOF if nil).
type oneByteReader struct {
	data []byte
	err  error
}

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		return 0, io.EOF
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}
