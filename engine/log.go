package engine

import (
	"context"
	"log/slog"
)

type logKey struct{}

// Log returns the logger for ctx: inside a handler it carries run_id and function, inside a
// Step.Run fn also step_id, so every line a run writes can be found by its run.
func Log(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

func withLog(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, logKey{}, l)
}
