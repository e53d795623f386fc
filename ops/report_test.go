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
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/ops/mailtest"
)

func ptr[T any](v T) *T { return &v }

// opsHarness is an engine running workflows with the operations kinds, mail going to an SMTP
// server inside the test, a function "broken" that fails at once on t/break, and both
// templates imported and enabled. admins are created as admins, plus an editor.
type opsHarness struct {
	eng       *engine.Engine
	cms       *cms.CMS
	smtp      *mailtest.Server
	workflows map[string]int64
	admin     *cms.User
}

func newOpsHarness(t *testing.T, db *testdb.DB, admins ...string) *opsHarness {
	t.Helper()
	ctx := context.Background()
	h := &opsHarness{smtp: mailtest.Start(t), workflows: map[string]int64{}}
	eng := enginetest.New(t, db, engine.Options{BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond})
	h.eng = eng
	h.cms = cms.New(cms.Options{DB: db.DB, Engine: eng, BcryptCost: bcrypt.MinCost})
	reg := workflow.NewRegistry()
	if err := workflow.RegisterBuiltins(reg, workflow.BuiltinConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := workflow.RegisterEmail(reg, workflow.EmailConfig{URL: h.smtp.URL("")}); err != nil {
		t.Fatal(err)
	}
	if err := RegisterKinds(reg, KindDeps{CMS: h.cms, Engine: eng}); err != nil {
		t.Fatal(err)
	}
	store := workflow.NewStore(db.DB, reg)
	broken := &engine.Function{ID: "broken", Triggers: []engine.Trigger{{Event: "t/break"}}, Flow: engine.Flow{Retries: engine.Retries(0)},
		Handler: func(ctx context.Context, in *engine.Input) (any, error) {
			return in.Step.Run(ctx, "boom", func(ctx context.Context) (any, error) { return nil, errors.New("disk on fire") })
		}}
	if err := eng.Register(append(workflow.NewRunner(store).Functions(), broken)...); err != nil {
		t.Fatal(err)
	}
	for i, email := range admins {
		u, err := h.cms.Users.Create(ctx, cms.NewUser{Email: email, Role: cms.RoleAdmin, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			h.admin = u
		}
	}
	if _, err := h.cms.Users.Create(ctx, cms.NewUser{Email: "eve@example.com", Role: cms.RoleEditor}); err != nil {
		t.Fatal(err)
	}
	for _, tpl := range Templates() {
		rec, err := store.Import(ctx, tpl.JSON, workflow.Draft{Enabled: ptr(true)})
		if err != nil {
			t.Fatalf("import template %s: %v", tpl.ID, err)
		}
		h.workflows[tpl.ID] = rec.ID
	}
	if len(h.workflows) != 2 || h.workflows["weekly-report"] == 0 || h.workflows["failure-alert"] == 0 {
		t.Fatalf("templates: %v", h.workflows)
	}
	enginetest.StartWorkers(t, eng)
	return h
}

// The two templates, imported as an admin would, run on the real engine: the weekly report
// mails the admins the week in numbers, and a run that fails for good mails them an alert.
func TestTemplatesMailTheAdmins(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		h := newOpsHarness(t, db, "ada@example.com", "bob@example.com")
		for i, title := range []string{"Shipped", "Pending"} {
			p, err := h.cms.Posts.Create(ctx, h.admin, cms.PostInput{Title: ptr(title), Markdown: ptr("# " + title)})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				if _, err := h.cms.Posts.Publish(ctx, h.admin, p.ID); err != nil {
					t.Fatal(err)
				}
			}
		}

		// The weekly report, as its schedule would start it.
		res, err := h.eng.Send(ctx, engine.Event{Name: workflow.ScheduledEvent, Data: map[string]any{"workflow_id": h.workflows["weekly-report"]}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Runs) != 1 {
			t.Fatalf("the schedule started %d runs", len(res.Runs))
		}
		enginetest.Await(t, h.eng, res.Runs[0], engine.StatusCompleted)
		m := receive(t, h.smtp)
		if strings.Join(m.To, ",") != "ada@example.com,bob@example.com" {
			t.Errorf("report sent to %v, want the two admins", m.To)
		}
		for _, want := range []string{"Posts published: 1", "  - Shipped", "Posts waiting for approval: 0", "Failed runs: 0", "AI tokens used: 0"} {
			if !strings.Contains(m.Data, want) {
				t.Errorf("report lacks %q:\n%s", want, m.Data)
			}
		}

		// A run failing for good mails an alert.
		res, err = h.eng.Send(ctx, engine.Event{Name: "t/break"})
		if err != nil {
			t.Fatal(err)
		}
		enginetest.Await(t, h.eng, res.Runs[0], engine.StatusFailed)
		m = receive(t, h.smtp)
		if !strings.Contains(m.Data, "Subject: inkflow: a run of broken failed") || !strings.Contains(m.Data, res.Runs[0]) ||
			!strings.Contains(m.Data, "disk on fire") {
			t.Errorf("alert:\n%s", m.Data)
		}
	})
}

// An alert that fails (the mail server refuses the admin's address for good) fails its run
// and nothing more: no failure event about the failed alert, so no loop of alerts.
func TestFailingAlertDoesNotLoop(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		h := newOpsHarness(t, db, "reject@example.com")
		res, err := h.eng.Send(ctx, engine.Event{Name: "t/break"})
		if err != nil {
			t.Fatal(err)
		}
		enginetest.Await(t, h.eng, res.Runs[0], engine.StatusFailed)
		alertRuns := func() []engine.Run {
			runs, _, err := h.eng.ListRuns(ctx, engine.RunFilter{WorkflowID: h.workflows["failure-alert"], Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return runs
		}
		enginetest.Eventually(t, "one alert run that fails", func() bool {
			runs := alertRuns()
			if len(runs) > 1 || (len(runs) == 1 && runs[0].Status.Finished() && runs[0].Status != engine.StatusFailed) {
				t.Fatalf("alert runs: %+v, want one that fails", runs)
			}
			return len(runs) == 1 && runs[0].Status == engine.StatusFailed
		})
		if runs := alertRuns(); !strings.Contains(runs[0].Error, "550") {
			t.Errorf("alert run failed with %q, want the mail server's refusal", runs[0].Error)
		}
		// The failure event of a failed run is stored with that failure, so by now it would be
		// there: only the first one is.
		failures, err := h.eng.CountEvents(context.Background(), engine.EventRunFailed)
		if err != nil {
			t.Fatal(err)
		}
		if failures != 1 || len(alertRuns()) != 1 {
			t.Errorf("%d failure events and %d alert runs, want 1 and 1", failures, len(alertRuns()))
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
