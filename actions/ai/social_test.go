package ai_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/inkflow/inkflow/actions/ai"
)

func TestBuildSocialPosts(t *testing.T) {
	long := ai.Post{
		Title:   "A very long title about durable execution engines and why they matter for blogs",
		Summary: strings.Repeat("Durable execution keeps every step of a workflow safe across crashes and deploys, ", 5) + "the end.",
		Tags:    []string{"go", "durable execution", "workflows", "c++", "!!!"},
		URL:     "https://blog.example/posts/a-very-long-title-about-durable-execution-engines",
	}
	tests := []struct {
		name     string
		req      ai.SocialRequest
		contains []string
	}{
		{"linkedin has everything", ai.SocialRequest{Post: post, Network: ai.LinkedIn, Count: 1, Tone: "professional"},
			[]string{"New on the blog: Durable workflows in Go", "How inkflow runs workflows that survive crashes.", post.URL, "#Go #Workflows"}},
		{"x casual", ai.SocialRequest{Post: post, Network: ai.X, Count: 1, Tone: "casual"},
			[]string{"Just wrote about Durable workflows in Go", post.URL, "#Go"}},
		{"x long post keeps the link whole", ai.SocialRequest{Post: long, Network: ai.X, Count: 3, Tone: "enthusiastic"},
			[]string{long.URL, "…"}},
		{"no summary uses the first paragraph", ai.SocialRequest{Post: ai.Post{Title: "T", Markdown: "# T\n\nFirst **bold** [link](http://x) text. Second.\n\nLater.", URL: "https://b/t"},
			Network: ai.LinkedIn, Count: 2}, []string{"First bold link text."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posts := ai.BuildSocialPosts(tt.req)
			if len(posts) != tt.req.Count {
				t.Fatalf("got %d posts, want %d", len(posts), tt.req.Count)
			}
			for _, p := range posts {
				if n := utf8.RuneCountInString(p); n > tt.req.Network.MaxChars() {
					t.Errorf("post has %d characters, over %d: %q", n, tt.req.Network.MaxChars(), p)
				}
			}
			for _, want := range tt.contains {
				if !strings.Contains(posts[0], want) {
					t.Errorf("first post lacks %q:\n%s", want, posts[0])
				}
			}
		})
	}
}

func TestBuildSocialPostsVary(t *testing.T) {
	posts := ai.BuildSocialPosts(ai.SocialRequest{Post: post, Network: ai.X, Count: 3, Tone: "professional"})
	seen := map[string]bool{}
	for _, p := range posts {
		if seen[p] {
			t.Errorf("duplicate post %q", p)
		}
		seen[p] = true
	}
}
