-- +goose Up
-- The runs each post's events started (engine.SendTx reports them in the same transaction),
-- so a post page lists its workflow runs without scanning every run's event.
CREATE TABLE post_runs (
    post_id    BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    run_id     TEXT NOT NULL,
    event_name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (post_id, run_id)
);

-- +goose Down
DROP TABLE post_runs;
