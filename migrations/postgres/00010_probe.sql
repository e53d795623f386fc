-- +goose Up
-- Side effects of the engine's probe functions (bench and reliability tests): one row per
-- execution of a probe step's fn, so exactly-once claims can be checked, not believed.
CREATE TABLE probe_effects (
    run_id  TEXT NOT NULL,
    step_id TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX probe_effects_run ON probe_effects (run_id, step_id);

-- +goose Down
DROP TABLE probe_effects;
