package workflow

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Template is a ready-made workflow to start from: the body POST /api/workflows/import takes
// ({"name", "description", "trigger", "workflow": {...}}). Packages that register kinds ship
// templates that use them (actions: the review flow; ops: the weekly report).
type Template struct {
	// ID names the template in URLs ("weekly-report"): its file name without ".json".
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Trigger     string `json:"trigger"`
	// JSON is the import body.
	JSON json.RawMessage `json:"-"`
}

// ReadTemplates reads every *.json file in dir of fsys as a Template, sorted by id. A file
// that is not a template object is a programming error, reported as such.
func ReadTemplates(fsys fs.FS, dir string) ([]Template, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read templates: %w", err)
	}
	var out []Template
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		raw, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read template %s: %w", e.Name(), err)
		}
		t := Template{ID: strings.TrimSuffix(e.Name(), ".json"), JSON: raw}
		var head struct{ Name, Description, Trigger string }
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("template %s: %w", e.Name(), err)
		}
		t.Name, t.Description, t.Trigger = head.Name, head.Description, head.Trigger
		out = append(out, t)
	}
	return out, nil
}
