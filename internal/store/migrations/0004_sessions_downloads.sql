-- Log-in sessions of the feed's web UI and JSON API, and download counts.
-- A session is found by the SHA-256 of its cookie's token; the token itself
-- is never stored.
CREATE TABLE sessions (
    id          @ID@,
    token_hash  BYTEA NOT NULL UNIQUE,
    user_id     BIGINT NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
    -- TRUE: the log-in passed a second factor (TOTP or a recovery code).
    two_factor  BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Downloads per version, added in batches by each feed replica.
CREATE TABLE downloads (
    version_id  BIGINT PRIMARY KEY REFERENCES versions (id) ON DELETE CASCADE,
    count       BIGINT NOT NULL
);
