package feed

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/signet-nuget/signet/internal/nupkgtest"
)

// testPackages is a dozen packages with release, prerelease and SemVer 2
// versions, dependency groups for two frameworks, tags, a readme and a
// package type.
func testPackages(t *testing.T) map[string][]byte {
	specs := []nupkgtest.Spec{
		{ID: "Contoso.Core", Version: "1.0.0", ExtraMetadata: "<tags>core util</tags>"},
		{ID: "Contoso.Core", Version: "1.1.0-beta.1"},
		{ID: "Contoso.Core", Version: "1.1.0"},
		{ID: "Contoso.Core", Version: "2.0.0+build.5", Description: "Core with build metadata (SemVer 2)."},
		{ID: "Contoso.Core", Version: "2.1.0-rc.1", Description: "A SemVer 2 prerelease."},
		{ID: "Contoso.Web", Version: "1.0.0", Dependencies: map[string][]nupkgtest.Dependency{
			"net8.0":         {{ID: "Contoso.Core", Version: "1.1.0"}},
			"netstandard2.0": {{ID: "Contoso.Core", Version: "[1.0.0, 2.0.0)"}},
		}},
		{ID: "Contoso.Web", Version: "1.0.1-preview", Dependencies: map[string][]nupkgtest.Dependency{
			"net8.0": {{ID: "Contoso.Core", Version: "2.0.0"}, {ID: "Fabrikam.Log", Version: "0.9.0"}},
		}},
		{ID: "Fabrikam.Log", Version: "0.9.0", ExtraMetadata: "<tags>logging</tags><readme>docs/README.md</readme>",
			Files: map[string][]byte{"docs/README.md": []byte("# Fabrikam.Log\n\nLogs things.\n")}},
		{ID: "Fabrikam.Log", Version: "1.0.0-alpha"},
		{ID: "Fabrikam.Tool", Version: "3.0.0", ExtraMetadata: `<packageTypes><packageType name="DotnetTool" /></packageTypes>`},
		{ID: "Widgets", Version: "1.0.0.1", Description: "A four-part version."},
		{ID: "Widgets", Version: "01.2.0", Description: "A version that normalises."},
	}
	out := map[string][]byte{}
	for _, s := range specs {
		out[s.ID+"@"+s.Version] = nupkgtest.Bytes(t, s)
	}
	return out
}

// TestProtocol drives the feed over HTTP as NuGet clients do: service
// index discovery, push, flat container, registrations, search and
// autocomplete, unlist and relist.
func TestProtocol(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testProtocol(t, newFeed(t, b)) })
	}
}

