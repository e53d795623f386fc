package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

// Outcomes of wait_for_approval.
const (
	Approved = "approved"
	Rejected = "rejected"
	TimedOut = "timed_out"
)

// DefaultApprovalTimeout is how long wait_for_approval waits when its timeout input is empty.
const DefaultApprovalTimeout = 7 * 24 * time.Hour

// approvalOutput is wait_for_approval's output.
type approvalOutput struct {
	Status   string        `json:"status"`
	Approved bool          `json:"approved"`
	Event    *engine.Event `json:"event"`
}

func (k *kit) waitKind() workflow.Kind {
	return workflow.Kind{
		Name:        KindWaitForApproval,
		Category:    workflow.CategoryReview,
		Title:       "Wait for approval",
		Description: "Mark the post as needing approval and wait until an approver approves or rejects the AI suggestions (an Apply changes action after it saves the accepted ones)",
		Inputs: []workflow.InputSpec{
			{Name: "timeout", Title: "Give up after", Type: workflow.TypeDuration, Default: "7d",
				Description: "How long to wait for a decision, e.g. 2d or 12h"},
		},
		Output: &workflow.Shape{Type: "object", Fields: map[string]*workflow.Shape{
			"status":   {Type: "string", Description: "approved, rejected or timed_out"},
			"approved": {Type: "boolean"},
			"event":    {Type: "object", Nullable: true, Description: "the approve or reject event"},
		}},
		Steps:   true,
		Handler: k.waitForApproval,
	}
}

// waitForApproval marks the post (step "<id>/mark") and waits for the decision (step "<id>").
func (k *kit) waitForApproval(ctx context.Context, in workflow.ActionInput) (any, error) {
	id, err := postID(in.Event)
	if err != nil {
		return nil, err
	}
	timeout, set, err := in.Duration("timeout")
	if err != nil {
		return nil, err
	}
	if !set {
		timeout = DefaultApprovalTimeout
	}
	_, err = in.Step.Run(ctx, in.StepIDFor("mark"), func(ctx context.Context) (any, error) {
		if err := k.posts.MarkNeedsApproval(ctx, id); err != nil {
			return nil, final(fmt.Errorf("ask for approval of post %d: %w", id, err))
		}
		return nil, nil
	}, engine.WithName(stepName(in)+": mark needs approval"))
	if err != nil {
		return nil, err
	}
	ev, err := in.Step.WaitForEvent(ctx, in.StepID, engine.Wait{
		Event:    cms.EventApproved,
		OrEvents: []string{cms.EventRejected},
		Match:    "data.id",
		Timeout:  timeout,
	})
	if err != nil {
		return nil, err
	}
	out := approvalOutput{Status: TimedOut, Event: ev}
	switch {
	case ev == nil:
	case ev.Name == cms.EventApproved:
		out.Status, out.Approved = Approved, true
	default:
		out.Status = Rejected
	}
	return out, nil
}

// applyOutput is apply_changes' output. When it applied, it carries the applied text as the
// run's new working copy base.
type applyOutput struct {
	workingCopy
	Applied bool   `json:"applied"`
	Reason  string `json:"reason,omitempty"`
}

func (k *kit) applyKind() workflow.Kind {
	return workflow.Kind{
		Name:        KindApplyChanges,
		Category:    workflow.CategoryReview,
		Title:       "Apply changes",
		Description: "Save the AI revision as the post's markdown (the previous version stays in the history)",
		Output: &workflow.Shape{Type: "object", Fields: map[string]*workflow.Shape{
			"applied":  {Type: "boolean"},
			"reason":   {Type: "string", Description: "why nothing was applied"},
			"markdown": {Type: "string"},
		}},
		Handler: k.applyChanges,
	}
}

// applyChanges runs inside the action's durable step. It applies the run's working copy
// unless an upstream approval did not approve, and refuses to overwrite a post whose
// markdown changed since the run's first revision started from it.
func (k *kit) applyChanges(ctx context.Context, in workflow.ActionInput) (any, error) {
	id, err := postID(in.Event)
	if err != nil {
		return nil, err
	}
	wc := upstreamCopy(in)
	if wc == nil {
		return applyOutput{Reason: "no AI revision was made earlier in this run"}, nil
	}
	if status := upstreamApproval(in); status != "" && status != Approved {
		return applyOutput{Reason: "the AI suggestions were not approved: " + status}, nil
	}
	p, err := k.load(ctx, id)
	if err != nil {
		return nil, err
	}
	// A retry after a crash finds the copy already applied: that is not a conflict.
	if digest(p.Markdown) != wc.Base && p.Markdown != wc.Markdown {
		return nil, engine.NonRetriable(engine.Errorf(engine.EConflict,
			"post %d was edited after the AI review started; its changes were not applied: send it to review again", id))
	}
	if err := k.posts.SaveAIWork(ctx, id, &wc.Markdown, map[string]any{
		"working_copy": map[string]any{"run_id": in.Run.ID, "action": in.Action.ID, "applied": true},
	}); err != nil {
		return nil, final(err)
	}
	if err := k.posts.ApplyAIRevision(ctx, id); err != nil {
		return nil, final(fmt.Errorf("apply AI revision to post %d: %w", id, err))
	}
	applied := workingCopy{Markdown: wc.Markdown, Base: digest(wc.Markdown), Generation: wc.Generation + 1}
	return applyOutput{workingCopy: applied, Applied: true}, nil
}
