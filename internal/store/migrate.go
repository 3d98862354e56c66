package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// A migration is one numbered schema change.
type migration struct {
	version int
	name    string // the file name
	text    string
}

// checksum identifies a migration's text; an applied migration whose file
// has since changed is refused, because the database no longer matches what
// the code expects.
func (m migration) checksum() string {
	sum := sha256.Sum256([]byte(m.text))
	return hex.EncodeToString(sum[:])
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

func embeddedMigrations() ([]migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return loadMigrations(sub)
}

// loadMigrations reads NNNN_name.sql files from fsys. Numbers start at 1 and
// have no gaps, so a migration lost in a merge is noticed.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("store: reading migrations: %w", err)
	}
	var ms []migration
	for _, e := range ents {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("store: migration file %q is not named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if v != len(ms)+1 {
			return nil, fmt.Errorf("store: migration %q: expected number %04d", e.Name(), len(ms)+1)
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("store: reading migration: %w", err)
		}
		ms = append(ms, migration{version: v, name: path.Base(e.Name()), text: string(b)})
	}
	return ms, nil
}

// splitStatements splits a migration into statements. The rule for
// migration authors: a statement ends with ';' at the end of a line
// (trailing "-- comments" aside), no other line ends with ';', and "--"
// appears in no string literal. It keeps
// us off each driver's multi-statement support, which differs.
func splitStatements(text string) []string {
	var stmts []string
	var cur strings.Builder
	for line := range strings.Lines(text) {
		code, _, _ := strings.Cut(line, "--")
		code = strings.TrimSpace(code)
		if code == "" {
			continue
		}
		cur.WriteString(code)
		cur.WriteByte('\n')
		if strings.HasSuffix(code, ";") {
			stmts = append(stmts, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		stmts = append(stmts, rest)
	}
	return stmts
}

// migrate applies the migrations that the database lacks, in order, each in
// its own transaction together with its schema_migrations row. It is
// idempotent. It refuses a database whose applied migrations differ from ms
// (an edited migration) or go beyond ms (written by a newer program).
func (s *Store) migrate(ctx context.Context, ms []migration) error {
	// Under the migration lock: PostgreSQL's CREATE TABLE IF NOT EXISTS is
	// not safe against a concurrent one.
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version     BIGINT PRIMARY KEY,
			name        TEXT NOT NULL,
			checksum    TEXT NOT NULL,
			applied_at  BIGINT NOT NULL
		)`)
		if err != nil {
			return dbErr("creating schema_migrations", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var newest sql.NullInt64
	if err := s.w.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return dbErr("reading schema version", err)
	}
	if newest.Int64 > int64(len(ms)) {
		return fmt.Errorf("store: database schema version %d is newer than this program's %d; run a newer signet", newest.Int64, len(ms))
	}
	for _, m := range ms {
		if err := s.write(ctx, func(tx *sql.Tx) error { return s.apply(ctx, tx, m) }); err != nil {
			return err
		}
	}
	return nil
}

// lockMigrations takes the dialect's migration lock, if it has one, until tx
// ends.
func (s *Store) lockMigrations(ctx context.Context, tx *sql.Tx) error {
	if s.d.lockMigrations == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.d.lockMigrations); err != nil {
		return dbErr("locking migrations", err)
	}
	return nil
}

// apply applies m in tx unless it is applied already.
func (s *Store) apply(ctx context.Context, tx *sql.Tx, m migration) error {
	if err := s.lockMigrations(ctx, tx); err != nil {
		return err
	}
	var sum string
	err := tx.QueryRowContext(ctx, `SELECT checksum FROM schema_migrations WHERE version = $1`, m.version).Scan(&sum)
	switch {
	case err == nil && sum == m.checksum():
		return nil
	case err == nil:
		return fmt.Errorf("store: migration %s was changed after it was applied to this database", m.name)
	case !errors.Is(err, sql.ErrNoRows):
		return dbErr("reading schema_migrations", err)
	}
	for i, stmt := range splitStatements(s.d.schema(m.text)) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: migration %s, statement %d: %w", m.name, i+1, err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)`,
		m.version, m.name, m.checksum(), micros(s.now()))
	if err != nil {
		return dbErr("recording migration", err)
	}
	return nil
}

// SchemaVersion returns the number of the newest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, dbErr("reading schema version", err)
	}
	return int(v.Int64), nil
}
