package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

const (
	// DefaultSearchTake is the page size when SearchQuery.Take is 0, as
	// nuget.org's search service.
	DefaultSearchTake = 20
	// MaxSearchTake caps a page: nuget.org refuses more than 1000, and each
	// result carries all its versions.
	MaxSearchTake = 1000
	// MaxSearchTerms caps the terms of a query; each is one LIKE scan over
	// the versions, and real queries have a handful.
	MaxSearchTerms = 16
)

// SearchQuery selects packages for the search service. Only listed versions
// are considered, and of those only the ones the filters admit.
type SearchQuery struct {
	// Terms are separated by white space; a package matches when each term
	// occurs, ignoring case, in the id, title, description or tags of one
	// admitted version. Empty terms match every package.
	Terms string
	// Prerelease admits prerelease versions.
	Prerelease bool
	// SemVer2 admits SemVer 2.0.0 versions (semVerLevel=2.0.0).
	SemVer2 bool
	// PackageType, if not empty, admits only versions of that package type
	// (ignoring case); "Dependency" includes versions that declare none.
	PackageType string
	// Skip and Take select the page; Take 0 means DefaultSearchTake and
	// more than MaxSearchTake means MaxSearchTake. Negative values are
	// ErrInvalid.
	Skip, Take int
}

// A SearchResult is one package of a search page.
type SearchResult struct {
	Package Package
	// Latest is the newest admitted version, whose metadata the search
	// service shows.
	Latest Version
	// Versions are all admitted versions, oldest first.
	Versions []Version
}

// A SearchPage is one page of search results.
type SearchPage struct {
	// Total is the number of matching packages across all pages.
	Total   int
	Results []SearchResult
}

// Search returns the packages that match q, those whose id equals the
// whole of Terms first, then by id. It returns ErrInvalid for negative Skip
// or Take, or more than MaxSearchTerms terms.
func (s *Store) Search(ctx context.Context, q SearchQuery) (SearchPage, error) {
	terms := strings.Fields(q.Terms)
	switch {
	case q.Skip < 0 || q.Take < 0:
		return SearchPage{}, invalid("negative skip or take")
	case len(terms) > MaxSearchTerms:
		return SearchPage{}, invalid("%d search terms, more than %d", len(terms), MaxSearchTerms)
	case q.Take == 0:
		q.Take = DefaultSearchTake
	}
	q.Take = min(q.Take, MaxSearchTake)

	var a args
	admitted := admittedVersions(&a, q)
	match := admitted
	for _, t := range terms {
		match += ` AND v.search_text LIKE ` + a.add("%"+likeEscaper.Replace(fold(t))+"%") + ` ESCAPE '\'`
	}
	where := `WHERE EXISTS (SELECT 1 FROM versions v WHERE v.pkg = p.id AND ` + match + `)`

	var page SearchPage
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM packages p `+where, a...).Scan(&page.Total); err != nil {
			return dbErr("counting search results", err)
		}
		exact := a.add(fold(strings.Join(terms, " ")))
		rows, err := tx.QueryContext(ctx, `SELECT p.id FROM packages p `+where+`
			ORDER BY CASE WHEN p.package_id_key = `+exact+` THEN 0 ELSE 1 END, p.package_id_key
			LIMIT `+a.add(q.Take)+` OFFSET `+a.add(q.Skip), a...)
		if err != nil {
			return dbErr("searching", err)
		}
		var keys []int64
		for rows.Next() {
			var k int64
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return dbErr("searching", err)
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return dbErr("searching", err)
		}
		page.Results, err = s.searchResults(ctx, tx, keys, q)
		return err
	})
	if err != nil {
		return SearchPage{}, err
	}
	return page, nil
}

// admittedVersions is the SQL condition, over versions v, for the versions
// that q's filters admit.
func admittedVersions(a *args, q SearchQuery) string {
	cond := `v.listed`
	if !q.Prerelease {
		cond += ` AND NOT v.prerelease`
	}
	if !q.SemVer2 {
		cond += ` AND NOT v.semver2`
	}
	if q.PackageType != "" {
		// package_types is space-separated; pad it so that a name matches
		// only whole.
		typ := ` ' ' || lower(v.package_types) || ' ' LIKE ` + a.add("% "+likeEscaper.Replace(fold(q.PackageType))+" %") + ` ESCAPE '\'`
		if fold(q.PackageType) == "dependency" {
			typ = `(v.package_types = '' OR` + typ + `)`
		}
		cond += ` AND ` + typ
	}
	return cond
}

// searchResults loads the packages with the given keys (at most
// MaxSearchTake), in that order, and their admitted versions.
func (s *Store) searchResults(ctx context.Context, tx *sql.Tx, keys []int64, q SearchQuery) ([]SearchResult, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var a args
	pkgs, pkgKeys, err := s.packagesWithKeys(ctx, tx, `WHERE p.id IN (`+a.in(keys)+`)`, a...)
	if err != nil {
		return nil, err
	}
	pos := make(map[int64]int, len(keys))
	for i, k := range keys {
		pos[k] = i
	}
	out := make([]SearchResult, len(keys))
	byID := make(map[string]*SearchResult, len(keys))
	for i, p := range pkgs {
		r := &out[pos[pkgKeys[i]]]
		r.Package = p
		byID[p.ID] = r
	}
	a = nil
	in := a.in(keys)
	vs, err := s.versions(ctx, tx, `WHERE v.pkg IN (`+in+`) AND `+admittedVersions(&a, q), a...)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		r := byID[v.PackageID]
		if r == nil {
			return nil, fmt.Errorf("store: search: version of unexpected package %q", v.PackageID)
		}
		r.Versions = append(r.Versions, v)
	}
	for i := range out {
		if n := len(out[i].Versions); n > 0 {
			out[i].Latest = out[i].Versions[n-1]
		}
	}
	return out, nil
}
