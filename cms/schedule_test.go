package cms_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/domain"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Scheduled publishing is a durable sleep in the engine: nothing happens before the time,
// the post is published after it, and a newer schedule makes the older run a no-op.
func TestScheduledPublish(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		clk := enginetest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
		eng := enginetest.New(t, db, engine.Options{Now: clk.Now, Poll: 20 * time.Millisecond})
		c := cms.New(cms.Options{DB: db.DB, Engine: eng, Now: clk.Now, BcryptCost: bcrypt.MinCost})
		if err := eng.Register(cms.PublishAtFunction(c.Posts)); err != nil {
			t.Fatal(err)
		}
		enginetest.StartWorkers(t, eng)

		admin, _ := c.Users.Create(ctx, cms.NewUser{Email: "a@example.com", Role: cms.RoleAdmin, Password: "correct horse battery"})
		ed, _ := c.Users.Create(ctx, cms.NewUser{Email: "e@example.com", Role: cms.RoleEditor, Password: "correct horse battery"})
		title := "Scheduled"
		p, _ := c.Posts.Create(ctx, admin, cms.PostInput{Title: &title})
		p, _ = c.Posts.Publish(ctx, admin, p.ID)
		p, _ = c.Posts.Unpublish(ctx, admin, p.ID)

		if _, err := c.Posts.SchedulePublish(ctx, ed, p.ID, clk.Now().Add(time.Hour)); domain.CodeOf(err) != domain.EForbidden {
			t.Errorf("editor schedules = %v", err)
		}
		if _, err := c.Posts.SchedulePublish(ctx, admin, p.ID, clk.Now().Add(-time.Hour)); domain.CodeOf(err) != domain.EInvalid {
			t.Errorf("past time = %v", err)
		}
		first, err := c.Posts.SchedulePublish(ctx, admin, p.ID, clk.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		second, err := c.Posts.SchedulePublish(ctx, admin, p.ID, clk.Now().Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		runs, _ := c.Posts.RunIDs(ctx, p.ID, 10)
		if len(runs) != 2 {
			t.Fatalf("%d runs, want 2", len(runs))
		}
		status := func(id string) engine.Status {
			r, err := eng.GetRun(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return r.Status
		}
		enginetest.Eventually(t, "both runs to sleep", func() bool {
			return status(runs[0]) == engine.StatusSleeping && status(runs[1]) == engine.StatusSleeping
		})

		// Past the first time: its run wakes, sees the newer schedule, and does nothing.
		clk.Add(2 * time.Hour)
		older := runs[1]
		if runs[0] < runs[1] {
			older = runs[0]
		}
		enginetest.Eventually(t, "the first run to finish", func() bool { return status(older) == engine.StatusCompleted })
		if got, _ := c.Posts.Get(ctx, p.ID); got.Status != cms.StatusUnpublished || got.PublishAt == nil || !got.PublishAt.Equal(*second.PublishAt) {
			t.Fatalf("after the first time: %s %v (first %v)", got.Status, got.PublishAt, first.PublishAt)
		}
		clk.Add(2 * time.Hour)
		enginetest.Eventually(t, "the post to be published", func() bool {
			got, _ := c.Posts.Get(ctx, p.ID)
			return got.Status == cms.StatusPublished
		})
		got, _ := c.Posts.Get(ctx, p.ID)
		if got.PublishAt != nil {
			t.Errorf("publish_at kept after publishing: %v", got.PublishAt)
		}
	})
}
