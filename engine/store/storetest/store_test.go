package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/inkflow/inkflow/engine/store"
	"github.com/inkflow/inkflow/internal/testdb"
)

// each runs fn on a fresh store over each database.
func each(t *testing.T, fn func(t *testing.T, st *store.Store, q *store.Q)) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		st := store.New(db.DB)
		fn(t, st, st.Q(context.Background()))
	})
}

// run is a run row of function fn in status, due at due.
func run(id, fn, status string, due int64) store.Run {
	return store.Run{ID: id, FunctionID: fn, Status: status, EventID: "ev-" + id, EventName: "t/ev", Event: `{"name":"t/ev"}`,
		DueAt: due, CreatedAt: 1, UpdatedAt: 1}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ids(runs []store.Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	sort.Strings(out)
	return out
}

func get(t *testing.T, q *store.Q, id string) store.Run {
	t.Helper()
	r, err := q.GetRun(id)
	must(t, err)
	return *r
}

const now = int64(1_000_000)

// A claim takes exactly the runs that are due and free: queued or sleeping/waiting past their
// time, and running ones whose lease expired; never a run another worker holds, a run not yet
// due or a finished one, a run of a function the claimer does not have, a run under flow
// control (limited: claimed per function), a run past its deadline (the timeout sweep's), nor
// a run whose needs the claimer does not provide.
func TestClaimTakesDueRunsOnly(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		expired := run("r4", "f", "running", 0)
		expired.LeaseOwner, expired.LeaseUntil = "dead", now-1
		held := run("r5", "f", "running", 0)
		held.LeaseOwner, held.LeaseUntil = "alive", now+1000
		must(t, q.InsertRuns([]store.Run{
			run("r1", "f", "queued", now), run("r2", "f", "sleeping", now-5), run("r3", "f", "waiting", now-1),
			expired, held, run("r6", "f", "queued", now+1), run("r7", "f", "completed", 0), run("r8", "g", "queued", 0),
		}))
		limited, late, needy := run("x1", "f", "queued", 0), run("x2", "f", "queued", 0), run("x3", "f", "queued", 0)
		limited.Limited, limited.ConcurrencyLimit = 1, 1
		deadline := now
		late.DeadlineAt = &deadline
		needy.Needs = "nh"
		must(t, q.InsertRuns([]store.Run{limited, late, needy}))
		must(t, q.RecordNeeds("nh", []string{"kind:a", "kind:b"}))
		var got []store.Run
		must(t, st.Tx(context.Background(), func(q *store.Q) error {
			var err error
			got, err = q.ClaimDue(10, now, now+30_000, "me", store.Claimable{Functions: []string{"f"}, Provides: []string{"kind:a"}})
			return err
		}))
		if want := []string{"r1", "r2", "r3", "r4"}; !slices.Equal(ids(got), want) {
			t.Fatalf("claimed %v, want %v", ids(got), want)
		}
		for _, r := range got {
			if r.Status != "running" || r.LeaseOwner != "me" || r.LeaseUntil != now+30_000 || r.StartedAt == nil {
				t.Errorf("claimed run %s: %+v", r.ID, r)
			}
		}
		all := store.Claimable{Functions: []string{"f", "g"}, Provides: []string{"kind:a", "kind:b", "kind:c"}}
		again, err := q.ClaimDue(10, now, now+30_000, "other", all)
		must(t, err)
		if want := []string{"r8", "x3"}; !slices.Equal(ids(again), want) {
			t.Errorf("second claim took %v, want %v (the others are leased; x3's needs are provided)", ids(again), want)
		}
		// A lease that lapses makes the run due for another worker (all of them, by then).
		lapsed, err := q.ClaimDue(10, now+30_001, now+60_000, "other", all)
		must(t, err)
		if want := []string{"r1", "r2", "r3", "r4", "r5", "r6", "r8", "x3"}; !slices.Equal(ids(lapsed), want) {
			t.Errorf("after the leases lapsed: %v, want %v", ids(lapsed), want)
		}
		if items, err := q.Needs("nh"); err != nil || !slices.Equal(items, []string{"kind:a", "kind:b"}) {
			t.Errorf("needs nh: %v, %v", items, err)
		}
	})
}

