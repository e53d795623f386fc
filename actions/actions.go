package actions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

// The kind ids, as workflow-kit's blog example names them.
const (
	KindAddTOC          = "add_ToC"
	KindGrammarReview   = "grammar_review"
	KindWaitForApproval = "wait_for_approval"
	KindApplyChanges    = "apply_changes"
	KindLinkedInPosts   = "generate_linkedin_posts"
	KindTweetPosts      = "generate_tweet_posts"
)

// Deps are what the blog kinds work with.
type Deps struct {
	// Posts loads posts and stores the AI's work on them. Required.
	Posts *cms.Posts
	// AI answers the model questions; nil means the offline provider.
	AI ai.Provider
	// BaseURL is the blog's public root ("https://blog.example"), used for the link in social
	// posts; empty leaves the link out.
	BaseURL string
	// Settings, when set, supplies the base URL an admin chose at /admin/settings, which wins
	// over BaseURL.
	Settings *cms.Settings
}

// Register adds the six blog kinds to reg.
func Register(reg *workflow.Registry, d Deps) error {
	return reg.Register(Kinds(d)...)
}

// Kinds returns the six blog kinds bound to d.
func Kinds(d Deps) []workflow.Kind {
	if d.AI == nil {
		d.AI = ai.Offline()
	}
	k := &kit{posts: d.Posts, ai: d.AI, defaultBase: strings.TrimRight(d.BaseURL, "/"), settings: d.Settings}
	return []workflow.Kind{
		k.addTOCKind(), k.grammarKind(), k.waitKind(), k.applyKind(),
		k.socialKind(KindLinkedInPosts, ai.LinkedIn), k.socialKind(KindTweetPosts, ai.X),
	}
}

// kit holds the dependencies the handlers share.
type kit struct {
	posts       *cms.Posts
	ai          ai.Provider
	defaultBase string
	settings    *cms.Settings
}

// baseURL is the site's public root now: the stored setting, else the configured default.
func (k *kit) baseURL(ctx context.Context) string {
	if k.settings != nil {
		if site, err := k.settings.Site(ctx); err == nil && site.BaseURL != "" {
			return site.BaseURL
		}
	}
	return k.defaultBase
}

// load returns post id; a missing post fails the step for good.
func (k *kit) load(ctx context.Context, id int64) (*cms.Post, error) {
	p, err := k.posts.Get(ctx, id)
	if err != nil {
		return nil, final(err)
	}
	return p, nil
}

// start returns the post and the working copy an action builds on: the newest upstream copy
// when there is one, else a new copy of the post's markdown.
func (k *kit) start(ctx context.Context, id int64, upstream *workingCopy) (*cms.Post, workingCopy, error) {
	p, err := k.load(ctx, id)
	if err != nil {
		return nil, workingCopy{}, err
	}
	if upstream != nil {
		return p, *upstream, nil
	}
	return p, workingCopy{Markdown: p.Markdown, Base: digest(p.Markdown)}, nil
}

// save stores an action's work on the post as the step "<action id>/save". revision nil
// keeps the working copy; recs are merged into ai_recommendations under their keys.
func (k *kit) save(ctx context.Context, in workflow.ActionInput, id int64, revision *string, recs map[string]any) error {
	if revision != nil {
		recs["working_copy"] = map[string]any{"run_id": in.Run.ID, "action": in.Action.ID, "provider": k.ai.Name()}
	}
	_, err := in.Step.Run(ctx, in.StepIDFor("save"), func(ctx context.Context) (any, error) {
		_, err := k.posts.SaveRunWork(ctx, id, in.Run.ID, revision, recs)
		return nil, final(err)
	}, engine.WithName(stepName(in)+": save"))
	return err
}

// recommendation labels what an action stores in ai_recommendations.
func (k *kit) recommendation(in workflow.ActionInput, usage ai.Usage, fields map[string]any) map[string]any {
	fields["provider"] = usage.Provider
	fields["model"] = usage.Model
	fields["run_id"] = in.Run.ID
	fields["action"] = in.Action.ID
	return fields
}

// aiPost is what the prompts see of p, with markdown as the text to work on.
func (k *kit) aiPost(ctx context.Context, p *cms.Post, markdown string) ai.Post {
	out := ai.Post{Title: p.Title, Markdown: markdown, Summary: p.Summary, Tags: p.Tags}
	if base := k.baseURL(ctx); base != "" && p.Slug != "" {
		out.URL = base + "/posts/" + p.Slug
	}
	return out
}

// aiStepOptions names the model step after the action and applies the action's own retries
// and timeout, which the walker leaves to kinds that drive their steps.
func aiStepOptions(in workflow.ActionInput) []engine.StepOption {
	opts := []engine.StepOption{engine.WithName(stepName(in)), engine.WithInput(in.Inputs)}
	if in.Action.Retries != nil {
		opts = append(opts, engine.WithRetries(*in.Action.Retries))
	}
	if in.Action.Timeout != "" {
		if d, err := workflow.ParseDuration(in.Action.Timeout); err == nil {
			opts = append(opts, engine.WithTimeout(d))
		}
	}
	return opts
}

func stepName(in workflow.ActionInput) string {
	if in.Action.Name != "" {
		return in.Action.Name
	}
	return in.Action.ID + " (" + in.Action.Kind + ")"
}

// postID reads the post id from the triggering event's data.id (a number or a numeric string).
func postID(ev engine.Event) (int64, error) {
	var id int64
	switch v := ev.Data["id"].(type) {
	case float64:
		if v == math.Trunc(v) {
			id = int64(v)
		}
	case json.Number:
		id, _ = v.Int64()
	case int64:
		id = v
	case int:
		id = int64(v)
	case string:
		id, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	}
	if id <= 0 {
		return 0, engine.NonRetriable(engine.FieldError("event.data.id",
			"the triggering event names no post: blog actions need the post id in data.id, got %v", ev.Data["id"]))
	}
	return id, nil
}

// final makes errors a retry cannot fix (a missing post, a conflicting state, bad input)
// fail the step at once; others (the database is down) stay retriable.
func final(err error) error {
	if err == nil {
		return nil
	}
	switch engine.ErrorCode(err) {
	case engine.ENotFound, engine.EConflict, engine.EInvalid, engine.ETooLarge, engine.EForbidden:
		return engine.NonRetriable(err)
	}
	return err
}

// digest identifies a text; the working copy records the digest of the markdown it started from.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}
