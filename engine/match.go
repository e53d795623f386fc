package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// matchHash is the key waits are indexed by: a hash of the match path and the canonical
// value, so a value of any size makes a small index entry. The path's length goes first, so
// no two (path, value) pairs hash the same text. A wait without a match has "".
func matchHash(path, value string) string {
	if path == "" {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(strconv.Itoa(len(path)) + ":" + path))
	h.Write([]byte(value))
	return hex.EncodeToString(h.Sum(nil))
}

// pathHash keys wait_paths: the path, whatever its length, as a small index entry.
func pathHash(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:])
}

// recordWaitPaths notes the (event name, match path) pairs of rows in wait_paths, the list a
// send consults to know which paths of an event to look up. Rows are never removed while
// the engine runs: a path no wait uses any more costs one index probe per event.
func recordWaitPaths(tx *gorm.DB, rows []waitRow) error {
	type key struct{ name, path string }
	seen := map[key]bool{}
	var vals [][]any
	for _, w := range rows {
		k := key{w.EventName, w.MatchPath}
		if seen[k] {
			continue
		}
		seen[k] = true
		vals = append(vals, []any{w.EventName, pathHash(w.MatchPath), w.MatchPath})
	}
	if len(vals) == 0 {
		return nil
	}
	var args []any
	places := make([]string, len(vals))
	for i, v := range vals {
		places[i] = "(?, ?, ?)"
		args = append(args, v...)
	}
	err := tx.Exec(`INSERT INTO wait_paths (event_name, path_hash, match_path) VALUES `+strings.Join(places, ", ")+
		` ON CONFLICT DO NOTHING`, args...).Error
	if err != nil {
		return fmt.Errorf("record wait paths: %w", err)
	}
	return nil
}

// hashStoredWaits fills match_hash (and wait_paths) for waits stored before they existed.
func (e *Engine) hashStoredWaits() error {
	var rows []waitRow
	if err := e.db.Select("id, event_name, match_path, match_value").Where("match_hash IS NULL").Find(&rows).Error; err != nil {
		return fmt.Errorf("find unhashed waits: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	return e.db.Transaction(func(tx *gorm.DB) error {
		for _, w := range rows {
			if err := tx.Exec(`UPDATE waits SET match_hash = ? WHERE id = ?`, matchHash(w.MatchPath, w.MatchValue), w.ID).Error; err != nil {
				return fmt.Errorf("hash wait %s: %w", w.ID, err)
			}
		}
		return recordWaitPaths(tx, rows)
	})
}
