-- +goose Up
-- Flow control decided when an event arrives (engine/flow_send.go).
--
-- flow_decisions: what each function did with an event when that was not a plain start
-- (delayed, dropped, skipped, debounced, batched), and why; plain starts are read from
-- events.run_ids. Kept as long as the event.
CREATE TABLE flow_decisions (
    id          TEXT PRIMARY KEY,            -- UUIDv7: the order decisions were taken in
    event_id    TEXT NOT NULL,
    function_id TEXT NOT NULL,
    workflow_id BIGINT,
    action      TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    key_value   TEXT NOT NULL DEFAULT '',    -- the key as shown (cut to 256 bytes)
    run_id      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX flow_decisions_event ON flow_decisions (event_id);

-- flow_keys: the database's arbitration of keyed limits, one row per (kind, function, workflow,
-- key): 'idempotency' (value: when the key may start a run again), 'rateLimit' (value: the
-- GCRA theoretical arrival time), 'singleton' (run_id: the run holding the key).
CREATE TABLE flow_keys (
    kind        TEXT NOT NULL,
    function_id TEXT NOT NULL,
    scope       BIGINT NOT NULL,               -- workflow id, 0 for Go functions
    key_hash    TEXT NOT NULL,               -- SHA-256 of the key's value: any size works
    run_id      TEXT NOT NULL DEFAULT '',
    value       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, function_id, scope, key_hash)
);

-- flow_open: the debounce or batch of a key that is still gathering events. Its run is a
-- queued run not yet claimed (due at the end of the period or the timeout); a SIGKILL loses
-- nothing because nothing else holds it.
CREATE TABLE flow_open (
    function_id TEXT NOT NULL,
    scope       BIGINT NOT NULL,
    key_hash    TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    first_at    BIGINT NOT NULL,               -- the group's first event: timeouts count from it
    size        INTEGER NOT NULL,
    PRIMARY KEY (function_id, scope, key_hash)
);

-- flow_batch_events: the events of a batched run, in the order they joined it.
CREATE TABLE flow_batch_events (
    run_id   TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    payload  TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- +goose Down
DROP TABLE flow_batch_events;
DROP TABLE flow_open;
DROP TABLE flow_keys;
DROP TABLE flow_decisions;
