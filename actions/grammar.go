package actions

import (
	"context"

	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

// grammarOutput is grammar_review's output: the revised working copy and its changes.
type grammarOutput struct {
	workingCopy
	Changes  []ai.Change `json:"changes"`
	Provider string      `json:"provider"`
	Usage    ai.Usage    `json:"usage"`
}

func (k *kit) grammarKind() workflow.Kind {
	return workflow.Kind{
		Name:        KindGrammarReview,
		Category:    workflow.CategoryAI,
		Title:       "Perform a grammar review",
		Description: "Ask the AI model for grammar and style fixes, each with its reason (offline: a small rule set)",
		Inputs: []workflow.InputSpec{
			{Name: "instructions", Title: "Instructions for the model", Type: workflow.TypeText,
				Description: "Optional, e.g. \"use British spelling\""},
		},
		Output:  revisionShape("changes", &workflow.Shape{Type: "array", Items: &workflow.Shape{Type: "object"}}),
		Steps:   true,
		Handler: k.grammarReview,
	}
}

// grammarReview asks the provider to revise the working copy (one durable step) and saves
// the revision with its list of changes.
func (k *kit) grammarReview(ctx context.Context, in workflow.ActionInput) (any, error) {
	id, err := postID(in.Event)
	if err != nil {
		return nil, err
	}
	up := upstreamCopy(in)
	out, err := engine.RunT(ctx, in.Step, in.StepID, func(ctx context.Context) (*grammarOutput, error) {
		post, wc, err := k.start(ctx, id, up)
		if err != nil {
			return nil, err
		}
		// The model reviews the text without a ToC from an earlier action (fewer tokens, and
		// nothing to mangle); the ToC goes back with anchors for the revised headings.
		body, toc := StripTOC(wc.Markdown)
		ans, err := k.ai.Grammar(ctx, ai.GrammarRequest{Post: k.aiPost(ctx, post, body), Inputs: in.Inputs})
		if err != nil {
			return nil, err
		}
		revised := ans.Markdown
		if toc != nil {
			revised = RestoreTOC(revised, toc)
		}
		return &grammarOutput{workingCopy: wc.next(revised), Changes: ans.Changes,
			Provider: k.ai.Name(), Usage: ans.Usage}, nil
	}, aiStepOptions(in)...)
	if err != nil {
		return nil, err
	}
	recs := map[string]any{"grammar": k.recommendation(in, out.Usage, map[string]any{"changes": out.Changes})}
	if err := k.save(ctx, in, id, &out.Markdown, recs); err != nil {
		return nil, err
	}
	return out, nil
}
