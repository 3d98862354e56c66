package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Resource types this package uses, in NuGet's order of preference.
const (
	// TypePackageBaseAddress is the flat container.
	TypePackageBaseAddress = "PackageBaseAddress/3.0.0"
	// TypePackagePublish is the push and unlist endpoint.
	TypePackagePublish = "PackagePublish/2.0.0"
)

// ErrNotV3 is returned (wrapped) when a V3 resource is asked of a V2 source.
var ErrNotV3 = errors.New("client: the source is not a NuGet V3 service index")

// ServiceIndex is a V3 service index (https://learn.microsoft.com/nuget/api/service-index).
type ServiceIndex struct {
	// Version is the document's version; its major part is 3.
	Version string
	// Resources lists the resources in document order.
	Resources []Resource
}

// Resource is one service index entry: its URL and its types (an entry's
// @type may be one string or an array).
type Resource struct {
	ID    string
	Types []string
}

// Find returns the URL of the first resource of the first of types the
// index has.
func (s *ServiceIndex) Find(types ...string) (string, bool) {
	for _, t := range types {
		for _, r := range s.Resources {
			for _, rt := range r.Types {
				if strings.EqualFold(rt, t) {
					return r.ID, true
				}
			}
		}
	}
	return "", false
}

// ServiceIndex fetches the source's service index once and returns it from
// memory afterwards; a failed fetch is not remembered.
func (c *Client) ServiceIndex(ctx context.Context) (*ServiceIndex, error) {
	if !c.v3 {
		return nil, fmt.Errorf("%w: %s (protocolVersion 2, and its path does not end in .json)", ErrNotV3, redact(c.source.String()))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.index != nil {
		return c.index, nil
	}
	var raw []byte
	err := c.get(ctx, c.source.String(), "application/json", func(resp *http.Response) error {
		b, err := readLimited(resp, MaxJSONSize, "the service index")
		raw = b
		return err
	})
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("client: fetching the service index: %w", ctx.Err())
	}
	if err != nil {
		// %v, not %w: a 404 here means a wrong source URL, which must not
		// read as a package that is not found (ErrNotFound).
		return nil, fmt.Errorf("client: the service index could not be fetched: %v", err)
	}
	idx, err := parseServiceIndex(c.source, raw)
	if err != nil {
		return nil, err
	}
	c.index = idx
	return idx, nil
}

// parseServiceIndex reads a service index, resolving each resource's URL
// against the index's own.
func parseServiceIndex(base *url.URL, b []byte) (*ServiceIndex, error) {
	var doc struct {
		Version   string `json:"version"`
		Resources []struct {
			ID   string          `json:"@id"`
			Type json.RawMessage `json:"@type"`
		} `json:"resources"`
	}
	where := redact(base.String())
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("client: the service index %s is not valid JSON: %w", where, err)
	}
	if major, _, _ := strings.Cut(doc.Version, "."); major != "3" {
		return nil, fmt.Errorf("client: the service index %s has version %q, not 3.x", where, doc.Version)
	}
	idx := &ServiceIndex{Version: doc.Version}
	for _, r := range doc.Resources {
		var types []string
		var one string
		if json.Unmarshal(r.Type, &one) == nil {
			types = []string{one}
		} else if json.Unmarshal(r.Type, &types) != nil {
			continue // a resource NuGet could not read either
		}
		u, err := base.Parse(r.ID)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		idx.Resources = append(idx.Resources, Resource{ID: u.String(), Types: types})
	}
	return idx, nil
}

// resource returns the URL of a resource the source must have.
func (c *Client) resource(ctx context.Context, types ...string) (string, error) {
	idx, err := c.ServiceIndex(ctx)
	if err != nil {
		return "", err
	}
	u, ok := idx.Find(types...)
	if !ok {
		return "", fmt.Errorf("client: the service index %s has no %s resource", redact(c.source.String()), types[0])
	}
	return u, nil
}
