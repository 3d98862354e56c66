package store_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/signet-nuget/signet/internal/store"
	"github.com/signet-nuget/signet/internal/store/pgtest"
	"github.com/signet-nuget/signet/internal/store/storetest"
)

func openPostgres(t *testing.T, url string) *store.Store {
	t.Helper()
	s, err := store.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresContract(t *testing.T) {
	pgtest.Require(t)
	storetest.Run(t, func(t *testing.T) *store.Store {
		return openPostgres(t, pgtest.URL(t))
	})
}

// migrationFiles counts the embedded migrations from their source files.
func migrationFiles(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %q, %v", files, err)
	}
	return len(files)
}

// TestPostgresConcurrentMigrations opens stores on one fresh database at
// once, as replicas starting together do, and checks that every open
// succeeds and each migration was applied once.
func TestPostgresConcurrentMigrations(t *testing.T) {
	const replicas = 8
	url := pgtest.URL(t)
	stores := make([]*store.Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range replicas {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = store.OpenPostgres(context.Background(), url)
		})
	}
	close(start)
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Errorf("replica %d: %v", i, errs[i])
			continue
		}
		t.Cleanup(func() { s.Close() })
	}
	if t.Failed() {
		t.FailNow()
	}
	want := migrationFiles(t)
	for i, s := range stores {
		if v, err := s.SchemaVersion(context.Background()); err != nil || v != want {
			t.Errorf("replica %d: SchemaVersion = %d, %v; want %d", i, v, err, want)
		}
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, versions int
	err = db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions)
	if err != nil || rows != want || versions != want {
		t.Fatalf("schema_migrations: %d rows, %d versions, %v; want %d of each", rows, versions, err, want)
	}
	// Every replica works on the one schema.
	u, err := stores[0].CreateUser(context.Background(), store.NewUser{Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := stores[replicas-1].User(context.Background(), u.ID); err != nil || got.Name != "alice" {
		t.Fatalf("another replica reads %+v, %v", got, err)
	}
}

// TestPostgresOpenErrors checks that bad URLs and unreachable or refusing
// servers fail at once with an error that names the problem and not the
// password.
func TestPostgresOpenErrors(t *testing.T) {
	const secret = "s3cret-Passw0rd"
	tests := []struct {
		name string
		url  string
		want string // in the error
	}{
		{"bad port", "postgres://signet:" + secret + "@127.0.0.1:notaport/signet", "store: PostgreSQL"},
		{"bad percent-escape", "postgres://signet:" + secret + "%zz@127.0.0.1:25432/signet", "store: PostgreSQL"},
		{"unknown sslmode", "postgresql://signet:" + secret + "@127.0.0.1/signet?sslmode=sometimes", "sslmode"},
		{"nothing listening", "postgres://signet:" + secret + "@127.0.0.1:1/signet?sslmode=disable", "store: PostgreSQL"},
	}
	if admin := adminURL(); admin != nil {
		wrong := *admin
		wrong.User = url.UserPassword(admin.User.Username(), secret)
		tests = append(tests, struct{ name, url, want string }{"wrong password", wrong.String(), "password authentication failed"})
		missing := *admin
		missing.Path = "/signet_test_no_such_database"
		tests = append(tests, struct{ name, url, want string }{"no such database", missing.String(), "does not exist"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, open := range []func(context.Context, string) (*store.Store, error){store.Open, store.OpenPostgres} {
				s, err := open(ctx, tt.url)
				if err == nil {
					s.Close()
					t.Fatalf("opened %s", tt.name)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q does not say %q", err, tt.want)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows the password: %q", err)
				}
			}
		})
	}
}

// adminURL returns the test server's URL, or nil when there is none.
func adminURL() *url.URL {
	u, err := url.Parse(os.Getenv(pgtest.EnvURL))
	if err != nil || u.Host == "" || u.User == nil {
		return nil
	}
	return u
}

// TestPostgresOpenURL checks that Open dispatches both PostgreSQL schemes.
func TestPostgresOpenURL(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"postgres", "postgresql"} {
		u.Scheme = scheme
		s, err := store.Open(context.Background(), u.String())
		if err != nil {
			t.Fatalf("Open(%s://…): %v", scheme, err)
		}
		v, err := s.SchemaVersion(context.Background())
		s.Close()
		if err != nil || v != migrationFiles(t) {
			t.Fatalf("Open(%s://…): SchemaVersion = %d, %v", scheme, v, err)
		}
	}
	for _, bad := range []string{"postgres:", "postgresql:host=127.0.0.1"} {
		if _, err := store.Open(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "://") {
			t.Errorf("Open(%q) = %v, want an error asking for a URL", bad, err)
		}
	}
}
