package cms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/domain"
)

// MaxCommentLength bounds a reviewer's comment.
const MaxCommentLength = 2000

// transition is one simple status change: who may make it, from which statuses, to which
// status, and the event it sends ("" for none). Review, decisions and publishing have their
// own methods: they carry the editorial rules.
type transition struct {
	verb  string
	role  Role
	from  []Status
	to    Status
	event string
}

var (
	toUnpublished = transition{"unpublish", RoleApprover,
		[]Status{StatusPublished}, StatusUnpublished, EventUnpublished}
	toDraft = transition{"move back to draft", RoleEditor,
		[]Status{StatusUnpublished, StatusApproved}, StatusDraft, ""}
)

// reviewFrom are the statuses a post can be sent to review from. A post already in review
// may be sent again: the new review supersedes the old one.
var reviewFrom = []Status{StatusDraft, StatusUnderReview, StatusNeedsApproval, StatusApproved, StatusUnpublished}

// SendToReview opens a review of the post's current text and sends blog-post.updated (data
// {id, review_id}), which starts the review workflows; the post is under_review. An open
// review of the post is superseded and its runs cancelled, so one approval resumes exactly
// one run. When no workflow starts, the review is manual: the post needs approval of its text
// as written. EConflict from a published post (edit it and publish the update instead).
func (s *Posts) SendToReview(ctx context.Context, actor *User, id int64) (*Post, error) {
	if !actor.Role.AtLeast(RoleEditor) {
		return nil, domain.Errorf(domain.EForbidden, "you may not send posts to review")
	}
	var p *Post
	var superseded []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = s.lock(tx, id); err != nil {
			return err
		}
		if !slices.Contains(reviewFrom, p.Status) {
			return domain.Errorf(domain.EConflict, "cannot send to review a post that is %s: edit it, and an approver publishes the update", p.Status.Label())
		}
		if old, err := s.openReview(tx, id); err != nil {
			return err
		} else if old != nil {
			if superseded, err = s.reviewRuns(tx, old.ID); err != nil {
				return err
			}
			now := s.now()
			if err := tx.Model(&Review{}).Where("id = ?", old.ID).Updates(map[string]any{
				"status": ReviewSuperseded, "reason": "superseded by a newer review", "ended_at": now}).Error; err != nil {
				return fmt.Errorf("supersede review %d: %w", old.ID, err)
			}
		}
		r := Review{PostID: id, Status: ReviewOpen, Base: textDigest(p), SentBy: &actor.ID, SentAt: s.now()}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("open review of post %d: %w", id, err)
		}
		if err := s.setStatus(ctx, tx, actor, p, StatusUnderReview, ""); err != nil {
			return err
		}
		ev := engine.Event{Name: EventUpdated, Data: map[string]any{"id": id, "review_id": r.ID}, User: actorOf(actor)}
		res, err := s.eng.SendTx(ctx, tx.Statement.ConnPool, ev)
		if err != nil {
			return fmt.Errorf("send %s for post %d: %w", ev.Name, id, err)
		}
		if err := s.recordReviewRuns(tx, id, r.ID, ev.Name, res.Runs); err != nil {
			return err
		}
		if len(res.Runs) > 0 {
			return nil
		}
		if err := tx.Model(&Review{}).Where("id = ?", r.ID).Updates(map[string]any{"manual": true,
			"reason": "no enabled workflow reviews posts: the approver decides on the text as written"}).Error; err != nil {
			return fmt.Errorf("manual review %d: %w", r.ID, err)
		}
		if err := s.announceNeedsApproval(ctx, tx, p, r.ID); err != nil {
			return err
		}
		return s.setStatus(ctx, tx, actor, p, StatusNeedsApproval, "")
	})
	if err != nil {
		return nil, err
	}
	s.cancelRuns(ctx, superseded, fmt.Sprintf("superseded: post %d was sent to review again", id))
	return p, nil
}

// Withdraw takes a post out of review so its text can change again: the review's runs are
// cancelled and the post is a draft. EConflict when it is not in review.
func (s *Posts) Withdraw(ctx context.Context, actor *User, id int64) (*Post, error) {
	if !actor.Role.AtLeast(RoleEditor) {
		return nil, domain.Errorf(domain.EForbidden, "you may not withdraw posts from review")
	}
	var p *Post
	var runs []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = s.lock(tx, id); err != nil {
			return err
		}
		r, err := s.openReview(tx, id)
		if err != nil {
			return err
		}
		if r == nil || !inReview(p) {
			return domain.Errorf(domain.EConflict, "the post is %s, not in review: there is nothing to withdraw", p.Status.Label())
		}
		if runs, err = s.reviewRuns(tx, r.ID); err != nil {
			return err
		}
		return s.closeReview(tx, p, r, ReviewWithdrawn, "withdrawn from review by "+actor.Email, "")
	})
	if err != nil {
		return nil, err
	}
	s.cancelRuns(ctx, runs, fmt.Sprintf("post %d was withdrawn from review", id))
	return p, nil
}

