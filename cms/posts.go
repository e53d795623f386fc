package cms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/database"
	"github.com/inkflow/inkflow/internal/domain"
)

// Limits on post fields; longer input is refused with a field error.
const (
	MaxTitleLength    = 200
	MaxSummaryLength  = 1000
	MaxMarkdownBytes  = 256 << 10
	coalesceRevisions = 5 * time.Minute
)

// PostInput is what an editor writes. On Update, nil fields are left as they are.
type PostInput struct {
	Title      *string
	Slug       *string // empty: generated from the title
	Markdown   *string
	Summary    *string
	Tags       *[]string
	CoverImage *string
	// CoverAlt describes the cover image for people who cannot see it (at most 300 characters).
	CoverAlt *string
}

// PostFilter selects posts for List. Zero fields match everything.
type PostFilter struct {
	Status   Status
	Tag      string
	AuthorID int64
	Query    string // in the title, summary or text (case-insensitive, literal)
	Limit    int    // default 20, at most 200
	Offset   int
}

// Posts stores posts, their slugs and revisions, and changes their status.
type Posts struct {
	db      *gorm.DB
	eng     *engine.Engine
	now     func() time.Time
	mail    func(ctx context.Context, to, subject, body string) error
	baseURL string
}

// Create stores a new draft by author and sends blog-post.created in the same transaction.
// EInvalid names the field at fault.
func (s *Posts) Create(ctx context.Context, author *User, in PostInput) (*Post, error) {
	if !author.Role.AtLeast(RoleEditor) {
		return nil, domain.Errorf(domain.EForbidden, "editors write posts")
	}
	now := s.now()
	p := &Post{Status: StatusDraft, AuthorID: &author.ID, CreatedAt: now, UpdatedAt: now, Tags: Tags{}, AIRecommendations: map[string]any{}}
	if in.Title == nil {
		return nil, domain.FieldError("title", "is required")
	}
	if err := applyInput(p, in); err != nil {
		return nil, err
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		want, explicit := p.Slug, p.Slug != ""
		if !explicit {
			want = Slugify(p.Title)
		}
		slug, err := s.freeSlug(tx, want, 0, explicit)
		if err != nil {
			return err
		}
		p.Slug = slug
		if err := tx.Create(p).Error; err != nil {
			return fmt.Errorf("create post: %w", err)
		}
		if err := s.addRevision(tx, p, author.ID, "created"); err != nil {
			return err
		}
		return s.send(ctx, tx, author, EventCreated, p.ID)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Update changes a post's content. ifUpdatedAt is the UpdatedAt the editor read: when the
// post changed since, EConflict and nothing is saved. A change of slug keeps the old one as a
// redirect. Consecutive saves by one person within minutes share one revision, so autosave
// does not flood the history.
func (s *Posts) Update(ctx context.Context, actor *User, id int64, in PostInput, ifUpdatedAt time.Time) (*Post, error) {
	if !actor.Role.AtLeast(RoleEditor) {
		return nil, domain.Errorf(domain.EForbidden, "editors write posts")
	}
	var p *Post
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = s.lock(tx, id); err != nil {
			return err
		}
		if !p.UpdatedAt.Equal(ifUpdatedAt) {
			return &domain.Error{Code: domain.EConflict, Message: "someone else changed this post since you opened it; reload to see their version", Fields: map[string]string{"updated_at": "is stale"}}
		}
		oldSlug, oldText := p.Slug, textDigest(p)
		if err := applyInput(p, in); err != nil {
			return err
		}
		textChanged := textDigest(p) != oldText
		if textChanged {
			if err := s.textMayChange(tx, p); err != nil {
				return err
			}
		}
		if in.Slug != nil {
			want, explicit := p.Slug, p.Slug != ""
			if !explicit {
				want = Slugify(p.Title)
			}
			if p.Slug, err = s.freeSlug(tx, want, p.ID, explicit); err != nil {
				return err
			}
		}
		if p.Slug != oldSlug {
			if err := s.keepOldSlug(tx, oldSlug, p.ID); err != nil {
				return err
			}
		}
		p.UpdatedAt = s.later(p.UpdatedAt)
		if err := tx.Save(p).Error; err != nil {
			return fmt.Errorf("save post %d: %w", id, err)
		}
		if textChanged {
			return s.saveRevision(tx, p, actor.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Delete removes a post with its revisions and old slugs. Editors delete drafts; a post
// that was ever past review needs an approver.
func (s *Posts) Delete(ctx context.Context, actor *User, id int64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lock(tx, id)
		if err != nil {
			return err
		}
		if !actor.Role.AtLeast(RoleApprover) && !(actor.Role.AtLeast(RoleEditor) && p.Status == StatusDraft) {
			return domain.Errorf(domain.EForbidden, "only approvers delete posts that left draft")
		}
		if err := tx.Delete(&Post{}, id).Error; err != nil {
			return fmt.Errorf("delete post %d: %w", id, err)
		}
		return nil
	})
}

// Get returns post id; ENotFound if there is none.
func (s *Posts) Get(ctx context.Context, id int64) (*Post, error) {
	return s.get(s.db.WithContext(ctx), id)
}

// GetBySlug returns the post with slug, or the post that had it before (moved is then true,
// and the caller redirects to post.Slug). ENotFound if none.
func (s *Posts) GetBySlug(ctx context.Context, slug string) (p *Post, moved bool, err error) {
	db := s.db.WithContext(ctx)
	var post Post
	err = db.Where("slug = ?", slug).First(&post).Error
	if err == nil {
		return &post, false, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, fmt.Errorf("get post %q: %w", slug, err)
	}
	var id int64
	if err := db.Table("post_slugs").Where("slug = ?", slug).Select("post_id").Scan(&id).Error; err != nil {
		return nil, false, fmt.Errorf("look up old slug %q: %w", slug, err)
	}
	if id == 0 {
		return nil, false, domain.Errorf(domain.ENotFound, "post %q not found", slug)
	}
	p, err = s.get(db, id)
	return p, err == nil, err
}

// List returns posts matching f (most recently updated first; published ones by publication
// date when f.Status is published) and how many match in all.
func (s *Posts) List(ctx context.Context, f PostFilter) ([]Post, int64, error) {
	q := s.db.WithContext(ctx).Model(&Post{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Tag != "" {
		q = q.Where("tag_slugs LIKE ?", "%,"+TagSlug(f.Tag)+",%")
	}
	if f.AuthorID != 0 {
		q = q.Where("author_id = ?", f.AuthorID)
	}
	if f.Query != "" {
		like := "%" + likeEscaper.Replace(strings.ToLower(f.Query)) + "%"
		q = q.Where(`(LOWER(title) LIKE ? ESCAPE '\' OR LOWER(summary) LIKE ? ESCAPE '\' OR LOWER(markdown) LIKE ? ESCAPE '\')`, like, like, like)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count posts: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 200)
	order := "updated_at DESC, id DESC"
	if f.Status == StatusPublished {
		order = "published_at DESC, id DESC"
	}
	var ps []Post
	if err := q.Order(order).Limit(limit).Offset(max(f.Offset, 0)).Find(&ps).Error; err != nil {
		return nil, 0, fmt.Errorf("list posts: %w", err)
	}
	return ps, total, nil
}

// Revisions returns a post's history, newest first.
func (s *Posts) Revisions(ctx context.Context, id int64) ([]Revision, error) {
	var rs []Revision
	if err := s.db.WithContext(ctx).Where("post_id = ?", id).Order("id DESC").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("list revisions of post %d: %w", id, err)
	}
	return rs, nil
}

// Restore makes revision revID the post's content again, as a new revision (the history
// keeps everything). ENotFound if the revision is not the post's.
func (s *Posts) Restore(ctx context.Context, actor *User, id, revID int64) (*Post, error) {
	if !actor.Role.AtLeast(RoleEditor) {
		return nil, domain.Errorf(domain.EForbidden, "editors write posts")
	}
	var p *Post
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = s.lock(tx, id); err != nil {
			return err
		}
		var r Revision
		err = tx.Where("id = ? AND post_id = ?", revID, id).First(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return domain.Errorf(domain.ENotFound, "revision %d of post %d not found", revID, id)
		}
		if err != nil {
			return fmt.Errorf("load revision %d: %w", revID, err)
		}
		if err := s.textMayChange(tx, p); err != nil {
			return err
		}
		p.Title, p.Markdown, p.Summary = r.Title, r.Markdown, r.Summary
		p.UpdatedAt = s.later(p.UpdatedAt)
		if err := tx.Save(p).Error; err != nil {
			return fmt.Errorf("save post %d: %w", id, err)
		}
		return s.addRevision(tx, p, actor.ID, "restored revision "+strconv.FormatInt(revID, 10))
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// SaveAIWork stores what an AI action produced: revision (nil keeps the current working
// copy) and recommendations, whose top-level keys are merged into AIRecommendations.
func (s *Posts) SaveAIWork(ctx context.Context, id int64, revision *string, recommendations map[string]any) error {
	_, err := s.SaveRunWork(ctx, id, "", revision, recommendations)
	return err
}

// SaveRunWork is SaveAIWork for run runID. While the post is in review only the runs of its
// open review may change what the approver reads: the work of any other run (superseded,
// withdrawn, a rerun) is dropped, and saved reports false.
func (s *Posts) SaveRunWork(ctx context.Context, id int64, runID string, revision *string, recommendations map[string]any) (saved bool, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lock(tx, id)
		if err != nil {
			return err
		}
		if runID != "" {
			r, err := s.openReview(tx, id)
			if err != nil {
				return err
			}
			if r != nil {
				runs, err := s.reviewRuns(tx, r.ID)
				if err != nil {
					return err
				}
				if !slices.Contains(runs, runID) {
					return nil
				}
			}
		}
		saved = true
		if revision != nil {
			if len(*revision) > MaxMarkdownBytes {
				return domain.Errorf(domain.ETooLarge, "AI revision is over %d bytes", MaxMarkdownBytes)
			}
			if err := checkText("ai_revision", *revision); err != nil {
				return err // a model's answer with a NUL: PostgreSQL would refuse it as text
			}
			p.AIRevision = revision
		}
		if p.AIRecommendations == nil {
			p.AIRecommendations = map[string]any{}
		}
		for k, v := range recommendations {
			p.AIRecommendations[k] = v
		}
		p.UpdatedAt = s.later(p.UpdatedAt)
		if err := tx.Select("ai_revision", "ai_recommendations", "updated_at").Save(p).Error; err != nil {
			return fmt.Errorf("save AI work on post %d: %w", id, err)
		}
		return nil
	})
	return saved, err
}

// ApplyApproved makes markdown (the accepted AI changes) the post's text, as a new revision;
// the previous text stays in the history. Only the run that waited for the approval may
// apply, and only to the text that was reviewed: EConflict when the post's newest review is
// not an approval for runID, or when the text changed since it was sent to review.
func (s *Posts) ApplyApproved(ctx context.Context, id int64, runID, markdown string) error {
	if len(markdown) > MaxMarkdownBytes {
		return domain.Errorf(domain.ETooLarge, "AI revision is over %d bytes", MaxMarkdownBytes)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lock(tx, id)
		if err != nil {
			return err
		}
		var r Review
		err = tx.Where("post_id = ?", id).Order("id DESC").Take(&r).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("latest review of post %d: %w", id, err)
		}
		if err != nil || r.Status != ReviewApproved || r.RunID != runID {
			return domain.Errorf(domain.EConflict, "post %d has no approval for run %s to apply", id, runID)
		}
		if p.Markdown == markdown {
			return s.markApplied(tx, &r) // nothing to change, or applied already (a retry)
		}
		if textDigest(p) != r.Base {
			return domain.Errorf(domain.EConflict, "post %d was edited after it was sent to review; its changes were not applied: send it to review again", id)
		}
		if err := s.markApplied(tx, &r); err != nil {
			return err
		}
		p.Markdown = markdown
		p.UpdatedAt = s.later(p.UpdatedAt)
		if err := tx.Select("markdown", "updated_at").Save(p).Error; err != nil {
			return fmt.Errorf("save post %d: %w", id, err)
		}
		return s.addRevision(tx, p, 0, noteAIApplied)
	})
}

// markApplied records that review r's approved changes are in the post.
func (s *Posts) markApplied(tx *gorm.DB, r *Review) error {
	if r.AppliedAt != nil {
		return nil
	}
	now := s.now()
	if err := tx.Model(&Review{}).Where("id = ?", r.ID).Update("applied_at", now).Error; err != nil {
		return fmt.Errorf("review %d applied: %w", r.ID, err)
	}
	r.AppliedAt = &now
	return nil
}

// textMayChange refuses a change of p's text while it is in review (the review is of one
// revision: withdraw it first). An approved post whose text changes needs a new approval:
// it goes back to draft. A published post keeps serving its published revision; the edit is
// a pending update until an approver publishes it.
func (s *Posts) textMayChange(tx *gorm.DB, p *Post) error {
	if inReview(p) {
		return &domain.Error{Code: domain.EConflict,
			Message: "this post is in review, so its text cannot change: withdraw it from review first (POST /api/posts/" + strconv.FormatInt(p.ID, 10) + "/withdraw), then edit and send it again",
			Fields:  map[string]string{"withdraw": "/api/posts/" + strconv.FormatInt(p.ID, 10) + "/withdraw"}}
	}
	if p.Status == StatusApproved {
		p.Status = StatusDraft
	}
	return nil
}

// get loads post id with db (a transaction or not).
func (s *Posts) get(db *gorm.DB, id int64) (*Post, error) {
	var p Post
	err := db.First(&p, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.Errorf(domain.ENotFound, "post %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get post %d: %w", id, err)
	}
	if p.AIRecommendations == nil {
		p.AIRecommendations = map[string]any{}
	}
	if p.Tags == nil {
		p.Tags = Tags{}
	}
	return &p, nil
}

// lock loads post id inside tx, locking its row on PostgreSQL (SQLite transactions already
// hold the database's write lock).
func (s *Posts) lock(tx *gorm.DB, id int64) (*Post, error) {
	if database.DialectOf(tx) == database.Postgres {
		tx = tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return s.get(tx, id)
}

// later returns now, or just after prev if the clock has not moved past it, so UpdatedAt
// changes on every save and optimistic checks cannot miss an edit.
func (s *Posts) later(prev time.Time) time.Time {
	now := s.now()
	if !now.After(prev) {
		now = prev.Add(time.Microsecond)
	}
	return now
}

// send sends one post event inside tx.
func (s *Posts) send(ctx context.Context, tx *gorm.DB, actor *User, name string, id int64) error {
	ev := engine.Event{Name: name, Data: map[string]any{"id": id}, User: actorOf(actor)}
	res, err := s.eng.SendTx(ctx, tx.Statement.ConnPool, ev)
	if err != nil {
		return fmt.Errorf("send %s for post %d: %w", name, id, err)
	}
	return s.recordRuns(tx, id, name, res.Runs)
}

// recordRuns remembers which runs an event of post id started.
func (s *Posts) recordRuns(tx *gorm.DB, id int64, event string, runs []string) error {
	now := s.now()
	for _, r := range runs {
		err := tx.Exec("INSERT INTO post_runs (post_id, run_id, event_name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", id, r, event, now).Error
		if err != nil {
			return fmt.Errorf("record run %s of post %d: %w", r, id, err)
		}
	}
	return nil
}

// RunIDs returns the ids of the runs post id's events started, newest first, at most limit.
func (s *Posts) RunIDs(ctx context.Context, id int64, limit int) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Table("post_runs").Where("post_id = ?", id).
		Order("created_at DESC, run_id DESC").Limit(limit).Pluck("run_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("runs of post %d: %w", id, err)
	}
	return ids, nil
}

// applyInput validates in and copies it onto p.
func applyInput(p *Post, in PostInput) error {
	if err := inputText(in); err != nil {
		return err
	}
	if in.Title != nil {
		t := strings.TrimSpace(*in.Title)
		if t == "" {
			return domain.FieldError("title", "is required")
		}
		if utf8.RuneCountInString(t) > MaxTitleLength {
			return domain.FieldError("title", "is longer than %d characters", MaxTitleLength)
		}
		p.Title = t
	}
	if in.Slug != nil {
		p.Slug = Slugify(*in.Slug)
		if strings.TrimSpace(*in.Slug) != "" && p.Slug == "" {
			return domain.FieldError("slug", "needs letters or digits")
		}
	}
	if in.Markdown != nil {
		if len(*in.Markdown) > MaxMarkdownBytes {
			return domain.FieldError("markdown", "is over %d KiB", MaxMarkdownBytes>>10)
		}
		p.Markdown = *in.Markdown
	}
	if in.Summary != nil {
		sum := strings.TrimSpace(*in.Summary)
		if utf8.RuneCountInString(sum) > MaxSummaryLength {
			return domain.FieldError("summary", "is longer than %d characters", MaxSummaryLength)
		}
		p.Summary = sum
	}
	if in.Tags != nil {
		p.Tags = NormalizeTags(*in.Tags)
		p.TagSlugs = make(Tags, len(p.Tags))
		for i, t := range p.Tags {
			p.TagSlugs[i] = TagSlug(t)
		}
	}
	if in.CoverImage != nil {
		c := strings.TrimSpace(*in.CoverImage)
		if c != "" && !strings.HasPrefix(c, "/uploads/") && !strings.HasPrefix(c, "https://") {
			return domain.FieldError("cover_image", "must be an uploaded image or an https URL")
		}
		p.CoverImage = c
		if c == "" {
			p.CoverAlt = ""
		}
	}
	if in.CoverAlt != nil {
		alt := strings.Join(strings.Fields(*in.CoverAlt), " ")
		if utf8.RuneCountInString(alt) > 300 {
			return domain.FieldError("cover_alt", "is longer than 300 characters")
		}
		p.CoverAlt = alt
	}
	return nil
}

// inputText refuses a post's text that is not UTF-8 or holds a NUL, naming the field: every
// caller (the API, the forms, a workflow action) gets a field error rather than a database
// error on PostgreSQL, which refuses both, and SQLite keeps no text PostgreSQL would not.
func inputText(in PostInput) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"title", in.Title}, {"slug", in.Slug}, {"markdown", in.Markdown}, {"summary", in.Summary},
		{"cover_image", in.CoverImage}, {"cover_alt", in.CoverAlt}} {
		if f.v != nil {
			if err := checkText(f.name, *f.v); err != nil {
				return err
			}
		}
	}
	if in.Tags != nil {
		for i, t := range *in.Tags {
			if err := checkText(fmt.Sprintf("tags[%d]", i), t); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkText refuses text that is not UTF-8 or holds a NUL.
func checkText(field, v string) error {
	if !utf8.ValidString(v) {
		return domain.FieldError(field, "is not valid UTF-8")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return domain.FieldError(field, "contains a NUL character")
	}
	return nil
}

// likeEscaper makes a search literal: % and _ match themselves.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)
