package cms

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
)

// transition is one status change: who may make it, from which statuses, to which status,
// and the event it sends ("" for none).
type transition struct {
	verb  string
	role  Role
	from  []Status
	to    Status
	event string
}

var (
	toReview = transition{"send to review", RoleEditor,
		[]Status{StatusDraft, StatusNeedsApproval, StatusApproved, StatusUnpublished}, StatusUnderReview, EventUpdated}
	toNeedsApproval = transition{"ask for approval", "",
		[]Status{StatusUnderReview, StatusNeedsApproval}, StatusNeedsApproval, ""}
	toApproved = transition{"approve", RoleApprover,
		[]Status{StatusUnderReview, StatusNeedsApproval}, StatusApproved, EventApproved}
	toRejected = transition{"reject", RoleApprover,
		[]Status{StatusUnderReview, StatusNeedsApproval}, StatusDraft, EventRejected}
	toPublished = transition{"publish", RoleApprover,
		[]Status{StatusApproved, StatusUnpublished}, StatusPublished, EventPublished}
	toUnpublished = transition{"unpublish", RoleApprover,
		[]Status{StatusPublished}, StatusUnpublished, EventUnpublished}
	toDraft = transition{"move back to draft", RoleEditor,
		[]Status{StatusUnpublished, StatusApproved}, StatusDraft, ""}
)

// SendToReview moves a post to under_review and sends blog-post.updated, which starts the
// review workflows. EConflict from a status that cannot be sent (it is already in review or
// published).
func (s *Posts) SendToReview(ctx context.Context, actor *User, id int64) (*Post, error) {
	return s.change(ctx, actor, id, toReview, nil)
}

// MarkNeedsApproval records that AI suggestions wait for an approver (called by actions).
// It is a no-op when the post already needs approval.
func (s *Posts) MarkNeedsApproval(ctx context.Context, id int64) error {
	_, err := s.change(ctx, nil, id, toNeedsApproval, nil)
	return err
}

// Approve accepts the AI suggestions and sends blog-post.approve-ai-suggestions. An approver
// may not approve suggestions on their own post unless they are an admin (EForbidden).
func (s *Posts) Approve(ctx context.Context, actor *User, id int64) (*Post, error) {
	return s.change(ctx, actor, id, toApproved, func(p *Post) error {
		if actor.Role != RoleAdmin && p.AuthorID != nil && *p.AuthorID == actor.ID {
			return engine.Errorf(engine.EForbidden, "you wrote this post: another approver or an admin must approve it")
		}
		return nil
	})
}

// Reject declines the AI suggestions, sends blog-post.reject-ai-suggestions and returns the
// post to draft.
func (s *Posts) Reject(ctx context.Context, actor *User, id int64) (*Post, error) {
	return s.change(ctx, actor, id, toRejected, nil)
}

// Publish puts an approved (or unpublished) post on the blog and sends blog-post.published.
// Admins may publish from any status.
func (s *Posts) Publish(ctx context.Context, actor *User, id int64) (*Post, error) {
	t := toPublished
	if actor != nil && actor.Role == RoleAdmin {
		t.from = []Status{StatusDraft, StatusUnderReview, StatusNeedsApproval, StatusApproved, StatusUnpublished}
	}
	return s.change(ctx, actor, id, t, nil)
}

// Unpublish takes a post off the blog and sends blog-post.unpublished.
func (s *Posts) Unpublish(ctx context.Context, actor *User, id int64) (*Post, error) {
	return s.change(ctx, actor, id, toUnpublished, nil)
}

// ToDraft moves an approved or unpublished post back to draft for more work.
func (s *Posts) ToDraft(ctx context.Context, actor *User, id int64) (*Post, error) {
	return s.change(ctx, actor, id, toDraft, nil)
}

