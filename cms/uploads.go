package cms

import (
	"context"
	"fmt"
)

// UploadInUse reports whether any post still refers to the uploaded file at path
// ("/uploads/<name>"): as its cover, or inside its text, its AI working copy or any of its
// revisions (a restore brings an old text back). The web layer deletes a replaced or
// deleted post's cover file only when nothing refers to it.
func (s *Posts) UploadInUse(ctx context.Context, path string) (bool, error) {
	db := s.db.WithContext(ctx)
	like := "%" + likeEscaper.Replace(path) + "%"
	var n int64
	err := db.Table("posts").Where(`cover_image = ? OR markdown LIKE ? ESCAPE '\' OR ai_revision LIKE ? ESCAPE '\'`, path, like, like).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("find posts using %s: %w", path, err)
	}
	if n > 0 {
		return true, nil
	}
	err = db.Table("post_revisions").Where(`markdown LIKE ? ESCAPE '\'`, like).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("find revisions using %s: %w", path, err)
	}
	return n > 0, nil
}
