// Package store holds the engine's SQL: every statement on the engine's tables (events,
// event_dedup, runs, steps, waits, cron_ticks, workers) is one method of Q, so the engine's
// logic reads as what it does and its storage can be tested on its own (storetest runs one
// conformance suite on PostgreSQL and SQLite).
//
// A Store is the database and its dialect (postgres.go, sqlite.go: row locks, advisory
// locks, LISTEN/NOTIFY and which errors mean "run the transaction again"). Store.Q gives a
// handle whose statements run on their own, Store.Tx one inside a transaction of its own,
// and Store.In one inside a transaction the caller opened (Conn: the CMS sends an event in
// the transaction that changes a post).
//
// Lock order, for every transaction that touches several rows: event names (LockEventNames),
// then runs in id order (LockRuns, LockFinishedRuns), then the runs' waits and steps. Q
// refuses to lock event names once it holds runs.
//
// Times are Unix milliseconds in both dialects, so comparisons read the same everywhere.
//
// Where the move stands: the statements of query.go, cron.go, metrics.go, commit.go and the
// housekeeping (retention) are here; worker.go, send.go, execute.go and step.go still run
// theirs through the Q's gorm handle (Q.DB) until they move too.
package store
