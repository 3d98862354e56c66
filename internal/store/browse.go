package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// DefaultBrowseTake is the page size of Browse when BrowseQuery.Take is 0:
// a page of the web UI's package list.
const DefaultBrowseTake = 20

// BrowseQuery selects a page of packages for the web UI's lists: the
// packages with a listed version, SemVer 2.0.0 versions included.
type BrowseQuery struct {
	// Terms match as in SearchQuery: every term occurs, ignoring case, in
	// the id, title, description or tags of one admitted version.
	Terms string
	// Prerelease admits prerelease versions.
	Prerelease bool
	// Skip and Take select the page; Take 0 means DefaultBrowseTake and
	// more than MaxSearchTake means MaxSearchTake. Negative values are
	// ErrInvalid.
	Skip, Take int
}

// A BrowseResult is one package of a browse page.
type BrowseResult struct {
	// SearchResult holds the package, its admitted versions (oldest
	// first) and the latest of them.
	SearchResult
	// Updated is when the package's newest admitted version was pushed.
	Updated time.Time
	// Downloads is the package's total download count, over all its
	// versions (listed or not).
	Downloads int64
}

// A BrowsePage is one page of Browse's results.
type BrowsePage struct {
	// Total is the number of matching packages across all pages.
	Total   int
	Results []BrowseResult
}

// Browse returns the packages that match q, the most recently updated
// first (by the push time of their newest admitted version), then by id.
// It returns ErrInvalid for negative Skip or Take, or more than
// MaxSearchTerms terms.
func (s *Store) Browse(ctx context.Context, q BrowseQuery) (BrowsePage, error) {
	terms := strings.Fields(q.Terms)
	switch {
	case q.Skip < 0 || q.Take < 0:
		return BrowsePage{}, invalid("negative skip or take")
	case len(terms) > MaxSearchTerms:
		return BrowsePage{}, invalid("%d search terms, more than %d", len(terms), MaxSearchTerms)
	case q.Take == 0:
		q.Take = DefaultBrowseTake
	}
	q.Take = min(q.Take, MaxSearchTake)
	sq := SearchQuery{Terms: q.Terms, Prerelease: q.Prerelease, SemVer2: true}

	var a args
	admitted := admittedVersions(&a, sq)
	match := admitted
	for _, t := range terms {
		match += ` AND v.search_text LIKE ` + a.add("%"+likeEscaper.Replace(fold(t))+"%") + ` ESCAPE '\'`
	}
	where := `WHERE EXISTS (SELECT 1 FROM versions v WHERE v.pkg = p.id AND ` + match + `)`
	// The ORDER BY subquery has its own v; admitted adds no placeholders
	// without a package type, so it can be used twice.
	updated := `(SELECT MAX(v.published_at) FROM versions v WHERE v.pkg = p.id AND ` + admitted + `)`

	var page BrowsePage
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM packages p `+where, a...).Scan(&page.Total); err != nil {
			return dbErr("counting packages", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT p.id FROM packages p `+where+`
			ORDER BY `+updated+` DESC, p.package_id_key
			LIMIT `+a.add(q.Take)+` OFFSET `+a.add(q.Skip), a...)
		if err != nil {
			return dbErr("browsing packages", err)
		}
		var keys []int64
		for rows.Next() {
			var k int64
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return dbErr("browsing packages", err)
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return dbErr("browsing packages", err)
		}
		results, err := s.searchResults(ctx, tx, keys, sq)
		if err != nil {
			return err
		}
		downloads, err := packageDownloads(ctx, tx, keys)
		if err != nil {
			return err
		}
		page.Results = make([]BrowseResult, len(results))
		for i, r := range results {
			br := BrowseResult{SearchResult: r, Downloads: downloads[keys[i]]}
			for _, v := range r.Versions {
				if v.Published.After(br.Updated) {
					br.Updated = v.Published
				}
			}
			page.Results[i] = br
		}
		return nil
	})
	if err != nil {
		return BrowsePage{}, err
	}
	return page, nil
}

// packageDownloads returns the total downloads of the packages with the
// given keys (at most MaxSearchTake); packages never downloaded are absent.
func packageDownloads(ctx context.Context, tx *sql.Tx, keys []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var a args
	rows, err := tx.QueryContext(ctx, `SELECT v.pkg, CAST(SUM(d.count) AS BIGINT) FROM downloads d
		JOIN versions v ON v.id = d.version_id
		WHERE v.pkg IN (`+a.in(keys)+`) GROUP BY v.pkg`, a...)
	if err != nil {
		return nil, dbErr("reading downloads", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, n int64
		if err := rows.Scan(&key, &n); err != nil {
			return nil, dbErr("reading downloads", err)
		}
		out[key] = n
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("reading downloads", err)
	}
	return out, nil
}