// cancelRuns cancels runs that no longer serve a review (finished ones are left alone). A
// failure is logged, not returned: the review is already closed, so such a run can change
// nothing (it is not the open review's run).
func (s *Posts) cancelRuns(ctx context.Context, runs []string, reason string) {
	for _, id := range runs {
		err := s.eng.CancelBecause(ctx, id, reason)
		if err != nil && domain.CodeOf(err) != domain.EConflict && domain.CodeOf(err) != domain.ENotFound {
			engine.Log(ctx).Warn("cancel review run", "run", id, "err", err)
		}
	}
}

// Approve accepts every AI suggestion on the post's open review; see Decide.
func (s *Posts) Approve(ctx context.Context, actor *User, id int64) (*Post, error) {
	return s.Decide(ctx, actor, id, true, Decision{})
}

// Reject declines the AI suggestions; see Decide.
func (s *Posts) Reject(ctx context.Context, actor *User, id int64) (*Post, error) {
	return s.Decide(ctx, actor, id, false, Decision{})
}

// Decide records an approver's decision on the post's open review and sends
// blog-post.approve-ai-suggestions (the post is approved; the waiting run applies the
// accepted changes) or blog-post.reject-ai-suggestions (the post is a draft again), with
// data {id, review_id, run_id, accept, comment} and the approver in event.user.
//
// EConflict when nothing waits for a decision (the post is not in needs_approval, or its
// review run ended: the post is then back to draft) or when the post's text changed since it
// was sent to review. EForbidden for someone who changed the text since it was last
// published, unless an admin. EInvalid for an unknown change id or a long comment.
func (s *Posts) Decide(ctx context.Context, actor *User, id int64, approve bool, d Decision) (*Post, error) {
	verb, event := "approve", EventApproved
	if !approve {
		verb, event = "reject", EventRejected
	}
	if !actor.Role.AtLeast(RoleApprover) {
		return nil, domain.Errorf(domain.EForbidden, "you may not %s posts", verb)
	}
	if utf8.RuneCountInString(d.Comment) > MaxCommentLength {
		return nil, domain.FieldError("comment", "is longer than %d characters", MaxCommentLength)
	}
	if err := s.Sync(ctx, id); err != nil {
		return nil, err
	}
	var p *Post
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = s.lock(tx, id); err != nil {
			return err
		}
		r, err := s.openReview(tx, id)
		if err != nil {
			return err
		}
		switch {
		case p.Status == StatusUnderReview && r != nil && !r.Manual:
			return domain.Errorf(domain.EConflict, "the review workflow is still working on this post: %s it when it asks for approval", verb)
		case p.Status != StatusNeedsApproval || r == nil:
			return domain.Errorf(domain.EConflict, "nothing is waiting for a decision on this post (it is %s): send it to review first", p.Status.Label())
		}
		if err := s.mayDecide(tx, p, actor, verb); err != nil {
			return err
		}
		if textDigest(p) != r.Base {
			return domain.Errorf(domain.EConflict, "the post's text changed since it was sent to review: send it to review again")
		}
		var accept any
		known := ChangeIDs(p)
		if len(known) == 0 {
			d.Accept = nil // nothing to choose from: the text as written, or the AI's copy whole
		}
		if approve && d.Accept != nil {
			for _, c := range d.Accept {
				if !slices.Contains(known, c) {
					return domain.FieldError("accept", "%q is not a change of this review (known: %s)", c, strings.Join(known, ", "))
				}
			}
			b, _ := json.Marshal(d.Accept)
			accept = string(b)
		}
		now := s.now()
		status, reason, to := ReviewApproved, "", StatusApproved
		if !approve {
			status, reason, to = ReviewRejected, "rejected by "+actor.Email, StatusDraft
			if d.Comment != "" {
				reason += ": " + d.Comment
			}
		}
		if err := tx.Model(&Review{}).Where("id = ?", r.ID).Updates(map[string]any{"status": status, "reason": reason,
			"decided_by": actor.ID, "decided_at": now, "accept": accept, "comment": d.Comment, "ended_at": now}).Error; err != nil {
			return fmt.Errorf("record decision on review %d: %w", r.ID, err)
		}
		if err := s.setStatus(ctx, tx, actor, p, to, ""); err != nil {
			return err
		}
		data := map[string]any{"id": id, "review_id": r.ID, "run_id": r.RunID, "comment": d.Comment}
		if d.Accept != nil {
			data["accept"] = d.Accept
		}
		res, err := s.eng.SendTx(ctx, tx.Statement.ConnPool, engine.Event{Name: event, Data: data, User: actorOf(actor)})
		if err != nil {
			return fmt.Errorf("send %s for post %d: %w", event, id, err)
		}
		return s.recordRuns(tx, id, event, res.Runs)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ChangeIDs lists the ids of the AI's suggested changes on p that an approver can accept one
// by one: "change-1".."change-N" for the grammar changes, "toc" for the table of contents.
func ChangeIDs(p *Post) []string {
	ids := []string{}
	if g, ok := p.AIRecommendations["grammar"].(map[string]any); ok {
		list, _ := g["changes"].([]any)
		for i := range list {
			ids = append(ids, fmt.Sprintf("change-%d", i+1))
		}
	}
	if _, ok := p.AIRecommendations["toc"].(map[string]any); ok {
		ids = append(ids, "toc")
	}
	return ids
}

// Publish puts the post on the blog (or publishes its pending update) and sends
// blog-post.published. Approvers publish approved and unpublished posts and pending updates,
// never text they changed since the last publication; admins may publish from any status.
func (s *Posts) Publish(ctx context.Context, actor *User, id int64) (*Post, error) {
	if !actor.Role.AtLeast(RoleApprover) {
		return nil, domain.Errorf(domain.EForbidden, "you may not publish posts")
	}
	var p *Post
	var runs []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = s.lock(tx, id); err != nil {
			return err
		}
		if err := s.mayPublish(tx, p, actor, "publish"); err != nil {
			return err
		}
		if r, err := s.openReview(tx, id); err != nil {
			return err
		} else if r != nil { // an admin publishing a post in review ends the review
			if runs, err = s.reviewRuns(tx, r.ID); err != nil {
				return err
			}
			if err := s.closeReview(tx, p, r, ReviewWithdrawn, "published by "+actor.Email+" during the review", ""); err != nil {
				return err
			}
		}
		return s.publish(ctx, tx, actor, p)
	})
	if err != nil {
		return nil, err
	}
	s.cancelRuns(ctx, runs, fmt.Sprintf("post %d was published", id))
	return p, nil
}

