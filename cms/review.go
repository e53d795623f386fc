package cms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/domain"
)

// Review statuses. Open is the one live review of a post; every other status is how it ended.
const (
	ReviewOpen       = "open"
	ReviewApproved   = "approved"
	ReviewRejected   = "rejected"
	ReviewWithdrawn  = "withdrawn"
	ReviewSuperseded = "superseded"
	ReviewCancelled  = "cancelled"
	ReviewFailed     = "failed"
	ReviewTimedOut   = "timed_out"
	ReviewEnded      = "ended" // the run finished without a decision
)

// Notes of revisions the system writes; they do not make anyone a contributor.
const (
	noteAIApplied = "AI suggestions applied"
	notePublished = "published"
)

// Review is one review of one revision of a post: who sent it and when, the run that waits
// for the decision, and the decision or why it ended without one.
type Review struct {
	ID     int64  `json:"id"`
	PostID int64  `json:"post_id"`
	Status string `json:"status"`
	// Base is the digest of the text sent to review; a decision applies only to that text.
	Base string `json:"-"`
	// Manual is a review no workflow works on: the approver decides on the text as written.
	Manual    bool       `json:"manual"`
	RunID     string     `json:"run_id"`
	SentBy    *int64     `json:"sent_by"`
	SentAt    time.Time  `json:"sent_at"`
	DecidedBy *int64     `json:"decided_by"`
	DecidedAt *time.Time `json:"decided_at"`
	// AcceptJSON is the JSON array of accepted change ids; nil accepts every change.
	AcceptJSON *string    `json:"-" gorm:"column:accept"`
	Comment    string     `json:"comment"`
	Reason     string     `json:"reason"`
	EndedRun   string     `json:"ended_run"`
	EndedAt    *time.Time `json:"ended_at"`
	// AppliedAt is when the approved changes were applied to the post (nil: not yet).
	AppliedAt *time.Time `json:"applied_at"`
	Notified  bool       `json:"-"`
}

// TableName tells gorm the table.
func (Review) TableName() string { return "post_reviews" }

// Accept returns the ids of the accepted changes; nil means every change.
func (r *Review) Accept() []string {
	if r == nil || r.AcceptJSON == nil {
		return nil
	}
	ids := []string{}
	_ = json.Unmarshal([]byte(*r.AcceptJSON), &ids)
	return ids
}

// Decision is an approver's answer to a review.
type Decision struct {
	// Accept lists the change ids to apply ("change-1", "toc"); nil accepts every change.
	Accept []string
	// Comment is optional; the post's author reads it.
	Comment string
}

// textDigest identifies the text a review is of: title, markdown and summary.
func textDigest(p *Post) string {
	sum := sha256.Sum256([]byte(p.Title + "\x00" + p.Markdown + "\x00" + p.Summary))
	return hex.EncodeToString(sum[:12])
}

// inReview reports whether p's text is under review and so must not change.
func inReview(p *Post) bool {
	return p.Status == StatusUnderReview || p.Status == StatusNeedsApproval
}

// openReview returns the open review of post id inside tx, or nil.
func (s *Posts) openReview(tx *gorm.DB, id int64) (*Review, error) {
	var r Review
	err := tx.Where("post_id = ? AND status = ?", id, ReviewOpen).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open review of post %d: %w", id, err)
	}
	return &r, nil
}

// LatestReview returns post id's newest review, or nil when it was never sent to review.
func (s *Posts) LatestReview(ctx context.Context, id int64) (*Review, error) {
	var r Review
	err := s.db.WithContext(ctx).Where("post_id = ?", id).Order("id DESC").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest review of post %d: %w", id, err)
	}
	return &r, nil
}

// reviewRuns returns the runs review id's event started.
func (s *Posts) reviewRuns(tx *gorm.DB, id int64) ([]string, error) {
	var ids []string
	if err := tx.Table("post_runs").Where("review_id = ?", id).Order("run_id").Pluck("run_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("runs of review %d: %w", id, err)
	}
	return ids, nil
}

// closeReview ends review r with status and reason; the post goes back to draft when it was
// waiting on this review.
func (s *Posts) closeReview(tx *gorm.DB, p *Post, r *Review, status, reason, runID string) error {
	now := s.now()
	r.Status, r.Reason, r.EndedRun, r.EndedAt = status, reason, runID, &now
	if err := tx.Model(&Review{}).Where("id = ?", r.ID).Updates(map[string]any{
		"status": status, "reason": reason, "ended_run": runID, "ended_at": now}).Error; err != nil {
		return fmt.Errorf("close review %d: %w", r.ID, err)
	}
	if !inReview(p) {
		return nil
	}
	return s.backToDraft(tx, p)
}