func testProtocol(t *testing.T, h *harness) {
	alice := h.signup("alice")
	pkgs := testPackages(t)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range pkgs {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		alice.mustPush(pkgs[k])
	}

	// A second push of a version, in any spelling, is 409 with nuget.org's
	// message in the status line, which is what clients print.
	r := alice.push(alice.key, pkgs["Contoso.Core@1.0.0"])
	want := "A package with ID 'Contoso.Core' and version '1.0.0' already exists and cannot be modified."
	if r.code != 409 || r.status != "409 "+want || !strings.Contains(r.body, want) {
		t.Fatalf("duplicate push = %q %q", r.status, r.body)
	}

	flat := alice.resource("PackageBaseAddress/3.0.0")
	var fv struct{ Versions []string }
	alice.getJSON(flat+"contoso.core/index.json", &fv)
	if want := []string{"1.0.0", "1.1.0-beta.1", "1.1.0", "2.0.0", "2.1.0-rc.1"}; !slices.Equal(fv.Versions, want) {
		t.Fatalf("flat container versions = %v, want %v", fv.Versions, want)
	}
	alice.getJSON(flat+"WIDGETS/index.json", &fv)
	if want := []string{"1.0.0.1", "1.2.0"}; !slices.Equal(fv.Versions, want) {
		t.Fatalf("Widgets versions = %v, want %v", fv.Versions, want)
	}
	if code, _ := alice.status(flat + "no.such.package/index.json"); code != 404 {
		t.Fatalf("unknown package index = %d, want 404", code)
	}

	// Downloads give the bytes pushed; the nuspec and readme are served.
	code, got := alice.status(flat + "contoso.core/1.1.0-beta.1/contoso.core.1.1.0-beta.1.nupkg")
	if code != 200 || !bytes.Equal(got, pkgs["Contoso.Core@1.1.0-beta.1"]) {
		t.Fatalf("download = %d, %d bytes; want the %d bytes pushed", code, len(got), len(pkgs["Contoso.Core@1.1.0-beta.1"]))
	}
	code, got = alice.status(flat + "widgets/1.2.0/widgets.1.2.0.nupkg")
	if code != 200 || !bytes.Equal(got, pkgs["Widgets@01.2.0"]) {
		t.Fatalf("download of a normalised version = %d", code)
	}
	code, got = alice.status(flat + "contoso.core/1.0.0/contoso.core.nuspec")
	if code != 200 || !bytes.Contains(got, []byte("<id>Contoso.Core</id>")) {
		t.Fatalf("nuspec = %d %s", code, got)
	}
	code, got = alice.status(flat + "fabrikam.log/0.9.0/readme")
	if code != 200 || string(got) != "# Fabrikam.Log\n\nLogs things.\n" {
		t.Fatalf("readme = %d %q", code, got)
	}
	for _, u := range []string{
		flat + "contoso.core/1.0.0/readme",                           // no readme
		flat + "contoso.core/9.9.9/contoso.core.9.9.9.nupkg",         // no version
		flat + "contoso.core/1.0.0/contoso.core.1.0.1.nupkg",         // wrong file name
		flat + "contoso.core/1.0.0/other.nuspec",                     // wrong nuspec name
		flat + "contoso.core/not-a-version/contoso.core.1.0.0.nupkg", // bad version
	} {
		if code, _ := alice.status(u); code != 404 {
			t.Errorf("GET %s = %d, want 404", u, code)
		}
	}

	// Registrations: the SemVer 1 hive hides SemVer 2 versions.
	regs := map[string]string{}
	var idx serviceIndex
	alice.getJSON("/v3/index.json", &idx)
	for _, res := range idx.Resources {
		regs[res.Type] = res.ID
	}
	var reg1, reg2 regIndex
	alice.getJSON(regs["RegistrationsBaseUrl/3.4.0"]+"contoso.core/index.json", &reg1)
	alice.getJSON(regs["RegistrationsBaseUrl/3.6.0"]+"contoso.core/index.json", &reg2)
	// "1.1.0-beta.1" has a dotted prerelease label: SemVer 2 too.
	if got := regVersions(reg1); !slices.Equal(got, []string{"1.0.0", "1.1.0"}) {
		t.Fatalf("SemVer 1 registration versions = %v", got)
	}
	if got := regVersions(reg2); !slices.Equal(got, []string{"1.0.0", "1.1.0-beta.1", "1.1.0", "2.0.0", "2.1.0-rc.1"}) {
		t.Fatalf("SemVer 2 registration versions = %v", got)
	}
	var web regIndex
	alice.getJSON(regs["RegistrationsBaseUrl/3.6.0"]+"contoso.web/index.json", &web)
	e := web.Items[0].Items[0].CatalogEntry
	if e.PackageID != "Contoso.Web" || e.Version != "1.0.0" || !e.Listed || len(e.DependencyGroups) != 2 {
		t.Fatalf("catalog entry = %+v", e)
	}
	var groups []string
	for _, g := range e.DependencyGroups {
		groups = append(groups, fmt.Sprintf("%s:%s %s", g.TargetFramework, g.Dependencies[0].PackageID, g.Dependencies[0].Range))
		code, _ := alice.status(g.Dependencies[0].Registration)
		if code != 200 {
			t.Errorf("dependency registration %s = %d", g.Dependencies[0].Registration, code)
		}
	}
	if want := []string{"net8.0:Contoso.Core [1.1.0, )", "netstandard2.0:Contoso.Core [1.0.0, 2.0.0)"}; !slices.Equal(groups, want) {
		t.Fatalf("dependency groups = %v, want %v", groups, want)
	}
	if code, got := alice.status(e.PackageContent); code != 200 || !bytes.Equal(got, pkgs["Contoso.Web@1.0.0"]) {
		t.Fatalf("packageContent %s = %d", e.PackageContent, code)
	}
	var leaf regLeaf
	alice.getJSON(web.Items[0].Items[0].ID, &leaf)
	if !leaf.Listed || leaf.PackageContent != e.PackageContent || leaf.Registration != web.ID {
		t.Fatalf("registration leaf = %+v", leaf)
	}
	var entry catalogEntry
	alice.getJSON(leaf.CatalogEntry, &entry)
	if entry.PackageID != "Contoso.Web" || len(entry.DependencyGroups) != 2 {
		t.Fatalf("catalog entry document = %+v", entry)
	}
	var log regIndex
	alice.getJSON(regs["RegistrationsBaseUrl/3.6.0"]+"fabrikam.log/index.json", &log)
	if e := log.Items[0].Items[0].CatalogEntry; e.ReadmeURL == "" || !slices.Equal(e.Tags, []string{"logging"}) {
		t.Fatalf("Fabrikam.Log entry = %+v", e)
	}
	if code, _ := alice.status(regs["RegistrationsBaseUrl/3.4.0"] + "no.such/index.json"); code != 404 {
		t.Fatalf("unknown registration = %d", code)
	}

	// Search: listed versions the filters admit.
	search := alice.resource("SearchQueryService/3.5.0")
	sr := func(q string) searchResponse {
		var out searchResponse
		alice.getJSON(search+"?"+q, &out)
		return out
	}
	if got := sr("q=contoso"); got.TotalHits != 2 || got.Data[0].PackageID != "Contoso.Core" || got.Data[0].Version != "1.1.0" {
		t.Fatalf("search contoso = %+v", got)
	}
	if got := sr("q=contoso.core&prerelease=true&semVerLevel=2.0.0"); got.TotalHits != 1 || got.Data[0].Version != "2.1.0-rc.1" || len(got.Data[0].Versions) != 5 {
		t.Fatalf("search with prerelease and SemVer 2 = %+v", got)
	}
	if got := sr("q=&take=2&skip=1"); got.TotalHits != 5 || len(got.Data) != 2 || got.Data[0].PackageID != "Contoso.Web" {
		t.Fatalf("search page = %+v", got)
	}
	if got := sr("q=packageid:Widgets"); got.TotalHits != 1 || got.Data[0].Version != "1.2.0" || got.Data[0].Owners[0] != "alice" {
		t.Fatalf("search by packageid = %+v", got)
	}
	if got := sr("q=&packageType=DotnetTool"); got.TotalHits != 1 || got.Data[0].PackageID != "Fabrikam.Tool" {
		t.Fatalf("search by package type = %+v", got)
	}
	if got := sr("q=logging&prerelease=false"); got.TotalHits != 1 || got.Data[0].Version != "0.9.0" {
		t.Fatalf("search by tag = %+v", got)
	}
	var ac struct {
		TotalHits int
		Data      []string
	}
	alice.getJSON(alice.resource("SearchAutocompleteService/3.5.0")+"?q=fabrikam", &ac)
	if !slices.Equal(ac.Data, []string{"Fabrikam.Log", "Fabrikam.Tool"}) {
		t.Fatalf("autocomplete ids = %+v", ac)
	}
	alice.getJSON(alice.resource("SearchAutocompleteService/3.5.0")+"?id=contoso.core&prerelease=true&semVerLevel=2.0.0", &ac)
	if !slices.Equal(ac.Data, []string{"1.0.0", "1.1.0-beta.1", "1.1.0", "2.0.0", "2.1.0-rc.1"}) {
		t.Fatalf("autocomplete versions = %+v", ac)
	}
	alice.getJSON(alice.resource("SearchAutocompleteService/3.5.0")+"?id=contoso.core", &ac)
	if !slices.Equal(ac.Data, []string{"1.0.0", "1.1.0"}) {
		t.Fatalf("autocomplete versions = %+v", ac)
	}

	// Unlist with the key: hidden from search and marked in registrations,
	// still downloadable; relist brings it back.
	publish := alice.resource("PackagePublish/2.0.0")
	resp := alice.do("DELETE", publish+"/Contoso.Core/1.1.0", nil, map[string]string{apiKeyHeader: alice.key})
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("unlist = %s", resp.Status)
	}
	if got := sr("q=contoso.core"); got.Data[0].Version != "1.0.0" {
		t.Fatalf("latest after unlisting 1.1.0 = %s", got.Data[0].Version)
	}
	alice.getJSON(regs["RegistrationsBaseUrl/3.6.0"]+"contoso.core/1.1.0.json", &leaf)
	if leaf.Listed || !strings.HasPrefix(leaf.Published, "1900-01-01") {
		t.Fatalf("unlisted leaf = %+v", leaf)
	}
	if code, _ := alice.status(flat + "contoso.core/1.1.0/contoso.core.1.1.0.nupkg"); code != 200 {
		t.Fatalf("download of unlisted version = %d", code)
	}
	resp = alice.do("POST", publish+"/Contoso.Core/1.1.0", nil, map[string]string{apiKeyHeader: alice.key})
	resp.Body.Close()
	if got := sr("q=contoso.core"); resp.StatusCode != 200 || got.Data[0].Version != "1.1.0" {
		t.Fatalf("relist = %s, latest %s", resp.Status, got.Data[0].Version)
	}
	resp = alice.do("DELETE", publish+"/Contoso.Core/7.0.0", nil, map[string]string{apiKeyHeader: alice.key})
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unlist of a missing version = %s", resp.Status)
	}

	// Download counts reach search once flushed.
	if err := h.srv.FlushDownloads(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sr("q=packageid:Widgets"); got.Data[0].TotalDownloads != 1 {
		t.Fatalf("Widgets downloads = %d, want 1", got.Data[0].TotalDownloads)
	}

	// Documents are served compressed to clients that accept gzip.
	resp = alice.do("GET", regs["RegistrationsBaseUrl/3.6.0"]+"contoso.core/index.json", nil, map[string]string{"Accept-Encoding": "gzip"})
	zr, err := gzip.NewReader(resp.Body)
	if err != nil || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("registration not gzipped: %v %v", resp.Header, err)
	}
	io.Copy(io.Discard, zr)
	resp.Body.Close()
}

