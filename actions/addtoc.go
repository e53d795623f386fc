package actions

import (
	"context"
	"strings"

	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

// tocOutput is add_ToC's output: the new working copy and the entries listed.
type tocOutput struct {
	workingCopy
	Entries  []TOCEntry `json:"entries"`
	Provider string     `json:"provider"`
	Usage    *ai.Usage  `json:"usage,omitempty"`
	Note     string     `json:"note,omitempty"`
}

func (k *kit) addTOCKind() workflow.Kind {
	return workflow.Kind{
		Name:        KindAddTOC,
		Category:    workflow.CategoryAI,
		Title:       "Add a Table of Contents",
		Description: "Add a table of contents built from the post's headings; the AI model words the entries when one is configured",
		Inputs: []workflow.InputSpec{
			{Name: "title", Title: "Title", Type: workflow.TypeString, Default: "Contents",
				Description: "Shown in bold above the list"},
			{Name: "max_level", Title: "Deepest heading level", Type: workflow.TypeNumber, Default: 3,
				Description: "List headings down to this level (1-6)"},
			{Name: "instructions", Title: "Instructions for the model", Type: workflow.TypeText,
				Description: "Optional wording guidance, e.g. \"short labels\""},
		},
		Output:   revisionShape("entries", &workflow.Shape{Type: "array", Items: &workflow.Shape{Type: "object"}}),
		Validate: validateNumber("max_level", 1, 6),
		Steps:    true,
		Handler:  k.addTOC,
	}
}

// addTOC lists the working copy's headings, asks the provider for the entries' wording (one
// durable step) and saves the copy with the ToC in place of any earlier one.
func (k *kit) addTOC(ctx context.Context, in workflow.ActionInput) (any, error) {
	id, err := postID(in.Event)
	if err != nil {
		return nil, err
	}
	maxLevel, err := intInput(in, "max_level", 3, 1, 6)
	if err != nil {
		return nil, err
	}
	up := upstreamCopy(in)
	out, err := engine.RunT(ctx, in.Step, in.StepID, func(ctx context.Context) (*tocOutput, error) {
		post, wc, err := k.start(ctx, id, up)
		if err != nil {
			return nil, err
		}
		rest, _ := StripTOC(wc.Markdown)
		headings, at := Outline(rest)
		entries := tocEntries(headings, maxLevel)
		out := &tocOutput{workingCopy: wc.next(rest), Entries: entries, Provider: k.ai.Name()}
		if len(entries) == 0 {
			out.Entries = []TOCEntry{}
			out.Note = "the post has no headings to list"
			return out, nil
		}
		listed := make([]ai.Heading, len(entries))
		for i, e := range entries {
			listed[i] = ai.Heading{Level: e.Level, Text: e.Label, Anchor: e.Anchor}
		}
		ans, err := k.ai.TOC(ctx, ai.TOCRequest{Post: k.aiPost(ctx, post, rest), Headings: listed, Inputs: in.Inputs})
		if err != nil {
			return nil, err
		}
		for i := range entries {
			entries[i].Label = strings.TrimSpace(ans.Entries[i].Label)
		}
		out.Usage = &ans.Usage
		out.Markdown = InsertTOC(rest, at, TOCMarkdown(in.String("title"), maxLevel, entries))
		return out, nil
	}, aiStepOptions(in)...)
	if err != nil {
		return nil, err
	}
	usage := ai.Usage{Provider: out.Provider}
	if out.Usage != nil {
		usage = *out.Usage
	}
	recs := map[string]any{"toc": k.recommendation(in, usage, map[string]any{"entries": out.Entries})}
	if err := k.save(ctx, in, id, &out.Markdown, recs); err != nil {
		return nil, err
	}
	return out, nil
}
