package ai_test

import (
	"context"
	"testing"

	"github.com/inkflow/inkflow/actions/ai"
)

func TestNewWithoutKeyIsOfflineAndSaysSo(t *testing.T) {
	p := ai.New(ai.Config{BaseURL: "http://unused.invalid/v1"})
	if p.Name() != ai.ProviderOffline || p.Model() != ai.ProviderOffline {
		t.Fatalf("provider = %s/%s, want offline", p.Name(), p.Model())
	}
	ctx := context.Background()
	headings := []ai.Heading{{Level: 2, Text: " Getting started ", Anchor: "getting-started"}}
	toc, err := p.TOC(ctx, ai.TOCRequest{Post: post, Headings: headings})
	if err != nil {
		t.Fatal(err)
	}
	if len(toc.Entries) != 1 || toc.Entries[0] != (ai.TOCEntry{Anchor: "getting-started", Label: "Getting started"}) {
		t.Errorf("toc = %+v", toc.Entries)
	}
	g, err := p.Grammar(ctx, ai.GrammarRequest{Post: post})
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Social(ctx, ai.SocialRequest{Post: post, Network: ai.X, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []ai.Usage{toc.Usage, g.Usage, s.Usage} {
		if u != (ai.Usage{Provider: "offline", Model: "offline"}) {
			t.Errorf("usage = %+v, want labelled offline with no tokens", u)
		}
	}
}
