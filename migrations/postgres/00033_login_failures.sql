-- +goose Up
-- Failed sign-ins (and password-reset requests) per key, so the rate limit holds for every
-- instance together. key_hash is a SHA-256 of the scope and key (an IP or an email), so a
-- long email cannot overflow the index. Rows older than the window are deleted as new ones
-- arrive.
CREATE TABLE login_failures (
    key_hash TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key_hash, at);

-- +goose Down
DROP TABLE login_failures;
