package actions

import (
	"embed"

	"github.com/inkflow/inkflow/engine/workflow"
)

//go:embed templates/*.json
var templateFiles embed.FS

// Templates lists the blog's workflow templates (the editorial review, social posts), built
// from this package's kinds and offered in the "New workflow" gallery, sorted by id.
func Templates() []workflow.Template {
	out, err := workflow.ReadTemplates(templateFiles, "templates")
	if err != nil {
		panic(err) // embedded at build time: a bad file is a programming error
	}
	return out
}
