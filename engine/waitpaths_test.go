package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine/store"
	"github.com/inkflow/inkflow/internal/testdb"
)

// wait_paths rows of finished waits are pruned (they were kept for ever, each costing an
// index probe per event of the name); rows still in use stay; a pruned path registers again
// with the next wait and that wait resumes; and prunes racing registrations never leave a
// wait without its path (it would never be resumed), on both databases.
func TestPruneWaitPaths(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"wp/answer", "wp/other", "wp/race"} {
			err := e.Register(&Function{ID: "waiter-" + name, Triggers: []Trigger{{Event: name + ".start"}},
				Handler: func(ctx context.Context, in *Input) (any, error) {
					ev, err := in.Step.WaitForEvent(ctx, "w", Wait{Event: name, Match: "data.id", Timeout: time.Hour})
					if err != nil || ev == nil {
						return "missed", err
					}
					return "caught", nil
				}})
			if err != nil {
				t.Fatal(err)
			}
		}
		startWorkers(t, e)
		ctx := context.Background()
		paths := func(name string) int64 {
			var n int64
			if err := db.DB.Table("wait_paths").Where("event_name = ?", name).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		start := func(name string, id int) string {
			t.Helper()
			res, err := e.Send(ctx, Event{Name: name + ".start", Data: map[string]any{"id": id}})
			if err != nil {
				t.Fatal(err)
			}
			awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status == StatusWaiting })
			return res.Runs[0]
		}
		resume := func(name string, id int, run string) {
			t.Helper()
			if _, err := e.Send(ctx, Event{Name: name, Data: map[string]any{"id": id}}); err != nil {
				t.Fatal(err)
			}
			if r := awaitRun(t, e, run, func(r *Run) bool { return r.Status.Finished() }); string(r.Output) != `"caught"` {
				t.Fatalf("run %s ended %s with %s", run, r.Status, r.Output)
			}
		}

		resume("wp/answer", 1, start("wp/answer", 1))
		start("wp/other", 2) // stays waiting
		if paths("wp/answer") != 1 || paths("wp/other") != 1 {
			t.Fatalf("paths before pruning: %d %d", paths("wp/answer"), paths("wp/other"))
		}
		n, err := e.PruneWaitPaths(ctx)
		if err != nil || n != 1 {
			t.Fatalf("PruneWaitPaths = %d, %v; want 1 pruned", n, err)
		}
		if paths("wp/answer") != 0 || paths("wp/other") != 1 {
			t.Errorf("after pruning: answer %d, other %d; want 0 and 1", paths("wp/answer"), paths("wp/other"))
		}
		resume("wp/answer", 3, start("wp/answer", 3)) // registers the path again

		// Prunes racing registrations.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.PruneWaitPaths(ctx); err != nil {
					t.Errorf("prune: %v", err)
					return
				}
			}
		}()
		runs := map[int]string{}
		for i := range 40 {
			runs[i] = start("wp/race", i)
			if i%4 == 0 { // a finished wait makes the path stale while others register
				resume("wp/race", i, runs[i])
				delete(runs, i)
			}
		}
		close(stop)
		wg.Wait()
		var orphans int64
		db.DB.Raw(`SELECT COUNT(*) FROM waits w WHERE w.kind = 'wait' AND NOT EXISTS
			(SELECT 1 FROM wait_paths p WHERE p.event_name = w.event_name AND p.match_path = w.match_path)`).Scan(&orphans)
		if orphans != 0 {
			t.Fatalf("%d waits have no wait_paths row: their events would never find them", orphans)
		}
		for i, run := range runs {
			resume("wp/race", i, run)
		}
	})
}

// A prune that meets a registration still open (its path row was already there, so its
// INSERT ... ON CONFLICT DO NOTHING changed nothing) leaves the row: without the table lock it
// deleted it, and the wait, once committed, was never found by its events. PostgreSQL only:
// SQLite's transactions are serial.
func TestPruneWaitPathsSparesAnOpenRegistration(t *testing.T) {
	db := testdb.Postgres(t)
	{
		e, err := New(Options{DB: db.DB, URL: db.URL})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		wait := func(id string) store.Wait {
			return store.Wait{ID: id, Kind: store.WaitEvent, RunID: "run-" + id, StepID: "w", EventName: "wp/open",
				MatchPath: "data.id", MatchValue: "1", MatchHash: matchHash("data.id", "1"), ExpiresAt: 1 << 50, CreatedAt: 1}
		}
		// A finished wait left its path behind.
		if err := e.st.Tx(ctx, func(q *store.Q) error { return q.RecordWaitPaths([]store.Wait{wait("old")}, pathHash) }); err != nil {
			t.Fatal(err)
		}
		registered, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- e.st.Tx(ctx, func(q *store.Q) error {
				w := []store.Wait{wait("new")}
				if err := q.InsertWaits(w); err != nil {
					return err
				}
				if err := q.RecordWaitPaths(w, pathHash); err != nil {
					return err
				}
				close(registered)
				<-release
				return nil
			})
		}()
		<-registered
		n, err := e.PruneWaitPaths(ctx) // gives up after its lock timeout, the registration open
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err != nil || n != 0 {
			t.Errorf("prune beside an open registration = %d, %v; want 0 (busy)", n, err)
		}
		var rows int64
		db.DB.Table("wait_paths").Where("event_name = ?", "wp/open").Count(&rows)
		if rows != 1 {
			t.Fatalf("the registered wait's path row is gone: its events would never find it")
		}
		if n, err := e.PruneWaitPaths(ctx); err != nil || n != 0 {
			t.Errorf("prune with the wait committed = %d, %v; want 0: the path is in use", n, err)
		}
	}
}
