-- Second factors (TOTP and recovery codes) of users, and certificate
-- identities: a subject and issuer an account registers so that renewed
-- certificates with the same names are accepted without a new upload.
CREATE TABLE two_factor (
    user_id     BIGINT PRIMARY KEY REFERENCES users (account_id) ON DELETE CASCADE,
    -- The TOTP secret, in the clear: the server computes codes from it.
    secret      BYTEA NOT NULL,
    -- FALSE: enrolment pending until the user confirms a first code.
    enabled     BOOLEAN NOT NULL,
    -- The TOTP time step of the last code accepted (0: none); a code of
    -- this step or an earlier one is refused, so each code works once.
    last_step   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    enabled_at  BIGINT
);

CREATE TABLE recovery_codes (
    user_id  BIGINT NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
    -- SHA-256 of the code, computed by package account.
    hash     BYTEA NOT NULL,
    -- NULL: unused.
    used_at  BIGINT,
    PRIMARY KEY (user_id, hash)
);

CREATE TABLE certificate_identities (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Distinguished names as Go's pkix.Name.String() writes them.
    subject     TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, subject, issuer)
);
CREATE INDEX certificate_identities_names ON certificate_identities (subject, issuer);
