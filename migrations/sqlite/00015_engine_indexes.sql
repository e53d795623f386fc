-- +goose Up
-- Fewer, better-shaped run indexes: every status change rewrites each index entry, so each
-- index costs on the hot path. Listings order by id (UUIDv7, time ordered), so (x, id)
-- indexes serve both the filter and the order; created_at and event_id lookups were unused.
DROP INDEX runs_status_created;
DROP INDEX runs_function_created;
DROP INDEX runs_event;
DROP INDEX runs_workflow;
DROP INDEX runs_created;
CREATE INDEX runs_status_id ON runs (status, id);
CREATE INDEX runs_function_id ON runs (function_id, id);
CREATE INDEX runs_workflow_id ON runs (workflow_id, id) WHERE workflow_id IS NOT NULL;
-- Retention walks events by id (UUIDv7), so received_at needs no index of its own.
DROP INDEX events_received;
-- Replays load a claim batch's steps with one query; the per-run step counter is gone.
ALTER TABLE runs DROP COLUMN step_count;

-- +goose Down
ALTER TABLE runs ADD COLUMN step_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_received ON events (received_at);
DROP INDEX runs_status_id;
DROP INDEX runs_function_id;
DROP INDEX runs_workflow_id;
CREATE INDEX runs_status_created ON runs (status, created_at);
CREATE INDEX runs_function_created ON runs (function_id, created_at);
CREATE INDEX runs_event ON runs (event_id);
CREATE INDEX runs_workflow ON runs (workflow_id, created_at);
CREATE INDEX runs_created ON runs (created_at);
