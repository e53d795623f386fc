package actions

import (
	"context"

	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

// socialOutput is the output of the social kinds.
type socialOutput struct {
	Network  ai.Network `json:"network"`
	Posts    []string   `json:"posts"`
	Tone     string     `json:"tone"`
	Provider string     `json:"provider"`
	Usage    ai.Usage   `json:"usage"`
}

// maxSocialPosts bounds the count input: more is noise, and each post costs tokens.
const maxSocialPosts = 10

func (k *kit) socialKind(name string, network ai.Network) workflow.Kind {
	title, key := "Generate LinkedIn posts", "linkedin_posts"
	if network == ai.X {
		title, key = "Generate Twitter posts", "tweet_posts"
	}
	return workflow.Kind{
		Name:     name,
		Category: workflow.CategoryAI,
		Title:    title,
		Description: "Draft posts announcing the blog post on " + network.Label() +
			" and store them on the post as publishing recommendations",
		Inputs: []workflow.InputSpec{
			{Name: "count", Title: "How many posts", Type: workflow.TypeNumber, Default: 3,
				Description: "1 to 10"},
			{Name: "tone", Title: "Tone", Type: workflow.TypeEnum, Default: "professional",
				Enum: []string{"professional", "casual", "enthusiastic", "informative"}},
			{Name: "instructions", Title: "Instructions for the model", Type: workflow.TypeText},
		},
		Output: &workflow.Shape{Type: "object", Fields: map[string]*workflow.Shape{
			"posts":    {Type: "array", Items: &workflow.Shape{Type: "string"}},
			"network":  {Type: "string"},
			"tone":     {Type: "string"},
			"provider": {Type: "string", Description: "openai or offline"},
			"usage":    usageShape(),
		}},
		Validate: validateNumber("count", 1, maxSocialPosts),
		Steps:    true,
		Handler: func(ctx context.Context, in workflow.ActionInput) (any, error) {
			return k.social(ctx, in, network, key)
		},
	}
}

// social drafts the posts from the working copy (one durable step) and stores them under key.
func (k *kit) social(ctx context.Context, in workflow.ActionInput, network ai.Network, key string) (any, error) {
	id, err := postID(in.Event)
	if err != nil {
		return nil, err
	}
	count, err := intInput(in, "count", 3, 1, maxSocialPosts)
	if err != nil {
		return nil, err
	}
	tone := in.String("tone")
	up := upstreamCopy(in)
	out, err := engine.RunT(ctx, in.Step, in.StepID, func(ctx context.Context) (*socialOutput, error) {
		post, wc, err := k.start(ctx, id, up)
		if err != nil {
			return nil, err
		}
		body, _ := StripTOC(wc.Markdown)
		ans, err := k.ai.Social(ctx, ai.SocialRequest{Post: k.aiPost(ctx, post, body), Network: network,
			Count: count, Tone: tone, Inputs: in.Inputs})
		if err != nil {
			return nil, err
		}
		return &socialOutput{Network: network, Posts: ans.Posts, Tone: tone, Provider: k.ai.Name(), Usage: ans.Usage}, nil
	}, aiStepOptions(in)...)
	if err != nil {
		return nil, err
	}
	recs := map[string]any{key: k.recommendation(in, out.Usage, map[string]any{"posts": out.Posts, "tone": tone})}
	if err := k.save(ctx, in, id, nil, recs); err != nil {
		return nil, err
	}
	return out, nil
}
