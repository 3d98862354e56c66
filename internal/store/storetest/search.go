package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/signet-nuget/signet/internal/store"
)

// searchFixture is a package version for the search tests.
type searchFixture struct {
	id, ver     string
	description string
	tags        []string
	types       []string
	prerelease  bool
	semver2     bool
	unlisted    bool
}

var searchFixtures = []searchFixture{
	{id: "Newtonsoft.Json", ver: "12.0.1", description: "Popular high-performance JSON framework", tags: []string{"json"}},
	{id: "Newtonsoft.Json", ver: "13.0.1", description: "Popular high-performance JSON framework", tags: []string{"json"}},
	{id: "Newtonsoft.Json", ver: "13.0.3", description: "Popular high-performance JSON framework", unlisted: true},
	{id: "Newtonsoft.Json", ver: "13.0.2-beta1", description: "Popular JSON framework", prerelease: true},
	{id: "Newtonsoft.Json", ver: "14.0.0-beta.1", description: "Popular JSON framework", prerelease: true, semver2: true},
	{id: "Serilog", ver: "3.0.0", description: "Simple .NET logging", tags: []string{"logging", "structured"}},
	{id: "A.Serilog.Sink", ver: "1.0.0", description: "Writes Serilog events"},
	{id: "Json.Tool", ver: "1.0.0", description: "A tool", types: []string{"DotnetTool"}},
	{id: "Hidden", ver: "1.0.0", description: "json", unlisted: true},
	{id: "Pre.Only", ver: "1.0.0-alpha", description: "json", prerelease: true},
	{id: "Sem2.Only", ver: "1.0.0", description: "json", semver2: true},
	{id: "Percent", ver: "1.0.0", description: "100% pure"},
	{id: "Under_Score", ver: "1.0.0", description: "underscored", types: []string{"Dependency"}},
}

func loadSearchFixtures(t *testing.T, s *store.Store) {
	t.Helper()
	owner := user(t, s, "publisher")
	for _, f := range searchFixtures {
		v := version(f.id, f.ver)
		v.Title = ""
		v.Description = f.description
		v.Tags, v.PackageTypes = f.tags, f.types
		v.Prerelease, v.SemVer2, v.Listed = f.prerelease, f.semver2, !f.unlisted
		push(t, s, owner.ID, v)
	}
}

func resultIDs(page store.SearchPage) []string {
	out := make([]string, len(page.Results))
	for i, r := range page.Results {
		out[i] = r.Package.ID
	}
	return out
}

