-- API keys. Only the SHA-256 of each key is stored; `prefix` is the public part used to find it.
-- The server reads the keys of its default schema; every schema has the table so any schema
-- can be the default.
CREATE TABLE api_keys (
    id          SERIAL PRIMARY KEY,
    name        VARCHAR(100) NOT NULL CHECK (length(btrim(name)) > 0),
    prefix      VARCHAR(16)  NOT NULL UNIQUE,
    key_hash    VARCHAR(64)  NOT NULL,
    scope       VARCHAR(10)  NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    schema_name VARCHAR(63),
    created_at  TIMESTAMP    NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    expires_at  TIMESTAMP,
    revoked_at  TIMESTAMP
);
