-- +goose Up
-- Operations (metrics, retention): find runs by when they ended. Metrics count the runs that
-- finished since the last scrape; retention walks finished runs older than the window in
-- (ended_at, id) order.
-- Partial, so live runs (ended_at NULL) cost nothing here.
CREATE INDEX runs_ended ON runs (ended_at, id) WHERE ended_at IS NOT NULL;

-- +goose Down
DROP INDEX runs_ended;
