// Package pgtest gives tests a fresh, empty PostgreSQL database of their
// own.
//
// The server is the one named by the environment variable
// SIGNET_TEST_POSTGRES, a postgres:// URL of a role allowed to create
// databases, which scripts/services.d/postgres prints and scripts/test
// sets. When it is unset, [URL] and [Require] skip the test, unless
// SIGNET_REQUIRE_SERVICES=1 (as scripts/test sets), where they fail it: a
// test run that must cover PostgreSQL cannot pass without it.
//
// Creating a database costs a few hundred milliseconds, too much for every
// subtest of a contract, so each URL is a schema of its own (about a
// millisecond) in one database that the tests share, signet_tests, created
// on first use and kept. The URL selects the schema with the connection
// parameter options=-csearch_path=<schema>, which pgx and libpq (psql) both
// send to the server, so every connection of every process that opens the
// URL sees the schema's tables under their unqualified names and nothing
// else. The one difference from a database of its own: advisory locks are
// per database, so they are shared with the other tests.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

const (
	// EnvURL names the variable that holds the server's URL.
	EnvURL = "SIGNET_TEST_POSTGRES"
	// EnvRequire names the variable that, set to 1, turns a missing server
	// into a failure.
	EnvRequire = "SIGNET_REQUIRE_SERVICES"
	// Database is the database that holds the tests' schemas.
	Database = "signet_tests"
	// schemaPrefix starts the name of every schema pgtest creates, so that
	// leftovers of a killed test run are recognisable.
	schemaPrefix = "signet_test_"
	// opTimeout bounds connecting and creating or dropping a database or
	// schema; a local test server answers in well under a second.
	opTimeout = 30 * time.Second
	// sqlStateDuplicateDatabase is CREATE DATABASE's error when another
	// test process created it first.
	sqlStateDuplicateDatabase = "42P04"
)

// shared is the connection pool to Database, opened on first use, for
// every test of the process.
var shared struct {
	sync.Mutex
	admin string   // the SIGNET_TEST_POSTGRES that db was opened from
	url   *url.URL // Database's URL
	db    *sql.DB
}

// URL creates an empty schema on the test server and returns a URL that
// opens it, which [store.OpenPostgres] accepts. The schema is dropped, with
// everything in it, when t and its subtests end; close the connections to
// it before (a store opened after URL is called and closed in t.Cleanup
// is: cleanups run last first).
func URL(t testing.TB) string {
	t.Helper()
	db, base := database(t)
	name := schemaPrefix + randomHex()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	// The name is ours, of [a-z0-9_] only: no quoting needed.
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("pgtest: creating schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
			t.Errorf("pgtest: dropping schema %s: %v", name, err)
		}
	})
	u := *base
	q := u.Query()
	q.Set("options", strings.TrimSpace(q.Get("options")+" -csearch_path="+name))
	u.RawQuery = q.Encode()
	return u.String()
}

// Require returns the test server's URL (the value of SIGNET_TEST_POSTGRES).
// When there is none it skips t, or fails it if SIGNET_REQUIRE_SERVICES=1.
// A test that calls [URL] in each of many subtests calls Require first, to
// skip once.
func Require(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("pgtest: %s is not set but %s=1; start PostgreSQL with scripts/services.d/postgres start", EnvURL, EnvRequire)
		}
		t.Skipf("pgtest: %s is not set; run ./scripts/test to test against PostgreSQL", EnvURL)
	}
	return admin
}

// database returns the pool to Database, creating the database if it does
// not exist, and its URL.
func database(t testing.TB) (*sql.DB, *url.URL) {
	t.Helper()
	admin := Require(t)
	shared.Lock()
	defer shared.Unlock()
	if shared.db != nil && shared.admin == admin {
		return shared.db, shared.url
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// url.Parse's error quotes the URL, password included.
		t.Fatalf("pgtest: %s is not a postgres:// URL", EnvURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err) // pgx's errors mask the password
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+Database+" TEMPLATE template0")
	var pe *pgconn.PgError
	if err != nil && !(errors.As(err, &pe) && pe.Code == sqlStateDuplicateDatabase) {
		t.Fatalf("pgtest: creating database %s on %s: %v", Database, EnvURL, err)
	}
	u.Path = "/" + Database
	u.RawPath = ""
	sdb, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		t.Fatalf("pgtest: connecting to %s: %v", Database, err)
	}
	if shared.db != nil {
		shared.db.Close()
	}
	shared.admin, shared.url, shared.db = admin, u, sdb
	return sdb, u
}

// randomHex returns 16 random hex digits (lower case, as PostgreSQL folds
// an unquoted name), unique across concurrent test processes.
func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