// mayPublish checks that actor may publish p now: its status, and that they did not change
// its text since it was last published (admins may always).
func (s *Posts) mayPublish(tx *gorm.DB, p *Post, actor *User, verb string) error {
	pending, err := s.pendingUpdate(tx, p)
	if err != nil {
		return err
	}
	ok := p.Status == StatusApproved || p.Status == StatusUnpublished || pending
	if actor.Role == RoleAdmin {
		ok = p.Status != StatusPublished || pending
	}
	if !ok {
		if p.Status == StatusPublished {
			return domain.Errorf(domain.EConflict, "the post is published and has no pending update")
		}
		return domain.Errorf(domain.EConflict, "cannot %s a post that is %s: it needs an approver's approval first", verb, p.Status.Label())
	}
	return s.mayDecide(tx, p, actor, verb)
}

// publish makes p's current text the published revision and sends blog-post.published.
func (s *Posts) publish(ctx context.Context, tx *gorm.DB, actor *User, p *Post) error {
	var by int64
	if actor != nil {
		by = actor.ID
	}
	p.UpdatedAt = s.later(p.UpdatedAt)
	r := Revision{PostID: p.ID, Title: p.Title, Markdown: p.Markdown, Summary: p.Summary, Note: notePublished, CreatedAt: p.UpdatedAt}
	if by != 0 {
		r.AuthorID = &by
	}
	if err := tx.Create(&r).Error; err != nil {
		return fmt.Errorf("store published revision of post %d: %w", p.ID, err)
	}
	now := s.now()
	cols := map[string]any{"status": StatusPublished, "updated_at": p.UpdatedAt, "publish_at": nil, "published_revision_id": r.ID}
	if p.PublishedAt == nil {
		p.PublishedAt = &now
		cols["published_at"] = now
	}
	p.Status, p.PublishAt, p.PublishedRevisionID = StatusPublished, nil, &r.ID
	if err := tx.Model(&Post{}).Where("id = ?", p.ID).Updates(cols).Error; err != nil {
		return fmt.Errorf("publish post %d: %w", p.ID, err)
	}
	return s.send(ctx, tx, actor, EventPublished, p.ID)
}

