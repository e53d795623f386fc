package ai

import (
	"context"
	"strings"
)

// offlineProvider does honest local work without a model. Every answer says "offline" as
// its provider and model, so the UI can label it; nothing pretends to be an AI answer.
type offlineProvider struct{}

// Offline returns the provider used when no API key is configured.
func Offline() Provider { return offlineProvider{} }

func (offlineProvider) Name() string  { return ProviderOffline }
func (offlineProvider) Model() string { return ProviderOffline }

func offlineUsage() Usage { return Usage{Provider: ProviderOffline, Model: ProviderOffline} }

// TOC labels each entry with its heading's text.
func (offlineProvider) TOC(ctx context.Context, req TOCRequest) (*TOCAnswer, error) {
	out := &TOCAnswer{Entries: make([]TOCEntry, 0, len(req.Headings)), Usage: offlineUsage()}
	for _, h := range req.Headings {
		out.Entries = append(out.Entries, TOCEntry{Anchor: h.Anchor, Label: strings.TrimSpace(h.Text)})
	}
	return out, nil
}

// Grammar applies the rule set of FixGrammar.
func (offlineProvider) Grammar(ctx context.Context, req GrammarRequest) (*GrammarAnswer, error) {
	md, changes := FixGrammar(req.Post.Markdown)
	return &GrammarAnswer{Markdown: md, Changes: changes, Usage: offlineUsage()}, nil
}

// Social assembles posts from the title, the summary's first sentence, the tags and the link.
func (offlineProvider) Social(ctx context.Context, req SocialRequest) (*SocialAnswer, error) {
	return &SocialAnswer{Posts: BuildSocialPosts(req), Usage: offlineUsage()}, nil
}