// Concurrent claimers never take the same run twice (FOR UPDATE SKIP LOCKED on PostgreSQL,
// one connection on SQLite).
func TestConcurrentClaimsNeverOverlap(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		const n = 300
		var rows []store.Run
		for i := range n {
			rows = append(rows, run(fmt.Sprintf("r%03d", i), "f", "queued", now))
		}
		must(t, q.InsertRuns(rows))
		var mu sync.Mutex
		seen := map[string]string{}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("w%d", w)
				for {
					var got []store.Run
					err := st.Tx(context.Background(), func(q *store.Q) error {
						var err error
						got, err = q.ClaimDue(7, now, now+30_000, owner, store.Claimable{Functions: []string{"f"}})
						return err
					})
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, r := range got {
						if prev, dup := seen[r.ID]; dup {
							errs <- fmt.Errorf("run %s claimed by %s and %s", r.ID, prev, owner)
						}
						seen[r.ID] = owner
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(seen) != n {
			t.Errorf("%d of %d runs claimed", len(seen), n)
		}
	})
}

// Runs under flow control are claimed per function: busy keys of both limits are counted from
// live leases (a lapsed one holds no slot), saturated keys are left out of the candidates,
// throttle windows count starts per key, and a lease goes only to runs still due. A first
// claim starts the finish timeout's deadline.
func TestClaimUnderFlowControl(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		lim := func(id, status, k1, k2 string) store.Run {
			r := run(id, "lim", status, now)
			r.Limited, r.ConcurrencyKey, r.ConcurrencyLimit, r.ConcurrencyKey2, r.ConcurrencyLimit2 = 1, k1, 1, k2, 2
			return r
		}
		busy := lim("b1", "running", "a", "x")
		busy.LeaseOwner, busy.LeaseUntil = "w", now+1000
		busy2 := lim("b3", "running", "c", "x")
		busy2.LeaseOwner, busy2.LeaseUntil = "w", now+1000
		stale := lim("b2", "running", "b", "y")
		stale.LeaseOwner, stale.LeaseUntil = "dead", now-1
		qa, qb, qc := lim("q1", "queued", "a", "z"), lim("q2", "queued", "b", "z"), lim("q3", "queued", "d", "x")
		qc.TimeoutFinish = 5000
		thr := run("t1", "lim", "queued", now)
		thr.Limited, thr.ThrottleKey, thr.ThrottleLimit, thr.ThrottlePeriod = 1, "k", 2, 10_000
		started := now - 5000
		old := run("t0", "lim", "completed", 0)
		old.ThrottleKey, old.ThrottleLimit, old.ThrottlePeriod, old.StartedAt = "k", 2, 10_000, &started
		gone := now - 20_000
		older := old
		older.ID, older.StartedAt = "t-1", &gone
		must(t, q.InsertRuns([]store.Run{busy, busy2, stale, qa, qb, qc, thr, old, older, run("free", "lim", "queued", now)}))
		c := store.Claimable{Functions: []string{"lim"}}
		must(t, st.Tx(context.Background(), func(q *store.Q) error {
			if ok, err := q.HasLimitedDue("lim", now, c); err != nil || !ok {
				t.Errorf("HasLimitedDue: %v, %v", ok, err)
			}
			if ok, err := q.HasLimitedDue("lim", now, store.Claimable{Functions: []string{"other"}}); err != nil || ok {
				t.Errorf("HasLimitedDue for a process without the function: %v, %v", ok, err)
			}
			if err := q.LockFunction("lim"); err != nil {
				return err
			}
			busy, err := q.BusyKeys("lim", now)
			if err != nil {
				return err
			}
			sort.Slice(busy, func(i, j int) bool { return busy[i].ConcurrencyKey < busy[j].ConcurrencyKey })
			want := []store.Busy{{ConcurrencyKey: "a", ConcurrencyLimit: 1, ConcurrencyKey2: "x", ConcurrencyLimit2: 2, N: 1},
				{ConcurrencyKey: "c", ConcurrencyLimit: 1, ConcurrencyKey2: "x", ConcurrencyLimit2: 2, N: 1}}
			if !slices.Equal(busy, want) {
				t.Errorf("busy %+v, want %+v (b's lease lapsed)", busy, want)
			}
			due, err := q.DueLimited("lim", now, c, store.Full{Concurrency: []string{"a"}, Concurrency2: []string{"x"}}, 10)
			if err != nil {
				return err
			}
			if want := []string{"b2", "q2", "t1"}; !slices.Equal(ids(due), want) {
				t.Errorf("due outside key a and key2 x: %v, want %v", ids(due), want)
			}
			if due, _ := q.DueLimited("lim", now, c, store.Full{Throttle: []string{"k"}}, 10); slices.Contains(ids(due), "t1") {
				t.Errorf("a run of a full throttle key was a candidate: %v", ids(due))
			}
			starts, err := q.ThrottleStarts("lim", []string{"k", "none"}, now-10_000)
			if err != nil {
				return err
			}
			if len(starts) != 1 || starts[0] != (store.Starts{ThrottleKey: "k", N: 1, First: now - 5000}) {
				t.Errorf("starts in the window: %+v, want k: 1 from %d (t-1 started before it)", starts, now-5000)
			}
			leased, err := q.LeaseRuns([]string{"q3", "b1"}, now, now+500, "me")
			if err != nil {
				return err
			}
			if want := []string{"q3"}; !slices.Equal(ids(leased), want) {
				t.Errorf("leased %v, want %v (b1 is held)", ids(leased), want)
			}
			if d := leased[0].DeadlineAt; d == nil || *d != now+5000 {
				t.Errorf("finish deadline of q3: %v, want %d", d, now+5000)
			}
			return nil
		}))
		// free is not limited: the plain claim takes it and nothing under flow control.
		got, err := q.ClaimDue(10, now, now+500, "me", c)
		must(t, err)
		if want := []string{"free"}; !slices.Equal(ids(got), want) {
			t.Errorf("plain claim: %v, want %v", ids(got), want)
		}
	})
}