// backToDraft puts post p back to draft, as the end of its review leaves it.
func (s *Posts) backToDraft(tx *gorm.DB, p *Post) error {
	p.Status, p.UpdatedAt = StatusDraft, s.later(p.UpdatedAt)
	if err := tx.Model(&Post{}).Where("id = ?", p.ID).Updates(map[string]any{"status": p.Status, "updated_at": p.UpdatedAt}).Error; err != nil {
		return fmt.Errorf("post %d back to draft: %w", p.ID, err)
	}
	return nil
}

// mayDecide refuses actor when they changed the post's text since it was last published (the
// author of a post never published, and every later editor): nobody approves, publishes or
// schedules their own words, unless they are an admin. actor nil is the system.
func (s *Posts) mayDecide(tx *gorm.DB, p *Post, actor *User, verb string) error {
	if actor == nil || actor.Role == RoleAdmin {
		return nil
	}
	changed := p.PublishedRevisionID == nil && p.AuthorID != nil && *p.AuthorID == actor.ID
	if !changed {
		q := tx.Model(&Revision{}).Where("post_id = ? AND author_id = ? AND note NOT IN ?", p.ID, actor.ID, []string{noteAIApplied, notePublished})
		if p.PublishedRevisionID != nil {
			q = q.Where("id > ?", *p.PublishedRevisionID)
		}
		var n int64
		if err := q.Count(&n).Error; err != nil {
			return fmt.Errorf("who changed post %d: %w", p.ID, err)
		}
		changed = n > 0
	}
	if changed {
		return domain.Errorf(domain.EForbidden, "you changed this post's text since it was last published: another approver or an admin must %s it", verb)
	}
	return nil
}

// Sync makes post id agree with its review runs, for the cases no event announces: the run
// that waited for the decision ended without one, or every run of the review finished
// without asking for approval (the post then needs a manual approval, never stays stuck).
// Cancelled and failed runs are also followed as they end (ReviewFollowerFunction).
func (s *Posts) Sync(ctx context.Context, id int64) error {
	var r Review
	err := s.db.WithContext(ctx).Where("post_id = ? AND status = ? AND manual = ?", id, ReviewOpen, false).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || s.eng == nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sync post %d: %w", id, err)
	}
	if r.RunID != "" {
		run, err := s.eng.GetRun(ctx, r.RunID)
		if err != nil && domain.CodeOf(err) != domain.ENotFound {
			return err
		}
		if err == nil && !run.Status.Finished() {
			return nil
		}
		status, reason := runEnd(run)
		return s.EndReview(ctx, id, r.RunID, status, reason)
	}
	runs, err := s.reviewRuns(s.db.WithContext(ctx), r.ID)
	if err != nil || len(runs) == 0 {
		return err
	}
	for _, rid := range runs {
		run, err := s.eng.GetRun(ctx, rid)
		if err != nil && domain.CodeOf(err) != domain.ENotFound {
			return err
		}
		if err == nil && !run.Status.Finished() {
			return nil
		}
	}
	return s.toManual(ctx, id, r.ID, "the review workflow finished without asking for approval: approve or reject the text as written")
}

// runEnd names how a run ended, for a review that it closes.
func runEnd(run *engine.Run) (status, reason string) {
	if run == nil {
		return ReviewEnded, "the review run was deleted"
	}
	switch run.Status {
	case engine.StatusCancelled:
		return ReviewCancelled, "the review run was cancelled: " + run.Error
	case engine.StatusFailed:
		return ReviewFailed, "the review run failed: " + run.Error
	}
	return ReviewEnded, "the review run finished without a decision"
}

// toManual turns open review reviewID of post id into a manual review: the post needs an
// approver's decision on its text as written.
func (s *Posts) toManual(ctx context.Context, id, reviewID int64, reason string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lock(tx, id)
		if err != nil {
			return err
		}
		r, err := s.openReview(tx, id)
		if err != nil || r == nil || r.ID != reviewID || r.RunID != "" {
			return err
		}
		if err := tx.Model(&Review{}).Where("id = ?", r.ID).Updates(map[string]any{"manual": true, "reason": reason}).Error; err != nil {
			return fmt.Errorf("manual review %d: %w", r.ID, err)
		}
		if err := s.announceNeedsApproval(ctx, tx, p, r.ID); err != nil {
			return err
		}
		return s.setStatus(ctx, tx, nil, p, StatusNeedsApproval, "")
	})
}