// Contract: search matches every term in id, title, description or tags of
// an admitted version, and orders an exact id first, then by id.
func testSearch(t *testing.T, s *store.Store) {
	loadSearchFixtures(t, s)
	tests := []struct {
		q    store.SearchQuery
		want []string
	}{
		{store.SearchQuery{}, []string{"A.Serilog.Sink", "Json.Tool", "Newtonsoft.Json", "Percent", "Serilog", "Under_Score"}},
		{store.SearchQuery{Terms: "json"}, []string{"Json.Tool", "Newtonsoft.Json"}},
		{store.SearchQuery{Terms: "JSON", Prerelease: true}, []string{"Json.Tool", "Newtonsoft.Json", "Pre.Only"}},
		{store.SearchQuery{Terms: "json", Prerelease: true, SemVer2: true}, []string{"Json.Tool", "Newtonsoft.Json", "Pre.Only", "Sem2.Only"}},
		{store.SearchQuery{Terms: "json", SemVer2: true}, []string{"Json.Tool", "Newtonsoft.Json", "Sem2.Only"}},
		{store.SearchQuery{Terms: "  json   framework "}, []string{"Newtonsoft.Json"}},
		{store.SearchQuery{Terms: "json nothing"}, nil},
		{store.SearchQuery{Terms: "STRUCTURED"}, []string{"Serilog"}},
		{store.SearchQuery{Terms: "serilog"}, []string{"Serilog", "A.Serilog.Sink"}},
		{store.SearchQuery{Terms: "high-performance", Prerelease: true}, []string{"Newtonsoft.Json"}},
		{store.SearchQuery{Terms: "%"}, []string{"Percent"}},
		{store.SearchQuery{Terms: "_"}, []string{"Under_Score"}},
		{store.SearchQuery{Terms: "r_s"}, []string{"Under_Score"}},
		{store.SearchQuery{Terms: `\`}, nil},
		{store.SearchQuery{Terms: "hidden"}, nil},
		{store.SearchQuery{PackageType: "dotnettool"}, []string{"Json.Tool"}},
		{store.SearchQuery{PackageType: "Dependency"}, []string{"A.Serilog.Sink", "Newtonsoft.Json", "Percent", "Serilog", "Under_Score"}},
		{store.SearchQuery{PackageType: "Dotnet"}, nil},
		{store.SearchQuery{PackageType: "Template"}, nil},
	}
	for _, tt := range tests {
		page, err := s.Search(ctx, tt.q)
		if err != nil {
			t.Fatalf("Search(%+v): %v", tt.q, err)
		}
		if got := resultIDs(page); !slices.Equal(got, tt.want) || page.Total != len(tt.want) {
			t.Errorf("Search(%+v) = %q (total %d), want %q", tt.q, got, page.Total, tt.want)
		}
	}

	// Latest and Versions follow the filters; unlisted versions never show.
	latest := []struct {
		q        store.SearchQuery
		latest   string
		versions []string
	}{
		{store.SearchQuery{Terms: "newtonsoft"}, "13.0.1", []string{"12.0.1", "13.0.1"}},
		{store.SearchQuery{Terms: "newtonsoft", Prerelease: true}, "13.0.2-beta1", []string{"12.0.1", "13.0.1", "13.0.2-beta1"}},
		{store.SearchQuery{Terms: "newtonsoft", Prerelease: true, SemVer2: true}, "14.0.0-beta.1", []string{"12.0.1", "13.0.1", "13.0.2-beta1", "14.0.0-beta.1"}},
	}
	for _, tt := range latest {
		page, err := s.Search(ctx, tt.q)
		if err != nil || len(page.Results) != 1 {
			t.Fatalf("Search(%+v) = %q, %v", tt.q, resultIDs(page), err)
		}
		r := page.Results[0]
		if r.Latest.Version != tt.latest || !slices.Equal(versionStrings(r.Versions), tt.versions) {
			t.Errorf("Search(%+v): latest %s, versions %q; want %s, %q", tt.q, r.Latest.Version, versionStrings(r.Versions), tt.latest, tt.versions)
		}
		if !slices.Equal(names(r.Package.Owners), []string{"publisher"}) {
			t.Errorf("owners in search result = %q", names(r.Package.Owners))
		}
		if r.Latest.Description == "" || r.Latest.SHA512 == nil {
			t.Errorf("latest version lacks metadata: %+v", r.Latest)
		}
	}
}

// Contract: Skip and Take page through results; Total counts all pages.
func testSearchPaging(t *testing.T, s *store.Store) {
	owner := user(t, s, "publisher")
	const n = 25
	var all []string
	for i := range n {
		id := fmt.Sprintf("Page.%02d", i)
		all = append(all, id)
		push(t, s, owner.ID, version(id, "1.0.0"))
	}
	tests := []struct {
		skip, take int
		want       []string
	}{
		{0, 0, all[:store.DefaultSearchTake]},
		{20, 10, all[20:]},
		{5, 3, all[5:8]},
		{0, store.MaxSearchTake + 500, all},
		{n, 10, nil},
		{n + 100, 10, nil},
	}
	for _, tt := range tests {
		page, err := s.Search(ctx, store.SearchQuery{Terms: "page", Skip: tt.skip, Take: tt.take})
		if err != nil {
			t.Fatal(err)
		}
		if got := resultIDs(page); !slices.Equal(got, tt.want) || page.Total != n {
			t.Errorf("skip %d take %d: %q total %d; want %q total %d", tt.skip, tt.take, got, page.Total, tt.want, n)
		}
	}
	for _, q := range []store.SearchQuery{
		{Skip: -1},
		{Take: -1},
		{Terms: strings.Repeat("a ", store.MaxSearchTerms+1)},
	} {
		_, err := s.Search(ctx, q)
		wantErr(t, fmt.Sprintf("Search(%+v)", q), err, store.ErrInvalid)
	}
	if _, err := s.Search(ctx, store.SearchQuery{Terms: strings.Repeat("a ", store.MaxSearchTerms)}); err != nil {
		t.Fatalf("Search with MaxSearchTerms terms: %v", err)
	}
}
