package bench

import (
	"io"
	"log/slog"
)

// quietLogger keeps benchmark output to the figures.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
