-- +goose Up
-- Which waiting runs each event resumed (a wait it resolved), so the events page can say
-- "resumed run X" next to the runs the event started. Kept as long as the event.
CREATE TABLE event_resumes (
    event_id   TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    step_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, run_id, step_id)
);

-- +goose Down
DROP TABLE event_resumes;
