package trust

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// feed serves a service index and a RepositorySignatures resource over
// TLS on 127.0.0.1; routes maps paths to bodies, with "{base}" replaced by
// the server's URL.
func feed(t *testing.T, routes map[string]string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(body, "redirect:") {
			http.Redirect(w, r, strings.ReplaceAll(strings.TrimPrefix(body, "redirect:"), "{base}", srv.URL), http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, strings.ReplaceAll(body, "{base}", srv.URL))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func serviceIndex(types ...string) string {
	var rs []string
	for i, typ := range types {
		rs = append(rs, fmt.Sprintf(`{"@id": "{base}/sig%d.json", "@type": %s}`, i, typ))
	}
	return `{"version": "3.0.0", "resources": [` + strings.Join(rs, ",") + `]}`
}

func sigResource(certs ...string) string {
	return `{"allRepositorySigned": true, "signingCertificates": [` + strings.Join(certs, ",") + `]}`
}

func sigCert(fps map[string]string) string {
	var kv []string
	for k, v := range fps {
		kv = append(kv, fmt.Sprintf("%q: %q", k, v))
	}
	return `{"fingerprints": {` + strings.Join(kv, ",") + `}, "subject": "CN=x", "issuer": "CN=y", "notBefore": "2020-01-01T00:00:00Z", "notAfter": "2030-01-01T00:00:00Z", "contentUrl": "https://feed.example/cert.crt"}`
}

const (
	oid256 = "2.16.840.1.101.3.4.2.1"
	oid384 = "2.16.840.1.101.3.4.2.2"
	oid512 = "2.16.840.1.101.3.4.2.3"
)

func TestFetchRepositoryInfo(t *testing.T) {
	two := sigResource(
		sigCert(map[string]string{oid256: strings.ToLower(fp('a', "SHA256")), oid512: fp('b', "SHA512"), "1.3.14.3.2.26": strings.Repeat("c", 40)}),
		sigCert(map[string]string{oid384: fp('d', "SHA384")}),
		sigCert(map[string]string{oid256: fp('A', "SHA256")}), // the same certificate again
	)
	tests := []struct {
		name   string
		routes map[string]string
		want   []string // alg:first hex digit
		err    string
	}{
		{"5.0.0 preferred over 4.7.0", map[string]string{
			"/index.json": serviceIndex(`"RepositorySignatures/4.7.0"`, `["Other/1.0", "RepositorySignatures/5.0.0"]`),
			"/sig0.json":  sigResource(sigCert(map[string]string{oid256: fp('9', "SHA256")})),
			"/sig1.json":  two,
		}, []string{"SHA256:A", "SHA512:B", "SHA384:D"}, ""},
		{"4.9.0 alone", map[string]string{
			"/index.json": serviceIndex(`"RepositorySignatures/4.9.0"`),
			"/sig0.json":  sigResource(sigCert(map[string]string{oid256: fp('9', "SHA256")})),
		}, []string{"SHA256:9"}, ""},
		{"https redirect followed", map[string]string{
			"/index.json": "redirect:{base}/real.json",
			"/real.json":  serviceIndex(`"RepositorySignatures/5.0.0"`),
			"/sig0.json":  sigResource(sigCert(map[string]string{oid256: fp('9', "SHA256")})),
		}, []string{"SHA256:9"}, ""},
		{"no resource", map[string]string{"/index.json": serviceIndex(`"PackageBaseAddress/3.0.0"`)}, nil, "has no RepositorySignatures resource"},
		{"http resource", map[string]string{"/index.json": `{"resources": [{"@id": "http://127.0.0.1/sig.json", "@type": "RepositorySignatures/5.0.0"}]}`}, nil, "is not an https URL"},
		{"redirect to http", map[string]string{"/index.json": "redirect:http://127.0.0.1:1/index.json"}, nil, "not https"},
		{"empty list", map[string]string{"/index.json": serviceIndex(`"RepositorySignatures/5.0.0"`), "/sig0.json": sigResource()}, nil, "does not list any trusted certificates"},
		{"missing allRepositorySigned", map[string]string{"/index.json": serviceIndex(`"RepositorySignatures/5.0.0"`), "/sig0.json": `{"signingCertificates": []}`}, nil, "allRepositorySigned and signingCertificates are required"},
		{"http contentUrl", map[string]string{"/index.json": serviceIndex(`"RepositorySignatures/5.0.0"`),
			"/sig0.json": sigResource(strings.Replace(sigCert(map[string]string{oid256: fp('1', "SHA256")}), "https://feed", "http://feed", 1))}, nil, "contentUrl"},
		{"bad fingerprint", map[string]string{"/index.json": serviceIndex(`"RepositorySignatures/5.0.0"`),
			"/sig0.json": sigResource(sigCert(map[string]string{oid256: "abcd"}))}, nil, "has 4 hex digits"},
		{"not JSON", map[string]string{"/index.json": "<html>"}, nil, "not JSON"},
		{"not found", map[string]string{}, nil, "404"},
		{"too large", map[string]string{"/index.json": `{"resources": [], "pad": "` + strings.Repeat("x", maxServiceIndexSize) + `"}`}, nil, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := feed(t, tt.routes)
			info, err := FetchRepositoryInfo(context.Background(), srv.Client(), srv.URL+"/index.json")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range info.Certificates {
				if e.AllowUntrustedRoot || e.Fingerprint != strings.ToUpper(e.Fingerprint) {
					t.Errorf("entry %+v", e)
				}
				got = append(got, e.HashAlgorithm+":"+e.Fingerprint[:1])
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") || !info.AllRepositorySigned {
				t.Errorf("certificates = %q (all signed %v), want %q", got, info.AllRepositorySigned, tt.want)
			}
		})
	}
	if _, err := FetchRepositoryInfo(context.Background(), nil, "http://127.0.0.1/index.json"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("http service index: %v", err)
	}
}
