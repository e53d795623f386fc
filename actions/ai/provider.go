package ai

import (
	"context"
	"time"
)

// Provider names reported in Usage.Provider.
const (
	ProviderOpenAI  = "openai"
	ProviderOffline = "offline"
)

// Defaults for Config fields left zero.
const (
	DefaultModel    = "gpt-4o-mini"
	DefaultTimeout  = 60 * time.Second
	DefaultAttempts = 3
)

// Provider answers the blog's AI questions. Implementations are safe for concurrent use.
//
// Errors from the OpenAI provider are ready for a durable step: retriable ones may carry
// engine.RetryAfter, final ones are wrapped in engine.NonRetriable; all carry an
// *engine.Error whose message is fit to show on the run's dashboard.
type Provider interface {
	// Name is ProviderOpenAI or ProviderOffline.
	Name() string
	// Model is the model asked ("offline" for the offline provider).
	Model() string
	// TOC words the entries of a table of contents for the given headings. The answer has
	// exactly one entry per heading, in order, with the heading's anchor.
	TOC(ctx context.Context, req TOCRequest) (*TOCAnswer, error)
	// Grammar proposes grammar and style fixes of req.Post.Markdown: the revised markdown and
	// each change with its reason.
	Grammar(ctx context.Context, req GrammarRequest) (*GrammarAnswer, error)
	// Social drafts req.Count posts announcing the post on req.Network, each within the
	// network's length limit.
	Social(ctx context.Context, req SocialRequest) (*SocialAnswer, error)
}

// Post is what the prompts see of a blog post.
type Post struct {
	Title string
	// Markdown is the text to work on: the AI working copy when one exists.
	Markdown string
	Summary  string
	Tags     []string
	// URL is the post's public link, used by social posts.
	URL string
}

// Heading is one heading of a post's markdown, with the anchor the blog renders for it.
type Heading struct {
	Level  int    `json:"level"`
	Text   string `json:"text"`
	Anchor string `json:"anchor"`
}

// TOCRequest asks for the wording of a table of contents.
type TOCRequest struct {
	Post     Post
	Headings []Heading
	// Inputs are the action's resolved inputs, available to the prompt templates.
	Inputs map[string]any
}

// TOCEntry is one line of a table of contents.
type TOCEntry struct {
	Anchor string `json:"anchor"`
	Label  string `json:"label"`
}

// TOCAnswer is the worded table of contents.
type TOCAnswer struct {
	Entries []TOCEntry `json:"entries"`
	Usage   Usage      `json:"usage"`
}

// GrammarRequest asks for grammar and style fixes of Post.Markdown.
type GrammarRequest struct {
	Post   Post
	Inputs map[string]any
}

// Change is one proposed edit with the reason for it.
type Change struct {
	Original string `json:"original"`
	Revised  string `json:"revised"`
	Reason   string `json:"reason"`
}

// GrammarAnswer is the revised markdown and the list of changes made.
type GrammarAnswer struct {
	Markdown string   `json:"markdown"`
	Changes  []Change `json:"changes"`
	Usage    Usage    `json:"usage"`
}

// Network is a social network that posts are drafted for.
type Network string

// The networks the blog drafts posts for.
const (
	LinkedIn Network = "linkedin"
	X        Network = "x"
)

// MaxChars is the longest post each network accepts, in characters (runes).
func (n Network) MaxChars() int {
	if n == X {
		return 280
	}
	return 3000
}

// Label is the network's display name, used in prompts.
func (n Network) Label() string {
	if n == X {
		return "X (Twitter)"
	}
	return "LinkedIn"
}

// SocialRequest asks for Count posts in the given Tone.
type SocialRequest struct {
	Post    Post
	Network Network
	Count   int
	Tone    string
	Inputs  map[string]any
}

// SocialAnswer holds the drafted posts.
type SocialAnswer struct {
	Posts []string `json:"posts"`
	Usage Usage    `json:"usage"`
}

// Usage records who answered and what it cost, summed over every attempt of one call.
type Usage struct {
	Provider         string `json:"provider"`
	Model            string `json:"model"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	TotalTokens      int    `json:"total_tokens"`
}

// Config configures New. The caller (main.go) reads it from OPENAI_API_KEY, OPENAI_BASE_URL
// and OPENAI_MODEL; this package never reads the environment.
type Config struct {
	// APIKey enables the OpenAI provider; empty selects the offline provider. Servers that
	// need no key (a local Ollama) accept any non-empty value.
	APIKey string
	// BaseURL is the API root such as "https://api.openai.com/v1" or
	// "http://localhost:11434/v1"; empty means OpenAI's.
	BaseURL string
	// Model defaults to DefaultModel.
	Model string
	// Timeout bounds one HTTP call to the model (default DefaultTimeout).
	Timeout time.Duration
	// Attempts is how many answers one call may ask for when the previous one was malformed
	// (default DefaultAttempts).
	Attempts int
}

// New returns the provider cfg selects: OpenAI-compatible with a key, offline without.
func New(cfg Config) Provider {
	if cfg.APIKey == "" {
		return Offline()
	}
	return newOpenAI(cfg)
}