// Runs whose deadline has come are found for the timeout sweep, earliest first; finished ones
// and later ones are not.
func TestPastDeadline(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		at := func(id, status string, d int64) store.Run {
			r := run(id, "f", status, 0)
			r.DeadlineAt = &d
			return r
		}
		must(t, q.InsertRuns([]store.Run{at("late2", "sleeping", now), at("late1", "queued", now-1), at("done", "completed", now-5),
			at("later", "queued", now+1), run("none", "f", "queued", 0)}))
		got, err := q.PastDeadline(now, 10)
		must(t, err)
		if want := []string{"late1", "late2"}; !slices.Equal(got, want) {
			t.Errorf("past deadline: %v, want %v", got, want)
		}
	})
}

// Heartbeats extend only the owner's leases on running runs and keep the worker's row; a
// hand-back, a release and a shutdown release give runs back as promised.
func TestLeasesAndHeartbeats(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		mine, theirs, done := run("m", "f", "running", 0), run("t", "f", "running", 0), run("d", "f", "completed", 0)
		mine.LeaseOwner, mine.LeaseUntil = "me", now
		theirs.LeaseOwner, theirs.LeaseUntil = "them", now
		done.LeaseOwner = "me"
		must(t, q.InsertRuns([]store.Run{mine, theirs, done}))
		must(t, q.ExtendLeases([]string{"m", "t", "d"}, "me", now+9000))
		if get(t, q, "m").LeaseUntil != now+9000 || get(t, q, "t").LeaseUntil != now {
			t.Errorf("heartbeat extended the wrong leases: m %d, t %d", get(t, q, "m").LeaseUntil, get(t, q, "t").LeaseUntil)
		}
		ok, err := q.ExtendLease("t", "me", now, now+1)
		must(t, err)
		if ok {
			t.Error("ExtendLease succeeded on another worker's run")
		}
		must(t, q.HandBack("m", "me", now+50, "db away"))
		if r := get(t, q, "m"); r.LeaseOwner != "" || r.DueAt != now+50 || r.Error != "db away" {
			t.Errorf("handed back: %+v", r)
		}
		must(t, q.ReleaseAll("them"))
		if r := get(t, q, "t"); r.LeaseOwner != "" || r.LeaseUntil != 0 {
			t.Errorf("released at shutdown: %+v", r)
		}

		reg := `{"functions":[{"id":"f"}]}`
		must(t, q.RecordWorker("w1", now, 2, 8, &reg))
		must(t, q.RecordWorker("w1", now+10, 3, 8, nil)) // a beat keeps the registry
		must(t, q.RecordWorker("w2", now-100_000, 1, 4, &reg))
		must(t, q.RecordWorker("w3", now, 1, 4, nil))
		live, err := q.LiveRegistries(now-1000, "w0")
		must(t, err)
		if len(live) != 1 || live[0] != (store.Registry{ID: "w1", Registry: reg}) {
			t.Errorf("live registries: %+v, want w1's only (w2 is stale, w3 registered nothing)", live)
		}
		if live, _ := q.LiveRegistries(now-1000, "w1"); len(live) != 0 {
			t.Errorf("live registries except w1: %+v", live)
		}
		ws, err := q.Workers()
		must(t, err)
		if len(ws) != 3 || ws[0].ID != "w1" || ws[0].StartedAt != now || ws[0].HeartbeatAt != now+10 || ws[0].Running != 3 {
			t.Errorf("workers: %+v", ws)
		}
		n, busy, slots, err := q.WorkerTotals(now - 1000)
		must(t, err)
		if n != 2 || busy != 4 || slots != 12 {
			t.Errorf("live workers: %d, %d busy of %d", n, busy, slots)
		}
		must(t, q.DeleteWorker("w1"))
		if ws, _ := q.Workers(); len(ws) != 2 {
			t.Errorf("after a clean stop: %+v", ws)
		}
	})
}

