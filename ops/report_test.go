package ops

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/ops/mailtest"
)

func ptr[T any](v T) *T { return &v }

// The two templates, imported as an admin would, run on the real engine: the weekly report
// mails the admins the week in numbers, and a run that fails for good mails them an alert
// (once: the alert about a failing alert is not sent).
func TestTemplatesMailTheAdmins(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		smtp := mailtest.Start(t)
		eng, err := engine.New(engine.Options{DB: db.DB, URL: db.URL, Poll: 100 * time.Millisecond,
			BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		c := cms.New(cms.Options{DB: db.DB, Engine: eng, BcryptCost: bcrypt.MinCost})
		reg := workflow.NewRegistry()
		if err := workflow.RegisterBuiltins(reg, workflow.BuiltinConfig{}); err != nil {
			t.Fatal(err)
		}
		if err := workflow.RegisterEmail(reg, workflow.EmailConfig{URL: smtp.URL("")}); err != nil {
			t.Fatal(err)
		}
		if err := RegisterKinds(reg, KindDeps{CMS: c, DB: db.DB}); err != nil {
			t.Fatal(err)
		}
		store := workflow.NewStore(db.DB, reg)
		broken := &engine.Function{ID: "broken", Triggers: []engine.Trigger{{Event: "t/break"}}, Retries: engine.Retries(0),
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Run(ctx, "boom", func(ctx context.Context) (any, error) { return nil, errors.New("disk on fire") })
			}}
		if err := eng.Register(append(workflow.NewRunner(store).Functions(), broken)...); err != nil {
			t.Fatal(err)
		}

		admin, err := c.Users.Create(ctx, cms.NewUser{Email: "ada@example.com", Role: cms.RoleAdmin, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []cms.NewUser{{Email: "bob@example.com", Role: cms.RoleAdmin}, {Email: "eve@example.com", Role: cms.RoleEditor}} {
			if _, err := c.Users.Create(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		for i, title := range []string{"Shipped", "Pending"} {
			p, err := c.Posts.Create(ctx, admin, cms.PostInput{Title: ptr(title), Markdown: ptr("# " + title)})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				if _, err := c.Posts.Publish(ctx, admin, p.ID); err != nil {
					t.Fatal(err)
				}
			}
		}

		ids := map[string]int64{}
		for _, tpl := range Templates() {
			rec, err := store.Import(ctx, tpl.JSON, workflow.Draft{Enabled: ptr(true)})
			if err != nil {
				t.Fatalf("import template %s: %v", tpl.ID, err)
			}
			ids[tpl.ID] = rec.ID
		}
		if len(ids) != 2 || ids["weekly-report"] == 0 || ids["failure-alert"] == 0 {
			t.Fatalf("templates: %v", ids)
		}

		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- eng.Start(runCtx) }()
		defer func() { stop(); <-done }()

		// The weekly report, as its schedule would start it.
		res, err := eng.Send(ctx, engine.Event{Name: workflow.ScheduledEvent, Data: map[string]any{"workflow_id": ids["weekly-report"]}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Runs) != 1 {
			t.Fatalf("the schedule started %d runs", len(res.Runs))
		}
		await(t, eng, res.Runs[0], engine.StatusCompleted)
		m := receive(t, smtp)
		if strings.Join(m.To, ",") != "ada@example.com,bob@example.com" {
			t.Errorf("report sent to %v, want the two admins", m.To)
		}
		for _, want := range []string{"Posts published: 1", "  - Shipped", "Posts waiting for approval: 0", "Failed runs: 0", "AI tokens used: 0"} {
			if !strings.Contains(m.Data, want) {
				t.Errorf("report lacks %q:\n%s", want, m.Data)
			}
		}

		// A run failing for good mails an alert.
		res, err = eng.Send(ctx, engine.Event{Name: "t/break"})
		if err != nil {
			t.Fatal(err)
		}
		await(t, eng, res.Runs[0], engine.StatusFailed)
		m = receive(t, smtp)
		if !strings.Contains(m.Data, "Subject: inkflow: a run of broken failed") || !strings.Contains(m.Data, res.Runs[0]) ||
			!strings.Contains(m.Data, "disk on fire") {
			t.Errorf("alert:\n%s", m.Data)
		}
	})
}

func receive(t *testing.T, s *mailtest.Server) mailtest.Message {
	t.Helper()
	select {
	case m := <-s.Messages:
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no mail arrived")
		return mailtest.Message{}
	}
}
