-- Accounts and sessions (postgres). Keep in step with ../sqlite/0002_accounts.sql.

-- One row per person. The username is stored lower-case (logins compare lower-case), the password
-- only as an Argon2id PHC string. A person is never deleted, only deactivated, so what they wrote
-- keeps a name.
CREATE TABLE users (
    id            TEXT     NOT NULL PRIMARY KEY,
    username      TEXT     NOT NULL UNIQUE,
    display_name  TEXT     NOT NULL,
    -- commune_officer | district_supervisor | province_admin
    role          TEXT     NOT NULL,
    -- the unit the role is scoped to: a commune, a district or the province
    org_unit      TEXT     NOT NULL,
    password_hash TEXT     NOT NULL,
    active        SMALLINT NOT NULL,
    -- unix seconds
    created_at    BIGINT  NOT NULL
);

-- Sessions by the SHA-256 of their token: a copy of this table (a backup, a leak) logs nobody in.
-- Times are unix seconds; a session works while revoked_at is NULL and expires_at is in the future.
CREATE TABLE sessions (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);
