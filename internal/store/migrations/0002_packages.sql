-- Package registrations (one per id, case-insensitive), their owners and
-- versions, and ID prefix reservations.
CREATE TABLE packages (
    id               @ID@,
    package_id       TEXT NOT NULL,
    package_id_key   TEXT NOT NULL UNIQUE,
    -- The account whose certificates alone may sign this id; NULL: any owner's.
    required_signer  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at       BIGINT NOT NULL
);

CREATE TABLE package_owners (
    pkg         BIGINT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (pkg, account_id)
);
CREATE INDEX package_owners_account ON package_owners (account_id);

CREATE TABLE versions (
    id                @ID@,
    pkg               BIGINT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    -- NuGet-normalised, without build metadata ("1.0.0-beta.1").
    version           TEXT NOT NULL,
    version_key       TEXT NOT NULL,
    -- As written in the nuspec ("1.0-Beta.1+sha.5").
    original_version  TEXT NOT NULL,
    listed            BOOLEAN NOT NULL,
    published_at      BIGINT NOT NULL,
    sha512            BYTEA NOT NULL,
    size              BIGINT NOT NULL,
    prerelease        BOOLEAN NOT NULL,
    semver2           BOOLEAN NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL,
    authors           TEXT NOT NULL,
    -- Space-separated, as in the nuspec.
    tags              TEXT NOT NULL,
    -- Space-separated package type names; empty means Dependency.
    package_types     TEXT NOT NULL,
    -- JSON array, shaped by the feed (registration catalog entry groups).
    dependency_groups TEXT NOT NULL,
    -- JSON object of further nuspec facts the feed shows (summary, URLs, licence).
    extra             TEXT NOT NULL,
    -- Lower-cased id, title, description and tags, for search.
    search_text       TEXT NOT NULL,
    -- SHA-256 of the author (or primary) signing certificate; NULL: unsigned.
    signer_sha256     BYTEA,
    -- JSON facts of the signatures, shaped by the feed; NULL: unsigned.
    signature         TEXT,
    -- Validation and revocation status, shaped by the feed.
    signature_status  TEXT NOT NULL,
    UNIQUE (pkg, version_key)
);
CREATE INDEX versions_signer ON versions (signer_sha256);

CREATE TABLE reservations (
    id           @ID@,
    pattern      TEXT NOT NULL,
    pattern_key  TEXT NOT NULL UNIQUE,
    -- TRUE: every id that starts with pattern; FALSE: the id pattern only.
    is_prefix    BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE reservation_owners (
    reservation  BIGINT NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (reservation, account_id)
);
CREATE INDEX reservation_owners_account ON reservation_owners (account_id);
