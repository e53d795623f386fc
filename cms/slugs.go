package cms

import (
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/internal/domain"
)

// freeSlug returns a slug for post id (0: a new post) based on want. When the editor chose
// the slug (explicit) and another post has it, EConflict names the field; a generated slug
// gets a numeric suffix instead ("hello-2").
func (s *Posts) freeSlug(tx *gorm.DB, want string, id int64, explicit bool) (string, error) {
	if want == "" {
		want = "post"
	}
	for i := 1; i < 1000; i++ {
		cand := want
		if i > 1 {
			cand = want + "-" + strconv.Itoa(i)
		}
		taken, err := slugTaken(tx, cand, id)
		if err != nil {
			return "", err
		}
		if !taken {
			return cand, nil
		}
		if explicit {
			return "", &domain.Error{Code: domain.EConflict, Message: "slug: another post uses " + cand, Fields: map[string]string{"slug": "is used by another post"}}
		}
	}
	return "", domain.FieldError("slug", "no free variant of %q", want)
}

// slugTaken reports whether another post has slug now or had it before.
func slugTaken(tx *gorm.DB, slug string, id int64) (bool, error) {
	var n int64
	if err := tx.Table("posts").Where("slug = ? AND id <> ?", slug, id).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check slug: %w", err)
	}
	if n > 0 {
		return true, nil
	}
	if err := tx.Table("post_slugs").Where("slug = ? AND post_id <> ?", slug, id).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check old slugs: %w", err)
	}
	return n > 0, nil
}

// keepOldSlug records old as a redirect to post id, and drops a redirect that the post's
// new slug now answers itself.
func (s *Posts) keepOldSlug(tx *gorm.DB, old string, id int64) error {
	if err := tx.Exec("DELETE FROM post_slugs WHERE post_id = ? AND slug = (SELECT slug FROM posts WHERE id = ?)", id, id).Error; err != nil {
		return fmt.Errorf("drop redirect: %w", err)
	}
	if err := tx.Exec("INSERT INTO post_slugs (slug, post_id) VALUES (?, ?) ON CONFLICT (slug) DO NOTHING", old, id).Error; err != nil {
		return fmt.Errorf("keep old slug: %w", err)
	}
	return nil
}
