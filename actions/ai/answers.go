package ai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The JSON schemas sent as response formats. They are strict (every property required, no
// extra ones) so that servers supporting structured outputs constrain the model; answers are
// validated here as well because many servers ignore or only approximate the schema.
const (
	tocSchema = `{"type":"object","additionalProperties":false,"required":["entries"],
 "properties":{"entries":{"type":"array","items":{"type":"object","additionalProperties":false,
  "required":["anchor","label"],"properties":{"anchor":{"type":"string"},"label":{"type":"string"}}}}}}`
	grammarSchema = `{"type":"object","additionalProperties":false,"required":["markdown","changes"],
 "properties":{"markdown":{"type":"string"},"changes":{"type":"array","items":{"type":"object",
  "additionalProperties":false,"required":["original","revised","reason"],
  "properties":{"original":{"type":"string"},"revised":{"type":"string"},"reason":{"type":"string"}}}}}}`
	socialSchema = `{"type":"object","additionalProperties":false,"required":["posts"],
 "properties":{"posts":{"type":"array","items":{"type":"string"}}}}`
)

// maxLabelChars bounds a ToC label: an entry is a heading's name, not a paragraph.
const maxLabelChars = 120

// decodeAnswer decodes a model's JSON object into v. It tolerates a markdown code fence
// around the JSON (models without a response format like to add one) but nothing else.
func decodeAnswer(content string, v any) error {
	s := strings.TrimSpace(content)
	if strings.HasPrefix(s, "```") {
		s = strings.TrimPrefix(s, "```json")
		s = strings.TrimPrefix(s, "```")
		s = strings.TrimSuffix(strings.TrimSpace(s), "```")
	}
	if s == "" {
		return fmt.Errorf("the answer was empty")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the answer is not the expected JSON object (%v)", err)
	}
	if dec.More() {
		return fmt.Errorf("the answer has text after the JSON object")
	}
	return nil
}

// checkTOC verifies one entry per heading, in order, with the heading's anchor and a label.
func checkTOC(a *TOCAnswer, headings []Heading) error {
	if len(a.Entries) != len(headings) {
		return fmt.Errorf("expected %d entries, one per heading, got %d", len(headings), len(a.Entries))
	}
	for i, e := range a.Entries {
		if e.Anchor != headings[i].Anchor {
			return fmt.Errorf("entry %d has anchor %q, expected %q", i+1, e.Anchor, headings[i].Anchor)
		}
		if strings.TrimSpace(e.Label) == "" {
			return fmt.Errorf("entry %d has an empty label", i+1)
		}
		if n := utf8.RuneCountInString(e.Label); n > maxLabelChars {
			return fmt.Errorf("entry %d has a label of %d characters; keep labels under %d", i+1, n, maxLabelChars)
		}
	}
	return nil
}

// checkGrammar verifies a usable revision: present, not gutted, and every change explained.
func checkGrammar(a *GrammarAnswer, original string) error {
	if strings.TrimSpace(a.Markdown) == "" {
		return fmt.Errorf("the revised markdown is empty")
	}
	// A copy edit changes words, not the length of the text; a revision under half the
	// original is a truncated or summarised answer, which must never replace a post.
	if n := utf8.RuneCountInString(original); n > 200 && utf8.RuneCountInString(a.Markdown) < n/2 {
		return fmt.Errorf("the revised markdown has %d characters where the original has %d: it must be the whole post",
			utf8.RuneCountInString(a.Markdown), n)
	}
	for i, c := range a.Changes {
		if strings.TrimSpace(c.Reason) == "" {
			return fmt.Errorf("change %d has no reason", i+1)
		}
	}
	if a.Changes == nil {
		a.Changes = []Change{}
	}
	return nil
}

// checkSocial verifies the number of posts and the network's length limit.
func checkSocial(a *SocialAnswer, req SocialRequest) error {
	if len(a.Posts) != req.Count {
		return fmt.Errorf("expected %d posts, got %d", req.Count, len(a.Posts))
	}
	limit := req.Network.MaxChars()
	for i, p := range a.Posts {
		if strings.TrimSpace(p) == "" {
			return fmt.Errorf("post %d is empty", i+1)
		}
		if n := utf8.RuneCountInString(p); n > limit {
			return fmt.Errorf("post %d has %d characters, more than the %d that %s allows", i+1, n, limit, req.Network.Label())
		}
	}
	return nil
}
