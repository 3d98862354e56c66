-- API keys (stored as a hash only) and registered signing certificates.
CREATE TABLE api_keys (
    id            @ID@,
    -- The user who created the key and whose permissions bound it.
    user_id       BIGINT NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
    -- The account the key acts for: the user or one of its organisations.
    owner_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    key_hash      BYTEA NOT NULL UNIQUE,
    -- JSON arrays of strings.
    scopes        TEXT NOT NULL,
    globs         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    -- NULL: never.
    expires_at    BIGINT,
    last_used_at  BIGINT
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE certificates (
    id                  @ID@,
    sha256              BYTEA NOT NULL UNIQUE,
    der                 BYTEA NOT NULL,
    subject             TEXT NOT NULL,
    issuer              TEXT NOT NULL,
    not_before          BIGINT NOT NULL,
    not_after           BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    -- 'unknown', 'good' or 'revoked', from the last OCSP/CRL check.
    revocation_status   TEXT NOT NULL,
    revocation_checked  BIGINT,
    revoked_at          BIGINT,
    revocation_reason   TEXT NOT NULL
);

CREATE TABLE account_certificates (
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    certificate  BIGINT NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, certificate)
);
CREATE INDEX account_certificates_certificate ON account_certificates (certificate);
