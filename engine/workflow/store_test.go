package workflow

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

func ptr[T any](v T) *T { return &v }

const chainJSON = `{"name":"Review","actions":[{"id":"a","kind":"test"},{"id":"b","kind":"test"}],"edges":[{"id":"e1","from":"$source","to":"a"},{"from":"a","to":"b"}]}`

func TestStoreLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := NewStore(db.DB, testRegistry(t))
		user := int64(7)
		rec, err := s.Create(ctx, Draft{Trigger: ptr("blog-post.updated"), Enabled: ptr(true), Workflow: json.RawMessage(chainJSON), SavedBy: &user})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Name != "Review" || rec.Version != 1 || !rec.Enabled || rec.Trigger != "blog-post.updated" {
			t.Fatalf("created %+v", rec)
		}
		// A save makes version 2; version 1 stays as it was.
		v2 := strings.Replace(chainJSON, `"kind":"test"}]`, `"kind":"test"},{"id":"c","kind":"test"}]`, 1)
		v2 = strings.Replace(v2, `{"from":"a","to":"b"}`, `{"from":"a","to":"b"},{"from":"b","to":"c"}`, 1)
		upd, err := s.Update(ctx, rec.ID, Draft{Name: ptr("Review v2"), Workflow: json.RawMessage(v2), BaseVersion: 1})
		if err != nil {
			t.Fatal(err)
		}
		if upd.Version != 2 || upd.Name != "Review v2" || len(upd.Workflow.Actions) != 3 || !upd.Enabled {
			t.Fatalf("updated %+v", upd)
		}
		// A stale base version is a conflict and changes nothing.
		if _, err := s.Update(ctx, rec.ID, Draft{Name: ptr("late"), Workflow: json.RawMessage(chainJSON), BaseVersion: 1}); engine.ErrorCode(err) != engine.EConflict {
			t.Fatalf("stale save: %v", err)
		}
		vs, err := s.Versions(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 || len(vs[1].Workflow.Actions) != 2 || *vs[1].SavedBy != 7 || vs[0].SavedBy != nil {
			t.Fatalf("versions %s", dump(vs))
		}
		// Export gives back the imported JSON, unknown fields included.
		v1, _ := s.Version(ctx, rec.ID, 1)
		out, _ := json.Marshal(v1.Workflow)
		if !sameJSON(t, out, []byte(chainJSON)) {
			t.Errorf("version 1 = %s", out)
		}
		// Disable, then enable again.
		if r, err := s.Disable(ctx, rec.ID); err != nil || r.Enabled || r.Version != 2 {
			t.Fatalf("disable: %+v %v", r, err)
		}
		if r, err := s.Enable(ctx, rec.ID); err != nil || !r.Enabled {
			t.Fatalf("enable: %+v %v", r, err)
		}
		list, err := s.List(ctx)
		if err != nil || len(list) != 1 || list[0].Workflow != nil {
			t.Fatalf("list %+v %v", list, err)
		}
		// Delete hides it but keeps versions for runs in flight.
		if err := s.Delete(ctx, rec.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, rec.ID); engine.ErrorCode(err) != engine.ENotFound {
			t.Fatalf("get deleted: %v", err)
		}
		if err := s.Delete(ctx, rec.ID); engine.ErrorCode(err) != engine.ENotFound {
			t.Fatalf("delete twice: %v", err)
		}
		if _, err := s.Version(ctx, rec.ID, 2); err != nil {
			t.Fatalf("pinned version after delete: %v", err)
		}
	})
}

func TestStoreRefusesAndStoresNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := NewStore(db.DB, testRegistry(t))
		bad := []struct {
			name  string
			d     Draft
			field string
		}{
			{"invalid graph", Draft{Workflow: json.RawMessage(`{"actions":[{"id":"a","kind":"nope"}],"edges":[{"from":"$source","to":"a"}]}`)}, "actions.a.kind"},
			{"bad trigger", Draft{Trigger: ptr("blog post"), Workflow: json.RawMessage(chainJSON)}, "trigger"},
			{"bad cron", Draft{Trigger: ptr("cron: 61 * * * *"), Workflow: json.RawMessage(chainJSON)}, "trigger"},
			{"enabled without trigger", Draft{Enabled: ptr(true), Workflow: json.RawMessage(chainJSON)}, "trigger"},
			{"empty name", Draft{Name: ptr("  "), Workflow: json.RawMessage(chainJSON)}, "name"},
			{"bad concurrency key", Draft{ConcurrencyKey: ptr("event.data.id +"), Workflow: json.RawMessage(chainJSON)}, "concurrency_key"},
		}
		for _, tt := range bad {
			_, err := s.Create(ctx, tt.d)
			if engine.ErrorCode(err) != engine.EInvalid {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if _, ok := fieldsOf(err)[tt.field]; !ok {
				t.Errorf("%s: fields %v lack %s", tt.name, fieldsOf(err), tt.field)
			}
		}
		list, _ := s.List(ctx)
		if len(list) != 0 {
			t.Fatalf("stored %d workflows after refusals", len(list))
		}
		rec, err := s.Create(ctx, Draft{Workflow: json.RawMessage(chainJSON)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, rec.ID, Draft{Workflow: json.RawMessage(`{"actions":[{"id":"a","kind":"test"}],"edges":[]}`)}); engine.ErrorCode(err) != engine.EInvalid {
			t.Fatalf("invalid update: %v", err)
		}
		if vs, _ := s.Versions(ctx, rec.ID); len(vs) != 1 {
			t.Fatalf("an invalid save made a version: %d", len(vs))
		}
		if _, err := s.Update(ctx, 999, Draft{Name: ptr("x")}); engine.ErrorCode(err) != engine.ENotFound {
			t.Fatalf("update missing: %v", err)
		}
	})
}

func TestStoreImport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := NewStore(db.DB, testRegistry(t))
		bare := `{"edges":[{"to":"1","from":"$source"},{"to":"2","from":"1"}],"actions":[{"id":"1","kind":"add_ToC"},{"id":"2","kind":"apply_changes"}]}`
		rec, err := s.Import(ctx, []byte(bare), Draft{Trigger: ptr("blog-post.updated")})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Enabled || rec.Trigger != "blog-post.updated" || rec.Name != "Untitled workflow" {
			t.Fatalf("imported %+v", rec)
		}
		out, err := s.Export(ctx, rec.ID)
		if err != nil || !sameJSON(t, out, []byte(bare)) {
			t.Fatalf("export %s %v", out, err)
		}
		wrapped := `{"name":"Nightly","trigger":"cron: TZ=Europe/Lisbon 0 4 * * *","enabled":true,"workflow":` + bare + `}`
		rec, err = s.Import(ctx, []byte(wrapped), Draft{})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Name != "Nightly" || !rec.Enabled || rec.Trigger != "cron: TZ=Europe/Lisbon 0 4 * * *" {
			t.Fatalf("wrapped import %+v", rec)
		}
		if _, err := s.Import(ctx, []byte(`[1]`), Draft{}); engine.ErrorCode(err) != engine.EInvalid {
			t.Fatalf("import array: %v", err)
		}
	})
}

// TestStoreImportExportFixtures: every valid fixture survives a trip through the database
// unchanged, unknown fields included.
func TestStoreImportExportFixtures(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := NewStore(db.DB, testRegistry(t))
		n := 0
		for i, e := range loadEntries(t, "testdata/compat.json") {
			if !e.valid() {
				if _, err := s.Import(ctx, e.Workflow, Draft{}); engine.ErrorCode(err) != engine.EInvalid {
					t.Errorf("#%d imported an invalid workflow: %v", i, err)
				}
				continue
			}
			rec, err := s.Import(ctx, e.Workflow, Draft{})
			if err != nil {
				t.Fatalf("#%d: %v", i, err)
			}
			out, err := s.Export(ctx, rec.ID)
			if err != nil || !sameJSON(t, out, e.Workflow) {
				t.Errorf("#%d export %s, %v; want %s", i, out, err, e.Workflow)
			}
			n++
		}
		if list, _ := s.List(ctx); len(list) != n {
			t.Errorf("%d workflows stored, want %d (refused imports must store nothing)", len(list), n)
		}
	})
}