// pendingUpdate reports whether p is published with text that differs from the published
// revision (an edit waiting for an approver to publish it).
func (s *Posts) pendingUpdate(tx *gorm.DB, p *Post) (bool, error) {
	if p.Status != StatusPublished || p.PublishedRevisionID == nil {
		return false, nil
	}
	var r Revision
	if err := tx.Where("id = ?", *p.PublishedRevisionID).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("published revision of post %d: %w", p.ID, err)
	}
	return r.Title != p.Title || r.Markdown != p.Markdown || r.Summary != p.Summary, nil
}

// Unpublish takes a post off the blog at once and sends blog-post.unpublished.
func (s *Posts) Unpublish(ctx context.Context, actor *User, id int64) (*Post, error) {
	return s.change(ctx, actor, id, toUnpublished)
}

// ToDraft moves an approved or unpublished post back to draft for more work.
func (s *Posts) ToDraft(ctx context.Context, actor *User, id int64) (*Post, error) {
	return s.change(ctx, actor, id, toDraft)
}

// change applies t to post id in one transaction with its event.
func (s *Posts) change(ctx context.Context, actor *User, id int64, t transition) (*Post, error) {
	if actor != nil && t.role != "" && !actor.Role.AtLeast(t.role) {
		return nil, domain.Errorf(domain.EForbidden, "you may not %s posts", t.verb)
	}
	var p *Post
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = s.lock(tx, id); err != nil {
			return err
		}
		if !slices.Contains(t.from, p.Status) {
			return domain.Errorf(domain.EConflict, "cannot %s a post that is %s", t.verb, p.Status.Label())
		}
		return s.setStatus(ctx, tx, actor, p, t.to, t.event)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// setStatus writes p's new status and sends event inside tx ("" for none).
func (s *Posts) setStatus(ctx context.Context, tx *gorm.DB, actor *User, p *Post, to Status, event string) error {
	p.Status = to
	p.UpdatedAt = s.later(p.UpdatedAt)
	if err := tx.Model(&Post{}).Where("id = ?", p.ID).Updates(map[string]any{"status": to, "updated_at": p.UpdatedAt}).Error; err != nil {
		return fmt.Errorf("set status of post %d: %w", p.ID, err)
	}
	if event == "" {
		return nil
	}
	return s.send(ctx, tx, actor, event, p.ID)
}

// SchedulePublish asks the engine to publish post id at `at` (a durable sleep in the
// PublishAtFunction). Whoever schedules must be allowed to publish the post now (see
// Publish), and is checked again when the time comes. A later call replaces the schedule; a
// zero at cancels it.
func (s *Posts) SchedulePublish(ctx context.Context, actor *User, id int64, at time.Time) (*Post, error) {
	if !actor.Role.AtLeast(RoleApprover) {
		return nil, domain.Errorf(domain.EForbidden, "you may not publish posts")
	}
	if !at.IsZero() && !at.After(s.now()) {
		return nil, domain.FieldError("publish_at", "must be in the future")
	}
	var p *Post
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = s.lock(tx, id); err != nil {
			return err
		}
		if !at.IsZero() {
			if err := s.mayPublish(tx, p, actor, "schedule"); err != nil {
				return err
			}
		}
		var when any
		p.PublishAt = nil
		if !at.IsZero() {
			at = at.UTC().Truncate(time.Microsecond)
			p.PublishAt, when = &at, at
		}
		p.UpdatedAt = s.later(p.UpdatedAt)
		if err := tx.Model(&Post{}).Where("id = ?", id).Updates(map[string]any{"publish_at": when, "updated_at": p.UpdatedAt}).Error; err != nil {
			return fmt.Errorf("schedule post %d: %w", id, err)
		}
		if at.IsZero() {
			return nil
		}
		ev := engine.Event{Name: EventPublishScheduled, Data: map[string]any{"id": id, "at": at.Format(time.RFC3339Nano), "by": actor.ID},
			User: actorOf(actor)}
		res, err := s.eng.SendTx(ctx, tx.Statement.ConnPool, ev)
		if err != nil {
			return fmt.Errorf("schedule post %d: %w", id, err)
		}
		return s.recordRuns(tx, id, ev.Name, res.Runs)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// publishScheduled publishes post id if it is still scheduled for at (a newer schedule or a
// cancellation makes an older run do nothing) and whoever scheduled it may still publish it
// now: their role, and that nobody made them a contributor since. It reports whether it
// published, and why not.
func (s *Posts) publishScheduled(ctx context.Context, id int64, at time.Time, by int64) (bool, string, error) {
	published, why := false, ""
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lock(tx, id)
		if domain.CodeOf(err) == domain.ENotFound {
			why = "the post was deleted"
			return nil
		}
		if err != nil {
			return err
		}
		if p.PublishAt == nil || !p.PublishAt.Equal(at) {
			why = "the schedule was changed or cancelled"
			return nil
		}
		var u User
		err = tx.Where("id = ?", by).Take(&u).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("load who scheduled post %d: %w", id, err)
		}
		switch {
		case err != nil || u.Disabled || !u.Role.AtLeast(RoleApprover):
			why = "whoever scheduled it may no longer publish"
		default:
			if err := s.mayPublish(tx, p, &u, "publish"); err != nil {
				if domain.CodeOf(err) == domain.EInternal {
					return err
				}
				why = domain.MessageOf(err)
			}
		}
		if why != "" {
			p.UpdatedAt = s.later(p.UpdatedAt)
			return tx.Model(&Post{}).Where("id = ?", id).Updates(map[string]any{"publish_at": nil, "updated_at": p.UpdatedAt}).Error
		}
		published = true
		return s.publish(ctx, tx, &u, p)
	})
	return published, why, err
}

