-- +goose Up
-- Claim-time flow control (engine/flow.go) kept on each run, because runs of one function may
-- carry different limits (each workflow's own config): up to two concurrency limits with their
-- key values, a throttle (limit + burst starts per period, per key), the finish timeout and
-- the run's next deadline (its start timeout while queued, its finish timeout once started).
-- limited = 1 marks runs that a claim must count against others first.
ALTER TABLE runs ADD COLUMN concurrency_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN concurrency_key2 TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN concurrency_limit2 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN throttle_key TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN throttle_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN throttle_period BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN limited INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN timeout_finish BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN deadline_at BIGINT;
-- needs names a set of capabilities (a workflow version's action kinds) in run_needs that a
-- process must provide to claim the run; '' needs only the run's function.
ALTER TABLE runs ADD COLUMN needs TEXT NOT NULL DEFAULT '';
CREATE TABLE run_needs (
    hash TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (hash, item)
);
-- Limited runs of a function, by due time: the claim looks here per function.
CREATE INDEX runs_limited ON runs (function_id, due_at) WHERE limited = 1 AND status IN ('queued', 'running', 'sleeping', 'waiting');
-- Throttle windows count the starts of a key within its period.
CREATE INDEX runs_throttle ON runs (function_id, throttle_key, started_at) WHERE throttle_limit > 0;
-- Timeouts: the live runs whose deadline has come.
CREATE INDEX runs_deadline ON runs (deadline_at) WHERE deadline_at IS NOT NULL AND status IN ('queued', 'running', 'sleeping', 'waiting');
-- Workflow runs with a concurrency key were limited to one at a time per key by the function.
UPDATE runs SET concurrency_limit = 1, limited = 1
    WHERE function_id = 'workflow-runner' AND concurrency_key <> '' AND status IN ('queued', 'running', 'sleeping', 'waiting');
-- The registry of live processes: each worker's functions (id, triggers, flow) and the
-- capabilities it provides, as JSON. Senders start runs of functions only other processes have.
ALTER TABLE workers ADD COLUMN registry TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE workers DROP COLUMN registry;
DROP INDEX runs_deadline;
DROP INDEX runs_throttle;
DROP INDEX runs_limited;
DROP TABLE run_needs;
ALTER TABLE runs DROP COLUMN needs;
ALTER TABLE runs DROP COLUMN deadline_at;
ALTER TABLE runs DROP COLUMN timeout_finish;
ALTER TABLE runs DROP COLUMN limited;
ALTER TABLE runs DROP COLUMN throttle_period;
ALTER TABLE runs DROP COLUMN throttle_limit;
ALTER TABLE runs DROP COLUMN throttle_key;
ALTER TABLE runs DROP COLUMN concurrency_limit2;
ALTER TABLE runs DROP COLUMN concurrency_key2;
ALTER TABLE runs DROP COLUMN concurrency_limit;
