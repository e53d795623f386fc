package cms

import (
	"context"
	"fmt"
)

// RunPost is the post a run is about: the dashboard labels runs with it.
type RunPost struct {
	RunID  string
	PostID int64
	Title  string
}

// RunPosts returns, for those of runIDs that a post's event started, the post and its
// current title, keyed by run id. Runs of deleted posts and runs no post started are left out.
// One query, whatever the number of runs.
func (s *Posts) RunPosts(ctx context.Context, runIDs []string) (map[string]RunPost, error) {
	out := make(map[string]RunPost, len(runIDs))
	if len(runIDs) == 0 {
		return out, nil
	}
	var rows []RunPost
	err := s.db.WithContext(ctx).Table("post_runs").
		Select("post_runs.run_id AS run_id, posts.id AS post_id, posts.title AS title").
		Joins("JOIN posts ON posts.id = post_runs.post_id").
		Where("post_runs.run_id IN ?", runIDs).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("posts of %d runs: %w", len(runIDs), err)
	}
	for _, r := range rows {
		out[r.RunID] = r
	}
	return out, nil
}
