-- +goose Up
-- Waits without a match value (an `if` condition, or any event of the name) are checked
-- after the sender's transaction, in bounded batches, rather than inside it: wait_checks
-- holds the events still to check against them. seq orders a check against the waits: the
-- sender takes it under its shared event-name lock and a registering wait under its exclusive
-- one, so a wait with a lower seq was stored before the event was sent (and must see it),
-- and a wait with a higher seq looked the event up itself when it was stored.
CREATE SEQUENCE wait_seq;
ALTER TABLE waits ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE TABLE wait_checks (
    event_id    TEXT PRIMARY KEY,
    event_name  TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX wait_checks_seq ON wait_checks (seq);

-- +goose Down
DROP TABLE wait_checks;
ALTER TABLE waits DROP COLUMN seq;
DROP SEQUENCE wait_seq;
