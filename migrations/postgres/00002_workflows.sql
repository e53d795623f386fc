-- +goose Up
-- Workflow-kit: admin-built workflows and their immutable versions. Times are Unix
-- milliseconds (BIGINT), as in the engine's tables. A deleted workflow keeps its row
-- (deleted_at) and versions, so runs that pinned a version can still finish.
CREATE TABLE workflows (
    id              BIGSERIAL PRIMARY KEY,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    "trigger"       TEXT NOT NULL DEFAULT '',    -- an event name, or "cron: [TZ=Area/City ]<expr>"
    enabled         BOOLEAN NOT NULL DEFAULT FALSE,
    version         INTEGER NOT NULL DEFAULT 0,  -- the current version
    concurrency_key TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    deleted_at      BIGINT
);
CREATE INDEX workflows_trigger ON workflows ("trigger") WHERE enabled AND deleted_at IS NULL;

CREATE TABLE workflow_versions (
    workflow_id BIGINT NOT NULL REFERENCES workflows (id),
    version     INTEGER NOT NULL,
    definition  TEXT NOT NULL,                   -- the workflow-kit JSON
    saved_by    BIGINT,                          -- the user who saved it, if known
    saved_at    BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

-- +goose Down
DROP TABLE workflow_versions;
DROP TABLE workflows;
