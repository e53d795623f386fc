// Package actions holds the blog's action kinds for workflows: the six kinds of
// @inngest/workflow-kit's Next.js blog CMS example, under the same kind ids, rebuilt on
// inkflow's durable steps. Register adds them to a workflow.Registry:
//
//	add_ToC                  a table of contents from the markdown's own headings (goldmark,
//	                         so anchors match the rendered page); the model only words entries
//	grammar_review           grammar and style fixes: the revised markdown and each change
//	                         with its reason
//	wait_for_approval        marks the post "needs approval" and waits for
//	                         blog-post.approve-ai-suggestions or .reject-ai-suggestions with the
//	                         same data.id (timeout input, default 7d); output status approved,
//	                         rejected or timed_out
//	apply_changes            makes the run's AI working copy the post's markdown (a new
//	                         revision; the old one is kept), unless an upstream approval was
//	                         rejected or timed out
//	generate_linkedin_posts  LinkedIn posts announcing the post (count, tone)
//	generate_tweet_posts     X posts of at most 280 characters (count, tone)
//
// # The working copy
//
// A post has its markdown, an AI working copy (ai_revision) and ai_recommendations. Within
// one run, the revising kinds (add_ToC, grammar_review, apply_changes) pass the working copy
// on in their output ({"markdown", "base", "generation"}): an action builds on the newest
// copy among the actions upstream of it in the graph, or, when there is none, starts from
// the post's markdown. So actions compose in any order, a replay sees exactly the text the
// first execution saw, and a stale ai_revision left by an older run is never built on or
// applied. "base" is a hash of the post markdown the run started from: apply_changes
// refuses (EConflict) to overwrite a post that an editor changed meanwhile. Two revising
// actions on parallel branches do not merge; the one listed later in the workflow wins.
//
// Each revising action also saves its copy to the post's ai_revision (for review in the UI),
// and every AI action stores its recommendations under a top-level key of
// ai_recommendations: "toc", "grammar", "linkedin_posts", "tweet_posts" (each with provider,
// model, run_id and action), and "working_copy" says which run and action wrote ai_revision.
//
// # Durable steps
//
// Every model call is exactly one durable step whose id is the action id, so its answer is
// memoized: a crash or a retry of what follows never pays for the call again. Saving to the
// post is a second step, "<action id>/save", which is idempotent. The step's output carries
// "provider" ("openai" or "offline") and "usage" ({provider, model, prompt_tokens,
// completion_tokens, total_tokens}) so the dashboard can show and sum what a run cost.
package actions
