package cms

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/domain"
)

// EventNeedsApproval is sent when a post starts waiting for an approver (data {id,
// review_id}); the NotifyFunction mails the approvers. Sent only when mail is configured.
const EventNeedsApproval = "blog-post.needs-approval"

// NotifyFunctionID is the ID of the function NotifyFunction returns.
const NotifyFunctionID = "cms-notify-approvers"

// announceNeedsApproval sends EventNeedsApproval for review reviewID of p inside tx, when
// approvers can be mailed.
func (s *Posts) announceNeedsApproval(ctx context.Context, tx *gorm.DB, p *Post, reviewID int64) error {
	if s.mail == nil {
		return nil
	}
	ev := engine.Event{Name: EventNeedsApproval, Data: map[string]any{"id": p.ID, "review_id": reviewID}}
	if _, err := s.eng.SendTx(ctx, tx.Statement.ConnPool, ev); err != nil {
		return fmt.Errorf("announce post %d needs approval: %w", p.ID, err)
	}
	return nil
}

// NotifyFunction returns the engine function that mails every approver and admin who may
// decide on a post (not its contributors) once when it starts needing them: one durable step
// per recipient, so a retry never mails anyone twice for one review.
func NotifyFunction(posts *Posts) *engine.Function {
	return &engine.Function{
		ID:       NotifyFunctionID,
		Name:     "Mail approvers when a post needs them",
		Triggers: []engine.Trigger{{Event: EventNeedsApproval}},
		Handler: func(ctx context.Context, in *engine.Input) (any, error) {
			id, reviewID := number(in.Event.Data["id"]), number(in.Event.Data["review_id"])
			to, err := engine.RunT(ctx, in.Step, "recipients", func(ctx context.Context) ([]string, error) {
				return posts.approversFor(ctx, id)
			})
			if err != nil || posts.mail == nil {
				return nil, err
			}
			p, err := posts.Get(ctx, id)
			if domain.CodeOf(err) == domain.ENotFound {
				return map[string]any{"mailed": 0}, nil
			}
			if err != nil {
				return nil, err
			}
			subject := "Needs your approval: " + p.Title
			body := fmt.Sprintf("The post %q was sent to review and waits for an approver.\n\nReview it: %s/admin/posts/%d/review\n\nAll posts waiting: %s/admin/review\n",
				p.Title, posts.baseURL, p.ID, posts.baseURL)
			for _, addr := range to {
				if _, err := in.Step.Run(ctx, "mail "+addr, func(ctx context.Context) (any, error) {
					return nil, posts.mail(ctx, addr, subject, body)
				}); err != nil {
					return nil, err
				}
			}
			_, err = in.Step.Run(ctx, "notified", func(ctx context.Context) (any, error) {
				return nil, posts.db.WithContext(ctx).Model(&Review{}).Where("id = ?", reviewID).Update("notified", true).Error
			})
			return map[string]any{"mailed": len(to), "review_id": strconv.FormatInt(reviewID, 10)}, err
		},
	}
}

// approversFor lists the addresses of the enabled approvers and admins who may decide on
// post id.
func (s *Posts) approversFor(ctx context.Context, id int64) ([]string, error) {
	p, err := s.Get(ctx, id)
	if domain.CodeOf(err) == domain.ENotFound {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	var users []User
	if err := s.db.WithContext(ctx).Where("role IN ? AND disabled = ?", []Role{RoleApprover, RoleAdmin}, false).Order("id").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("approvers: %w", err)
	}
	to := []string{}
	for i := range users {
		ok, err := s.MayDecide(ctx, p, &users[i])
		if err != nil {
			return nil, err
		}
		if ok {
			to = append(to, users[i].Email)
		}
	}
	return to, nil
}