// AskApproval records that run runID waits for an approver's decision on post id, and marks
// the post needs_approval. It returns the review's id, or 0 when runID is not a run of the
// post's open review (a superseded or withdrawn review, a rerun): such a run must not wait
// for, nor act on, a decision.
func (s *Posts) AskApproval(ctx context.Context, id int64, runID string) (int64, error) {
	var reviewID int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lock(tx, id)
		if err != nil {
			return err
		}
		r, err := s.openReview(tx, id)
		if err != nil || r == nil {
			return err
		}
		if r.RunID != "" {
			if r.RunID == runID {
				reviewID = r.ID // a replay
			}
			return nil
		}
		runs, err := s.reviewRuns(tx, r.ID)
		if err != nil {
			return err
		}
		mine := false
		for _, x := range runs {
			mine = mine || x == runID
		}
		if !mine {
			return nil
		}
		if err := tx.Model(&Review{}).Where("id = ?", r.ID).Update("run_id", runID).Error; err != nil {
			return fmt.Errorf("review %d waits on run %s: %w", r.ID, runID, err)
		}
		reviewID = r.ID
		if err := s.announceNeedsApproval(ctx, tx, p, r.ID); err != nil {
			return err
		}
		if p.Status == StatusNeedsApproval {
			return nil
		}
		return s.setStatus(ctx, tx, nil, p, StatusNeedsApproval, "")
	})
	return reviewID, err
}

// DecisionFor returns the decision recorded on review reviewID for run runID, or nil when
// there is none: an approval wait resumes only on a decision the CMS recorded, whatever
// event reached it.
func (s *Posts) DecisionFor(ctx context.Context, reviewID int64, runID string) (*Review, error) {
	var r Review
	err := s.db.WithContext(ctx).Where("id = ? AND run_id = ? AND status IN ? AND decided_at IS NOT NULL",
		reviewID, runID, []string{ReviewApproved, ReviewRejected}).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("decision on review %d: %w", reviewID, err)
	}
	return &r, nil
}

// EndReview closes post id's open review when runID is its run (the one waiting for the
// decision, or any of its runs before one waits), with status and reason; the post goes back
// to draft and its page says why. Anything else is a no-op.
func (s *Posts) EndReview(ctx context.Context, id int64, runID, status, reason string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lock(tx, id)
		if domain.CodeOf(err) == domain.ENotFound {
			return nil
		}
		if err != nil {
			return err
		}
		r, err := s.openReview(tx, id)
		if err != nil || r == nil {
			return err
		}
		if r.RunID == "" {
			runs, err := s.reviewRuns(tx, r.ID)
			if err != nil {
				return err
			}
			mine := false
			for _, x := range runs {
				mine = mine || x == runID
			}
			if !mine || r.Manual {
				return nil
			}
		} else if r.RunID != runID {
			return nil
		}
		return s.closeReview(tx, p, r, status, reason, runID)
	})
}

// runEnded follows the end of run runID (cancelled or failed) for the post whose review it
// belongs to.
func (s *Posts) runEnded(ctx context.Context, runID, status, reason string) error {
	var row struct {
		PostID   int64
		ReviewID *int64
	}
	err := s.db.WithContext(ctx).Table("post_runs").Select("post_id, review_id").Where("run_id = ? AND review_id IS NOT NULL", runID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("post of run %s: %w", runID, err)
	}
	if err := s.EndReview(ctx, row.PostID, runID, status, reason); err != nil {
		return err
	}
	return s.endUnapplied(ctx, row.PostID, runID, status, reason)
}

// endUnapplied follows a run that ended after its approval but before the approved changes
// were applied: the post is not left "approved" with nothing applied; its review ends with
// status and reason and the post goes back to draft. A run that ends after applying (a later
// step failed) changes nothing.
func (s *Posts) endUnapplied(ctx context.Context, id int64, runID, status, reason string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lock(tx, id)
		if domain.CodeOf(err) == domain.ENotFound {
			return nil
		}
		if err != nil {
			return err
		}
		var r Review
		err = tx.Where("post_id = ?", id).Order("id DESC").Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("latest review of post %d: %w", id, err)
		}
		if r.Status != ReviewApproved || r.RunID != runID || r.AppliedAt != nil || p.Status != StatusApproved {
			return nil
		}
		now := s.now()
		reason += " after the approval, before its changes were applied: send the post to review again"
		if err := tx.Model(&Review{}).Where("id = ?", r.ID).Updates(map[string]any{
			"status": status, "reason": reason, "ended_run": runID, "ended_at": now}).Error; err != nil {
			return fmt.Errorf("end review %d: %w", r.ID, err)
		}
		return s.backToDraft(tx, p)
	})
}

// ReviewFollowerFunctionID is the ID of the function ReviewFollowerFunction returns.
const ReviewFollowerFunctionID = "cms-review-follows-run"

