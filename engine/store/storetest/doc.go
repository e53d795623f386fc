// Package storetest is the store's conformance suite: one set of tests that every dialect
// (PostgreSQL and SQLite, through internal/testdb) must pass, covering what the engine relies
// on: claims and leases, heartbeats, the group commit's statements, waits, deduplication,
// cron ticks, retention and the lock order.
package storetest
