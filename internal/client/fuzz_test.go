package client

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseServiceIndex: any bytes a feed answers with give a service
// index or an error, never a panic, and every resource URL kept is an
// absolute http(s) URL.
func FuzzParseServiceIndex(f *testing.F) {
	f.Add([]byte(`{"version":"3.0.0","resources":[{"@id":"https://f.example/v3-flatcontainer/","@type":"PackageBaseAddress/3.0.0"}]}`))
	f.Add([]byte(`{"version":"3.0.0","resources":[{"@id":"/relative/","@type":["A","B"]},{"@id":"javascript:x","@type":"C"}]}`))
	f.Add([]byte(`{"version":"2.0.0"}`))
	f.Add([]byte(`not json`))
	base, _ := url.Parse("https://feed.example/v3/index.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := parseServiceIndex(base, b)
		if err != nil {
			return
		}
		for _, r := range idx.Resources {
			if !strings.HasPrefix(r.ID, "http://") && !strings.HasPrefix(r.ID, "https://") {
				t.Fatalf("resource URL %q kept", r.ID)
			}
		}
	})
}
