package trust

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Bounds on what a feed may answer.
const (
	// maxServiceIndexSize caps the service index: nuget.org's is about
	// 10 KiB.
	maxServiceIndexSize = 1 << 20
	// maxSignaturesResourceSize caps the RepositorySignatures resource: a few
	// hundred bytes per certificate, and a feed has a handful.
	maxSignaturesResourceSize = 1 << 20
	// maxRepositoryCertificates caps the certificates taken from one feed;
	// nuget.org lists three after eight years of repository signing.
	maxRepositoryCertificates = 100
	// maxRedirects caps redirects, as net/http's default does.
	maxRedirects = 10
)

// repositorySignaturesTypes are the service index resource types NuGet
// reads, in its order of preference (ServiceTypes.RepositorySignatures).
var repositorySignaturesTypes = []string{"RepositorySignatures/5.0.0", "RepositorySignatures/4.9.0", "RepositorySignatures/4.7.0"}

// fingerprintOIDs maps the hash OIDs that key a certificate's fingerprints
// to the algorithms trusted signers accept, in NuGet's order.
var fingerprintOIDs = []struct{ oid, alg string }{
	{"2.16.840.1.101.3.4.2.1", "SHA256"},
	{"2.16.840.1.101.3.4.2.2", "SHA384"},
	{"2.16.840.1.101.3.4.2.3", "SHA512"},
}

// RepositoryInfo is what a feed publishes about its repository signing
// (https://learn.microsoft.com/nuget/api/repository-signatures-resource).
type RepositoryInfo struct {
	// AllRepositorySigned says every package of the feed carries a
	// repository signature.
	AllRepositorySigned bool
	// Certificates are the feed's signing certificates, one entry per
	// published fingerprint (SHA-256, SHA-384, SHA-512), allowUntrustedRoot
	// false.
	Certificates []CertEntry
}

// FetchRepositoryInfo reads a feed's service index, finds its
// RepositorySignatures resource and reads it, as dotnet nuget trust source
// and sync do. Both URLs must be https, and so must every redirect and every
// certificate's contentUrl (NuGet refuses the resource otherwise). A feed
// that lists no certificate is an error.
func FetchRepositoryInfo(ctx context.Context, client *http.Client, serviceIndex string) (*RepositoryInfo, error) {
	if err := ValidateServiceIndex(serviceIndex); err != nil {
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if !strings.EqualFold(req.URL.Scheme, "https") {
			return fmt.Errorf("refusing a redirect to %q, which is not https", req.URL.Redacted())
		}
		return nil
	}
	var index struct {
		Resources []struct {
			ID   string          `json:"@id"`
			Type json.RawMessage `json:"@type"`
		} `json:"resources"`
	}
	if err := getJSON(ctx, &c, serviceIndex, maxServiceIndexSize, &index); err != nil {
		return nil, err
	}
	resource := ""
	for _, want := range repositorySignaturesTypes {
		for _, r := range index.Resources {
			if resource == "" && hasType(r.Type, want) {
				resource = r.ID
			}
		}
	}
	if resource == "" {
		return nil, fmt.Errorf("trust: the service index %q has no RepositorySignatures resource", serviceIndex)
	}
	ref, err := url.Parse(serviceIndex)
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	ru, err := ref.Parse(resource)
	if err != nil || !strings.EqualFold(ru.Scheme, "https") {
		return nil, fmt.Errorf("trust: the RepositorySignatures resource %q of %q is not an https URL", resource, serviceIndex)
	}
	var doc struct {
		AllRepositorySigned *bool `json:"allRepositorySigned"`
		SigningCertificates *[]struct {
			Fingerprints map[string]string `json:"fingerprints"`
			ContentURL   string            `json:"contentUrl"`
		} `json:"signingCertificates"`
	}
	if err := getJSON(ctx, &c, ru.String(), maxSignaturesResourceSize, &doc); err != nil {
		return nil, err
	}
	if doc.AllRepositorySigned == nil || doc.SigningCertificates == nil {
		return nil, fmt.Errorf("trust: invalid certificate information from the service index %q: allRepositorySigned and signingCertificates are required", serviceIndex)
	}
	info := &RepositoryInfo{AllRepositorySigned: *doc.AllRepositorySigned}
	seen := map[string]bool{}
	for _, sc := range *doc.SigningCertificates {
		if cu, err := url.Parse(sc.ContentURL); err != nil || !strings.EqualFold(cu.Scheme, "https") || cu.Host == "" {
			return nil, fmt.Errorf("trust: invalid certificate information from the service index %q: contentUrl %q is not an https URL", serviceIndex, sc.ContentURL)
		}
		for _, f := range fingerprintOIDs {
			v := sc.Fingerprints[f.oid]
			if v == "" {
				continue
			}
			fp, err := normalizeFingerprint(v, f.alg)
			if err != nil {
				return nil, fmt.Errorf("trust: invalid certificate information from the service index %q: %w", serviceIndex, err)
			}
			if seen[f.alg+fp] {
				continue
			}
			seen[f.alg+fp] = true
			if len(info.Certificates) == maxRepositoryCertificates {
				return nil, fmt.Errorf("trust: the service index %q lists more than %d certificate fingerprints", serviceIndex, maxRepositoryCertificates)
			}
			info.Certificates = append(info.Certificates, CertEntry{Fingerprint: fp, HashAlgorithm: f.alg})
		}
	}
	if len(info.Certificates) == 0 {
		return nil, fmt.Errorf("trust: the repository with the service index %q does not list any trusted certificates", serviceIndex)
	}
	return info, nil
}

// hasType reports whether a V3 resource's @type (a string or an array of
// strings) is want.
func hasType(raw json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == want
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, t := range many {
			if t == want {
				return true
			}
		}
	}
	return false
}

// getJSON fetches u and decodes at most limit bytes of JSON into v.
func getJSON(ctx context.Context, c *http.Client, u string, limit int64, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("trust: fetching %q: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("trust: fetching %q: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("trust: fetching %q: %w", u, err)
	}
	if int64(len(body)) > limit {
		return fmt.Errorf("trust: %q is larger than %d bytes", u, limit)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("trust: %q is not JSON of the expected shape: %w", u, err)
	}
	return nil
}
