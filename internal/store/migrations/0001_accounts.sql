-- Accounts: users and organisations share one namespace, as on nuget.org, so
-- that an owner, a certificate holder or an API key's scope is one account id.
-- Times are BIGINT microseconds since the Unix epoch, UTC (portable between
-- SQLite and PostgreSQL). *_key columns hold the Go-side case fold of the
-- column before them and carry the case-insensitive uniqueness.
CREATE TABLE accounts (
    id          @ID@,
    kind        TEXT NOT NULL CHECK (kind IN ('user', 'organization')),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    account_id     BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    -- A PHC string (argon2id) computed by package account; empty: no password log-in.
    password_hash  TEXT NOT NULL,
    is_admin       BOOLEAN NOT NULL
);

CREATE TABLE organizations (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE
);

CREATE TABLE organization_members (
    organization_id  BIGINT NOT NULL REFERENCES organizations (account_id) ON DELETE CASCADE,
    user_id          BIGINT NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'collaborator')),
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user ON organization_members (user_id);
