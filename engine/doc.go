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
// # Guarantees
//
// A step's result is committed before the handler continues; a committed step never runs
// again; a step's fn runs at least once and receives an idempotency key (IdempotencyKey) for
// its side effects; no run is lost while the database keeps its data.
//
// Storage is PostgreSQL (workers share work with FOR UPDATE SKIP LOCKED and are woken by
// LISTEN/NOTIFY) or SQLite (one process, woken in process); the SQL lives in migrations/.
package engine
