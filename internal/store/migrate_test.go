package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

var ctx = context.Background()

func tempDB(t *testing.T) string {
	return filepath.Join(t.TempDir(), "signet.db")
}

func TestEmbeddedMigrations(t *testing.T) {
	ms, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 2 {
		t.Fatalf("%d embedded migrations; the upgrade test needs at least 2", len(ms))
	}
	for _, m := range ms {
		if strings.Contains(sqliteDialect.schema(m.text), "@") {
			t.Errorf("%s: unsubstituted placeholder", m.name)
		}
	}
}

// TestOpenTwice checks that migrating is idempotent: a second open applies
// nothing and keeps the data.
func TestOpenTwice(t *testing.T) {
	path := tempDB(t)
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, NewUser{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	defer s.Close()
	ms, _ := embeddedMigrations()
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(ms) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(ms))
	}
	var rows int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(ms) {
		t.Fatalf("schema_migrations has %d rows, %v; want %d", rows, err, len(ms))
	}
	if _, err := s.UserByName(ctx, "alice"); err != nil {
		t.Fatalf("data lost on reopen: %v", err)
	}
}

// TestUpgrade opens a database that an older program (knowing only the
// first migration) created and checks that the rest apply with the data
// kept.
func TestUpgrade(t *testing.T) {
	path := tempDB(t)
	ms, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	old, err := openSQLite(ctx, path, ms[:1])
	if err != nil {
		t.Fatal(err)
	}
	u, err := old.CreateUser(ctx, NewUser{Name: "early"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := old.SchemaVersion(ctx); v != 1 {
		t.Fatalf("old schema version = %d", v)
	}
	old.Close()

	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("upgrading: %v", err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v != len(ms) {
		t.Fatalf("schema version after upgrade = %d, want %d", v, len(ms))
	}
	if _, err := s.User(ctx, u.ID); err != nil {
		t.Fatalf("user from before the upgrade: %v", err)
	}
	sum := make([]byte, sha512Size)
	if _, err := s.CreateVersion(ctx, u.ID, Version{PackageID: "A", Version: "1.0.0", OriginalVersion: "1.0", SHA512: sum}); err != nil {
		t.Fatalf("using the upgraded schema: %v", err)
	}
}

// TestNewerSchemaRefused checks that an older program does not run on a
// database migrated by a newer one.
func TestNewerSchemaRefused(t *testing.T) {
	path := tempDB(t)
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ms, _ := embeddedMigrations()
	if _, err := openSQLite(ctx, path, ms[:1]); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open by an older program = %v, want a schema-too-new error", err)
	}
}

func migrationsFrom(t *testing.T, files map[string]string) []migration {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	ms, err := loadMigrations(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestMigrationAtomic checks that a migration failing halfway leaves no
// trace: its first statement is rolled back with the failing one.
func TestMigrationAtomic(t *testing.T) {
	path := tempDB(t)
	good := "CREATE TABLE a (x BIGINT);\n"
	ms := migrationsFrom(t, map[string]string{
		"0001_a.sql": good,
		"0002_b.sql": "CREATE TABLE b (x BIGINT);\nCREATE TABLE broken (;\n",
	})
	if _, err := openSQLite(ctx, path, ms); err == nil || !strings.Contains(err.Error(), "0002_b.sql, statement 2") {
		t.Fatalf("open with a broken migration = %v", err)
	}
	s, err := openSQLite(ctx, path, ms[:1])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v != 1 {
		t.Fatalf("schema version = %d, want 1", v)
	}
	var n int
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n)
	if err != nil || n != 0 {
		t.Fatalf("table b from the failed migration exists (%d, %v)", n, err)
	}
}

// TestMigrationChanged checks that editing an applied migration is caught.
func TestMigrationChanged(t *testing.T) {
	path := tempDB(t)
	s, err := openSQLite(ctx, path, migrationsFrom(t, map[string]string{"0001_a.sql": "CREATE TABLE a (x BIGINT);\n"}))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = openSQLite(ctx, path, migrationsFrom(t, map[string]string{"0001_a.sql": "CREATE TABLE a (x TEXT);\n"}))
	if err == nil || !strings.Contains(err.Error(), "changed after it was applied") {
		t.Fatalf("open with an edited migration = %v", err)
	}
}

func TestLoadMigrationsRefuses(t *testing.T) {
	tests := []struct {
		name  string
		files []string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}},
		{"not from one", []string{"0002_b.sql"}},
		{"duplicate number", []string{"0001_a.sql", "0001_b.sql"}},
		{"bad name", []string{"0001_a.sql", "2_b.sql"}},
		{"upper case", []string{"0001_A.sql"}},
		{"not sql", []string{"0001_a.txt"}},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{}
		for _, f := range tt.files {
			fsys[f] = &fstest.MapFile{Data: []byte("SELECT 1;\n")}
		}
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: loadMigrations(%q) succeeded", tt.name, tt.files)
		}
	}
}

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"-- only a comment;\n", nil},
		{"CREATE TABLE a (x BIGINT);\n", []string{"CREATE TABLE a (x BIGINT);"}},
		{"CREATE TABLE a (\n  x BIGINT, -- a comment;\n  y TEXT\n);\nCREATE INDEX i ON a (x); -- trailing\n",
			[]string{"CREATE TABLE a (\nx BIGINT,\ny TEXT\n);", "CREATE INDEX i ON a (x);"}},
		{"SELECT 1;\nSELECT 2", []string{"SELECT 1;", "SELECT 2"}},
	}
	for _, tt := range tests {
		if got := splitStatements(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSQLiteSettings checks the connection settings that OpenSQLite
// documents, on the writer and on a reader.
func TestSQLiteSettings(t *testing.T) {
	s, err := OpenSQLite(ctx, tempDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pragma := func(db *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	want := []struct {
		db          *sql.DB
		name, value string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "foreign_keys", "1"},
		{s.w, "synchronous", "2"},
		{s.w, "busy_timeout", "5000"},
		{s.w, "query_only", "0"},
		{s.r, "journal_mode", "wal"},
		{s.r, "foreign_keys", "1"},
		{s.r, "busy_timeout", "5000"},
		{s.r, "query_only", "1"},
	}
	for _, w := range want {
		if got := pragma(w.db, w.name); got != w.value {
			t.Errorf("PRAGMA %s = %s, want %s", w.name, got, w.value)
		}
	}
	if s.w.Stats().MaxOpenConnections != 1 {
		t.Errorf("writer pool allows %d connections, want 1", s.w.Stats().MaxOpenConnections)
	}
	if _, err := s.r.ExecContext(ctx, `INSERT INTO organizations (account_id) VALUES (1)`); err == nil {
		t.Error("a write through the read pool succeeded")
	}
	// Foreign keys are enforced: an owner row for a missing package fails.
	_, err = s.w.ExecContext(ctx, `INSERT INTO package_owners (pkg, account_id, created_at) VALUES (42, 42, 0)`)
	if err == nil {
		t.Error("foreign keys are not enforced")
	}
}

func TestOpenURL(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		url string
		ok  bool
	}{
		{"sqlite:" + filepath.Join(dir, "a.db"), true},
		{"sqlite://" + filepath.Join(dir, "b.db"), true},
		// Characters that a URI would read as parameters or escapes.
		{"sqlite:" + filepath.Join(dir, "odd ?#%20&name.db"), true},
		{"sqlite:", false},
		{"postgres://127.0.0.1:notaport/signet", false}, // more in postgres_test.go
		{"mysql://x", false},
		{"signet.db", false},
	}
	for _, tt := range tests {
		s, err := Open(ctx, tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("Open(%q) error = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err == nil {
			s.Close()
		}
	}
	if _, err := Open(ctx, "sqlite:"+filepath.Join(dir, "odd ?#%20&name.db")); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "odd*"))
	if !slices.Contains(matches, filepath.Join(dir, "odd ?#%20&name.db")) {
		t.Fatalf("database not created under its literal name; files: %q", matches)
	}
}

// TestErrorsWrap checks the error hierarchy that callers branch on.
func TestErrorsWrap(t *testing.T) {
	for _, err := range []error{ErrReserved, ErrLastOwner, ErrLastAdmin} {
		if !errors.Is(err, ErrConflict) {
			t.Errorf("%v does not wrap ErrConflict", err)
		}
	}
	if errors.Is(ErrNotOwner, ErrConflict) || errors.Is(ErrNotFound, ErrConflict) {
		t.Error("unrelated errors wrap ErrConflict")
	}
}
