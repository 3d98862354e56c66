package store

import (
	"cmp"
	"context"
	"database/sql"
	"maps"
	"slices"
)

// AddDownloads adds download counts to versions in one transaction. A feed
// counts downloads in memory and adds them every few seconds, so that a
// download is not a database write. Counts of versions that do not exist
// (any more) are dropped; counts below 1 are ignored.
func (s *Store) AddDownloads(ctx context.Context, counts map[VersionRef]int64) error {
	if len(counts) == 0 {
		return nil
	}
	// A fixed order, so that replicas flushing at once lock the rows in
	// the same order and do not deadlock.
	refs := slices.SortedFunc(maps.Keys(counts), func(a, b VersionRef) int {
		return cmp.Or(cmp.Compare(fold(a.PackageID), fold(b.PackageID)), cmp.Compare(fold(a.Version), fold(b.Version)))
	})
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, ref := range refs {
			n := counts[ref]
			if n < 1 {
				continue
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO downloads (version_id, count)
				SELECT v.id, $3 FROM versions v JOIN packages p ON p.id = v.pkg
				WHERE p.package_id_key = $1 AND v.version_key = $2
				ON CONFLICT (version_id) DO UPDATE SET count = downloads.count + excluded.count`,
				fold(ref.PackageID), fold(ref.Version), n)
			if err != nil {
				return dbErr("adding downloads", err)
			}
		}
		return nil
	})
}

// Downloads returns the download count of each version of a package, by
// normalised version as stored, and their total. Versions never downloaded
// are absent (count 0). It returns ErrNotFound if the id is not registered.
func (s *Store) Downloads(ctx context.Context, id string) (map[string]int64, int64, error) {
	out := map[string]int64{}
	var total int64
	err := s.read(ctx, func(tx *sql.Tx) error {
		var row int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM packages WHERE package_id_key = $1`, fold(id)).Scan(&row)
		if err != nil {
			return notFound(err, "package %q", id)
		}
		rows, err := tx.QueryContext(ctx, `SELECT v.version, d.count FROM downloads d
			JOIN versions v ON v.id = d.version_id WHERE v.pkg = $1`, row)
		if err != nil {
			return dbErr("reading downloads", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			var n int64
			if err := rows.Scan(&v, &n); err != nil {
				return dbErr("reading downloads", err)
			}
			out[v] = n
			total += n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
