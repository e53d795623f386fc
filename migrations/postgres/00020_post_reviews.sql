-- +goose Up
-- Editorial integrity. A review is of one revision of a post: the text it was sent with
-- (base, a digest), the run that asked for the decision, who sent it and when, the decision
-- (who, which changes were accepted, a comment) or why it ended without one. At most one
-- review of a post is open at a time.
CREATE TABLE post_reviews (
    id         BIGSERIAL PRIMARY KEY,
    post_id    BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    status     TEXT NOT NULL,                  -- open, approved, rejected, withdrawn, superseded, cancelled, failed, timed_out, ended
    base       TEXT NOT NULL,                  -- digest of the title, markdown and summary reviewed
    manual     BOOLEAN NOT NULL DEFAULT FALSE, -- no workflow reviews it: the approver reads the text as written
    run_id     TEXT NOT NULL DEFAULT '',       -- the run waiting for the decision
    sent_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    sent_at    TIMESTAMPTZ NOT NULL,
    decided_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    decided_at TIMESTAMPTZ,
    accept     TEXT,                           -- JSON array of accepted change ids; NULL: all
    comment    TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',       -- why it ended without a decision
    ended_run  TEXT NOT NULL DEFAULT '',       -- the run whose end closed it
    ended_at   TIMESTAMPTZ,
    notified   BOOLEAN NOT NULL DEFAULT FALSE  -- approvers were mailed
);
CREATE INDEX post_reviews_post ON post_reviews (post_id, id);
CREATE UNIQUE INDEX post_reviews_open ON post_reviews (post_id) WHERE status = 'open';
ALTER TABLE post_runs ADD COLUMN review_id BIGINT;
CREATE INDEX post_runs_run ON post_runs (run_id);
-- The revision the public page serves: published text changes only by publishing.
ALTER TABLE posts ADD COLUMN published_revision_id BIGINT;

-- +goose Down
ALTER TABLE posts DROP COLUMN published_revision_id;
DROP INDEX post_runs_run;
ALTER TABLE post_runs DROP COLUMN review_id;
DROP TABLE post_reviews;
