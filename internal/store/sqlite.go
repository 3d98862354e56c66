package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

const (
	// sqliteBusyTimeout is how long, in milliseconds, a connection waits for
	// a lock held by another process (a second signet, the sqlite3 shell, a
	// WAL checkpoint) before failing with SQLITE_BUSY. Within one process
	// writers queue on the single writer connection instead. Five seconds
	// outlasts any write the feed makes.
	sqliteBusyTimeout = 5000
	// minSQLiteReaders is the least number of read connections; with WAL,
	// readers never block each other or the writer.
	minSQLiteReaders = 4
)

// OpenSQLite opens (creating it if missing) the SQLite database at path and
// applies the pending migrations.
//
// Configuration, and why:
//   - journal_mode=WAL: readers see a consistent snapshot and neither block
//     nor are blocked by the writer.
//   - synchronous=FULL: a commit is on disk when it returns; with NORMAL a
//     power loss could forget a version whose push was answered 201.
//   - foreign_keys=ON: SQLite leaves them off by default.
//   - busy_timeout: waits for other processes' locks instead of failing.
//   - One writer connection, whose transactions BEGIN IMMEDIATE. SQLite
//     allows one writer at a time anyway. With several writer connections a
//     transaction that reads and then writes (CreateVersion checks the
//     owners, then inserts) takes the write lock only at its first write,
//     and if another connection committed in between, SQLite fails it at
//     once with SQLITE_BUSY that busy_timeout cannot help. One connection
//     queues writers in Go (honouring each caller's context) and BEGIN
//     IMMEDIATE takes the lock before the first read, which covers other
//     processes too. A mutex would do the same and is not needed next to a
//     pool of one.
//   - A separate pool of read-only connections (query_only), so reads
//     proceed while a write is in progress.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	return openSQLite(ctx, path, nil)
}

// openSQLite opens the database and applies migrations (all embedded ones
// when ms is nil).
func openSQLite(ctx context.Context, path string, ms []migration) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	w, err := sql.Open("sqlite", sqliteDSN(abs, false))
	if err != nil {
		return nil, fmt.Errorf("store: opening %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	// Open the writer first: it switches the file to WAL before any reader
	// connects.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: opening %q: %w", path, err)
	}
	r, err := sql.Open("sqlite", sqliteDSN(abs, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: opening %q: %w", path, err)
	}
	r.SetMaxOpenConns(max(minSQLiteReaders, runtime.GOMAXPROCS(0)))
	s := &Store{w: w, r: r, d: sqliteDialect, now: time.Now}
	if ms == nil {
		ms, err = embeddedMigrations()
	}
	if err == nil {
		err = s.migrate(ctx, ms)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN builds a file: URI, so that any byte of the path is escaped
// rather than read as the start of parameters.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(sqliteBusyTimeout)+")")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}
