-- +goose Up
-- Waits are found by a hash of (match path, match value) rather than by the value itself:
-- an index entry on a value of any size overflowed PostgreSQL's btree (about 2.7 KB) and left
-- the waiting run replaying for ever. The engine computes match_hash; rows stored before it
-- existed (NULL) are hashed by the engine when it starts. '' marks a wait without a match.
ALTER TABLE waits ADD COLUMN match_hash TEXT;
DROP INDEX waits_match;
CREATE INDEX waits_hash ON waits (event_name, match_hash);
-- The match paths in use per event name, so a send looks up only those paths without
-- scanning every wait of the name. path_hash keeps the key small whatever the path.
CREATE TABLE wait_paths (
    event_name TEXT NOT NULL,
    path_hash  TEXT NOT NULL,
    match_path TEXT NOT NULL,
    PRIMARY KEY (event_name, path_hash)
);

-- +goose Down
DROP TABLE wait_paths;
DROP INDEX waits_hash;
CREATE INDEX waits_match ON waits (event_name, match_path, match_value);
ALTER TABLE waits DROP COLUMN match_hash;
