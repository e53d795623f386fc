-- +goose Up
-- When an approved review's changes were applied to the post. An approval whose run ends
-- (cancelled, failed) before that leaves the post approved with nothing applied: the post
-- goes back to draft instead.
ALTER TABLE post_reviews ADD COLUMN applied_at DATETIME;

-- +goose Down
ALTER TABLE post_reviews DROP COLUMN applied_at;