func regVersions(idx regIndex) []string {
	var out []string
	for _, p := range idx.Items {
		for _, it := range p.Items {
			out = append(out, it.CatalogEntry.Version)
		}
	}
	return out
}

// TestRegistrationPaging: more than inlineVersions versions are served
// as linked pages that clients fetch.
func TestRegistrationPaging(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	alice := h.signup("alice")
	const n = inlineVersions + 3
	alice.mustPush(nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Many", Version: "1.0.0"}))
	u, err := h.store.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		// Rows alone: the registration does not read blobs.
		v := versionRowFor(t, nupkgtest.Spec{ID: "Many", Version: fmt.Sprintf("1.0.%d", i)})
		if _, err := h.store.CreateVersion(ctx, u.ID, v); err != nil {
			t.Fatal(err)
		}
	}
	var idx regIndex
	alice.getJSON("/v3/"+hiveSemVer2+"/many/index.json", &idx)
	if idx.Count != 3 || idx.Items[0].Items != nil {
		t.Fatalf("index: %d pages, first inlined: %v", idx.Count, idx.Items[0].Items != nil)
	}
	var all []string
	for _, p := range idx.Items {
		var page regPage
		alice.getJSON(p.ID, &page)
		if page.Count != len(page.Items) || page.Lower != p.Lower || page.Upper != p.Upper {
			t.Fatalf("page %s: count %d, %d items", p.ID, page.Count, len(page.Items))
		}
		for _, it := range page.Items {
			all = append(all, it.CatalogEntry.Version)
		}
	}
	if len(all) != n || all[0] != "1.0.0" || all[n-1] != fmt.Sprintf("1.0.%d", n-1) {
		t.Fatalf("paged versions: %d, %v … %v", len(all), all[0], all[len(all)-1])
	}
}

