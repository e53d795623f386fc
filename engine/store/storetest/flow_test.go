package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/inkflow/inkflow/engine/store"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/internal/testwait"
)

// The keyed limits decide the same on both databases, and on PostgreSQL concurrent
// transactions take turns on a key's row rather than both passing.

func TestClaimIdempotencyHoldsAKeyUntilItExpires(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		k := store.FlowKey{Kind: "idempotency", FunctionID: "f", Hash: "h1"}
		for i, c := range []struct {
			run     string
			now     int64
			want    bool
			keyCase store.FlowKey
		}{
			{"r1", now, true, k},
			{"r2", now + 10, false, k},
			{"r3", now + 10, true, store.FlowKey{Kind: "idempotency", FunctionID: "f", Scope: 7, Hash: "h1"}}, // another workflow
			{"r4", now + 1000, true, k}, // expired
		} {
			got, err := q.ClaimIdempotency(c.keyCase, c.run, c.now, c.now+1000)
			must(t, err)
			if got != c.want {
				t.Fatalf("case %d: claimed %v, want %v", i, got, c.want)
			}
		}
		n, err := q.PruneFlowKeys(now + 1999)
		must(t, err)
		if n != 1 {
			t.Fatalf("pruned %d keys, want the scope-7 one (expired at %d)", n, now+1010)
		}
	})
}

func TestTakeRateIsAGCRA(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		k := store.FlowKey{Kind: "rateLimit", FunctionID: "f", Hash: "h"}
		take := func(at int64) bool {
			ok, err := q.TakeRate(k, at, 100, 300) // 3 per 300 ms
			must(t, err)
			return ok
		}
		got := []bool{take(now), take(now), take(now), take(now), take(now + 99), take(now + 100), take(now + 100)}
		want := []bool{true, true, true, false, false, true, false}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("takes %v, want %v", got, want)
			}
		}
	})
}

func TestClaimSingletonWhileItsRunLives(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		k := store.FlowKey{Kind: "singleton", FunctionID: "f", Hash: "h"}
		must(t, q.InsertRuns([]store.Run{run("s1", "f", "waiting", now)}))
		holder, err := q.ClaimSingleton(k, "s1")
		must(t, err)
		if holder != "" {
			t.Fatalf("first claim found holder %q", holder)
		}
		if holder, err = q.ClaimSingleton(k, "s2"); err != nil || holder != "s1" {
			t.Fatalf("claim while s1 waits: holder %q (%v), want s1", holder, err)
		}
		must(t, q.SetKeyRun(k, "s2")) // cancel mode hands the key on; s2 is not stored: it has no live run
		if holder, err = q.ClaimSingleton(k, "s3"); err != nil || holder != "" {
			t.Fatalf("claim after the holder is gone: %q (%v)", holder, err)
		}
	})
}

func TestOpenGroupIsOnePerKey(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		must(t, q.InsertRuns([]store.Run{run("g1", "f", "queued", now+500)}))
		g, created, err := q.OpenGroupFor("f", 0, "h", "g1", now)
		must(t, err)
		if !created || g.RunID != "g1" || g.FirstAt != now {
			t.Fatalf("first open: %+v created %v", g, created)
		}
		g.Size = 2
		must(t, q.SetGroup(g))
		again, created, err := q.OpenGroupFor("f", 0, "h", "other", now+5)
		must(t, err)
		if created || again.RunID != "g1" || again.Size != 2 || again.FirstAt != now {
			t.Fatalf("second open: %+v created %v", again, created)
		}
		ok, err := q.RetriggerQueued("g1", &store.Event{ID: "e2", Name: "t/two", Payload: `{"name":"t/two"}`}, now+900, now+5)
		must(t, err)
		if r := get(t, q, "g1"); !ok || r.EventID != "e2" || r.EventName != "t/two" || r.DueAt != now+900 {
			t.Fatalf("retrigger %v: %+v", ok, r)
		}
		// Once claimed the run keeps its event.
		_, err = q.ClaimDue(10, now+900, now+2000, "me", store.Claimable{Functions: []string{"f"}})
		must(t, err)
		if ok, err := q.RetriggerQueued("g1", nil, now+1000, now+901); err != nil || ok {
			t.Fatalf("retriggered a claimed run: %v %v", ok, err)
		}
		must(t, q.CloseGroup(again))
		if _, created, _ := q.OpenGroupFor("f", 0, "h", "g3", now); !created {
			t.Fatal("closed group was not reopened")
		}
		must(t, q.AddBatchEvents([]store.BatchEvent{{RunID: "g1", Seq: 1, EventID: "b", Payload: "{}"}, {RunID: "g1", Seq: 0, EventID: "a", Payload: "{}"}}))
		evs, err := q.BatchEventsOf("g1")
		must(t, err)
		if len(evs) != 2 || evs[0].EventID != "a" || evs[1].EventID != "b" {
			t.Fatalf("batch %+v", evs)
		}
	})
}

