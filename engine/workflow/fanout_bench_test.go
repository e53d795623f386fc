package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// BenchmarkFanout is the workflow runner's lookup, which every event pays (the runner's
// trigger is "*"): an event no workflow waits for, and one that starts one of 100 workflows,
// with 100 enabled workflows stored.
func BenchmarkFanout(b *testing.B) {
	db := testdb.SQLite(b)
	ctx := context.Background()
	s := NewStore(db.DB, testRegistry(b))
	for i := range 100 {
		trigger := fmt.Sprintf("bench.event-%d", i)
		if _, err := s.Create(ctx, Draft{Trigger: &trigger, Enabled: ptr(true), Workflow: json.RawMessage(chainJSON)}); err != nil {
			b.Fatal(err)
		}
	}
	r := NewRunner(s)
	sqlDB, err := db.DB.DB()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"bench.unwatched", "bench.event-42"} {
		b.Run(name, func(b *testing.B) {
			ev := engine.Event{Name: name, Data: map[string]any{"id": 1}}
			for b.Loop() {
				if _, err := r.Fanout(ctx, sqlDB, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
