package actions

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
	// NotLive: the run is not the post's open review (superseded, withdrawn, a rerun), so it
	// neither waits for nor acts on a decision.
	NotLive = "not_live"
)

// DefaultApprovalTimeout is how long wait_for_approval waits when its timeout input is empty.
const DefaultApprovalTimeout = 7 * 24 * time.Hour

// maxForgedEvents bounds how many events that match the wait but carry no decision the CMS
// recorded (forged, or sent by an app) the action ignores before it gives up.
const maxForgedEvents = 20

// approvalOutput is wait_for_approval's output.
type approvalOutput struct {
	Status   string        `json:"status"`
	Approved bool          `json:"approved"`
	Event    *engine.Event `json:"event"`
	ReviewID int64         `json:"review_id,omitempty"`
	// Accept lists the change ids the approver accepted; nil means all.
	Accept  []string `json:"accept"`
	Comment string   `json:"comment,omitempty"`
	By      *int64   `json:"decided_by,omitempty"`
}

// decision is the "<id>/decision" step's output: the decision the CMS recorded.
type decision struct {
	Status  string   `json:"status"`
	Accept  []string `json:"accept"` // nil: all
	Comment string   `json:"comment"`
	By      *int64   `json:"decided_by"`
}

// markOutput is the "<id>/mark" step's output: the review this run waits on (0: none).
type markOutput struct {
	ReviewID int64 `json:"review_id"`
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
			"status":   {Type: "string", Description: "approved, rejected, timed_out or not_live"},
			"approved": {Type: "boolean"},
			"event":    {Type: "object", Nullable: true, Description: "the approve or reject event"},
			"accept":   {Type: "array", Nullable: true, Items: &workflow.Shape{Type: "string"}, Description: "accepted change ids (null: all)"},
			"comment":  {Type: "string"},
		}},
		Steps:   true,
		Handler: k.waitForApproval,
	}
}

// waitForApproval asks the CMS for the decision (step "<id>/mark": the post needs approval,
// the review waits on this run) and waits for it (step "<id>"). Only the CMS's decision for
// this run resumes it: the wait matches data.run_id and an approver in event.user, and the
// decision is then read from the CMS ("<id>/decision"); an event without one is ignored and
// the action waits again.
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
	mark, err := engine.RunT(ctx, in.Step, in.StepIDFor("mark"), func(ctx context.Context) (markOutput, error) {
		rid, err := k.posts.AskApproval(ctx, id, in.Run.ID)
		if err != nil {
			return markOutput{}, final(fmt.Errorf("ask for approval of post %d: %w", id, err))
		}
		return markOutput{ReviewID: rid}, nil
	}, engine.WithName(stepName(in)+": mark needs approval"))
	if err != nil {
		return nil, err
	}
	if mark.ReviewID == 0 {
		return approvalOutput{Status: NotLive}, nil
	}
	wait := engine.Wait{
		Event:    cms.EventApproved,
		OrEvents: []string{cms.EventRejected},
		Match:    "data.id",
		If: fmt.Sprintf(`has(async.data.run_id) && async.data.run_id == %q && has(async.user) && has(async.user.role) && async.user.role in ["approver", "admin"]`,
			in.Run.ID),
		Timeout: timeout,
	}
	for n := 0; n < maxForgedEvents; n++ {
		stepID := in.StepID
		if n > 0 {
			stepID = in.StepIDFor(fmt.Sprintf("again-%d", n))
		}
		ev, err := in.Step.WaitForEvent(ctx, stepID, wait)
		if err != nil {
			return nil, err
		}
		if ev == nil {
			return k.timedOut(ctx, in, id, mark.ReviewID, timeout)
		}
		d, err := engine.RunT(ctx, in.Step, stepID+"/decision", func(ctx context.Context) (*decision, error) {
			r, err := k.posts.DecisionFor(ctx, mark.ReviewID, in.Run.ID)
			if err != nil || r == nil {
				return nil, err
			}
			return &decision{Status: r.Status, Accept: r.Accept(), Comment: r.Comment, By: r.DecidedBy}, nil
		}, engine.WithName(stepName(in)+": read the decision"))
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue // no decision recorded: not from the CMS
		}
		out := approvalOutput{Status: Rejected, Event: ev, ReviewID: mark.ReviewID, Accept: d.Accept, Comment: d.Comment, By: d.By}
		if d.Status == cms.ReviewApproved {
			out.Status, out.Approved = Approved, true
		}
		return out, nil
	}
	return nil, engine.NonRetriable(engine.Errorf(engine.EConflict, "%d events reached the approval wait without a decision from the CMS", maxForgedEvents))
}

