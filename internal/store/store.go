package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Store is the metadata store. Open one with [Open] or [OpenSQLite]; it is
// safe for concurrent use and must be closed with Close.
type Store struct {
	// w runs write transactions; r runs reads. For SQLite they are separate
	// pools (see OpenSQLite); for PostgreSQL they are the same pool.
	w, r *sql.DB
	d    *dialect
	now  func() time.Time
}

// Open opens the store that url names and brings its schema up to date.
// Supported: "sqlite:PATH" (also "sqlite://PATH"), a SQLite database file,
// created if missing; "postgres://…" or "postgresql://…", a PostgreSQL
// database (see [OpenPostgres]).
func Open(ctx context.Context, url string) (*Store, error) {
	scheme, rest, ok := strings.Cut(url, ":")
	if !ok {
		return nil, fmt.Errorf("store: database URL %q has no scheme (want sqlite:PATH or postgres://…)", url)
	}
	switch scheme {
	case "sqlite":
		path := strings.TrimPrefix(rest, "//")
		if path == "" {
			return nil, fmt.Errorf("store: database URL %q has no path", url)
		}
		return OpenSQLite(ctx, path)
	case "postgres", "postgresql":
		if !strings.HasPrefix(rest, "//") {
			// Not quoted: a malformed URL may still hold a password.
			return nil, fmt.Errorf("store: PostgreSQL database URL must start with %s://", scheme)
		}
		return OpenPostgres(ctx, url)
	}
	return nil, fmt.Errorf("store: unknown database scheme %q", scheme)
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.r.Close()
	if s.w != s.r {
		err = errors.Join(err, s.w.Close())
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// maxWriteAttempts bounds how often write runs a transaction that the
// database aborted only because it conflicted with a concurrent one (see
// dialect.retryable). The store's transactions lock what they change, so
// such aborts are rare and a second attempt, after the other transaction
// ended, normally succeeds; a few more cover a burst of writers.
const maxWriteAttempts = 5

// writeRetryDelay bounds the pause before a write's second attempt; the
// bound grows with each further one. The pause lets the transaction that won
// the conflict take the locks it was waiting for before the loser asks for
// them again, and its random length keeps several losers apart.
const writeRetryDelay = 10 * time.Millisecond

// write runs fn in a write transaction and commits it if fn returns nil.
// When the database aborts the transaction because of a concurrent one, it
// runs fn again in a new transaction, up to maxWriteAttempts times: fn must
// set whatever it returns to its caller afresh on each run.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || s.d.retryable == nil || !s.d.retryable(err) || attempt == maxWriteAttempts {
			return err
		}
		pause := time.NewTimer(rand.N(time.Duration(attempt) * writeRetryDelay))
		select {
		case <-ctx.Done():
			pause.Stop()
			return err
		case <-pause.C:
		}
	}
}

// writeOnce is one attempt of write.
func (s *Store) writeOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, &sql.TxOptions{Isolation: s.d.writeIsolation})
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// read runs fn in a read-only transaction, so that all its queries see one
// snapshot of the database.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: s.d.readIsolation})
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// fold is the case fold behind every case-insensitive name: NuGet compares
// ids and versions ordinally ignoring case.
func fold(s string) string { return strings.ToLower(s) }

// micros converts a time to the stored form, microseconds since the epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts a stored time back, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros stores the zero time as NULL.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromNullMicros reads NULL as the zero time.
func fromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMicros(n.Int64)
}

// notFound maps sql.ErrNoRows to ErrNotFound with a description of what
// was looked for.
func notFound(err error, what string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: "+what, append([]any{ErrNotFound}, args...)...)
	}
	return fmt.Errorf("store: "+what+": %w", append(args, err)...)
}

// dbErr wraps a database error that no caller branches on.
func dbErr(what string, err error) error {
	return fmt.Errorf("store: %s: %w", what, err)
}

// args builds the argument list of a query with a varying number of
// placeholders.
type args []any

// add appends v and returns its placeholder.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// likeEscaper escapes LIKE's wildcards so that a user's '%' or '_' (legal in
// package ids) is matched literally, with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// maxInList bounds the placeholders in one IN (…) list: SQLite allows
// 32766 variables per statement and PostgreSQL 65535. It is a search page's
// size, so that a page's packages are one list.
const maxInList = MaxSearchTake

// chunks splits keys into runs of at most maxInList.
func chunks(keys []int64) func(yield func([]int64) bool) {
	return func(yield func([]int64) bool) {
		for len(keys) > 0 {
			n := min(len(keys), maxInList)
			if !yield(keys[:n]) {
				return
			}
			keys = keys[n:]
		}
	}
}

// in adds keys and returns their placeholders, comma-separated.
func (a *args) in(keys []int64) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.add(k))
	}
	return b.String()
}

// conflictIfNoRows maps the sql.ErrNoRows of an INSERT … ON CONFLICT DO
// NOTHING RETURNING that inserted nothing to ErrConflict.
func conflictIfNoRows(err error, what string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: "+what, append([]any{ErrConflict}, args...)...)
	}
	return fmt.Errorf("store: "+what+": %w", append(args, err)...)
}