// The group commit's statements: ownership is proved only for runs the worker holds, step
// records replace earlier ones, and completions land only on runs still held.
func TestGroupCommitStatements(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		a, b, c := run("a", "f", "running", 0), run("b", "f", "running", 0), run("c", "f", "cancelled", 0)
		a.LeaseOwner, b.LeaseOwner, c.LeaseOwner = "me", "them", "me"
		must(t, q.InsertRuns([]store.Run{a, b, c}))
		out1, out2 := `1`, `2`
		must(t, st.Tx(context.Background(), func(q *store.Q) error {
			owned, err := q.OwnedRunning([]string{"a", "b", "c"}, "me")
			if err != nil {
				return err
			}
			if !slices.Equal(owned, []string{"a"}) {
				t.Errorf("owned %v, want [a]", owned)
			}
			if err := q.UpsertSteps([]store.Step{{RunID: "a", ID: "s1", Seq: 0, Name: "s1", Kind: "run", Status: "retrying", Attempts: 1}}); err != nil {
				return err
			}
			return q.UpsertSteps([]store.Step{{RunID: "a", ID: "s1", Seq: 0, Name: "s1", Kind: "run", Status: "completed", Attempts: 2, Output: &out1},
				{RunID: "a", ID: "s2", Seq: 1, Name: "s2", Kind: "run", Status: "completed", Attempts: 1, Output: &out2}})
		}))
		steps, err := q.StepsOf([]string{"a"})
		must(t, err)
		if len(steps) != 2 || steps[0].ID != "s1" || steps[0].Status != "completed" || steps[0].Attempts != 2 || steps[1].ID != "s2" {
			t.Errorf("steps: %+v", steps)
		}
		ended, err := q.CompleteRuns([]store.Completion{{RunID: "a", Output: &out1}, {RunID: "b", Output: &out2}, {RunID: "c"}}, now, "me")
		must(t, err)
		if !slices.Equal(ended, []string{"a"}) {
			t.Errorf("completed %v, want [a]", ended)
		}
		if r := get(t, q, "a"); r.Status != "completed" || r.Output == nil || *r.Output != "1" || r.EndedAt == nil || r.LeaseOwner != "" {
			t.Errorf("completed run: %+v", r)
		}
		if r := get(t, q, "b"); r.Status != "running" {
			t.Errorf("another worker's run was completed: %+v", r)
		}
	})
}

