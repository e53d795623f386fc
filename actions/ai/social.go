package ai

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// BuildSocialPosts assembles req.Count posts from what the post already says: an opener
// with the title (worded for req.Tone), a sentence of the summary (or of the first
// paragraph), the link and the tags as hashtags. Posts for X are cut to 280 characters by
// dropping hashtags, then shortening the sentence, never the link.
func BuildSocialPosts(req SocialRequest) []string {
	openers := socialOpeners(req.Tone)
	sentences := summarySentences(req.Post)
	tags := hashtags(req.Post.Tags)
	posts := make([]string, 0, req.Count)
	for i := 0; i < req.Count; i++ {
		title := strings.TrimSpace(req.Post.Title)
		opener := strings.ReplaceAll(openers[i%len(openers)], "{title}", title)
		sentence := ""
		if len(sentences) > 0 {
			sentence = sentences[i%len(sentences)]
		}
		if req.Network == X {
			posts = append(posts, fitX(opener, sentence, req.Post.URL, tags))
		} else {
			posts = append(posts, joinNonEmpty("\n\n", opener, sentence, req.Post.URL, strings.Join(tags, " ")))
		}
	}
	return posts
}

// socialOpeners words the first line for a tone; unknown tones get the neutral wording.
func socialOpeners(tone string) []string {
	switch strings.ToLower(strings.TrimSpace(tone)) {
	case "casual", "friendly", "playful":
		return []string{"Just wrote about {title}", "{title}, in a nutshell:", "Quick read: {title}"}
	case "enthusiastic", "excited", "energetic":
		return []string{"New post! {title}", "Excited to share: {title}", "Don't miss it: {title}"}
	default:
		return []string{"New on the blog: {title}", "{title}", "Worth a read: {title}"}
	}
}

// fitX joins the parts of an X post within 280 characters: hashtags go first, then the
// sentence is shortened at a word, then the opener; the link always stays whole.
func fitX(opener, sentence, link string, tags []string) string {
	limit := X.MaxChars()
	for {
		post := joinNonEmpty(" ", opener, sentence, link, strings.Join(tags, " "))
		if utf8.RuneCountInString(post) <= limit {
			return post
		}
		switch {
		case len(tags) > 0:
			tags = tags[:len(tags)-1]
		case sentence != "":
			over := utf8.RuneCountInString(post) - limit
			sentence = shorten(sentence, utf8.RuneCountInString(sentence)-over)
		default:
			over := utf8.RuneCountInString(post) - limit
			opener = shorten(opener, max(utf8.RuneCountInString(opener)-over, 1))
			if utf8.RuneCountInString(joinNonEmpty(" ", opener, link)) > limit {
				return shorten(joinNonEmpty(" ", opener, link), limit) // only an absurd link gets here
			}
		}
	}
}

// shorten cuts s to at most n characters at a word boundary, ending with "…"; "" if n < 2.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 2 {
		return ""
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndexFunc(cut, unicode.IsSpace); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRightFunc(cut, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
}

// summarySentences returns the sentences of the summary, or of the first prose paragraph
// of the markdown when there is no summary.
func summarySentences(p Post) []string {
	text := strings.TrimSpace(p.Summary)
	if text == "" {
		text = firstParagraph(p.Markdown)
	}
	var out []string
	for _, s := range regexp.MustCompile(`[^.!?]+[.!?]*`).FindAllString(text, -1) {
		if s = strings.TrimSpace(s); utf8.RuneCountInString(s) > 3 {
			out = append(out, s)
		}
	}
	return out
}

// firstParagraph returns the first paragraph of prose in markdown as plain text.
func firstParagraph(markdown string) string {
	link := regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	var para []string
	var fence string
	for _, line := range strings.Split(markdown, "\n") {
		t := strings.TrimSpace(line)
		if fence != "" {
			if closesFence(line, fence) {
				fence = ""
			}
			continue
		}
		if f := opensFence(line); f != "" {
			fence = f
			continue
		}
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "<") || strings.HasPrefix(t, "|") ||
			strings.HasPrefix(t, "---") || strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "- ") {
			if len(para) > 0 {
				break
			}
			continue
		}
		para = append(para, t)
	}
	text := link.ReplaceAllString(strings.Join(para, " "), "$1")
	return strings.NewReplacer("**", "", "__", "", "`", "", "*", "", "> ", "").Replace(text)
}

// hashtags turns tags into hashtags: "Go tips" becomes "#GoTips"; tags without letters or
// digits are dropped.
func hashtags(tags []string) []string {
	var out []string
	for _, t := range tags {
		var b strings.Builder
		for _, w := range strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			r, size := utf8.DecodeRuneInString(w)
			b.WriteRune(unicode.ToUpper(r))
			b.WriteString(w[size:])
		}
		if b.Len() > 0 {
			out = append(out, "#"+b.String())
		}
	}
	return out
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}
