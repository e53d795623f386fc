package cms

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// addRevision stores a snapshot of p's content by author with a note.
func (s *Posts) addRevision(tx *gorm.DB, p *Post, author int64, note string) error {
	r := Revision{PostID: p.ID, Title: p.Title, Markdown: p.Markdown, Summary: p.Summary, Note: note, CreatedAt: p.UpdatedAt}
	if author != 0 {
		r.AuthorID = &author
	}
	if err := tx.Create(&r).Error; err != nil {
		return fmt.Errorf("store revision of post %d: %w", p.ID, err)
	}
	return nil
}

// saveRevision records an edit: it refreshes the latest revision when the same person saved
// it moments ago (autosave), and adds a new one otherwise.
func (s *Posts) saveRevision(tx *gorm.DB, p *Post, author int64) error {
	var last Revision
	err := tx.Where("post_id = ?", p.ID).Order("id DESC").First(&last).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("load last revision of post %d: %w", p.ID, err)
	}
	if err == nil && last.Note == "edited" && last.AuthorID != nil && *last.AuthorID == author && p.UpdatedAt.Sub(last.CreatedAt) < coalesceRevisions {
		err := tx.Model(&last).Updates(map[string]any{"title": p.Title, "markdown": p.Markdown, "summary": p.Summary}).Error
		if err != nil {
			return fmt.Errorf("update revision %d: %w", last.ID, err)
		}
		return nil
	}
	return s.addRevision(tx, p, author, "edited")
}
