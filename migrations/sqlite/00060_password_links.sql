-- +goose Up
-- One-time links that let a person set their password: a reset asked for by mail, or the
-- link an invitation without a password leaves. Only the SHA-256 of the secret is stored.
CREATE TABLE password_links (
    id         TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME
);
CREATE INDEX password_links_user ON password_links (user_id);

-- +goose Down
DROP TABLE password_links;
