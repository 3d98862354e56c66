// Package store is the feed's metadata store: accounts (users and
// organisations), package registrations and their owners, package versions,
// ID prefix reservations, API keys and registered signing certificates. Blobs
// (the .nupkg files) live in package blob; a version row refers to its blob
// only through the package id and version, and is committed after the blob
// is written, so a row never exists without its blob.
//
// # Contract
//
// Every method is safe for concurrent use, by many goroutines and by several
// processes sharing one database (replicas of the feed on one PostgreSQL).
// A method either does all it says or nothing: the methods that change
// several rows run in one transaction. Errors a caller branches on are typed
// and tested with errors.Is: [ErrNotFound], [ErrConflict] (with the more
// specific [ErrReserved], [ErrLastOwner], [ErrLastAdmin]), [ErrNotOwner] and
// [ErrInvalid]. Each method's comment says which it returns. Names of
// accounts, package ids, versions and reservation patterns are compared
// case-insensitively and stored with the case they were created with.
//
// The store checks the integrity of its data (uniqueness, ownership of the
// account pushing a version, at least one owner and one organisation admin),
// not policy: passwords, API key scopes and globs, signing rules and
// permissions belong to the caller. The store never sees a password or an
// API key, only their hashes.
//
// The contract is tested by package storetest, which every database runs.
//
// # Databases
//
// Two databases run the same code: SQLite (modernc.org/sqlite, pure Go; see
// [OpenSQLite]) for a single feed, and PostgreSQL (pgx through
// database/sql; see [OpenPostgres]) for replicas that share one database.
// [Open] chooses by the URL's scheme. The SQL is written once, with $N
// placeholders, INSERT … ON CONFLICT DO NOTHING RETURNING, LIKE … ESCAPE
// and || concatenation, which both accept, and every difference is a field
// of the dialect type in dialect.go: the identity column, row locks (FOR
// UPDATE on PostgreSQL, where writers run concurrently; SQLite has one
// writer at a time), the migration lock, and transaction isolation.
// Times are stored as BIGINT microseconds since the epoch and case folding
// is done in Go, so neither depends on a database's time zone or collation.
//
// On PostgreSQL a write transaction that the server aborts for a deadlock
// or serialization failure is run again, a few times at most, so such
// conflicts between replicas are not errors of the contract; the functions
// that write transactions run must therefore be safe to run twice.
//
// Migrations are numbered .sql files embedded in the binary
// (migrations/NNNN_name.sql), applied in order on open, each in its own
// transaction, and recorded with a checksum in schema_migrations. Processes
// that open one database together apply each migration once: SQLite's
// write lock, or on PostgreSQL an advisory lock, lets one apply it while
// the others wait and then find it applied.
package store
