package ai

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"
)

// promptsText is prompts.tmpl, the one file that holds every prompt.
//
//go:embed prompts.tmpl
var promptsText string

// promptData is what the templates see.
type promptData struct {
	Post     Post
	Inputs   map[string]any
	Headings []Heading
	Network  Network
	Count    int
	Tone     string
	MaxChars int
}

// parsePrompts parses prompts.tmpl. The file is part of the binary, so a parse error is a
// bug that the tests catch, not a runtime condition.
func parsePrompts() *template.Template {
	return template.Must(template.New("prompts").Option("missingkey=zero").Parse(promptsText))
}

// render executes the named template of t.
func render(t *template.Template, name string, data any) (string, error) {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render prompt %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}
