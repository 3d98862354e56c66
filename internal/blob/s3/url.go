package s3

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/signet-nuget/signet/internal/blob"
)

const (
	// maxURLLen bounds the configuration URL. A bucket (63 bytes), a prefix
	// (maxPrefixLen) and an endpoint fit many times over; anything longer
	// is a mistake, not a configuration.
	maxURLLen = 2048
	// maxPrefixLen bounds the key prefix taken from the URL path. S3 object
	// names are at most 1024 bytes; a prefix of 256 bytes, its '/' and a key
	// of blob.MaxKeyLen (512) bytes stay well under that.
	maxPrefixLen = 256
	// maxRegionLen bounds the region parameter. AWS region names are about
	// 15 bytes; other services use short names too.
	maxRegionLen = 64
	// awsEndpoint is the endpoint used when the URL names none.
	awsEndpoint = "s3.amazonaws.com"
)

// config is a parsed store URL.
type config struct {
	bucket   string
	prefix   string // "" or a valid key followed by '/'
	endpoint string // host or host:port
	secure   bool   // https
	region   string // "" lets the client ask the bucket's location
	lookup   minio.BucketLookupType
}

// parseURL parses s3://BUCKET[/PREFIX][?endpoint=…&region=…&path-style=…].
// Its errors never quote the raw URL or its user info, which may hold a
// secret.
func parseURL(raw string) (config, error) {
	var c config
	if len(raw) > maxURLLen {
		return c, fmt.Errorf("s3: URL of %d bytes, more than %d", len(raw), maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			// The reason may quote part of a password.
			return c, errors.New("s3: malformed URL")
		}
		// A *url.Error quotes the whole URL; keep only its reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return c, fmt.Errorf("s3: malformed URL: %w", err)
	}
	if u.Scheme != "s3" {
		return c, fmt.Errorf("s3: URL scheme is %q, want s3://BUCKET[/PREFIX]", u.Scheme)
	}
	if u.User != nil {
		return c, errors.New("s3: the URL must not contain credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead")
	}
	if u.Opaque != "" {
		return c, errors.New("s3: URL must have the form s3://BUCKET[/PREFIX]")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return c, errors.New("s3: URL must not have a #fragment")
	}

	c.bucket = u.Host
	if err := s3utils.CheckValidBucketNameStrict(c.bucket); err != nil {
		return c, fmt.Errorf("s3: invalid bucket name %q: %v", c.bucket, strings.ToLower(err.Error()))
	}
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		p = strings.TrimSuffix(p, "/")
		if len(p) > maxPrefixLen {
			return c, fmt.Errorf("s3: prefix of %d bytes, more than %d", len(p), maxPrefixLen)
		}
		if err := blob.ValidateKey(p); err != nil {
			return c, fmt.Errorf("s3: invalid prefix: %w", err)
		}
		c.prefix = p + "/"
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, fmt.Errorf("s3: malformed URL query: %w", err)
	}
	for name, values := range q {
		if len(values) != 1 {
			return c, fmt.Errorf("s3: URL parameter %q given %d times", name, len(values))
		}
		switch name {
		case "endpoint", "region", "path-style":
		default:
			return c, fmt.Errorf("s3: unknown URL parameter %q (known: endpoint, region, path-style)", name)
		}
	}

	c.endpoint, c.secure = awsEndpoint, true
	if q.Has("endpoint") {
		if c.endpoint, c.secure, err = parseEndpoint(q.Get("endpoint")); err != nil {
			return c, err
		}
	}
	if q.Has("region") {
		c.region = q.Get("region")
		if err := checkRegion(c.region); err != nil {
			return c, err
		}
	}
	c.lookup = minio.BucketLookupAuto
	if q.Has("path-style") {
		pathStyle, err := strconv.ParseBool(q.Get("path-style"))
		if err != nil {
			return c, fmt.Errorf("s3: path-style is %q, want true or false", q.Get("path-style"))
		}
		c.lookup = minio.BucketLookupDNS
		if pathStyle {
			c.lookup = minio.BucketLookupPath
		}
	}
	return c, nil
}

// parseEndpoint accepts http://HOST[:PORT] or https://HOST[:PORT] with no
// path, query or user info, and returns HOST[:PORT] and whether it is https.
func parseEndpoint(raw string) (host string, secure bool, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return "", false, errors.New("s3: malformed endpoint")
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", false, fmt.Errorf("s3: malformed endpoint: %w", err)
	}
	switch u.Scheme {
	case "https":
		secure = true
	case "http":
	default:
		return "", false, fmt.Errorf("s3: endpoint scheme is %q, want http or https", u.Scheme)
	}
	if u.User != nil {
		return "", false, errors.New("s3: the endpoint must not contain credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead")
	}
	if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return "", false, errors.New("s3: endpoint has no host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", false, fmt.Errorf("s3: endpoint %q must be just a scheme, a host and a port", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", false, fmt.Errorf("s3: endpoint port %q out of range", p)
		}
	}
	return u.Host, secure, nil
}

// checkRegion accepts the characters that region names use (us-east-1,
// eu-central-2, garage, fr-par).
func checkRegion(r string) error {
	if r == "" || len(r) > maxRegionLen {
		return fmt.Errorf("s3: region must be 1 to %d bytes", maxRegionLen)
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("s3: region %q has byte %#02x", r, c)
		}
	}
	return nil
}
