-- +goose Up
-- The cover image's text alternative, for screen readers and link previews.
ALTER TABLE posts ADD COLUMN cover_alt TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE posts DROP COLUMN cover_alt;
