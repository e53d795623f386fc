// Package ai is the model client behind the blog's AI action kinds (package actions).
//
// A Provider answers three questions about a post: how to word its table of contents, what
// grammar and style fixes its markdown needs, and which social posts announce it. New picks
// the provider from Config:
//
//   - with an API key, the OpenAI provider talks to any OpenAI-compatible chat completions
//     server (OpenAI, LiteLLM, Ollama, vLLM) through github.com/sashabaranov/go-openai. It asks
//     for a JSON answer with a JSON-schema response format (falling back to plain JSON mode on
//     servers that refuse schemas), validates the answer itself either way, and asks again when
//     an answer is malformed. Errors are classified for the durable engine: 429 and 5xx are
//     retriable and honour Retry-After (engine.RetryAfter), other 4xx such as a bad key fail at
//     once (engine.NonRetriable) with a message that says what to fix.
//   - without a key, the offline provider does honest local work (ToC labels from the
//     headings, a small grammar rule set, social posts assembled from the post's title, summary,
//     tags and link) and labels every answer "offline". It never pretends to be a model.
//
// Every answer carries Usage (provider, model, tokens) so callers can record cost on the step
// that paid for it. Prompts live in prompts.tmpl, one Go text/template file.
package ai