// timedOut closes the review when nobody decided in time: the post goes back to draft.
func (k *kit) timedOut(ctx context.Context, in workflow.ActionInput, id, reviewID int64, timeout time.Duration) (any, error) {
	_, err := in.Step.Run(ctx, in.StepIDFor("timed-out"), func(ctx context.Context) (any, error) {
		return nil, final(k.posts.EndReview(ctx, id, in.Run.ID, cms.ReviewTimedOut,
			fmt.Sprintf("no approver decided within %s", timeout)))
	}, engine.WithName(stepName(in)+": back to draft"))
	if err != nil {
		return nil, err
	}
	return approvalOutput{Status: TimedOut, ReviewID: reviewID}, nil
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
// unless an upstream approval did not approve; when the approver accepted only some changes,
// the others are taken back out of the copy (a rejected table of contents is removed, a
// rejected grammar change reverted). The CMS refuses to apply to a post whose text changed
// since it was sent to review, or for a run that was not approved.
func (k *kit) applyChanges(ctx context.Context, in workflow.ActionInput) (any, error) {
	id, err := postID(in.Event)
	if err != nil {
		return nil, err
	}
	wc := upstreamCopy(in)
	if wc == nil {
		return applyOutput{Reason: "no AI revision was made earlier in this run"}, nil
	}
	approval, ok := upstreamApproval(in)
	if ok && approval.Status != Approved {
		return applyOutput{Reason: "the AI suggestions were not approved: " + approval.Status}, nil
	}
	if !ok {
		return applyOutput{Reason: "no approval upstream: apply_changes applies only what an approver approved"}, nil
	}
	p, err := k.load(ctx, id)
	if err != nil {
		return nil, err
	}
	text := acceptedText(in, p.Markdown, wc, approval.Accept)
	// A retry after a crash finds the copy already applied: that is not a conflict.
	if digest(p.Markdown) != wc.Base && p.Markdown != text {
		return nil, engine.NonRetriable(engine.Errorf(engine.EConflict,
			"post %d was edited after the AI review started; its changes were not applied: send it to review again", id))
	}
	if err := k.posts.ApplyApproved(ctx, id, in.Run.ID, text); err != nil {
		return nil, final(fmt.Errorf("apply the approved changes to post %d: %w", id, err))
	}
	applied := workingCopy{Markdown: text, Base: digest(text), Generation: wc.Generation + 1}
	return applyOutput{workingCopy: applied, Applied: true}, nil
}

// acceptedText is the text with only the accepted changes (accept nil: the working copy as
// it is). When the newest grammar review made the last revision, its accepted changes
// ("change-N", numbered as it lists them) are applied to the text it started from, so a
// rejected change is simply not made; otherwise rejected changes are reverted in the copy.
// Without "toc" the table of contents is taken out.
func acceptedText(in workflow.ActionInput, post string, wc *workingCopy, accept []string) string {
	if accept == nil {
		return wc.Markdown
	}
	var g *grammarOutput
	copies := map[int]string{0: post}
	for _, a := range upstream(in) {
		if !revises(a.Kind) {
			continue
		}
		var c workingCopy
		if decodeState(in.State[a.ID], &c) && c.Generation > 0 {
			copies[c.Generation] = c.Markdown
		}
		if a.Kind == KindGrammarReview {
			var out grammarOutput
			if decodeState(in.State[a.ID], &out) {
				g = &out
			}
		}
	}
	text := wc.Markdown
	if g != nil {
		prev, ok := copies[g.Generation-1]
		if ok && g.Generation == wc.Generation {
			body, toc := StripTOC(prev) // the review saw the text without its ToC
			for i, c := range g.Changes {
				if slices.Contains(accept, fmt.Sprintf("change-%d", i+1)) {
					body = replaceFirst(body, c.Original, c.Revised)
				}
			}
			text = body
			if toc != nil {
				text = RestoreTOC(body, toc)
			}
		} else {
			for i := len(g.Changes) - 1; i >= 0; i-- {
				if c := g.Changes[i]; !slices.Contains(accept, fmt.Sprintf("change-%d", i+1)) {
					text = replaceFirst(text, c.Revised, c.Original)
				}
			}
		}
	}
	if !slices.Contains(accept, "toc") {
		text, _ = StripTOC(text)
	}
	return text
}

// replaceFirst replaces the first from in text with to; an empty from changes nothing.
func replaceFirst(text, from, to string) string {
	if from == "" {
		return text
	}
	return strings.Replace(text, from, to, 1)
}
