-- +goose Up
-- Inngest SDK apps (engine/sdk): each app inkflow has synced, keyed by its serve URL, with its
-- functions as the SDK registered them (JSON). archived holds functions a later sync dropped:
-- they start no new runs but stay callable for runs already in flight. Every process reloads
-- the apps when updated_at or their number changes.
CREATE TABLE sdk_apps (
    url        TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    sdk        TEXT NOT NULL DEFAULT '',
    framework  TEXT NOT NULL DEFAULT '',
    mode       TEXT NOT NULL DEFAULT '',
    functions  TEXT NOT NULL DEFAULT '[]',
    archived   TEXT NOT NULL DEFAULT '[]',
    checksum   TEXT NOT NULL DEFAULT '',
    synced_at  BIGINT,
    sync_error TEXT NOT NULL DEFAULT '',
    error_at   BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The signing key apps use in signed mode (INNGEST_SIGNING_KEY). It is kept as is, not
-- hashed: inkflow signs its calls with it.
CREATE TABLE sdk_signing_keys (
    id         INTEGER PRIMARY KEY,
    signing_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE sdk_signing_keys;
DROP TABLE sdk_apps;
