-- +goose Up
-- A workflow's triggers (several, each an event with an optional CEL condition or a cron
-- schedule; the workflow runner's Fanout looks events up by name here) and each version's
-- flow control config (the JSON the API saved, echoed as it was). "trigger" on workflows
-- stays: it shows the first event trigger, as the single "trigger" of the API does.
CREATE TABLE workflow_triggers (
    workflow_id BIGINT NOT NULL REFERENCES workflows (id),
    position    INTEGER NOT NULL,
    event       TEXT NOT NULL DEFAULT '',   -- an event name, or '' for a schedule
    if_expr     TEXT NOT NULL DEFAULT '',   -- CEL over event; '' always holds
    cron        TEXT NOT NULL DEFAULT '',   -- "[TZ=Area/City ]<five fields>", or ''
    PRIMARY KEY (workflow_id, position)
);
CREATE INDEX workflow_triggers_event ON workflow_triggers (event) WHERE event <> '';
CREATE INDEX workflow_triggers_cron ON workflow_triggers (workflow_id) WHERE cron <> '';
INSERT INTO workflow_triggers (workflow_id, position, event, cron)
    SELECT id, 0,
           CASE WHEN "trigger" LIKE 'cron:%' THEN '' ELSE "trigger" END,
           CASE WHEN "trigger" LIKE 'cron:%' THEN TRIM(SUBSTR("trigger", 6)) ELSE '' END
    FROM workflows WHERE "trigger" <> '';
ALTER TABLE workflow_versions ADD COLUMN config TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE workflow_versions DROP COLUMN config;
DROP TABLE workflow_triggers;