// Waits are found by event name and match hash or, for conditions, by name alone; the first
// to take a wait wins; a run's end drops its waits.
func TestWaits(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		hash := func(p string) string { return "h:" + p }
		waits := []store.Wait{
			{ID: "w1", Kind: store.WaitEvent, RunID: "r1", StepID: "s", EventName: "t/ok", MatchPath: "data.id", MatchValue: "7", MatchHash: "k7", ExpiresAt: 10, CreatedAt: 1},
			{ID: "w2", Kind: store.WaitEvent, RunID: "r1", StepID: "s", EventName: "t/no", MatchPath: "data.id", MatchValue: "7", MatchHash: "k7", ExpiresAt: 10, CreatedAt: 2},
			{ID: "w3", Kind: store.WaitCancel, RunID: "r2", EventName: "t/ok", IfExpr: "true", MatchHash: "", ExpiresAt: 10, CreatedAt: 3},
			{ID: "w4", Kind: store.WaitEvent, RunID: "r3", StepID: "s", EventName: "t/ok", MatchPath: "data.id", MatchValue: "8", MatchHash: "k8", ExpiresAt: 10, CreatedAt: 4},
		}
		must(t, q.InsertWaits(waits))
		must(t, q.RecordWaitPaths(waits, hash))
		must(t, q.RecordWaitPaths(waits, hash)) // recording twice is harmless
		paths, err := q.WaitPaths([]string{"t/ok"})
		must(t, err)
		var got []string
		for _, p := range paths {
			got = append(got, p.EventName+" "+p.MatchPath)
		}
		sort.Strings(got)
		if !slices.Equal(got, []string{"t/ok ", "t/ok data.id"}) {
			t.Errorf("paths %q", got)
		}
		byHash, err := q.MatchingWaits([]string{"t/ok"}, []string{"k7"})
		must(t, err)
		if len(byHash) != 1 || byHash[0].ID != "w1" {
			t.Errorf("by hash: %+v", byHash)
		}
		unmatched, err := q.HasUnmatchedWaits("t/ok")
		must(t, err)
		none, err := q.HasUnmatchedWaits("t/no")
		must(t, err)
		if !unmatched || none {
			t.Errorf("waits without a match value: t/ok %v, t/no %v", unmatched, none)
		}
		cond, err := q.UnmatchedWaits("t/ok", 1, "", 10)
		must(t, err)
		if len(cond) != 1 || cond[0].ID != "w3" {
			t.Errorf("waits without a match value stored before seq 1: %+v", cond)
		}
		s1, err := q.NextWaitSeq()
		must(t, err)
		s2, err := q.NextWaitSeq()
		must(t, err)
		if s2 <= s1 {
			t.Errorf("wait order numbers %d then %d", s1, s2)
		}
		of, err := q.EventWaitsOf("r1")
		must(t, err)
		if len(of) != 2 || of[0].ID != "w1" {
			t.Errorf("waits of r1: %+v", of)
		}
		won, err := q.TakeWait("r1", "s")
		must(t, err)
		again, err := q.TakeWait("r1", "s")
		must(t, err)
		if !won || again {
			t.Errorf("take wait: first %v, second %v", won, again)
		}
		must(t, q.DeleteWaitsOf([]string{"r2", "r3"}))
		if rest, _ := q.MatchingWaits([]string{"t/ok"}, []string{"k8"}); len(rest) != 0 {
			t.Errorf("waits of ended runs left: %+v", rest)
		}
	})
}

// A client id deduplicates within its window: the second event is not new and reports the
// first one's id; after the window the id is free again.
func TestDedup(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		fresh, err := q.RecordClientID("c1", "e1", now, now-100)
		must(t, err)
		dup, err := q.RecordClientID("c1", "e2", now+10, now+10-100)
		must(t, err)
		first, err := q.ClientEventID("c1")
		must(t, err)
		if !fresh || dup || first != "e1" {
			t.Errorf("fresh %v, duplicate %v, first id %q", fresh, dup, first)
		}
		later, err := q.RecordClientID("c1", "e3", now+500, now+500-100)
		must(t, err)
		if id, _ := q.ClientEventID("c1"); !later || id != "e3" {
			t.Errorf("after the window: new %v, id %q", later, id)
		}
		n, err := q.PruneClientIDs(now + 501)
		must(t, err)
		if n != 1 {
			t.Errorf("pruned %d client ids", n)
		}
	})
}

// Each cron tick is recorded once, whoever records it first; the latest tick is remembered.
func TestCronTicks(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		last, err := q.LastCronTick("f#0")
		must(t, err)
		if last != nil {
			t.Fatalf("last tick of a new schedule: %d", *last)
		}
		first, err := q.RecordCronTick("f#0", 60_000)
		must(t, err)
		second, err := q.RecordCronTick("f#0", 60_000)
		must(t, err)
		if !first || second {
			t.Errorf("tick recorded: first %v, second %v", first, second)
		}
		must(t, q.SetCronTickRuns("f#0", 60_000, "r1,r2"))
		_, _ = q.RecordCronTick("f#0", 120_000)
		if last, _ := q.LastCronTick("f#0"); last == nil || *last != 120_000 {
			t.Errorf("last tick %v", last)
		}
		n, err := q.PruneCronTicks(100_000)
		must(t, err)
		if n != 1 {
			t.Errorf("pruned %d ticks", n)
		}
	})
}