// PublishAtFunctionID is the ID of the function PublishAtFunction returns.
const PublishAtFunctionID = "cms-publish-at"

// PublishAtFunction returns the engine function behind scheduled publishing: triggered by
// blog-post.publish-scheduled, it sleeps durably until data.at, then publishes the post if
// that schedule still stands and its scheduler may still publish it. Register it on the
// engine that Posts sends to.
func PublishAtFunction(posts *Posts) *engine.Function {
	return &engine.Function{
		ID:       PublishAtFunctionID,
		Name:     "Publish a post at its scheduled time",
		Triggers: []engine.Trigger{{Event: EventPublishScheduled}},
		Handler: func(ctx context.Context, in *engine.Input) (any, error) {
			id, at, by, err := scheduleOf(in.Event)
			if err != nil {
				return nil, engine.NonRetriable(err)
			}
			if err := in.Step.SleepUntil(ctx, "wait-until-publish-time", at); err != nil {
				return nil, err
			}
			return engine.RunT(ctx, in.Step, "publish", func(ctx context.Context) (map[string]any, error) {
				ok, why, err := posts.publishScheduled(ctx, id, at, by)
				out := map[string]any{"id": id, "published": ok}
				if why != "" {
					out["reason"] = why
				}
				return out, err
			})
		},
	}
}

// PostFunctions returns the engine functions the CMS needs: scheduled publishing, the one
// that makes a post follow its review run, and the approvers' mail. Register them on the engine Posts sends to.
func PostFunctions(posts *Posts) []*engine.Function {
	return []*engine.Function{PublishAtFunction(posts), ReviewFollowerFunction(posts), NotifyFunction(posts)}
}

// scheduleOf reads {id, at, by} from a blog-post.publish-scheduled event.
func scheduleOf(ev engine.Event) (int64, time.Time, int64, error) {
	id, by := number(ev.Data["id"]), number(ev.Data["by"])
	if by == 0 && ev.User != nil {
		by = number(ev.User["id"])
	}
	s, _ := ev.Data["at"].(string)
	at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if id <= 0 || err != nil {
		return 0, time.Time{}, 0, domain.Errorf(domain.EInvalid, "event needs data.id and data.at (RFC 3339)")
	}
	return id, at.UTC(), by, nil
}

// number reads a JSON number (or a Go integer) as an int64; anything else is 0.
func number(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	}
	return 0
}

// recordReviewRuns remembers the runs review reviewID's event started.
func (s *Posts) recordReviewRuns(tx *gorm.DB, id, reviewID int64, event string, runs []string) error {
	now := s.now()
	for _, r := range runs {
		err := tx.Exec("INSERT INTO post_runs (post_id, run_id, event_name, created_at, review_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", id, r, event, now, reviewID).Error
		if err != nil {
			return fmt.Errorf("record run %s of post %d: %w", r, id, err)
		}
	}
	return nil
}
