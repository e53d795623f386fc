// Package engine is inkflow's durable execution engine: events trigger functions, and a
// function is a sequence of memoized steps persisted in the database, so a crash, a restart or
// a deploy never loses a run or repeats a finished step.
//
// # How the parts fit
//
// Send (or SendTx, inside a caller's transaction) stores events, starts a run for every
// registered function whose trigger matches (fan-out), resolves runs that wait for the event
// and cancels runs whose CancelOn matches. Workers claim due runs with a lease, call the
// function's Handler, and the handler calls the run's *Step tool:
//
//	out, err := in.Step.Run(ctx, "fetch", func(ctx context.Context) (any, error) { ... })
//	err = in.Step.Sleep(ctx, "cool-down", time.Hour)
//	ev, err := in.Step.WaitForEvent(ctx, "approval", engine.Wait{Event: "post.approved", Match: "data.id", Timeout: 7 * 24 * time.Hour})
//
// A run is replayed from the top each time a worker picks it up: completed steps return their
// stored result without running again, so handler code between steps must be deterministic.
// Sleep and WaitForEvent suspend the run (the handler is unwound and the worker released);
// the run resumes when it is due or the event arrives. Nothing a run needs lives only in
// memory: a waiting run is a row.
//
// # Waiting for events
//
// A wait counts events received since the run's previous step began (or since it was
// queued), except the event that started the run and events its earlier waits consumed: the
// step before a wait usually announces it ("this post needs approval"), and an answer sent
// the moment that happens must not be lost. Delivery and wait registration are ordered by a
// PostgreSQL advisory lock per event name (shared for senders, exclusive for a registering
// wait), so an event committed while a wait is being stored is found by the wait's look-back
// or finds the stored wait; SQLite's single connection orders them anyway. A wait matches on
// a dotted path to a scalar (`data.id`), found through an index on a hash of (path, value)
// so a value of any size works, and/or on a CEL expression over `event` and `async`. Waits
// without a match value are not tried inside the send: the event is queued and the workers'
// wait checker tries it against them in bounded batches outside any transaction; a sequence
// number taken under the same event-name lock gives each wait only the events sent after it
// was stored (it looked back for the others itself). Times compared across instances (leases,
// look-back) are the database's: each instance corrects its clock by its measured offset.
// Expressions run under one bounded program cache, a cost limit and a deadline (engine/expr).
//
// # Writing
//
// Plain step records and run completions go through a group commit: whatever many runs hand
// in while the previous group is being written goes into one transaction with multi-row
// statements, and each caller continues only after that commit. Writers that touch several
// rows lock them in one order (event names, then runs by id, then their waits and steps), so
// they never deadlock on each other; Send retries a transaction PostgreSQL aborted anyway.
//
// # Guarantees
//
// A step's result is committed before the handler continues; a committed step never runs
// again; a step's fn runs at least once and receives an idempotency key (IdempotencyKey) for
// its side effects; no run is lost while the database keeps its data. A run whose progress
// cannot be written is handed back and tried again; heartbeats extend only the leases of runs
// this process is executing, so a run it gave up on is taken over when its lease expires.
// Retry resumes a failed run at its failed step; Rerun starts a new run from the same event.
//
// Storage is PostgreSQL (workers share work with FOR UPDATE SKIP LOCKED and are woken by
// LISTEN/NOTIFY) or SQLite (one process, woken in process). Every statement on the engine's
// tables is a method of engine/store (one per statement, a dialect per database, one
// conformance suite in store/storetest); the schema lives in migrations/.
package engine
