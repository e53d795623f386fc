package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Each run of a workflow with a concurrency key carries that workflow's key value, so the
// engine lets one run per value execute at a time; other workflows' runs carry none.
func TestFanoutSetsWorkflowConcurrencyKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := NewStore(db.DB, testRegistry(t))
		keyed, err := s.Create(ctx, Draft{Trigger: ptr("post.saved"), Enabled: ptr(true), ConcurrencyKey: ptr("event.data.post"),
			Workflow: json.RawMessage(chainJSON)})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := s.Create(ctx, Draft{Trigger: ptr("post.saved"), Enabled: ptr(true), Workflow: json.RawMessage(chainJSON)})
		if err != nil {
			t.Fatal(err)
		}
		r := NewRunner(s)
		var metas []engine.RunMeta
		err = db.DB.Transaction(func(tx *gorm.DB) error {
			metas, err = r.Fanout(ctx, tx.Statement.ConnPool, engine.Event{Name: "post.saved", Data: map[string]any{"post": 42}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]string{keyed.ID: fmt.Sprintf("wf%d:42", keyed.ID), plain.ID: ""}
		if len(metas) != 2 {
			t.Fatalf("metas %+v", metas)
		}
		for _, m := range metas {
			if m.ConcurrencyKey != want[m.WorkflowID] {
				t.Errorf("workflow %d: key %q, want %q", m.WorkflowID, m.ConcurrencyKey, want[m.WorkflowID])
			}
		}
		if fn := r.Functions()[0]; len(fn.Concurrency) != 1 || !fn.Concurrency[0].KeyedOnly || fn.Concurrency[0].Limit != 1 {
			t.Errorf("runner concurrency %+v", fn.Concurrency)
		}
	})
}

// An import of nothing (null, {}, a string) is refused, never stored as an empty workflow.
func TestImportRefusesEmptyInput(t *testing.T) {
	s := NewStore(testdb.SQLite(t).DB, testRegistry(t))
	for _, in := range []string{`null`, `{}`, `"str"`, `[]`} {
		if _, err := s.Import(context.Background(), []byte(in), Draft{}); engine.ErrorCode(err) != engine.EInvalid {
			t.Errorf("import %s: %v, want invalid", in, err)
		}
	}
	if list, _ := s.List(context.Background()); len(list) != 0 {
		t.Errorf("refused imports stored %d workflows", len(list))
	}
}

// The schedule function starts a run only in a minute when some scheduled workflow is due.
func TestScheduleTicksStartRunsOnlyWhenDue(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := NewStore(db.DB, testRegistry(t))
		r := NewRunner(s)
		fanout := r.Functions()[1].Fanout
		at := func(tick string) []engine.RunMeta {
			var metas []engine.RunMeta
			err := db.DB.Transaction(func(tx *gorm.DB) error {
				var err error
				metas, err = fanout(ctx, tx.Statement.ConnPool, engine.Event{Name: engine.EventCron, Data: map[string]any{"tick": tick}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return metas
		}
		if m := at("2026-03-02T04:00:00Z"); len(m) != 0 {
			t.Errorf("no scheduled workflows, yet %d runs", len(m))
		}
		if _, err := s.Create(ctx, Draft{Trigger: ptr(CronPrefix + "0 4 * * *"), Enabled: ptr(true), Workflow: json.RawMessage(chainJSON)}); err != nil {
			t.Fatal(err)
		}
		if m := at("2026-03-02T04:00:00Z"); len(m) != 1 {
			t.Errorf("at the workflow's tick: %d runs, want 1", len(m))
		}
		if m := at("2026-03-02T04:01:00Z"); len(m) != 0 {
			t.Errorf("a minute later: %d runs, want 0", len(m))
		}
	})
}
