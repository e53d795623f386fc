package web

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/testdb"
)

// In a real Chromium, an admin opens the editor's Settings panel, takes the offered debounce
// on blog-post.updated, sets a concurrency limit, sees an invalid CEL key refused naming the
// field, fixes it, adds a trigger with a condition, saves and reloads: the stored workflow has
// exactly those settings.
func TestWorkflowSettingsInBrowser(t *testing.T) {
	browser.Need(t)
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store, cookie := editorSession(t, db)
		name, trigger := "Blog review", "blog-post.updated"
		wf := json.RawMessage(`{"actions":[{"id":"l","kind":"log","inputs":{"message":"hi"}}],"edges":[{"from":"$source","to":"l"}]}`)
		rec, err := store.Create(context.Background(), workflow.Draft{Name: &name, Trigger: &trigger, Workflow: wf})
		if err != nil {
			t.Fatal(err)
		}
		browser.Run(t, "testdata/workflow_settings.mjs", map[string]string{"BASE_URL": ts.URL,
			"WORKFLOW_ID": strconv.FormatInt(rec.ID, 10), "SESSION_COOKIE": cookie})

		got, err := store.Get(context.Background(), rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := json.Marshal(got.Config); string(c) != `{"concurrency":[{"limit":2,"key":"event.data.id"}],"debounce":{"period":"45s","key":"event.data.id"}}` {
			t.Errorf("stored config %s", c)
		}
		if tr, _ := json.Marshal(got.Triggers); string(tr) != `[{"event":"blog-post.updated"},{"event":"blog-post.published","if":"event.data.id \u003e 0"}]` {
			t.Errorf("stored triggers %s", tr)
		}
		// Version 1 was created here; the refused save stored nothing; one save.
		if got.Version != 2 {
			t.Errorf("version %d, want 2", got.Version)
		}
	})
}