// ReviewFollowerFunction returns the engine function that makes a post follow its review run:
// when a run started by a blog-post.* event is cancelled or fails, the post it reviews goes
// back to draft with the reason.
func ReviewFollowerFunction(posts *Posts) *engine.Function {
	onPost := `has(event.data.event) && has(event.data.event.name) && string(event.data.event.name).startsWith("` + EventPrefix + `")`
	return &engine.Function{
		ID:   ReviewFollowerFunctionID,
		Name: "A post follows its review run",
		Triggers: []engine.Trigger{
			{Event: engine.EventRunCancelled, If: onPost},
			{Event: engine.EventRunFailed, If: onPost},
		},
		Handler: func(ctx context.Context, in *engine.Input) (any, error) {
			runID, _ := in.Event.Data["run_id"].(string)
			status, reason := ReviewCancelled, "the review run was cancelled"
			if in.Event.Name == engine.EventRunFailed {
				status, reason = ReviewFailed, "the review run failed"
			}
			for _, k := range []string{"reason", "error"} {
				if m, _ := in.Event.Data[k].(string); m != "" {
					reason += ": " + m
				}
			}
			return in.Step.Run(ctx, "follow", func(ctx context.Context) (any, error) {
				return map[string]any{"run_id": runID, "status": status}, posts.runEnded(ctx, runID, status, reason)
			})
		},
	}
}

// MayDecide reports whether actor may approve, reject or publish post p under the editorial
// rules (not someone who changed its text since it was last published, unless an admin).
func (s *Posts) MayDecide(ctx context.Context, p *Post, actor *User) (bool, error) {
	err := s.mayDecide(s.db.WithContext(ctx), p, actor, "decide")
	if domain.CodeOf(err) == domain.EForbidden {
		return false, nil
	}
	return err == nil, err
}

// PendingUpdate reports whether published post p has text changes not yet published.
func (s *Posts) PendingUpdate(ctx context.Context, p *Post) (bool, error) {
	return s.pendingUpdate(s.db.WithContext(ctx), p)
}

// AsPublished replaces the text of each published post in ps (title, markdown, summary) with
// its published revision, so public pages never show a pending update. Other posts are left
// as they are.
func (s *Posts) AsPublished(ctx context.Context, ps ...*Post) error {
	ids := []int64{}
	for _, p := range ps {
		if p.Status == StatusPublished && p.PublishedRevisionID != nil {
			ids = append(ids, *p.PublishedRevisionID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var revs []Revision
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&revs).Error; err != nil {
		return fmt.Errorf("published revisions: %w", err)
	}
	byID := map[int64]Revision{}
	for _, r := range revs {
		byID[r.ID] = r
	}
	for _, p := range ps {
		if p.PublishedRevisionID == nil || p.Status != StatusPublished {
			continue
		}
		if r, ok := byID[*p.PublishedRevisionID]; ok && r.PostID == p.ID {
			p.Title, p.Markdown, p.Summary = r.Title, r.Markdown, r.Summary
		}
	}
	return nil
}

// QueueItem is one post waiting for an approver, with its open review and who sent it.
type QueueItem struct {
	Post   Post
	Review Review
	// SentBy is the email of whoever sent it to review ("" when unknown).
	SentBy string
}

// ReviewQueue returns the posts that need an approver's decision, oldest review first (at
// most 200), each made to agree with its run first.
func (s *Posts) ReviewQueue(ctx context.Context) ([]QueueItem, error) {
	db := s.db.WithContext(ctx)
	var ids []int64
	if err := db.Model(&Post{}).Where("status = ?", StatusNeedsApproval).Limit(200).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("posts needing approval: %w", err)
	}
	for _, id := range ids {
		if err := s.Sync(ctx, id); err != nil {
			return nil, err
		}
	}
	var reviews []Review
	err := db.Table("post_reviews").Select("post_reviews.*").Joins("JOIN posts ON posts.id = post_reviews.post_id").
		Where("post_reviews.status = ? AND posts.status = ?", ReviewOpen, StatusNeedsApproval).
		Order("post_reviews.sent_at, post_reviews.id").Limit(200).Find(&reviews).Error
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	items := make([]QueueItem, 0, len(reviews))
	for _, r := range reviews {
		p, err := s.get(db, r.PostID)
		if err != nil {
			return nil, err
		}
		it := QueueItem{Post: *p, Review: r}
		if r.SentBy != nil {
			var u User
			if db.Where("id = ?", *r.SentBy).Take(&u).Error == nil {
				it.SentBy = u.Email
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// NeedApproval counts the posts waiting for an approver (the navigation shows it).
func (s *Posts) NeedApproval(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Post{}).Where("status = ?", StatusNeedsApproval).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count posts needing approval: %w", err)
	}
	return n, nil
}