// TestConcurrentPushes: of concurrent pushes of one version, exactly one
// is created and the others are 409; the stored bytes are the winner's.
func TestConcurrentPushes(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			h := newFeed(t, b)
			alice := h.signup("alice")
			const n = 8
			var wg sync.WaitGroup
			codes := make([]int, n)
			pkgs := make([][]byte, n)
			for i := range n {
				// Same id and version, different bytes.
				pkgs[i] = nupkgtest.Bytes(t, nupkgtest.Spec{ID: "Race", Version: "1.0.0", Description: fmt.Sprintf("push %d", i)})
			}
			alice.resource("PackagePublish/2.0.0")
			for i := range n {
				wg.Go(func() { codes[i] = alice.push(alice.key, pkgs[i]).code })
			}
			wg.Wait()
			winner := -1
			for i, c := range codes {
				switch c {
				case 201:
					if winner >= 0 {
						t.Fatalf("two pushes created the version: %v", codes)
					}
					winner = i
				case 409:
				default:
					t.Fatalf("push %d = %d", i, c)
				}
			}
			if winner < 0 {
				t.Fatalf("no push won: %v", codes)
			}
			code, got := alice.status("/v3-flatcontainer/race/1.0.0/race.1.0.0.nupkg")
			if code != 200 || !bytes.Equal(got, pkgs[winner]) {
				t.Fatalf("stored package is not the winner's")
			}
			// The losers' blobs are gone (or named by no row, for the sweeper).
			n1, _ := h.srv.Sweep(ctx)
			n2, _ := h.srv.Sweep(ctx)
			if n1+n2 != 0 {
				t.Fatalf("losers left %d blobs behind", n1+n2)
			}
		})
	}
}

// TestHealthAndMetrics checks the operational endpoints.
func TestHealthAndMetrics(t *testing.T) {
	h := newFeed(t, sqliteBackend)
	c := h.anon()
	if code, body := c.status("/health"); code != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Fatalf("health = %d %s", code, body)
	}
	c.status("/v3/index.json")
	code, body := c.status("/metrics")
	if code != 200 || !strings.Contains(string(body), `signet_http_request_duration_seconds_count{route="index",method="GET",status="200"} 1`) {
		t.Fatalf("metrics = %d\n%s", code, body)
	}
	resp := c.do("GET", "/metrics", nil, nil)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("metrics content type %q", ct)
	}
	_ = http.StatusOK
}
