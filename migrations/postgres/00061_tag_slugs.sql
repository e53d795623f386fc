-- +goose Up
-- Tags keep the name their author typed ("Durable Execution") in tags; tag_slugs holds their
-- URL forms (",durable-execution,") for the one LIKE that finds a tag's posts. Tags stored
-- before this were slugs already, so they are their own slugs.
ALTER TABLE posts ADD COLUMN tag_slugs TEXT NOT NULL DEFAULT '';
UPDATE posts SET tag_slugs = tags;

-- +goose Down
ALTER TABLE posts DROP COLUMN tag_slugs;
