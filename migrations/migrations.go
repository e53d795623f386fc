// Package migrations embeds inkflow's versioned SQL, one folder per dialect. Files are goose
// migrations named NNNNN_what.sql; each part of inkflow owns its own files (engine, workflows,
// cms, ...), and a released file is never edited: a change is a new file.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// FS returns the migrations for dialect "postgres" or "sqlite".
func FS(dialect string) (fs.FS, error) {
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations for %q: %w", dialect, err)
	}
	return sub, nil
}
