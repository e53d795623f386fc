package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/inkflow/inkflow/engine/store"
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

// hashStoredWaits fills match_hash (and wait_paths) for waits stored before they existed.
func (e *Engine) hashStoredWaits() error {
	rows, err := e.st.Q(context.Background()).UnhashedWaits()
	if err != nil || len(rows) == 0 {
		return err
	}
	return e.st.Tx(context.Background(), func(q *store.Q) error {
		for _, w := range rows {
			if err := q.SetWaitHash(w.ID, matchHash(w.MatchPath, w.MatchValue)); err != nil {
				return err
			}
		}
		return q.RecordWaitPaths(rows, pathHash)
	})
}
