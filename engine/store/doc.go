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
// Every statement the engine runs is here: the engine's own files hold none, and nothing
// outside engine/ touches these tables (retention, reports, metrics, bench and the run pages
// use engine methods). Rows are written as they were before the move: a run row is still
// inserted, updated at its claim and updated at its end; a status change still
// rewrites the status indexes.
package store
