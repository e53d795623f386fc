-- +goose Up
-- Why an event started less than it might have: a function whose trigger condition was
-- stopped at its cost limit or deadline started no run, and the event page says so.
ALTER TABLE events ADD COLUMN notes TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN notes;