// Retention walks finished runs by (ended_at, id) and deletes only finished ones with their
// rows; events are kept while a live run points at them.
func TestRetentionStatements(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		end := func(r store.Run, at int64) store.Run { r.EndedAt = &at; return r }
		must(t, q.InsertRuns([]store.Run{
			end(run("a", "f", "completed", 0), 10), end(run("b", "f", "failed", 0), 20), end(run("c", "f", "cancelled", 0), 20),
			end(run("d", "f", "completed", 0), 99), run("live", "f", "waiting", 0),
		}))
		must(t, q.UpsertSteps([]store.Step{{RunID: "a", ID: "s", Name: "s", Kind: "run", Status: "completed"},
			{RunID: "live", ID: "s", Name: "s", Kind: "wait", Status: "waiting"}}))
		k, err := q.FinishedRunKey(50, nil, 1)
		must(t, err)
		if k == nil || k.At != 20 || k.ID != "b" {
			t.Fatalf("second finished run: %+v", k)
		}
		if k, _ := q.FinishedRunKey(50, k, 1); k != nil {
			t.Errorf("past the last batch: %+v", k)
		}
		var locked []string
		must(t, st.Tx(context.Background(), func(q *store.Q) error {
			var err error
			if locked, err = q.LockFinishedRuns(50, nil, &store.Key{At: 20, ID: "b"}); err != nil {
				return err
			}
			if err := q.DeleteWaitsOf(locked); err != nil {
				return err
			}
			if err := q.DeleteStepsOf(locked); err != nil {
				return err
			}
			return q.DeleteRuns(locked)
		}))
		if !slices.Equal(locked, []string{"a", "b"}) {
			t.Errorf("deleted %v, want [a b]", locked)
		}
		if _, err := q.GetRun("a"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("run a: %v", err)
		}
		if steps, _ := q.StepsOf([]string{"a", "live"}); len(steps) != 1 || steps[0].RunID != "live" {
			t.Errorf("steps left: %+v", steps)
		}

		must(t, q.InsertEvents([]store.Event{{ID: "ev-live", Name: "t/ev", Payload: "{}", ReceivedAt: 1},
			{ID: "ev-old", Name: "t/ev", Payload: "{}", ReceivedAt: 1}, {ID: "zz-new", Name: "t/ev", Payload: "{}", ReceivedAt: 1}}))
		old, err := q.EventIDs("zz", 50, nil, nil)
		must(t, err)
		sort.Strings(old)
		if !slices.Equal(old, []string{"ev-live", "ev-old"}) {
			t.Errorf("old events %v", old)
		}
		live, err := q.LiveEventIDs(old)
		must(t, err)
		if !slices.Equal(live, []string{"ev-live"}) {
			t.Errorf("events of live runs %v", live)
		}
		must(t, q.DeleteResumesOf([]string{"ev-old"}))
		if n, err := q.DeleteEvents([]string{"ev-old"}); err != nil || n != 1 {
			t.Errorf("deleted %d events: %v", n, err)
		}
	})
}

// The lock order is enforced: a transaction that holds runs cannot take an exclusive
// event-name lock (what a registering wait takes before its run).
func TestLockOrder(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, q *store.Q) {
		must(t, q.InsertRuns([]store.Run{run("r1", "f", "queued", 0)}))
		err := st.Tx(context.Background(), func(q *store.Q) error {
			if err := q.LockEventNames([]string{"t/a"}, false); err != nil {
				return fmt.Errorf("names first: %w", err)
			}
			if err := q.LockRuns([]string{"r1"}); err != nil {
				return err
			}
			if err := q.LockEventNames([]string{"t/c"}, false); err != nil {
				return fmt.Errorf("a shared lock after runs (a run's end announcing itself): %w", err)
			}
			return q.LockEventNames([]string{"t/b"}, true)
		})
		if err == nil || !errors.Is(err, store.ErrLockOrder) {
			t.Errorf("event names after runs: %v", err)
		}
	})
}
