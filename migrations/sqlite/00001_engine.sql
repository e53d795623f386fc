-- +goose Up
-- The durable engine's tables. Times are Unix milliseconds (BIGINT) in both dialects, so the
-- engine compares them the same way everywhere.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,            -- engine id (UUIDv7, time ordered)
    client_id   TEXT NOT NULL DEFAULT '',    -- the sender's id, for deduplication
    name        TEXT NOT NULL,
    payload     TEXT NOT NULL,               -- the event as JSON
    ts          BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    run_ids     TEXT NOT NULL DEFAULT ''     -- comma separated runs it started
);
CREATE INDEX events_name_received ON events (name, received_at);
CREATE INDEX events_received ON events (received_at);

CREATE TABLE event_dedup (
    client_id TEXT PRIMARY KEY,
    event_id  TEXT NOT NULL,
    seen_at   BIGINT NOT NULL
);

CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    function_id      TEXT NOT NULL,
    status           TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_name       TEXT NOT NULL,
    event            TEXT NOT NULL,
    workflow_id      BIGINT,
    workflow_version INTEGER,
    concurrency_key  TEXT NOT NULL DEFAULT '',
    attempt          INTEGER NOT NULL DEFAULT 0,
    due_at           BIGINT NOT NULL,
    lease_owner      TEXT NOT NULL DEFAULT '',
    lease_until      BIGINT NOT NULL DEFAULT 0,
    parent_run_id    TEXT NOT NULL DEFAULT '',
    parent_step_id   TEXT NOT NULL DEFAULT '',
    output           TEXT,
    error            TEXT NOT NULL DEFAULT '',
    step_count       INTEGER NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    ended_at         BIGINT,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX runs_due ON runs (due_at) WHERE status IN ('queued', 'running', 'sleeping', 'waiting');
CREATE INDEX runs_status_created ON runs (status, created_at);
CREATE INDEX runs_function_created ON runs (function_id, created_at);
CREATE INDEX runs_event ON runs (event_id);
CREATE INDEX runs_workflow ON runs (workflow_id, created_at);
CREATE INDEX runs_created ON runs (created_at);

CREATE TABLE steps (
    run_id     TEXT NOT NULL,
    id         TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    input      TEXT,
    output     TEXT,
    error      TEXT NOT NULL DEFAULT '',
    wake_at    BIGINT,
    started_at BIGINT,
    ended_at   BIGINT,
    PRIMARY KEY (run_id, id)
);

-- waits: runs waiting for an event (kind 'wait'), invoked children ('invoke') and the
-- CancelOn registrations of live runs ('cancel').
CREATE TABLE waits (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    step_id     TEXT NOT NULL DEFAULT '',
    event_name  TEXT NOT NULL,
    match_path  TEXT NOT NULL DEFAULT '',
    match_value TEXT NOT NULL DEFAULT '',
    if_expr     TEXT NOT NULL DEFAULT '',
    trigger     TEXT NOT NULL DEFAULT '',    -- the run's triggering event, for If
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX waits_match ON waits (event_name, match_path, match_value);
CREATE INDEX waits_run ON waits (run_id);

CREATE TABLE cron_ticks (
    function_id TEXT NOT NULL,
    tick        BIGINT NOT NULL,
    run_id      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (function_id, tick)
);

CREATE TABLE workers (
    id           TEXT PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    running      INTEGER NOT NULL DEFAULT 0,
    capacity     INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE workers;
DROP TABLE cron_ticks;
DROP TABLE waits;
DROP TABLE steps;
DROP TABLE runs;
DROP TABLE event_dedup;
DROP TABLE events;