// Two transactions racing for one rate-limit slot (PostgreSQL): exactly one gets it.
func TestTakeRateIsArbitratedAcrossTransactions(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		k := store.FlowKey{Kind: "rateLimit", FunctionID: "f", Hash: "race"}
		var wg sync.WaitGroup
		var mu sync.Mutex
		granted := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ok bool
				err := st.Tx(context.Background(), func(q *store.Q) error {
					var err error
					ok, err = q.TakeRate(k, now, 1000, 1000) // one per second
					return err
				})
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if ok {
					granted++
				}
			}()
		}
		wg.Wait()
		if granted != 1 {
			t.Fatalf("%d transactions took the one slot", granted)
		}
	})
}

func TestPruneFlowHoldersKeepsWhatHoldsARun(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		must(t, q.InsertRuns([]store.Run{run("open", "f", "queued", now+500), run("begun", "f", "running", now), run("live", "g", "waiting", now),
			run("over", "g", "completed", now)}))
		for key, id := range map[string]string{"a": "open", "b": "begun", "c": "gone"} {
			_, _, err := q.OpenGroupFor("f", 0, key, id, now)
			must(t, err)
		}
		for key, id := range map[string]string{"a": "live", "b": "over"} {
			_, err := q.ClaimSingleton(store.FlowKey{Kind: "singleton", FunctionID: "g", Hash: key}, id)
			must(t, err)
		}
		n, err := q.PruneFlowHolders()
		must(t, err)
		if n != 3 {
			t.Fatalf("pruned %d rows, want 3 (the begun and the gone groups, the finished singleton)", n)
		}
		if g, created, _ := q.OpenGroupFor("f", 0, "a", "x", now); created || g.RunID != "open" {
			t.Fatal("the open group was pruned")
		}
		if holder, _ := q.ClaimSingleton(store.FlowKey{Kind: "singleton", FunctionID: "g", Hash: "a"}, "y"); holder != "live" {
			t.Fatalf("the live singleton key was pruned (holder %q)", holder)
		}
	})
}

// The interleaving that matters, made certain (PostgreSQL): a second sender's claim starts
// while the first sender holds the key and has not yet committed its run, waits for it, and
// must then see that run in progress.
func TestClaimSingletonWaitsAndSeesTheFirstSendersRun(t *testing.T) {
	db := testdb.Postgres(t)
	st := store.New(db.DB)
	ctx := context.Background()
	k := store.FlowKey{Kind: "singleton", FunctionID: "f", Hash: "wait"}
	holding, commit, firstDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		firstDone <- st.Tx(ctx, func(q *store.Q) error {
			if holder, err := q.ClaimSingleton(k, "first"); err != nil || holder != "" {
				return fmt.Errorf("first claim: %q %v", holder, err)
			}
			if err := q.InsertRuns([]store.Run{run("first", "f", "queued", now)}); err != nil {
				return err
			}
			close(holding)
			<-commit
			return nil
		})
	}()
	<-holding
	second := make(chan string, 1)
	go func() {
		var holder string
		err := st.Tx(ctx, func(q *store.Q) error {
			var err error
			holder, err = q.ClaimSingleton(k, "second")
			return err
		})
		if err != nil {
			t.Error(err)
		}
		second <- holder
	}()
	testwait.For(t, "the second claim to wait on the key's row lock", func() bool {
		var n int64
		db.DB.Raw(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return n > 0
	})
	close(commit)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if holder := <-second; holder != "first" {
		t.Fatalf("the second claim got holder %q, want the first sender's run in progress", holder)
	}
}
