package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/signet-nuget/signet/internal/store"
)

// Contract: Browse lists packages with a listed version, the most recently
// updated first (by their newest admitted version), then by id; it matches
// terms as Search does, pages, totals downloads over all versions and
// refuses negative paging.
func testBrowse(t *testing.T, s *store.Store) {
	owner := user(t, s, "publisher")
	at := func(h int) time.Time { return published.Add(time.Duration(h) * time.Hour) }
	fixtures := []struct {
		id, ver    string
		hour       int
		desc       string
		prerelease bool
		semver2    bool
		unlisted   bool
	}{
		{"Old.Lib", "1.0.0", 0, "an old json library", false, false, false},
		{"Busy.Lib", "1.0.0", 1, "busy", false, false, false},
		{"Busy.Lib", "2.0.0", 5, "busy json", false, false, false},
		{"Mid.Lib", "1.0.0", 3, "middle", false, false, false},
		{"Mid.Lib", "1.1.0", 9, "middle, unlisted later", false, false, true},
		{"Pre.Lib", "1.0.0-beta", 7, "prerelease json", true, false, false},
		{"Sem2.Lib", "1.0.0", 4, "semver 2", false, true, false},
		{"Same.B", "1.0.0", 2, "same time", false, false, false},
		{"Same.A", "1.0.0", 2, "same time", false, false, false},
		{"Hidden.Lib", "1.0.0", 8, "hidden json", false, false, true},
	}
	for _, f := range fixtures {
		v := version(f.id, f.ver)
		v.Description, v.Published = f.desc, at(f.hour)
		v.Prerelease, v.SemVer2, v.Listed = f.prerelease, f.semver2, !f.unlisted
		push(t, s, owner.ID, v)
	}
	if err := s.AddDownloads(ctx, map[store.VersionRef]int64{
		{PackageID: "Busy.Lib", Version: "1.0.0"}: 4,
		{PackageID: "Busy.Lib", Version: "2.0.0"}: 3,
		{PackageID: "Mid.Lib", Version: "1.1.0"}:  2, // unlisted versions count too
	}); err != nil {
		t.Fatal(err)
	}

	ids := func(p store.BrowsePage) []string {
		var out []string
		for _, r := range p.Results {
			out = append(out, r.Package.ID)
		}
		return out
	}
	tests := []struct {
		name      string
		q         store.BrowseQuery
		want      []string
		wantTotal int
	}{
		{"newest first", store.BrowseQuery{}, []string{"Busy.Lib", "Sem2.Lib", "Mid.Lib", "Same.A", "Same.B", "Old.Lib"}, 6},
		{"with prerelease", store.BrowseQuery{Prerelease: true}, []string{"Pre.Lib", "Busy.Lib", "Sem2.Lib", "Mid.Lib", "Same.A", "Same.B", "Old.Lib"}, 7},
		{"terms", store.BrowseQuery{Terms: "JSON"}, []string{"Busy.Lib", "Old.Lib"}, 2},
		{"terms and prerelease", store.BrowseQuery{Terms: "json", Prerelease: true}, []string{"Pre.Lib", "Busy.Lib", "Old.Lib"}, 3},
		{"all terms in one version", store.BrowseQuery{Terms: "busy json"}, []string{"Busy.Lib"}, 1},
		{"no match", store.BrowseQuery{Terms: "nothing"}, nil, 0},
		{"page", store.BrowseQuery{Skip: 1, Take: 2}, []string{"Sem2.Lib", "Mid.Lib"}, 6},
		{"past the end", store.BrowseQuery{Skip: 10}, nil, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.Browse(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page); !slices.Equal(got, tt.want) || page.Total != tt.wantTotal {
				t.Fatalf("Browse(%+v) = %v (total %d), want %v (total %d)", tt.q, got, page.Total, tt.want, tt.wantTotal)
			}
		})
	}

	page, err := s.Browse(ctx, store.BrowseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]store.BrowseResult{}
	for _, r := range page.Results {
		byID[r.Package.ID] = r
	}
	busy, mid := byID["Busy.Lib"], byID["Mid.Lib"]
	if busy.Downloads != 7 || busy.Latest.Version != "2.0.0" || !busy.Updated.Equal(at(5)) || len(busy.Versions) != 2 ||
		len(busy.Package.Owners) != 1 || busy.Package.Owners[0].Name != "publisher" {
		t.Fatalf("Busy.Lib = downloads %d, latest %q, updated %v, %d versions, owners %v",
			busy.Downloads, busy.Latest.Version, busy.Updated, len(busy.Versions), busy.Package.Owners)
	}
	// Mid.Lib's unlisted 1.1.0 is not its latest nor its update time, but
	// its downloads count.
	if mid.Downloads != 2 || mid.Latest.Version != "1.0.0" || !mid.Updated.Equal(at(3)) {
		t.Fatalf("Mid.Lib = downloads %d, latest %q, updated %v", mid.Downloads, mid.Latest.Version, mid.Updated)
	}
	if byID["Old.Lib"].Downloads != 0 {
		t.Fatalf("Old.Lib downloads = %d, want 0", byID["Old.Lib"].Downloads)
	}

	for _, q := range []store.BrowseQuery{{Skip: -1}, {Take: -1}, {Terms: "a b c d e f g h i j k l m n o p q"}} {
		_, err := s.Browse(ctx, q)
		wantErr(t, "Browse(invalid)", err, store.ErrInvalid)
	}
}
