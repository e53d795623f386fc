-- +goose Up
-- The CMS: users, sessions, API tokens, event keys, posts and their history. Times are
-- TIMESTAMPTZ written in UTC with microsecond precision (edits compare updated_at exactly).
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,          -- lower case
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',      -- empty: no password (OAuth only, or invited)
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    last_login_at TIMESTAMPTZ
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,               -- sha256 of the cookie value
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,           -- sha256 of the token
    prefix       TEXT NOT NULL,                  -- first characters, to recognise it in lists
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE event_keys (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE posts (
    id                 BIGSERIAL PRIMARY KEY,
    title              TEXT NOT NULL,
    slug               TEXT NOT NULL UNIQUE,
    markdown           TEXT NOT NULL DEFAULT '',
    summary            TEXT NOT NULL DEFAULT '',
    tags               TEXT NOT NULL DEFAULT '',  -- ",tag1,tag2," so one LIKE finds a tag
    cover_image        TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL,
    author_id          BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    published_at       TIMESTAMPTZ,
    publish_at         TIMESTAMPTZ,               -- scheduled publication
    ai_revision        TEXT,
    ai_recommendations TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX posts_status_published ON posts (status, published_at);
CREATE INDEX posts_updated ON posts (updated_at);

-- Slugs a post had before: /posts/{old} redirects to the current one.
CREATE TABLE post_slugs (
    slug    TEXT PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE
);

CREATE TABLE post_revisions (
    id         BIGSERIAL PRIMARY KEY,
    post_id    BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    markdown   TEXT NOT NULL,
    summary    TEXT NOT NULL DEFAULT '',
    author_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    note       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX post_revisions_post ON post_revisions (post_id, id);

-- +goose Down
DROP TABLE post_revisions;
DROP TABLE post_slugs;
DROP TABLE posts;
DROP TABLE settings;
DROP TABLE event_keys;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