// change applies t to post id in one transaction with its event. actor nil means the system
// (an action), which skips the role check.
func (s *Posts) change(ctx context.Context, actor *User, id int64, t transition, check func(*Post) error) (*Post, error) {
	if actor != nil && t.role != "" && !actor.Role.AtLeast(t.role) {
		return nil, engine.Errorf(engine.EForbidden, "you may not %s posts", t.verb)
	}
	var p *Post
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = s.lock(tx, id); err != nil {
			return err
		}
		if p.Status == t.to && t.event == "" {
			return nil // idempotent system change
		}
		if !slices.Contains(t.from, p.Status) {
			return engine.Errorf(engine.EConflict, "cannot %s a post that is %s", t.verb, p.Status.Label())
		}
		if check != nil {
			if err := check(p); err != nil {
				return err
			}
		}
		return s.setStatus(ctx, tx, actor, p, t.to, t.event)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// setStatus writes p's new status and sends event inside tx.
func (s *Posts) setStatus(ctx context.Context, tx *gorm.DB, actor *User, p *Post, to Status, event string) error {
	p.Status = to
	p.UpdatedAt = s.later(p.UpdatedAt)
	cols := map[string]any{"status": to, "updated_at": p.UpdatedAt}
	if to == StatusPublished {
		now := s.now()
		if p.PublishedAt == nil {
			p.PublishedAt = &now
			cols["published_at"] = now
		}
		p.PublishAt = nil
		cols["publish_at"] = nil
	}
	if err := tx.Model(&Post{}).Where("id = ?", p.ID).Updates(cols).Error; err != nil {
		return fmt.Errorf("set status of post %d: %w", p.ID, err)
	}
	if event == "" {
		return nil
	}
	return s.send(ctx, tx, actor, event, p.ID)
}

// SchedulePublish asks the engine to publish post id at `at` (a durable sleep in the
// PublishAtFunction). A later call replaces the schedule; a zero at cancels it.
func (s *Posts) SchedulePublish(ctx context.Context, actor *User, id int64, at time.Time) (*Post, error) {
	if !actor.Role.AtLeast(RoleApprover) {
		return nil, engine.Errorf(engine.EForbidden, "you may not publish posts")
	}
	if !at.IsZero() && !at.After(s.now()) {
		return nil, engine.FieldError("publish_at", "must be in the future")
	}
	var p *Post
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = s.lock(tx, id); err != nil {
			return err
		}
		if p.Status == StatusPublished {
			return engine.Errorf(engine.EConflict, "the post is already published")
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
		ev := engine.Event{Name: EventPublishScheduled, Data: map[string]any{"id": id, "at": at.Format(time.RFC3339Nano)},
			User: actorOf(actor)}
		res, err := s.eng.SendTx(ctx, tx, ev)
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
// cancellation makes an older run do nothing). It reports whether it published.
func (s *Posts) publishScheduled(ctx context.Context, id int64, at time.Time) (bool, error) {
	published := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lock(tx, id)
		if engine.ErrorCode(err) == engine.ENotFound {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		if p.PublishAt == nil || !p.PublishAt.Equal(at) || p.Status == StatusPublished {
			return nil
		}
		published = true
		return s.setStatus(ctx, tx, nil, p, StatusPublished, EventPublished)
	})
	return published, err
}

// PublishAtFunctionID is the ID of the function PublishAtFunction returns.
const PublishAtFunctionID = "cms-publish-at"

// PublishAtFunction returns the engine function behind scheduled publishing: triggered by
// blog-post.publish-scheduled, it sleeps durably until data.at, then publishes the post if
// that schedule still stands. Register it on the engine that Posts sends to.
func PublishAtFunction(posts *Posts) *engine.Function {
	return &engine.Function{
		ID:       PublishAtFunctionID,
		Name:     "Publish a post at its scheduled time",
		Triggers: []engine.Trigger{{Event: EventPublishScheduled}},
		Handler: func(ctx context.Context, in *engine.Input) (any, error) {
			id, at, err := scheduleOf(in.Event)
			if err != nil {
				return nil, engine.NonRetriable(err)
			}
			if err := in.Step.SleepUntil(ctx, "wait-until-publish-time", at); err != nil {
				return nil, err
			}
			return engine.RunT(ctx, in.Step, "publish", func(ctx context.Context) (map[string]any, error) {
				ok, err := posts.publishScheduled(ctx, id, at)
				return map[string]any{"id": id, "published": ok}, err
			})
		},
	}
}

// scheduleOf reads {id, at} from a blog-post.publish-scheduled event.
func scheduleOf(ev engine.Event) (int64, time.Time, error) {
	var id int64
	switch v := ev.Data["id"].(type) {
	case float64:
		id = int64(v)
	case int64:
		id = v
	case int:
		id = int64(v)
	}
	s, _ := ev.Data["at"].(string)
	at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if id <= 0 || err != nil {
		return 0, time.Time{}, engine.Errorf(engine.EInvalid, "event needs data.id and data.at (RFC 3339)")
	}
	return id, at.UTC(), nil
}

// PostFunctions returns the engine functions the CMS needs: scheduled publishing, and the
// one that makes a post follow its review run. Register them on the engine Posts sends to.
func PostFunctions(posts *Posts) []*engine.Function {
	return []*engine.Function{PublishAtFunction(posts)}
}
